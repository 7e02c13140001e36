#pragma once

#include "batchexporter.h"
#include "batchuploader.h"
#include "settings.h"

#include <QJsonObject>
#include <QObject>
#include <QThread>

#include <atomic>
#include <memory>
#include <optional>

namespace SiteRelay {

class SubmissionStore;

/// What an ExportJob does: write a new batch (or an existing one again) and optionally upload it.
struct ExportJobRequest
{
    ExportRequest files; ///< batch id or filters and site, output folder (its callbacks are set by the job)
    bool upload = false;
    QString actor = QStringLiteral("cli"); ///< for the audit trail: "cli", "dashboard", "coordinator:2"
};

struct ExportJobResult
{
    enum class Status { Done, NothingToExport, Failed, Cancelled };
    Status status = Status::Failed;
    Error error; ///< for Failed and Cancelled; the message is complete (REDCap's field errors)
    bool filesWritten = false;
    ExportResult files; ///< batch, folder, checksums: valid when filesWritten
    std::optional<UploadOutcome> upload;

    bool ok() const { return status == Status::Done || status == Status::NothingToExport; }
    /// "done", "nothing_to_export", "failed" or "cancelled".
    QString statusName() const;
    /// The result as the API answers it (docs/API.md, GET /api/v1/exports/{id}).
    QJsonObject toJson() const;
};

/**
 * One export, start to end, off the caller's thread: creates (or takes) a batch, writes its files
 * and, if asked, uploads it (BatchUploader). The command line, the API and the dashboard all use
 * it. It runs on its own worker thread with an event loop; file writing happens there and the
 * upload is asynchronous, so the caller's thread (GUI, server) never waits.
 *
 * Create, start, cancel and destroy it on one thread with an event loop; its signals arrive there.
 * @p store may be null: the job then opens its own SubmissionStore on DATA_DIR/siterelay.sqlite for
 * its duration (SQLite WAL allows it beside a running server). A given store must outlive the job.
 * Destroying a running job cancels it and waits for its thread (briefly: a cancel aborts the
 * request on its way and stops the writers within a thousand rows).
 */
class ExportJob final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ExportJob)
public:
    struct Options
    {
        QString dataDir;
        Settings settings;
        SubmissionStore *store = nullptr;
    };

    ExportJob(Options options, ExportJobRequest request, QObject *parent = nullptr);
    ~ExportJob() override;

    /// Starts the work; finished() follows exactly once (also for an invalid upload configuration).
    void start();
    /// Stops the work as soon as possible; finished() then reports Cancelled (unless it was done).
    void cancel();
    bool isRunning() const { return m_running; }

Q_SIGNALS:
    /// Rows written (per file) or records confirmed by the platform, of @p total.
    void progress(qint64 done, qint64 total);
    /// "writing clinical.odm.xml", "writing submissions.csv", "uploading".
    void phaseChanged(const QString &phase);
    /// A line for a log or stderr (no patient data, never the token).
    void message(const QString &text);
    void finished(const SiteRelay::ExportJobResult &result);

private:
    class Worker;
    void deliver(const ExportJobResult &result);

    Options m_options;
    ExportJobRequest m_request;
    std::unique_ptr<QThread> m_thread;
    Worker *m_worker = nullptr; ///< lives on m_thread
    std::shared_ptr<std::atomic_bool> m_cancel = std::make_shared<std::atomic_bool>(false);
    bool m_running = false;
    bool m_started = false;
};

} // namespace SiteRelay

Q_DECLARE_METATYPE(SiteRelay::ExportJobResult)
