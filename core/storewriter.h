#pragma once

#include "database.h"
#include "expected.h"

#include <QObject>
#include <QPromise>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace SiteRelay {

/// One unit of work for the writer: runs inside a group-commit transaction, and is told whether
/// that transaction committed.
class WriteJob
{
public:
    virtual ~WriteJob() = default;
    /// Runs in the open transaction. A StorageUnavailable error aborts and rolls back the whole batch.
    virtual Expected<Done> execute(QSqlDatabase &db) = 0;
    virtual void committed() = 0;
    virtual void failed(const Error &error) = 0;
    /// Whether committing this job may have made work due for the engine (a new submission, a
    /// requeue). The engine's own claims and records must not, or it would wake itself forever.
    virtual bool queuesWork() const { return false; }
};

/// A WriteJob that resolves a QFuture<Expected<T>> only after COMMIT returned (or failed).
template <typename T>
class PromisedWriteJob final : public WriteJob
{
public:
    using Work = std::function<Expected<T>(QSqlDatabase &)>;
    explicit PromisedWriteJob(Work work, bool queuesWork = false)
        : m_work(std::move(work))
        , m_queuesWork(queuesWork)
    {
        m_promise.start();
    }
    bool queuesWork() const override { return m_queuesWork; }
    QFuture<Expected<T>> future() { return m_promise.future(); }

    Expected<Done> execute(QSqlDatabase &db) override
    {
        m_outcome.emplace(m_work(db));
        if (!m_outcome->hasValue() && m_outcome->error().code == ErrorCode::StorageUnavailable)
            return m_outcome->error();
        return Done{};
    }
    void committed() override { resolve(std::move(*m_outcome)); }
    void failed(const Error &error) override { resolve(error); }

private:
    void resolve(Expected<T> outcome)
    {
        m_promise.addResult(std::move(outcome));
        m_promise.finish();
    }
    Work m_work;
    bool m_queuesWork = false;
    QPromise<Expected<T>> m_promise;
    std::optional<Expected<T>> m_outcome;
};

/**
 * Owns the one write connection to SQLite and lives on the writer thread. Jobs posted to it are
 * collected until the event queue has none left to give, then run in one BEGIN IMMEDIATE … COMMIT
 * (group commit): one fsync for every submission that was waiting. Each job learns the outcome
 * only after COMMIT returned, so nothing is acknowledged that is not on disk.
 *
 * All members must be called on the writer thread (post with QMetaObject::invokeMethod).
 */
class StoreWriter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StoreWriter)
public:
    StoreWriter(Database::Options options, int maxBatch);
    ~StoreWriter() override;

    Expected<Done> openDatabase();
    void enqueue(std::shared_ptr<WriteJob> job);
    /// Commits what is queued now; used at shutdown before closeDatabase().
    void flush();
    void closeDatabase();

Q_SIGNALS:
    /// Emitted on the writer thread after a COMMIT that wrote @p jobCount jobs.
    void batchCommitted(int jobCount);
    /// Emitted on the writer thread after a COMMIT that included a job that queues work.
    void workQueued();

private:
    void scheduleFlush();

    Database::Options m_options;
    int m_maxBatch;
    bool m_open = false;
    bool m_flushScheduled = false;
    std::vector<std::shared_ptr<WriteJob>> m_batch;
};

} // namespace SiteRelay
