#include "batchuploader.h"

#include "exportreader.h"
#include "futurecallback.h"
#include "logging.h"
#include "redcaprecords.h"
#include "uploadstore.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QTimer>

#include <algorithm>
#include <limits>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// The whole answer of a failed request goes to the user; beyond this it is an error page, not errors.
constexpr qint64 kMaxErrorBodyBytes = 1024 * 1024;

QByteArray formField(const char *name, const QByteArray &value)
{
    return QByteArray(name) + '=' + value.toPercentEncoding();
}

QString sha256Hex(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

/// Retry-After in seconds (the only form REDCap and common proxies send), as milliseconds; 0 if absent.
qint64 retryAfterMs(const QNetworkReply *reply)
{
    bool ok = false;
    const qint64 seconds = reply->rawHeader("Retry-After").trimmed().toLongLong(&ok);
    return ok && seconds > 0 ? std::min<qint64>(seconds, 3600) * 1000 : 0;
}

/// REDCap answers errors as {"error": "..."}; the text in full is what the user must see.
QString errorText(const QByteArray &body)
{
    const QJsonDocument json = QJsonDocument::fromJson(body);
    if (json.isObject() && json.object().value("error"_L1).isString())
        return json.object().value("error"_L1).toString();
    return QString::fromUtf8(body).trimmed();
}

} // namespace

BatchUploader::BatchUploader(SubmissionStore &store, ExportReader &reader, const QuestionnaireCatalog &catalog,
                             UploadConfig config, ExportBatch batch, QString odmPath, QString actor, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_reader(reader)
    , m_catalog(catalog)
    , m_config(std::move(config))
    , m_batch(std::move(batch))
    , m_odmPath(std::move(odmPath))
    , m_actor(std::move(actor))
    , m_records(std::make_unique<RedcapRecords>(m_catalog, m_config))
    , m_network(new QNetworkAccessManager(this))
    , m_timeout(new QTimer(this))
    , m_retryTimer(new QTimer(this))
{
    m_timeout->setSingleShot(true);
    m_retryTimer->setSingleShot(true);
    connect(m_timeout, &QTimer::timeout, this, &BatchUploader::onTimeout);
    connect(m_retryTimer, &QTimer::timeout, this, &BatchUploader::sendCurrent);
}

BatchUploader::~BatchUploader()
{
    if (m_reply)
        m_reply->abort();
}

Expected<UploadPlan> BatchUploader::planRedcap(ExportReader &reader, const RedcapRecords &records,
                                               const ExportBatch &batch, int maxRecords, int maxBytes)
{
    UploadPlan plan;
    plan.batchId = batch.id;
    plan.kind = u"redcap"_s;
    plan.maxRecords = maxRecords;
    plan.maxBytes = maxBytes;
    UploadPart part;
    // Only the current part's bytes are held: memory is bounded by upload/maxBytes, not the batch.
    QByteArray data;
    const auto close = [&] {
        data += ']';
        part.partNo = int(plan.parts.size()) + 1;
        part.byteCount = data.size();
        part.payloadSha256 = sha256Hex(data);
        part.state = u"pending"_s;
        plan.parts.append(part);
        part = UploadPart{};
        data.clear();
    };
    auto walked = reader.forEachRowById(
        batch.id, 0, std::numeric_limits<qint64>::max(), [&](const ExportRow &row) -> Expected<Done> {
            auto json = records.recordJson(row, batch);
            if (!json)
                return json.error();
            if (json->size() + 2 > maxBytes)
                return Error::invalid(u"upload/maxBytes"_s,
                                      u"submission %1 alone is %2 bytes as a REDCap record, more than upload/maxBytes "
                                      u"(%3)"_s.arg(row.submissionId)
                                          .arg(json->size())
                                          .arg(maxBytes));
            if (part.recordCount > 0 &&
                (part.recordCount + 1 > maxRecords || data.size() + 1 + json->size() + 1 > maxBytes))
                close();
            data += part.recordCount == 0 ? '[' : ',';
            data += *json;
            if (part.recordCount == 0)
                part.firstRowId = row.rowId;
            part.lastRowId = row.rowId;
            ++part.recordCount;
            return Done{};
        });
    if (!walked)
        return walked.error();
    if (part.recordCount > 0)
        close();
    return plan;
}

void BatchUploader::start()
{
    // Queued: the caller connects to finished() after start() returns, also when it ends at once.
    QMetaObject::invokeMethod(this, &BatchUploader::loadOrPlan, Qt::QueuedConnection);
}

void BatchUploader::cancel()
{
    if (m_finished || m_cancelled)
        return;
    m_cancelled = true;
    if (m_reply) {
        m_reply->abort(); // onReplyFinished records the attempt and finishes
        return;
    }
    if (m_retryTimer->isActive()) {
        m_retryTimer->stop();
        finish(UploadOutcome::Status::Cancelled, u"the upload was cancelled; upload the batch again to resume"_s);
    }
    // Otherwise a store write is on its way: its continuation sees m_cancelled and finishes.
}

QString BatchUploader::partLabel() const
{
    const UploadPart &part = m_plan.parts[m_current];
    return u"part %1 of %2 (%3 records, %4 bytes)"_s.arg(part.partNo)
        .arg(m_plan.parts.size())
        .arg(part.recordCount)
        .arg(part.byteCount);
}

void BatchUploader::loadOrPlan()
{
    if (m_cancelled) {
        finish(UploadOutcome::Status::Cancelled, u"the upload was cancelled before it began"_s);
        return;
    }
    auto stored = m_reader.uploadPlan(m_batch.id);
    if (!stored) {
        finish(UploadOutcome::Status::Failed, stored.error().message);
        return;
    }
    const QString target = m_config.safeUrl();
    if (*stored) {
        const UploadPlan &plan = **stored;
        if (plan.kind == m_config.kindName() && plan.targetUrl == target) {
            m_plan = plan;
            if (plan.state == "confirmed"_L1) {
                finish(UploadOutcome::Status::AlreadyConfirmed);
                return;
            }
            Q_EMIT message(u"resuming the upload of batch %1: %2 of %3 parts confirmed"_s.arg(m_batch.id)
                               .arg(plan.confirmedParts())
                               .arg(plan.parts.size()));
            sendNext();
            return;
        }
        if (plan.confirmedParts() > 0) {
            finish(UploadOutcome::Status::Failed,
                   u"batch %1 is partly uploaded to %2 (%3); with upload/kind and upload/url set back to that "
                   u"platform the upload resumes"_s.arg(m_batch.id, plan.targetUrl, plan.kind),
                   0, true);
            return;
        }
    }

    UploadPlan plan;
    if (m_config.kind == UploadConfig::Kind::Redcap) {
        auto planned = planRedcap(m_reader, *m_records, m_batch, m_config.maxRecords, m_config.maxBytes);
        if (!planned) {
            finish(UploadOutcome::Status::Failed, planned.error().message, 0, true);
            return;
        }
        plan = std::move(planned).value();
    } else {
        const QString sha = m_batch.fileChecksums.value("clinical.odm.xml"_L1).toString();
        if (sha.isEmpty() || !QFile::exists(m_odmPath)) {
            finish(UploadOutcome::Status::Failed, u"the batch's ODM file is not written; export it first"_s);
            return;
        }
        UploadPart part;
        part.partNo = 1;
        part.recordCount = m_batch.submissionCount;
        part.byteCount = QFileInfo(m_odmPath).size();
        part.payloadSha256 = sha;
        part.state = u"pending"_s;
        plan.batchId = m_batch.id;
        plan.kind = u"generic"_s;
        plan.parts = {part};
    }
    plan.targetUrl = target;
    plan.state = u"planned"_s;
    whenFinished(UploadStore::savePlan(m_store, plan, m_actor), this, [this, plan](const Expected<Done> &saved) {
        if (!saved) {
            finish(UploadOutcome::Status::Failed, saved.error().message);
            return;
        }
        m_plan = plan;
        Q_EMIT message(u"planned the upload of batch %1: %2 parts to %3"_s.arg(m_batch.id)
                           .arg(m_plan.parts.size())
                           .arg(m_plan.targetUrl));
        sendNext();
    });
}

void BatchUploader::sendNext()
{
    qint64 records = 0;
    qint64 confirmed = 0;
    m_current = -1;
    for (int i = 0; i < m_plan.parts.size(); ++i) {
        records += m_plan.parts[i].recordCount;
        if (m_plan.parts[i].state == "confirmed"_L1)
            confirmed += m_plan.parts[i].recordCount;
        else if (m_current < 0)
            m_current = i;
    }
    Q_EMIT progress(confirmed, records);
    if (m_cancelled) {
        finish(UploadOutcome::Status::Cancelled, u"the upload was cancelled; upload the batch again to resume"_s);
        return;
    }
    if (m_current < 0) {
        whenFinished(
            UploadStore::markUploaded(
                m_store, m_batch.id, m_actor,
                u"%1 parts, %2 records confirmed by %3"_s.arg(m_plan.parts.size()).arg(records).arg(m_plan.targetUrl)),
            this, [this](const Expected<Done> &marked) {
                if (!marked)
                    finish(UploadOutcome::Status::Failed, marked.error().message);
                else
                    finish(UploadOutcome::Status::Confirmed);
            });
        return;
    }
    m_attemptsThisRun = 0;
    sendCurrent();
}

Expected<QByteArray> BatchUploader::redcapData(const UploadPart &part, QStringList *ids)
{
    QByteArray data;
    auto walked = m_reader.forEachRowById(m_batch.id, part.firstRowId, part.lastRowId,
                                          [&](const ExportRow &row) -> Expected<Done> {
                                              auto json = m_records->recordJson(row, m_batch);
                                              if (!json)
                                                  return json.error();
                                              data += data.isEmpty() ? '[' : ',';
                                              data += *json;
                                              ids->append(row.submissionId);
                                              return Done{};
                                          });
    if (!walked)
        return walked.error();
    data += ']';
    // The plan promised these bytes: anything else would make "sent once" meaningless.
    if (ids->size() != part.recordCount || sha256Hex(data) != part.payloadSha256)
        return Error{
            ErrorCode::Internal,
            u"part %1 of batch %2 no longer has the records it was planned with"_s.arg(part.partNo).arg(m_batch.id)};
    return data;
}

void BatchUploader::sendCurrent()
{
    if (m_cancelled) {
        finish(UploadOutcome::Status::Cancelled, u"the upload was cancelled; upload the batch again to resume"_s);
        return;
    }
    const UploadPart part = m_plan.parts[m_current];
    QNetworkRequest request(m_config.url);
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    QByteArray body;
    m_sentIds.clear();
    if (m_plan.kind == "redcap"_L1) {
        auto data = redcapData(part, &m_sentIds);
        if (!data) {
            finish(UploadOutcome::Status::Failed, data.error().message, 0, true);
            return;
        }
        std::sort(m_sentIds.begin(), m_sentIds.end());
        body = formField("token", m_config.token.toUtf8()) +
               "&content=record&format=json&type=flat"
               "&overwriteBehavior=normal&returnContent=ids"
               "&returnFormat=json&" +
               formField("data", *data);
        request.setHeader(QNetworkRequest::ContentTypeHeader, "application/x-www-form-urlencoded"_ba);
        request.setRawHeader("Accept", "application/json");
    } else {
        m_odmFile = std::make_unique<QFile>(m_odmPath);
        QCryptographicHash hash(QCryptographicHash::Sha256);
        if (!m_odmFile->open(QIODevice::ReadOnly) || !hash.addData(m_odmFile.get()) ||
            QString::fromLatin1(hash.result().toHex()) != part.payloadSha256 || !m_odmFile->seek(0)) {
            finish(
                UploadOutcome::Status::Failed,
                u"%1 is missing or differs from the batch's recorded checksum; export the batch again"_s.arg(m_odmPath),
                0, true);
            return;
        }
        request.setHeader(QNetworkRequest::ContentTypeHeader, "application/xml"_ba);
        request.setHeader(QNetworkRequest::ContentLengthHeader, m_odmFile->size());
        request.setRawHeader("Authorization", "Bearer " + m_config.token.toUtf8());
        request.setRawHeader("X-SiteRelay-Batch", m_batch.id.toLatin1());
    }
    ++m_attemptsThisRun;
    const QString detail =
        u"%1, attempt %2 of this run, to %3"_s.arg(partLabel()).arg(m_attemptsThisRun).arg(m_plan.targetUrl);
    // Audited before it is sent: an attempt cut short by a kill is in the trail too.
    whenFinished(UploadStore::recordSending(m_store, m_batch.id, part.partNo, m_actor, detail), this,
                 [this, request, body, detail](const Expected<Done> &recorded) {
                     if (!recorded) {
                         finish(UploadOutcome::Status::Failed, recorded.error().message);
                         return;
                     }
                     if (m_cancelled) {
                         finish(UploadOutcome::Status::Cancelled,
                                u"the upload was cancelled; upload the batch again to resume"_s);
                         return;
                     }
                     Q_EMIT message(u"sending "_s + detail);
                     m_timedOut = false;
                     m_reply = m_plan.kind == "redcap"_L1 ? m_network->post(request, body)
                                                          : m_network->post(request, m_odmFile.get());
                     connect(m_reply, &QNetworkReply::finished, this, &BatchUploader::onReplyFinished);
                     m_timeout->start(m_config.timeoutMs);
                 });
}

void BatchUploader::onTimeout()
{
    if (!m_reply)
        return;
    m_timedOut = true;
    m_reply->abort();
}

void BatchUploader::onReplyFinished()
{
    m_timeout->stop();
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    if (!reply)
        return;
    reply->deleteLater();
    if (m_odmFile)
        m_odmFile->close();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    // An aborted reply (timeout, cancel) is closed: there is no body to read.
    const QByteArray body = reply->isOpen() ? reply->read(kMaxErrorBodyBytes) : QByteArray();

    if (m_cancelled) {
        attemptFailed(u"cancelled while sending"_s, 0, false, 0);
        return;
    }
    if (status == 0) {
        attemptFailed(m_timedOut ? u"no answer within upload/timeoutMs (%1 ms)"_s.arg(m_config.timeoutMs)
                                 : u"network error: "_s + reply->errorString(),
                      0, false, 0);
        return;
    }
    if (status == 401 || status == 403) {
        attemptFailed(u"the platform refused the API token (HTTP %1): check upload/token or upload/tokenFile. "
                      u"It said: %2"_s.arg(status)
                          .arg(errorText(body)),
                      status, true, 0);
        return;
    }
    if (status == 429 || status >= 500) {
        attemptFailed(u"HTTP %1 from the platform: %2"_s.arg(status).arg(errorText(body).left(2000)), status, false,
                      retryAfterMs(reply));
        return;
    }
    if (status < 200 || status >= 300) {
        attemptFailed(u"the platform rejected the data (HTTP %1):\n%2"_s.arg(status).arg(errorText(body)), status, true,
                      0);
        return;
    }
    if (m_plan.kind == "redcap"_L1) {
        const QJsonDocument json = QJsonDocument::fromJson(body);
        QStringList confirmed;
        for (const QJsonValue &id : json.array())
            confirmed.append(id.isString() ? id.toString() : QString::number(id.toInteger()));
        std::sort(confirmed.begin(), confirmed.end());
        if (!json.isArray() || confirmed != m_sentIds) {
            attemptFailed(u"the platform answered HTTP %1 but confirmed %2 of the %3 records sent (ids differ); the "
                          u"part stays unconfirmed. It said: %4"_s.arg(status)
                              .arg(confirmed.size())
                              .arg(m_sentIds.size())
                              .arg(QString::fromUtf8(body.left(2000))),
                          status, true, 0);
            return;
        }
    }
    partConfirmed();
}

void BatchUploader::partConfirmed()
{
    const int index = m_current;
    whenFinished(UploadStore::recordOutcome(m_store, m_batch.id, m_plan.parts[index].partNo, u"confirmed"_s, QString(),
                                            m_actor, partLabel() + u" confirmed"_s),
                 this, [this, index](const Expected<Done> &recorded) {
                     if (!recorded) {
                         finish(UploadOutcome::Status::Failed, recorded.error().message);
                         return;
                     }
                     m_plan.parts[index].state = u"confirmed"_s;
                     sendNext();
                 });
}

void BatchUploader::attemptFailed(const QString &error, int httpStatus, bool permanent, qint64 retryAfter)
{
    const int index = m_current;
    const bool retry = !permanent && !m_cancelled && m_config.retry.mayRetryAfter(m_attemptsThisRun);
    const QString partState = permanent ? u"failed"_s : u"pending"_s;
    qCInfo(lcExport) << "upload of batch" << m_batch.sequence << "part" << m_plan.parts[index].partNo
                     << "failed:" << (httpStatus ? QString::number(httpStatus) : u"no answer"_s)
                     << (retry ? "(will retry)" : "");
    whenFinished(
        UploadStore::recordOutcome(m_store, m_batch.id, m_plan.parts[index].partNo, partState, error, m_actor,
                                   partLabel() + (m_cancelled ? u" cancelled"_s : u" failed"_s)),
        this, [this, error, httpStatus, permanent, retry, retryAfter, index](const Expected<Done> &recorded) {
            if (!recorded) {
                finish(UploadOutcome::Status::Failed, recorded.error().message);
                return;
            }
            m_plan.parts[index].lastError = error;
            if (m_cancelled) {
                finish(UploadOutcome::Status::Cancelled,
                       u"the upload was cancelled; upload the batch again to resume"_s);
                return;
            }
            if (!retry) {
                const QString prefix = u"part %1 of %2"_s.arg(m_plan.parts[index].partNo).arg(m_plan.parts.size());
                finish(UploadOutcome::Status::Failed,
                       permanent ? prefix + u": "_s + error
                                 : u"%1: gave up after %2 attempts: %3"_s.arg(prefix).arg(m_attemptsThisRun).arg(error),
                       httpStatus, permanent);
                return;
            }
            const qint64 delay = std::max(
                retryAfter, m_config.retry.delayMs(m_attemptsThisRun, QRandomGenerator::global()->generateDouble()));
            Q_EMIT message(u"%1: %2; retrying in %3 ms"_s.arg(partLabel(), error).arg(delay));
            m_retryTimer->start(int(std::min<qint64>(delay, std::numeric_limits<int>::max())));
        });
}

void BatchUploader::finish(UploadOutcome::Status status, const QString &error, int httpStatus, bool permanent)
{
    if (m_finished)
        return;
    m_finished = true;
    m_retryTimer->stop();
    m_timeout->stop();
    UploadOutcome outcome;
    outcome.status = status;
    outcome.error = error;
    outcome.httpStatus = httpStatus;
    outcome.permanent = permanent;
    outcome.parts = int(m_plan.parts.size());
    for (const UploadPart &part : std::as_const(m_plan.parts)) {
        outcome.records += part.recordCount;
        if (part.state == "confirmed"_L1) {
            ++outcome.partsConfirmed;
            outcome.recordsConfirmed += part.recordCount;
        }
    }
    const bool recordFailure =
        (status == UploadOutcome::Status::Failed || status == UploadOutcome::Status::Cancelled) &&
        !m_plan.batchId.isEmpty();
    if (!recordFailure) {
        Q_EMIT finished(outcome);
        return;
    }
    // The batch stays unconfirmed; the reason is kept in full for the dashboard and the API.
    whenFinished(UploadStore::setState(m_store, m_batch.id, u"failed"_s, error, m_actor,
                                       u"%1 of %2 parts confirmed"_s.arg(outcome.partsConfirmed).arg(outcome.parts)),
                 this, [this, outcome](const Expected<Done> &) { Q_EMIT finished(outcome); });
}

} // namespace SiteRelay
