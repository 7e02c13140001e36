#pragma once

#include "clock.h"
#include "device.h"
#include "expected.h"
#include "storewriter.h"
#include "submission.h"

#include <QFuture>
#include <QObject>
#include <QPointer>
#include <QThread>

#include <memory>

namespace SiteRelay {

class StoreWriter;
class WriteJob;

/**
 * Durable storage of submissions, devices and the audit trail. Every write goes to one writer
 * thread that owns the only write connection and commits in groups; each call returns a future
 * that resolves only after the COMMIT that holds its write returned — so an acknowledgement
 * built on it is on disk. If the COMMIT fails (disk full, read-only, locked) the future holds a
 * StorageUnavailable error and nothing of that batch is stored.
 *
 * The public calls are thread-safe. Continuations on the returned futures must be given a context
 * object (future.then(context, ...)) to run on the caller's thread.
 */
class SubmissionStore final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SubmissionStore)
public:
    struct Options
    {
        QString databasePath;
        QString synchronous = QStringLiteral("FULL");
        int busyTimeoutMs = 5000;
        int maxBatch = 1024;
        std::shared_ptr<Clock> clock = Clock::system();
    };

    /// Starts the writer thread and opens (creating or migrating) the database; blocks until done.
    static Expected<std::unique_ptr<SubmissionStore>> open(const Options &options);
    /// Commits what is queued, closes the connection and stops the thread.
    ~SubmissionStore() override;

    /**
     * Stores a new submission in state "pending" with its "received" audit row. The same
     * submissionId with the same content resolves to the stored receipt (duplicate = true) and
     * writes nothing; with other content it is a Conflict.
     */
    QFuture<Expected<SubmissionReceipt>> append(const NewSubmission &submission);

    /// Adds a device or coordinator; its token is in the result and nowhere else.
    QFuture<Expected<NewDevice>> addDevice(const QString &name, DeviceRole role, const QString &actor);
    /**
     * For write jobs that create a device as part of something larger (e.g. redeeming an
     * enrollment code): inserts the device row with a fresh token, stored only as a salted hash,
     * created at @p nowIso, and returns it with the token. Writes no audit row: the caller writes
     * the one that says why the device exists.
     */
    static Expected<NewDevice> insertDevice(QSqlDatabase &db, const QString &name, DeviceRole role,
                                            const QString &nowIso);
    /// Revokes a device at once (NotFound if there is no such device; revoking twice is fine).
    QFuture<Expected<DeviceRecord>> revokeDevice(qint64 deviceId, const QString &actor);
    /// Notes that a device was seen now (not audited: it is not a change of state).
    void recordDeviceSeen(qint64 deviceId);
    /// Proves the database takes writes by committing a row (for the health check).
    QFuture<Expected<Done>> probeWritable();

    /// Waits until every write queued so far is committed or failed (for shutdown and tests).
    void drain();

    QString databasePath() const { return m_options.databasePath; }
    Clock &clock() const { return *m_options.clock; }

    /**
     * Runs @p work on the writer thread inside the next group-commit transaction; the future holds
     * its result once COMMIT returned. @p work returns Expected<T>; returning a StorageUnavailable
     * error rolls back the whole batch. This is how other stores (TaskQueue, ...) write.
     */
    template <typename T, typename Work>
    QFuture<Expected<T>> submit(Work work, bool queuesWork = false);

Q_SIGNALS:
    /// A batch of writes was committed (emitted from the writer thread; connect queued).
    void committed(int writeCount);
    /// A commit may have made work due: a new submission, a requeue (writer thread; connect queued).
    void workQueued();

private:
    explicit SubmissionStore(const Options &options);
    void post(std::shared_ptr<WriteJob> job);

    Options m_options;
    std::unique_ptr<QThread> m_thread;
    QPointer<StoreWriter> m_writer;
};

template <typename T, typename Work>
QFuture<Expected<T>> SubmissionStore::submit(Work work, bool queuesWork)
{
    auto job = std::make_shared<PromisedWriteJob<T>>(std::move(work), queuesWork);
    QFuture<Expected<T>> future = job->future();
    post(std::move(job));
    return future;
}

} // namespace SiteRelay
