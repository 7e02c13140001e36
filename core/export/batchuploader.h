#pragma once

#include "exportbatch.h"
#include "uploadconfig.h"

#include <QObject>
#include <QPointer>
#include <QStringList>

#include <memory>
#include <optional>

class QFile;
class QNetworkAccessManager;
class QNetworkReply;
class QTimer;

namespace SiteRelay {

class ExportReader;
class QuestionnaireCatalog;
class RedcapRecords;
class SubmissionStore;

/// How an upload run ended.
struct UploadOutcome
{
    enum class Status { Confirmed, AlreadyConfirmed, Failed, Cancelled };
    Status status = Status::Failed;
    QString error;          ///< in full, e.g. REDCap's per-field errors of a 400
    int httpStatus = 0;     ///< of the failing answer; 0 for none (network, timeout)
    bool permanent = false; ///< a retry would fail the same way (400, 401, mismatched ids)
    int parts = 0;
    int partsConfirmed = 0;
    qint64 records = 0;
    qint64 recordsConfirmed = 0;

    bool ok() const { return status == Status::Confirmed || status == Status::AlreadyConfirmed; }
};

/**
 * Uploads one written batch to the central platform (REDCap API import in parts, or the ODM file
 * to a generic endpoint) and records every step: the plan (fixed at the first run, so a resumed
 * run sends exactly the same parts and never a confirmed one again), each attempt before it is
 * sent and its outcome, and the batch's state, which becomes "uploaded" only when every part is
 * confirmed. Transient failures (network, timeout, 5xx, 429) are retried with backoff; a 400
 * (REDCap's per-field errors), 401/403 or ids that differ from those sent end the run and leave
 * the batch unconfirmed.
 *
 * Event-driven: network calls are asynchronous (QNetworkAccessManager), store writes are awaited
 * through futures; nothing blocks on the network. Create, start and cancel it on one thread with
 * an event loop (ExportJob's worker thread); @p store and @p reader must outlive it. Emits
 * finished() exactly once.
 */
class BatchUploader final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BatchUploader)
public:
    BatchUploader(SubmissionStore &store, ExportReader &reader, const QuestionnaireCatalog &catalog,
                  UploadConfig config, ExportBatch batch, QString odmPath, QString actor, QObject *parent = nullptr);
    ~BatchUploader() override;

    void start();
    /// Aborts the request on its way (its part stays unconfirmed) and ends with Cancelled.
    void cancel();

    /// Splits the batch's rows (in id order) into REDCap parts of at most @p maxRecords records and
    /// @p maxBytes bytes of data. Deterministic: the same rows and limits give the same parts.
    static Expected<UploadPlan> planRedcap(ExportReader &reader, const RedcapRecords &records, const ExportBatch &batch,
                                           int maxRecords, int maxBytes);

Q_SIGNALS:
    void progress(qint64 recordsConfirmed, qint64 records);
    void message(const QString &text);
    void finished(const SiteRelay::UploadOutcome &outcome);

private:
    void loadOrPlan();
    void sendNext();
    void sendCurrent();
    void onReplyFinished();
    void onTimeout();
    void partConfirmed();
    void attemptFailed(const QString &error, int httpStatus, bool permanent, qint64 retryAfterMs);
    void finish(UploadOutcome::Status status, const QString &error = {}, int httpStatus = 0, bool permanent = false);
    Expected<QByteArray> redcapData(const UploadPart &part, QStringList *ids);
    QString partLabel() const;

    SubmissionStore &m_store;
    ExportReader &m_reader;
    const QuestionnaireCatalog &m_catalog;
    UploadConfig m_config;
    ExportBatch m_batch;
    QString m_odmPath;
    QString m_actor;
    std::unique_ptr<RedcapRecords> m_records;
    QNetworkAccessManager *m_network = nullptr;
    QPointer<QNetworkReply> m_reply;
    QTimer *m_timeout = nullptr;
    QTimer *m_retryTimer = nullptr;
    std::unique_ptr<QFile> m_odmFile;
    UploadPlan m_plan;
    int m_current = -1;        ///< index into m_plan.parts
    int m_attemptsThisRun = 0; ///< of the current part
    QStringList m_sentIds;     ///< of the current REDCap part, sorted
    bool m_timedOut = false;
    bool m_cancelled = false;
    bool m_finished = false;
};

} // namespace SiteRelay

Q_DECLARE_METATYPE(SiteRelay::UploadOutcome)
