#include "exportjob.h"

#include "exportreader.h"
#include "logging.h"
#include "questionnairecatalog.h"
#include "submissionstore.h"
#include "uploadconfig.h"

#include <QDir>
#include <QJsonArray>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

QString ExportJobResult::statusName() const
{
    switch (status) {
    case Status::Done:
        return u"done"_s;
    case Status::NothingToExport:
        return u"nothing_to_export"_s;
    case Status::Failed:
        return u"failed"_s;
    case Status::Cancelled:
        return u"cancelled"_s;
    }
    return u"failed"_s;
}

QJsonObject ExportJobResult::toJson() const
{
    QJsonObject json{{u"state"_s, statusName()}};
    if (filesWritten) {
        json.insert(u"batchId"_s, files.batch.id);
        json.insert(u"sequence"_s, files.batch.sequence);
        json.insert(u"submissions"_s, files.batch.submissionCount);
        json.insert(u"folder"_s, files.folder);
        json.insert(u"created"_s, files.created);
        json.insert(u"checksums"_s, files.checksums);
    }
    if (upload) {
        static const char *const names[] = {"confirmed", "already_confirmed", "failed", "cancelled"};
        QJsonObject up{{u"state"_s, QLatin1StringView(names[int(upload->status)])},
                       {u"parts"_s, upload->parts},
                       {u"partsConfirmed"_s, upload->partsConfirmed},
                       {u"records"_s, upload->records},
                       {u"recordsConfirmed"_s, upload->recordsConfirmed}};
        if (!upload->error.isEmpty()) {
            up.insert(u"error"_s, upload->error);
            up.insert(u"permanent"_s, upload->permanent);
        }
        if (upload->httpStatus)
            up.insert(u"httpStatus"_s, upload->httpStatus);
        json.insert(u"upload"_s, up);
    }
    if (status == Status::Failed || status == Status::Cancelled || status == Status::NothingToExport)
        json.insert(u"error"_s, QJsonObject{{u"code"_s, error.reason.isEmpty() ? u"export_failed"_s : error.reason},
                                            {u"message"_s, error.message}});
    return json;
}

/// The job's half on its own thread: owns the store (if the job opened one), the reader and the uploader.
class ExportJob::Worker final : public QObject
{
public:
    Worker(ExportJob *job, Options options, ExportJobRequest request, std::shared_ptr<std::atomic_bool> cancel)
        : m_job(job)
        , m_options(std::move(options))
        , m_request(std::move(request))
        , m_cancel(std::move(cancel))
    {}

    void run();
    void cancelUpload()
    {
        if (m_uploader)
            m_uploader->cancel();
    }

private:
    template <typename Function>
    void toJob(Function function)
    {
        // Queued to the job's thread; dropped if the job is gone.
        QMetaObject::invokeMethod(m_job, std::move(function), Qt::QueuedConnection);
    }
    void phase(const QString &text)
    {
        toJob([job = m_job, text] { Q_EMIT job->phaseChanged(text); });
    }
    void say(const QString &text)
    {
        toJob([job = m_job, text] { Q_EMIT job->message(text); });
    }
    void finish(ExportJobResult result);

    ExportJob *m_job;
    Options m_options;
    ExportJobRequest m_request;
    std::shared_ptr<std::atomic_bool> m_cancel;
    std::unique_ptr<SubmissionStore> m_ownStore;
    std::unique_ptr<ExportReader> m_reader;
    std::optional<QuestionnaireCatalog> m_catalog;
    BatchUploader *m_uploader = nullptr;
    ExportJobResult m_result;
};

void ExportJob::Worker::run()
{
    std::optional<UploadConfig> upload;
    if (m_request.upload) {
        auto config = UploadConfig::fromSettings(m_options.settings);
        if (config && config->kind == UploadConfig::Kind::None)
            config = Error::invalid(u"upload/kind"_s,
                                    u"uploading is not configured: set upload/kind (redcap or "
                                    u"generic), upload/url and upload/tokenFile"_s,
                                    u"upload_not_configured"_s);
        if (!config) {
            m_result.error = config.error();
            if (m_result.error.reason.isEmpty())
                m_result.error.reason = u"upload_not_configured"_s;
            finish(m_result);
            return;
        }
        upload = *config;
    }

    SubmissionStore *store = m_options.store;
    if (!store) {
        SubmissionStore::Options options;
        options.databasePath = QDir(m_options.dataDir).filePath(u"siterelay.sqlite"_s);
        options.synchronous = m_options.settings.text(SettingKey::StorageSynchronous);
        options.busyTimeoutMs = m_options.settings.integer(SettingKey::StorageBusyTimeoutMs);
        auto opened = SubmissionStore::open(options);
        if (!opened) {
            m_result.error = opened.error();
            finish(m_result);
            return;
        }
        m_ownStore = std::move(opened).value();
        store = m_ownStore.get();
    }

    ExportRequest files = m_request.files;
    files.batch.actor = m_request.actor;
    files.canceled = [cancel = m_cancel] { return cancel->load(); };
    QString currentFile;
    files.rowProgress = [this, &currentFile](const QString &file, qint64 done, qint64 total) {
        if (file != currentFile) {
            currentFile = file;
            phase(u"writing "_s + file);
        }
        toJob([job = m_job, done, total] { Q_EMIT job->progress(done, total); });
    };
    auto exported = BatchExporter::run(*store, m_options.dataDir, files, [this](const QString &text) { say(text); });
    if (!exported) {
        m_result.error = exported.error();
        m_result.status = exported.error().reason == "nothing_to_export"_L1 ? ExportJobResult::Status::NothingToExport
                          : BatchExporter::isCancelled(exported.error())    ? ExportJobResult::Status::Cancelled
                                                                            : ExportJobResult::Status::Failed;
        finish(m_result);
        return;
    }
    m_result.filesWritten = true;
    m_result.files = *exported;
    if (!upload) {
        m_result.status = ExportJobResult::Status::Done;
        finish(m_result);
        return;
    }
    if (m_cancel->load()) {
        m_result.status = ExportJobResult::Status::Cancelled;
        m_result.error = BatchExporter::cancelledError();
        finish(m_result);
        return;
    }

    phase(u"uploading"_s);
    auto catalog = QuestionnaireCatalog::loadBuiltIn();
    auto reader = ExportReader::open(store->databasePath());
    if (!catalog || !reader) {
        m_result.error = !catalog ? catalog.error() : reader.error();
        finish(m_result);
        return;
    }
    m_catalog.emplace(std::move(catalog).value());
    m_reader = std::move(reader).value();
    const QString odmPath = QDir(exported->folder).filePath(QLatin1StringView(BatchExporter::kOdmFileName));
    m_uploader =
        new BatchUploader(*store, *m_reader, *m_catalog, *upload, exported->batch, odmPath, m_request.actor, this);
    connect(m_uploader, &BatchUploader::progress, this, [this](qint64 done, qint64 total) {
        toJob([job = m_job, done, total] { Q_EMIT job->progress(done, total); });
    });
    connect(m_uploader, &BatchUploader::message, this, [this](const QString &text) { say(text); });
    connect(m_uploader, &BatchUploader::finished, this, [this](const UploadOutcome &outcome) {
        m_result.upload = outcome;
        switch (outcome.status) {
        case UploadOutcome::Status::Confirmed:
        case UploadOutcome::Status::AlreadyConfirmed:
            m_result.status = ExportJobResult::Status::Done;
            break;
        case UploadOutcome::Status::Cancelled:
            m_result.status = ExportJobResult::Status::Cancelled;
            m_result.error = Error{ErrorCode::Internal, outcome.error, QString(), u"cancelled"_s};
            break;
        case UploadOutcome::Status::Failed:
            m_result.status = ExportJobResult::Status::Failed;
            m_result.error =
                Error{ErrorCode::Internal,
                      u"batch %1 was written but not uploaded: %2"_s.arg(m_result.files.batch.id, outcome.error),
                      QString(), u"upload_failed"_s};
            break;
        }
        // Refresh the batch row: its state is "uploaded" now if every part was confirmed.
        if (auto batch = m_reader->batch(m_result.files.batch.id))
            m_result.files.batch = *batch;
        finish(m_result);
    });
    if (m_cancel->load())
        m_uploader->cancel();
    m_uploader->start();
}

void ExportJob::Worker::finish(ExportJobResult result)
{
    // Release what lives on this thread before the job hears of the end (and may destroy us).
    if (m_uploader) {
        m_uploader->deleteLater();
        m_uploader = nullptr;
    }
    QMetaObject::invokeMethod(
        this,
        [this, result] {
            m_reader.reset();
            m_ownStore.reset();
            toJob([job = m_job, result] { job->deliver(result); });
        },
        Qt::QueuedConnection);
}

ExportJob::ExportJob(Options options, ExportJobRequest request, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_request(std::move(request))
{
    qRegisterMetaType<ExportJobResult>();
    qRegisterMetaType<UploadOutcome>();
}

ExportJob::~ExportJob()
{
    if (m_thread) {
        cancel();
        m_thread->quit();
        m_thread->wait();
    }
}

void ExportJob::start()
{
    if (m_started)
        return;
    m_started = true;
    m_running = true;
    m_thread = std::make_unique<QThread>();
    m_thread->setObjectName(u"export"_s);
    m_worker = new Worker(this, m_options, m_request, m_cancel);
    m_worker->moveToThread(m_thread.get());
    connect(m_thread.get(), &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread->start();
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker] { worker->run(); }, Qt::QueuedConnection);
}

void ExportJob::cancel()
{
    if (!m_running)
        return;
    m_cancel->store(true);
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker] { worker->cancelUpload(); }, Qt::QueuedConnection);
}

void ExportJob::deliver(const ExportJobResult &result)
{
    m_running = false;
    m_thread->quit();
    qCInfo(lcExport) << "export job ended:" << result.statusName();
    Q_EMIT finished(result);
}

} // namespace SiteRelay
