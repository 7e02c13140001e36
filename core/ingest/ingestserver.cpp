#include "ingestserver.h"

#include "exportservice.h"
#include "futurecallback.h"
#include "guardedtcpserver.h"
#include "httpserveradapter.h"
#include "logging.h"
#include "processinfo.h"
#include "questionnairecatalog.h"
#include "storereader.h"
#include "submissionstore.h"
#include "tabletroutes.h"
#include "taskengine.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

#include <tuple>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// last_seen_at is a hint for the coordinator, not an audit fact: one write a minute per device.
constexpr qint64 LastSeenIntervalMs = 60 * 1000;

const QStringList &allStates()
{
    static const QStringList states = {u"pending"_s,   u"processing"_s, u"processed"_s, u"retrying"_s,
                                       u"timed_out"_s, u"failed"_s,     u"cancelled"_s};
    return states;
}

QStringList splitPath(const QString &path)
{
    return path.split(u'/', Qt::SkipEmptyParts);
}

} // namespace

IngestServer::IngestServer(Dependencies dependencies, QObject *parent)
    : QObject(parent)
    , m_deps(std::move(dependencies))
    , m_parser(*m_deps.catalog)
    , m_queue(*m_deps.store)
    , m_review(*m_deps.store)
{
    m_routes = {
        {"POST", splitPath(u"/api/v1/submissions"_s), Access::AnyToken, &IngestServer::postSubmission},
        {"GET", splitPath(u"/api/v1/submissions/{}"_s), Access::AnyToken, &IngestServer::getSubmission},
        {"POST", splitPath(u"/api/v1/submissions/{}/cancel"_s), Access::Coordinator, &IngestServer::postCancel},
        {"POST", splitPath(u"/api/v1/submissions/{}/retry"_s), Access::Coordinator, &IngestServer::postRetry},
        {"POST", splitPath(u"/api/v1/submissions/{}/review"_s), Access::Coordinator, &IngestServer::postReview},
        {"GET", splitPath(u"/api/v1/alerts"_s), Access::Coordinator, &IngestServer::getAlerts},
        {"POST", splitPath(u"/api/v1/alerts/{}/acknowledge"_s), Access::Coordinator,
         &IngestServer::postAcknowledgeAlert},
        {"GET", splitPath(u"/api/v1/questionnaires"_s), Access::AnyToken, &IngestServer::getQuestionnaires},
        {"POST", splitPath(u"/data/submit"_s), Access::AnyToken, &IngestServer::postLegacySubmit},
        {"GET", splitPath(u"/api/v1/health"_s), Access::Open, &IngestServer::getHealth},
        {"GET", splitPath(u"/api/v1/stats"_s), Access::LoopbackOrCoordinator, &IngestServer::getStats},
        {"GET", splitPath(u"/metrics"_s), Access::LoopbackOrCoordinator, &IngestServer::getMetrics},
    };
    if (m_deps.settings.flag(SettingKey::BenchNoStoreRoute))
        m_routes.push_back({"POST", splitPath(u"/bench/echo"_s), Access::Open, &IngestServer::postBenchEcho});
    m_tablet = new TabletRoutes(*m_deps.store, m_deps.clock, m_deps.settings, this);
    m_exports =
        new ExportService(*m_deps.store, QFileInfo(m_deps.store->databasePath()).absolutePath(), m_deps.settings, this);
    m_routes.push_back({"POST", splitPath(u"/api/v1/exports"_s), Access::Coordinator, &IngestServer::postExport});
    m_routes.push_back({"GET", splitPath(u"/api/v1/exports"_s), Access::Coordinator, &IngestServer::getExports});
    m_routes.push_back({"GET", splitPath(u"/api/v1/exports/{}"_s), Access::Coordinator, &IngestServer::getExport});
    m_routes.push_back({"GET", splitPath(u"/tablet"_s), Access::Open, &IngestServer::getTabletPage});
    m_routes.push_back({"GET", splitPath(u"/tablet/{}"_s), Access::Open, &IngestServer::getTabletPage});
    m_routes.push_back({"POST", splitPath(u"/api/v1/enroll"_s), Access::Open, &IngestServer::postEnroll});
    m_routes.push_back(
        {"POST", splitPath(u"/api/v1/tablet/unlock"_s), Access::AnyToken, &IngestServer::postTabletUnlock});
}

IngestServer::~IngestServer() = default;

Expected<quint16> IngestServer::listen(const QHostAddress &address, quint16 port)
{
    auto reader = StoreReader::open(m_deps.store->databasePath());
    if (!reader)
        return reader.error();
    m_reader = std::move(reader).value();
    auto alertReader = AlertReader::open(m_deps.store->databasePath());
    if (!alertReader)
        return alertReader.error();
    m_alertReader = std::move(alertReader).value();
    m_startedMs = m_deps.clock->monotonicMs();

    const Settings &settings = m_deps.settings;
    ConnectionLimits limits;
    limits.maxHeaderBytes = settings.integer(SettingKey::IngestMaxHeaderBytes);
    limits.maxBodyBytes = settings.integer(SettingKey::IngestMaxBodyBytes);
    limits.idleTimeoutMs = settings.integer(SettingKey::IngestIdleTimeoutMs);
    limits.requestDeadlineMs = settings.integer(SettingKey::IngestRequestDeadlineMs);
    limits.maxConnections = settings.integer(SettingKey::IngestMaxConnections);

    auto *tcpServer = new GuardedTcpServer(limits, this);
    if (!tcpServer->listen(address, port)) {
        const QString why = tcpServer->errorString();
        delete tcpServer;
        return Error{ErrorCode::Internal, u"cannot listen on %1:%2: %3"_s.arg(address.toString()).arg(port).arg(why),
                     QString(), u"listen_failed"_s};
    }
    m_tcpServer = tcpServer;
    m_http = new HttpServerAdapter(
        [this](const HttpRequest &request, ResponseSlot slot) { handle(request, std::move(slot)); }, this);
    m_http->bind(tcpServer);
    return tcpServer->serverPort();
}

void IngestServer::drain()
{
    m_draining = true;
    if (m_tcpServer)
        m_tcpServer->drainConnections();
    if (m_answersOwed == 0)
        Q_EMIT drained();
}

void IngestServer::answerOwedDone()
{
    --m_answersOwed;
    if (m_draining && m_answersOwed == 0)
        Q_EMIT drained();
}

void IngestServer::handle(const HttpRequest &request, ResponseSlot slot)
{
    const QStringList segments = splitPath(request.path);
    QList<QByteArray> allowed;
    for (const Route &route : m_routes) {
        if (route.segments.size() != segments.size())
            continue;
        QStringList args;
        bool matches = true;
        for (qsizetype i = 0; i < segments.size() && matches; ++i) {
            if (route.segments[i] == "{}"_L1)
                args.append(segments[i]);
            else
                matches = route.segments[i] == segments[i];
        }
        if (!matches)
            continue;
        // HEAD is GET without the body (RFC 9110 9.3.2); ResponseSlot leaves the body out.
        const bool headOfGet = request.method == "HEAD" && route.method == "GET";
        if (route.method != request.method && !headOfGet) {
            allowed.append(route.method);
            if (route.method == "GET")
                allowed.append("HEAD");
            continue;
        }
        auto caller = authorize(request, route.access);
        if (!caller) {
            if (route.handler == &IngestServer::postSubmission || route.handler == &IngestServer::postLegacySubmit)
                ++m_counters.rejected;
            slot.send(errorResponse(caller.error()));
            return;
        }
        (this->*route.handler)(request, *caller, args, std::move(slot));
        return;
    }
    if (!allowed.isEmpty()) {
        ApiResponse response = ApiResponse::error(
            405, u"method_not_allowed"_s,
            u"%1 is not allowed on %2; allowed: %3"_s.arg(QString::fromLatin1(request.method), request.path,
                                                          QString::fromLatin1(allowed.join(", "))));
        response.addHeader("Allow", allowed.join(", "));
        slot.send(response);
        return;
    }
    slot.send(ApiResponse::error(404, u"not_found"_s, u"There is no resource at %1."_s.arg(request.path)));
}

Expected<IngestServer::Caller> IngestServer::authorize(const HttpRequest &request, Access access)
{
    Caller caller;
    const QByteArray authorization = request.header("Authorization");
    if (!authorization.isEmpty()) {
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        if (authorization.size() < 7 ||
            QByteArrayView(authorization).first(7).compare("bearer ", Qt::CaseInsensitive) != 0)
            return Error{ErrorCode::Unauthenticated, u"use Authorization: Bearer <token>"_s, QString(),
                         u"unauthenticated"_s};
        auto device = m_reader->authenticate(authorization.mid(7).trimmed());
        if (!device)
            return device.error();
        caller.device = *device;
        const qint64 now = m_deps.clock->monotonicMs();
        auto last = m_lastSeenRecordedMs.find(device->id);
        if (last == m_lastSeenRecordedMs.end() || now - *last >= LastSeenIntervalMs) {
            m_lastSeenRecordedMs.insert(device->id, now);
            m_deps.store->recordDeviceSeen(device->id);
        }
    }
    switch (access) {
    case Access::Open:
        return caller;
    case Access::AnyToken:
        if (!caller.device)
            return Error{ErrorCode::Unauthenticated, u"this request needs Authorization: Bearer <token>"_s, QString(),
                         u"unauthenticated"_s};
        return caller;
    case Access::LoopbackOrCoordinator:
        if (request.fromLoopback() && m_deps.settings.flag(SettingKey::IngestLoopbackStats))
            return caller;
        [[fallthrough]];
    case Access::Coordinator:
        if (!caller.device)
            return Error{ErrorCode::Unauthenticated, u"this request needs a coordinator's bearer token"_s, QString(),
                         u"unauthenticated"_s};
        if (!caller.device->isCoordinator())
            return Error{ErrorCode::Forbidden, u"this request needs a coordinator's token, not a device's"_s, QString(),
                         u"forbidden"_s};
        return caller;
    }
    return caller;
}

ApiResponse IngestServer::errorResponse(const Error &error) const
{
    return ApiResponse::fromError(error, m_deps.settings.integer(SettingKey::IngestRetryAfterSeconds));
}

std::optional<ApiResponse> IngestServer::checkJsonContentType(const HttpRequest &request) const
{
    const QByteArray type = request.header("Content-Type").split(';').value(0).trimmed().toLower();
    if (type == "application/json")
        return std::nullopt;
    return ApiResponse::error(
        415, u"unsupported_media_type"_s,
        type.isEmpty() ? u"Send the body as JSON with Content-Type: application/json."_s
                       : u"Content-Type %1 is not accepted; send JSON with Content-Type: application/json."_s.arg(
                             QString::fromLatin1(type)));
}

void IngestServer::postSubmission(const HttpRequest &request, const Caller &caller, const QStringList &,
                                  ResponseSlot slot)
{
    if (auto unsupported = checkJsonContentType(request)) {
        ++m_counters.rejected;
        slot.send(*unsupported);
        return;
    }
    auto submission = m_parser.parseApiV1(request.body, caller.device->id, m_deps.clock->nowUtc());
    if (!submission) {
        ++m_counters.rejected;
        slot.send(errorResponse(submission.error()));
        return;
    }
    storeAndAnswer(std::move(submission).value(), std::move(slot), false);
}

void IngestServer::postLegacySubmit(const HttpRequest &request, const Caller &caller, const QStringList &,
                                    ResponseSlot slot)
{
    if (auto unsupported = checkJsonContentType(request)) {
        ++m_counters.rejected;
        slot.send(*unsupported);
        return;
    }
    auto submission = m_parser.parseLegacy(request.body, caller.device->id, m_deps.clock->nowUtc());
    if (!submission) {
        ++m_counters.rejected;
        slot.send(errorResponse(submission.error()));
        return;
    }
    storeAndAnswer(std::move(submission).value(), std::move(slot), true);
}

void IngestServer::storeAndAnswer(NewSubmission submission, ResponseSlot slot, bool legacy)
{
    ++m_answersOwed;
    // The slot is move-only and QFuture continuations must be copyable: share it.
    auto shared = std::make_shared<ResponseSlot>(std::move(slot));
    whenFinished(
        m_deps.store->append(submission), this, [this, shared, legacy](const Expected<SubmissionReceipt> &result) {
            if (!result) {
                if (result.error().code == ErrorCode::StorageUnavailable)
                    ++m_counters.unavailable;
                else
                    ++m_counters.rejected;
                shared->send(errorResponse(result.error()));
                answerOwedDone();
                return;
            }
            const SubmissionReceipt &receipt = *result;
            ++(receipt.duplicate ? m_counters.duplicates : m_counters.accepted);
            const int status = receipt.duplicate ? 200 : 202;
            QJsonObject body;
            if (legacy) {
                body = QJsonObject{{u"message"_s, receipt.duplicate
                                                      ? u"Report already received; it was not stored again."_s
                                                      : u"Report received and queued for processing."_s},
                                   {u"submissionId"_s, receipt.submissionId}};
            } else {
                body = QJsonObject{{u"submissionId"_s, receipt.submissionId},
                                   {u"status"_s, receipt.status},
                                   {u"receivedAt"_s, receipt.receivedAt},
                                   {u"statusUrl"_s, QString(u"/api/v1/submissions/"_s + receipt.submissionId)}};
            }
            ApiResponse response = ApiResponse::json(status, body);
            if (!legacy)
                response.addHeader("Location", "/api/v1/submissions/" + receipt.submissionId.toLatin1());
            shared->send(response);
            answerOwedDone();
        });
}

void IngestServer::getSubmission(const HttpRequest &, const Caller &caller, const QStringList &args, ResponseSlot slot)
{
    const QString id = args.value(0).toLower();
    auto status = m_reader->submissionStatus(id);
    // Another device's submission is reported exactly like a missing one: ids are not probeable.
    if (status && !caller.device->isCoordinator() && status->deviceId != caller.device->id)
        status = Error{ErrorCode::NotFound, u"no submission %1 is visible to this token"_s.arg(id), QString(),
                       u"not_found"_s};
    if (!status) {
        slot.send(errorResponse(status.error()));
        return;
    }
    QJsonObject body{{u"submissionId"_s, status->submissionId},
                     {u"status"_s, status->state},
                     {u"questionnaireId"_s, status->questionnaireId},
                     {u"completedAt"_s, status->completedAt},
                     {u"receivedAt"_s, status->receivedAt},
                     {u"updatedAt"_s, status->updatedAt},
                     {u"attemptCount"_s, status->attemptCount},
                     {u"lastError"_s, status->lastError.isEmpty() ? QJsonValue() : QJsonValue(status->lastError)}};
    if (!status->nextAttemptAt.isEmpty())
        body.insert(u"nextAttemptAt"_s, status->nextAttemptAt);
    if (status->scoreTotal)
        body.insert(u"score"_s, QJsonObject{{u"total"_s, *status->scoreTotal}, {u"band"_s, status->scoreBand}});
    if (auto attempts = m_reader->attempts(status->submissionId)) {
        QJsonArray list;
        for (const AttemptInfo &attempt : std::as_const(*attempts)) {
            QJsonObject entry{{u"number"_s, attempt.number},
                              {u"startedAt"_s, attempt.startedAt},
                              {u"stageReached"_s, attempt.stageReached},
                              {u"stageDurationsMs"_s, attempt.stageDurationsMs}};
            entry.insert(u"endedAt"_s, attempt.endedAt.isEmpty() ? QJsonValue() : QJsonValue(attempt.endedAt));
            entry.insert(u"outcome"_s, attempt.outcome.isEmpty() ? QJsonValue() : QJsonValue(attempt.outcome));
            entry.insert(u"error"_s, attempt.error.isEmpty() ? QJsonValue() : QJsonValue(attempt.error));
            list.append(entry);
        }
        body.insert(u"attempts"_s, list);
    }
    slot.send(ApiResponse::json(200, body));
}

void IngestServer::postCancel(const HttpRequest &, const Caller &caller, const QStringList &args, ResponseSlot slot)
{
    const QString id = args.value(0).toLower();
    ++m_answersOwed;
    auto shared = std::make_shared<ResponseSlot>(std::move(slot));
    const QString actor = caller.device->actor();
    auto future = m_deps.engine ? m_deps.engine->cancel(id, actor) : m_queue.cancelWaiting(id, actor);
    whenFinished(future, this, [this, shared, id](const Expected<TaskState> &result) {
        if (result)
            shared->send(
                ApiResponse::json(200, QJsonObject{{u"submissionId"_s, id}, {u"status"_s, toString(*result)}}));
        else
            shared->send(errorResponse(result.error()));
        answerOwedDone();
    });
}

void IngestServer::postRetry(const HttpRequest &, const Caller &caller, const QStringList &args, ResponseSlot slot)
{
    const QString id = args.value(0).toLower();
    ++m_answersOwed;
    auto shared = std::make_shared<ResponseSlot>(std::move(slot));
    const QString actor = caller.device->actor();
    auto future = m_deps.engine ? m_deps.engine->requeue(id, actor) : m_queue.requeue(id, actor);
    whenFinished(future, this, [this, shared, id](const Expected<Done> &result) {
        if (result)
            shared->send(ApiResponse::json(202, QJsonObject{{u"submissionId"_s, id}, {u"status"_s, u"pending"_s}}));
        else
            shared->send(errorResponse(result.error()));
        answerOwedDone();
    });
}

void IngestServer::getAlerts(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot)
{
    const QString state = request.query.queryItemValue(u"state"_s);
    if (!state.isEmpty() && state != "open"_L1 && state != "all"_L1) {
        slot.send(errorResponse(
            Error::invalid(u"state"_s, u"state must be \"open\" (the default) or \"all\""_s, u"invalid_field"_s)));
        return;
    }
    auto alerts =
        m_alertReader->alerts(state == "all"_L1 ? AlertReader::Filter::All : AlertReader::Filter::Unacknowledged);
    auto open = m_alertReader->unacknowledgedCount();
    if (!alerts || !open) {
        slot.send(errorResponse(alerts ? open.error() : alerts.error()));
        return;
    }
    QJsonArray list;
    for (const AlertRecord &alert : std::as_const(*alerts))
        list.append(alert.toJson());
    slot.send(ApiResponse::json(200, QJsonObject{{u"alerts"_s, list}, {u"unacknowledged"_s, *open}}));
}

void IngestServer::postAcknowledgeAlert(const HttpRequest &request, const Caller &caller, const QStringList &args,
                                        ResponseSlot slot)
{
    bool numeric = false;
    const qint64 alertId = args.value(0).toLongLong(&numeric);
    if (!numeric) {
        slot.send(errorResponse(Error{ErrorCode::NotFound, u"there is no alert with id %1"_s.arg(args.value(0)),
                                      QString(), u"not_found"_s}));
        return;
    }
    if (auto unsupported = checkJsonContentType(request)) {
        slot.send(*unsupported);
        return;
    }
    auto parsed = ReviewService::parseAcknowledgeRequest(request.body);
    if (!parsed) {
        slot.send(errorResponse(parsed.error()));
        return;
    }
    ++m_answersOwed;
    auto shared = std::make_shared<ResponseSlot>(std::move(slot));
    whenFinished(m_review.acknowledgeAlert(alertId, parsed->by, parsed->note, caller.device->actor()), this,
                 [this, shared](const Expected<AlertRecord> &result) {
                     shared->send(result ? ApiResponse::json(200, result->toJson()) : errorResponse(result.error()));
                     answerOwedDone();
                 });
}

void IngestServer::postReview(const HttpRequest &request, const Caller &caller, const QStringList &args,
                              ResponseSlot slot)
{
    if (auto unsupported = checkJsonContentType(request)) {
        slot.send(*unsupported);
        return;
    }
    auto parsed = ReviewService::parseReviewRequest(request.body);
    if (!parsed) {
        slot.send(errorResponse(parsed.error()));
        return;
    }
    ++m_answersOwed;
    auto shared = std::make_shared<ResponseSlot>(std::move(slot));
    whenFinished(
        m_review.review(args.value(0).toLower(), parsed->decision, parsed->by, parsed->note, caller.device->actor()),
        this, [this, shared](const Expected<ReviewOutcome> &result) {
            shared->send(result ? ApiResponse::json(200, result->toJson()) : errorResponse(result.error()));
            answerOwedDone();
        });
}

void IngestServer::getQuestionnaires(const HttpRequest &, const Caller &, const QStringList &, ResponseSlot slot)
{
    slot.send(ApiResponse::json(200, QJsonObject{{u"questionnaires"_s, m_deps.catalog->toJson()}}));
}

void IngestServer::getHealth(const HttpRequest &, const Caller &, const QStringList &, ResponseSlot slot)
{
    ++m_answersOwed;
    auto shared = std::make_shared<ResponseSlot>(std::move(slot));
    const qint64 uptimeMs = m_deps.clock->monotonicMs() - m_startedMs;
    whenFinished(m_deps.store->probeWritable(), this, [this, shared, uptimeMs](const Expected<Done> &probe) {
        if (!probe) {
            ApiResponse response = ApiResponse::error(
                503, u"storage_unavailable"_s, u"The database does not take writes: %1"_s.arg(probe.error().message));
            response.addHeader("Retry-After",
                               QByteArray::number(m_deps.settings.integer(SettingKey::IngestRetryAfterSeconds)));
            shared->send(response);
        } else {
            shared->send(ApiResponse::json(200, QJsonObject{{u"status"_s, u"ok"_s},
                                                            {u"database"_s, u"writable"_s},
                                                            {u"version"_s, QStringLiteral(SITERELAY_VERSION)},
                                                            {u"uptimeSeconds"_s, uptimeMs / 1000}}));
        }
        answerOwedDone();
    });
}

QJsonObject IngestServer::statsObject()
{
    QJsonObject states;
    qint64 queueDepth = 0;
    if (auto counts = m_reader->stateCounts()) {
        for (const QString &state : allStates())
            states.insert(state, counts->value(state));
        queueDepth = counts->value(u"pending"_s) + counts->value(u"retrying"_s);
    }
    const ProcessInfo process = ProcessInfo::current();
    QJsonObject engine{{u"enabled"_s, m_deps.engine != nullptr}};
    if (m_deps.engine) {
        const EngineSnapshot snapshot = m_deps.engine->snapshot();
        engine.insert(u"workersActive"_s, snapshot.workersActive);
        engine.insert(u"workersMax"_s, snapshot.workersMax);
        engine.insert(u"attemptsInFlight"_s, snapshot.attemptsInFlight);
        engine.insert(u"openRequests"_s, snapshot.openRequests);
        engine.insert(u"attemptsStarted"_s, snapshot.attemptsStarted);
        engine.insert(u"processed"_s, snapshot.processed);
        engine.insert(u"retriesScheduled"_s, snapshot.retriesScheduled);
        engine.insert(u"failed"_s, snapshot.failed);
        engine.insert(u"timedOut"_s, snapshot.timedOut);
        engine.insert(u"cancelled"_s, snapshot.cancelled);
    }
    if (auto due = m_reader->dueRetries(toIsoUtc(m_deps.clock->nowUtc())))
        engine.insert(u"dueRetries"_s, *due);
    QJsonObject alerts;
    if (auto unacknowledged = m_alertReader->unacknowledgedCount())
        alerts.insert(u"unacknowledged"_s, *unacknowledged);
    return QJsonObject{
        {u"engine"_s, engine},
        {u"alerts"_s, alerts},
        {u"submissions"_s, states},
        {u"queueDepth"_s, queueDepth},
        {u"ingest"_s, QJsonObject{{u"accepted"_s, m_counters.accepted},
                                  {u"duplicate"_s, m_counters.duplicates},
                                  {u"rejected"_s, m_counters.rejected},
                                  {u"storageUnavailable"_s, m_counters.unavailable},
                                  {u"openConnections"_s, m_tcpServer ? m_tcpServer->openConnections() : 0},
                                  {u"bufferedBytes"_s, m_tcpServer ? m_tcpServer->bufferedBytes() : 0},
                                  {u"answersOwed"_s, m_answersOwed}}},
        {u"process"_s, QJsonObject{{u"threads"_s, process.threads},
                                   {u"rssBytes"_s, process.residentBytes},
                                   {u"peakRssBytes"_s, process.peakResidentBytes},
                                   {u"uptimeSeconds"_s, (m_deps.clock->monotonicMs() - m_startedMs) / 1000}}},
    };
}

void IngestServer::getStats(const HttpRequest &, const Caller &, const QStringList &, ResponseSlot slot)
{
    slot.send(ApiResponse::json(200, statsObject()));
}

void IngestServer::getMetrics(const HttpRequest &, const Caller &, const QStringList &, ResponseSlot slot)
{
    const QJsonObject stats = statsObject();
    QByteArray out;
    const auto metric = [&out](const char *name, const char *type, const char *help) {
        out += "# HELP "_ba + name + ' ' + help + "\n# TYPE "_ba + name + ' ' + type + '\n';
    };
    metric("siterelay_submissions", "gauge", "Submissions by processing state.");
    const QJsonObject states = stats.value("submissions"_L1).toObject();
    for (const QString &state : allStates())
        out += "siterelay_submissions{state=\"" + state.toLatin1() + "\"} " +
               QByteArray::number(states.value(state).toInteger()) + '\n';
    const QJsonObject ingest = stats.value("ingest"_L1).toObject();
    metric("siterelay_ingest_requests_total", "counter", "Submission requests by outcome since start.");
    for (const auto &[key, label] :
         {std::pair{"accepted"_L1, "accepted"}, std::pair{"duplicate"_L1, "duplicate"},
          std::pair{"rejected"_L1, "rejected"}, std::pair{"storageUnavailable"_L1, "storage_unavailable"}})
        out += "siterelay_ingest_requests_total{outcome=\""_ba + label + "\"} " +
               QByteArray::number(ingest.value(key).toInteger()) + '\n';
    metric("siterelay_queue_depth", "gauge", "Submissions waiting to be processed.");
    out += "siterelay_queue_depth " + QByteArray::number(stats.value("queueDepth"_L1).toInteger()) + '\n';
    const QJsonObject engine = stats.value("engine"_L1).toObject();
    for (const auto &[key, name, help] :
         {std::tuple{"workersActive"_L1, "siterelay_engine_workers_active", "Pool threads running a stage now."},
          std::tuple{"workersMax"_L1, "siterelay_engine_workers_max", "Pool threads at most."},
          std::tuple{"attemptsInFlight"_L1, "siterelay_engine_attempts_in_flight", "Attempts in progress."},
          std::tuple{"openRequests"_L1, "siterelay_engine_open_requests", "Analysis requests open now."},
          std::tuple{"dueRetries"_L1, "siterelay_engine_due_retries", "Retrying tasks whose time has come."}}) {
        metric(name, "gauge", help);
        out += QByteArray(name) + ' ' + QByteArray::number(engine.value(key).toInteger()) + '\n';
    }
    metric("siterelay_alerts_unacknowledged", "gauge", "Safety alerts no coordinator has acknowledged yet.");
    out += "siterelay_alerts_unacknowledged " +
           QByteArray::number(stats.value("alerts"_L1).toObject().value("unacknowledged"_L1).toInteger()) + '\n';
    metric("siterelay_open_connections", "gauge", "Open client connections.");
    out += "siterelay_open_connections " + QByteArray::number(ingest.value("openConnections"_L1).toInteger()) + '\n';
    const QJsonObject process = stats.value("process"_L1).toObject();
    metric("siterelay_process_threads", "gauge", "Threads of the SiteRelay process.");
    out += "siterelay_process_threads " + QByteArray::number(process.value("threads"_L1).toInteger()) + '\n';
    metric("siterelay_process_resident_bytes", "gauge", "Resident memory of the SiteRelay process.");
    out += "siterelay_process_resident_bytes " + QByteArray::number(process.value("rssBytes"_L1).toInteger()) + '\n';
    slot.send(ApiResponse::text(200, "text/plain; version=0.0.4; charset=utf-8", out));
}

void IngestServer::getTabletPage(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot)
{
    slot.send(m_tablet->page(request));
}

void IngestServer::postEnroll(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot)
{
    ++m_answersOwed;
    auto shared = std::make_shared<ResponseSlot>(std::move(slot));
    m_tablet->enroll(request, [this, shared](const ApiResponse &response) {
        shared->send(response);
        answerOwedDone();
    });
}

void IngestServer::postTabletUnlock(const HttpRequest &request, const Caller &caller, const QStringList &,
                                    ResponseSlot slot)
{
    slot.send(m_tablet->unlock(request, caller.device->id));
}

void IngestServer::postBenchEcho(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot)
{
    // The HTTP ceiling for benchmarks: the same connection handling, framing and response path as
    // an ingest, without parsing or storing.
    slot.send(ApiResponse::json(202, QJsonObject{{u"status"_s, u"pending"_s}, {u"bytes"_s, request.body.size()}}));
}

void IngestServer::postExport(const HttpRequest &request, const Caller &caller, const QStringList &, ResponseSlot slot)
{
    if (!request.body.trimmed().isEmpty()) {
        if (auto bad = checkJsonContentType(request)) {
            slot.send(*bad);
            return;
        }
    }
    // The job runs on its own thread: this answers at once with where to follow it.
    auto started = m_exports->start(request.body, caller.device->actor());
    if (!started) {
        slot.send(errorResponse(started.error()));
        return;
    }
    ApiResponse response = ApiResponse::json(202, *started);
    response.addHeader("Location", started->value("statusUrl"_L1).toString().toLatin1());
    slot.send(response);
}

void IngestServer::getExports(const HttpRequest &, const Caller &, const QStringList &, ResponseSlot slot)
{
    auto list = m_exports->list();
    slot.send(list ? ApiResponse::json(200, *list) : errorResponse(list.error()));
}

void IngestServer::getExport(const HttpRequest &, const Caller &, const QStringList &args, ResponseSlot slot)
{
    auto status = m_exports->status(args.value(0));
    slot.send(status ? ApiResponse::json(200, *status) : errorResponse(status.error()));
}

} // namespace SiteRelay
