#pragma once

#include "expected.h"
#include "exportjob.h"
#include "settings.h"

#include <QDateTime>
#include <QJsonObject>
#include <QObject>
#include <QPointer>

#include <map>
#include <memory>

namespace SiteRelay {

class ExportReader;
class SubmissionStore;

/**
 * The export API's core (POST/GET /api/v1/exports): starts ExportJobs and remembers their status,
 * lists batches. Returns JSON values and core errors only; the ingest layer turns them into HTTP.
 * Lives on the server thread: create, call and destroy it there. The jobs run on their own
 * threads, so no call here waits for files or the network; reads (batch lists) are local SQLite
 * queries on its own read connection. One job runs at a time (Conflict otherwise), so two uploads
 * of the same batch cannot interleave. Destroying it cancels a running job and waits for it.
 */
class ExportService final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ExportService)
public:
    ExportService(SubmissionStore &store, QString dataDir, Settings settings, QObject *parent = nullptr);
    ~ExportService() override;

    /**
     * Starts a job from a request body: {} or {"trialId"?, "since"?, "until"?, "upload"?: bool, "batchId"?}
     * (an empty body is {}). Returns the job's status ({"id", "state": "running", "statusUrl", …}).
     * InvalidArgument naming the field for a bad body or an upload that is not configured;
     * Conflict while another job runs.
     */
    Expected<QJsonObject> start(const QByteArray &body, const QString &actor);

    /// A job's status (by job id) or a batch (by batch id, with its upload state); NotFound else.
    Expected<QJsonObject> status(const QString &id);

    /// {"batches": [...newest first], "jobs": [...the recent jobs]}.
    Expected<QJsonObject> list();

    static QJsonObject batchJson(const ExportBatch &batch);

private:
    struct JobEntry
    {
        std::unique_ptr<ExportJob> job; ///< null once finished
        QJsonObject request;
        QString startedAt;
        QString endedAt;
        QString phase;
        qint64 done = 0;
        qint64 total = 0;
        std::optional<ExportJobResult> result;
    };
    QJsonObject jobJson(const QString &id, const JobEntry &entry) const;
    Expected<ExportReader *> reader();

    SubmissionStore &m_store;
    QString m_dataDir;
    Settings m_settings;
    std::unique_ptr<ExportReader> m_reader;
    std::map<QString, JobEntry> m_jobs;
    QStringList m_order; ///< job ids, oldest first; the oldest finished ones are forgotten
    QString m_running;
};

} // namespace SiteRelay
