#include "exportservice.h"

#include "exportreader.h"
#include "submissionstore.h"
#include "uploadconfig.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

constexpr int kJobsKept = 50;

} // namespace

ExportService::ExportService(SubmissionStore &store, QString dataDir, Settings settings, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_dataDir(std::move(dataDir))
    , m_settings(std::move(settings))
{}

ExportService::~ExportService() = default;

Expected<ExportReader *> ExportService::reader()
{
    if (!m_reader) {
        auto opened = ExportReader::open(m_store.databasePath());
        if (!opened)
            return opened.error();
        m_reader = std::move(opened).value();
    }
    return m_reader.get();
}

QJsonObject ExportService::batchJson(const ExportBatch &batch)
{
    QJsonObject json{{u"batchId"_s, batch.id},
                     {u"sequence"_s, batch.sequence},
                     {u"createdAt"_s, batch.createdAt},
                     {u"site"_s, batch.siteId},
                     {u"trialFilter"_s, batch.trialFilter.isEmpty() ? QJsonValue() : QJsonValue(batch.trialFilter)},
                     {u"sinceFilter"_s, batch.sinceFilter.isEmpty() ? QJsonValue() : QJsonValue(batch.sinceFilter)},
                     {u"untilFilter"_s, batch.untilFilter.isEmpty() ? QJsonValue() : QJsonValue(batch.untilFilter)},
                     {u"submissions"_s, batch.submissionCount},
                     {u"state"_s, batch.state},
                     {u"checksums"_s, batch.fileChecksums}};
    if (!batch.uploadState.isEmpty()) {
        QJsonObject upload{{u"state"_s, batch.uploadState},
                           {u"kind"_s, batch.uploadKind},
                           {u"parts"_s, batch.uploadParts},
                           {u"partsConfirmed"_s, batch.uploadPartsConfirmed}};
        if (!batch.uploadError.isEmpty())
            upload.insert(u"error"_s, batch.uploadError);
        json.insert(u"upload"_s, upload);
    } else {
        json.insert(u"upload"_s, QJsonValue());
    }
    return json;
}

Expected<QJsonObject> ExportService::start(const QByteArray &body, const QString &actor)
{
    QJsonObject object;
    if (!body.trimmed().isEmpty()) {
        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
        if (parseError.error != QJsonParseError::NoError || !document.isObject())
            return Error::invalid(QString(), u"the body must be a JSON object"_s, u"malformed_json"_s);
        object = document.object();
    }
    static const QStringList known = {u"trialId"_s, u"since"_s, u"until"_s, u"upload"_s, u"batchId"_s};
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        if (!known.contains(it.key()))
            return Error::invalid(it.key(), u"unknown field \"%1\"; allowed: %2"_s.arg(it.key(), known.join(u", "_s)),
                                  u"unknown_field"_s);
    }
    const auto text = [&](const QString &key) -> Expected<QString> {
        const QJsonValue value = object.value(key);
        if (value.isUndefined() || value.isNull())
            return QString();
        if (!value.isString())
            return Error::invalid(key, u"%1 must be a string"_s.arg(key), u"invalid_field"_s);
        return value.toString();
    };
    ExportJobRequest request;
    request.actor = actor;
    auto trial = text(u"trialId"_s);
    auto since = text(u"since"_s);
    auto until = text(u"until"_s);
    auto batchId = text(u"batchId"_s);
    for (const auto *value : {&trial, &since, &until, &batchId}) {
        if (!*value)
            return value->error();
    }
    if (!trial->isEmpty() && !BatchExporter::isValidId(*trial))
        return Error::invalid(u"trialId"_s, u"trialId must be 1-64 of A-Z a-z 0-9 . _ -"_s, u"invalid_field"_s);
    // The command line's checks, its messages in the API's field names.
    const auto asField = [](const Error &error) {
        return Error::invalid(
            QString(error.field).remove(0, 2),
            QString(error.message).replace(u"--since"_s, u"since"_s).replace(u"--until"_s, u"until"_s),
            u"invalid_field"_s);
    };
    if (!since->isEmpty()) {
        auto normalized = BatchExporter::normalizeSince(*since);
        if (!normalized)
            return asField(normalized.error());
        request.files.batch.sinceFilter = *normalized;
    }
    if (!until->isEmpty()) {
        auto normalized = BatchExporter::normalizeUntil(*until);
        if (!normalized)
            return asField(normalized.error());
        request.files.batch.untilFilter = *normalized;
    }
    if (auto range = BatchExporter::checkRange(request.files.batch.sinceFilter, request.files.batch.untilFilter);
        !range)
        return asField(range.error());
    if (!batchId->isEmpty() && (!trial->isEmpty() || !since->isEmpty() || !until->isEmpty()))
        return Error::invalid(u"batchId"_s,
                              u"batchId names a recorded batch: trialId, since and until do not go with it"_s,
                              u"invalid_field"_s);
    const QJsonValue upload = object.value(u"upload"_s);
    if (!upload.isUndefined() && !upload.isNull() && !upload.isBool())
        return Error::invalid(u"upload"_s, u"upload must be true or false"_s, u"invalid_field"_s);
    request.upload = upload.toBool(false);
    if (request.upload) {
        auto config = UploadConfig::fromSettings(m_settings);
        if (!config)
            return Error::invalid(u"upload"_s, config.error().message, u"upload_not_configured"_s);
        if (config->kind == UploadConfig::Kind::None)
            return Error::invalid(u"upload"_s, u"uploading is not configured on this SiteRelay (upload/kind is none)"_s,
                                  u"upload_not_configured"_s);
    }
    if (!m_running.isEmpty())
        return Error{ErrorCode::Conflict, u"an export is already running: see /api/v1/exports/%1"_s.arg(m_running),
                     QString(), u"export_running"_s};

    request.files.batchId = *batchId;
    request.files.batch.trialFilter = *trial;
    request.files.batch.siteId = BatchExporter::siteIdFor(m_settings);

    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    JobEntry &entry = m_jobs[id];
    entry.request = object;
    entry.startedAt = toIsoUtc(m_store.clock().nowUtc());
    entry.job = std::make_unique<ExportJob>(ExportJob::Options{m_dataDir, m_settings, &m_store}, request);
    ExportJob *job = entry.job.get();
    connect(job, &ExportJob::phaseChanged, this, [this, id](const QString &phase) { m_jobs[id].phase = phase; });
    connect(job, &ExportJob::progress, this, [this, id](qint64 done, qint64 total) {
        m_jobs[id].done = done;
        m_jobs[id].total = total;
    });
    connect(job, &ExportJob::finished, this, [this, id](const ExportJobResult &result) {
        JobEntry &finished = m_jobs[id];
        finished.result = result;
        finished.endedAt = toIsoUtc(m_store.clock().nowUtc());
        m_running.clear();
        // Not from inside its own signal: the job's thread is already ending.
        finished.job.release()->deleteLater();
    });
    m_running = id;
    m_order.append(id);
    while (m_order.size() > kJobsKept) {
        const QString oldest = m_order.first();
        if (oldest == m_running)
            break;
        m_jobs.erase(oldest);
        m_order.removeFirst();
    }
    job->start();
    return jobJson(id, m_jobs[id]);
}

QJsonObject ExportService::jobJson(const QString &id, const JobEntry &entry) const
{
    QJsonObject json = entry.result ? entry.result->toJson() : QJsonObject{{u"state"_s, u"running"_s}};
    json.insert(u"id"_s, id);
    json.insert(u"statusUrl"_s, QString(u"/api/v1/exports/"_s + id));
    json.insert(u"request"_s, entry.request);
    json.insert(u"startedAt"_s, entry.startedAt);
    json.insert(u"endedAt"_s, entry.endedAt.isEmpty() ? QJsonValue() : QJsonValue(entry.endedAt));
    json.insert(u"progress"_s,
                QJsonObject{{u"phase"_s, entry.phase}, {u"done"_s, entry.done}, {u"total"_s, entry.total}});
    return json;
}

Expected<QJsonObject> ExportService::status(const QString &id)
{
    if (auto it = m_jobs.find(id); it != m_jobs.end())
        return jobJson(id, it->second);
    auto r = reader();
    if (!r)
        return r.error();
    auto batch = (*r)->batch(id);
    if (!batch) {
        if (batch.error().code == ErrorCode::NotFound)
            return Error{ErrorCode::NotFound, u"no export job or batch \"%1\""_s.arg(id), QString(), u"not_found"_s};
        return batch.error();
    }
    return batchJson(*batch);
}

Expected<QJsonObject> ExportService::list()
{
    auto r = reader();
    if (!r)
        return r.error();
    auto batches = (*r)->batches();
    if (!batches)
        return batches.error();
    QJsonArray batchList;
    for (const ExportBatch &batch : std::as_const(*batches))
        batchList.append(batchJson(batch));
    QJsonArray jobs;
    for (auto it = m_order.crbegin(); it != m_order.crend(); ++it)
        jobs.append(jobJson(*it, m_jobs.at(*it)));
    return QJsonObject{{u"batches"_s, batchList}, {u"jobs"_s, jobs}};
}

} // namespace SiteRelay
