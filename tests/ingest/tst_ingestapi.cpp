// The ingest API v1 through real HTTP on loopback against a real SQLite file.
#include "rawhttpclient.h"
#include "submissionstore.h"
#include "testserver.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

Headers jsonHeaders(const QByteArray &token)
{
    Headers headers = {{"Content-Type", "application/json"}};
    if (!token.isEmpty())
        headers.append({"Authorization", "Bearer " + token});
    return headers;
}

QByteArray withField(const QByteArray &body, const QString &field, const QJsonValue &value)
{
    QJsonObject object = QJsonDocument::fromJson(body).object();
    if (value.isUndefined())
        object.remove(field);
    else
        object.insert(field, value);
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

} // namespace

class TstIngestApi : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void submissionErrors_data();
    void submissionErrors();
    void routingErrors_data();
    void routingErrors();
    void acceptsAndAnswersReceipt();
    void resendIsIdempotentAndConflictIsRefused();
    void identicalSubmissionsAtTheSameMoment();
    void revokedTokenIsRefusedAtOnce();
    void statusIsVisibleToItsDeviceAndCoordinators();
    void questionnairesAreServed();
    void bearerSchemeIsCaseInsensitive();
    void healthProvesTheDatabaseIsWritable();
    void statsAndMetricsCount();
    void statsNeedCoordinatorUnlessLoopback();
    void legacyDataSubmit();
    void auditTrailIsAppendOnly();

private:
    std::unique_ptr<TestServer> m_server;
};

void TstIngestApi::initTestCase()
{
    m_server = std::make_unique<TestServer>();
    QVERIFY2(m_server->isRunning(), qPrintable(m_server->errorMessage()));
}

void TstIngestApi::cleanupTestCase()
{
    m_server.reset();
}

void TstIngestApi::submissionErrors_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<Headers>("headers");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");

    // Rows are built in the test body from the live tokens; here the token is a placeholder.
    const QByteArray valid = TestServer::submissionBody();
    const Headers device = jsonHeaders("DEVICE");
    QTest::addRow("no token") << valid << jsonHeaders({}) << 401 << u"unauthenticated"_s << QString();
    QTest::addRow("unknown token") << valid << jsonHeaders("srt_1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") << 401
                                   << u"unauthenticated"_s << QString();
    QTest::addRow("garbage token") << valid << jsonHeaders("nonsense") << 401 << u"unauthenticated"_s << QString();
    QTest::addRow("lower-case scheme, unknown token")
        << valid << Headers{{"Content-Type", "application/json"}, {"Authorization", "bEaReR nonsense"}} << 401
        << u"unauthenticated"_s << QString();
    QTest::addRow("basic auth") << valid
                                << Headers{{"Content-Type", "application/json"}, {"Authorization", "Basic dTpw"}} << 401
                                << u"unauthenticated"_s << QString();
    QTest::addRow("text/plain") << valid << Headers{{"Content-Type", "text/plain"}, {"Authorization", "Bearer DEVICE"}}
                                << 415 << u"unsupported_media_type"_s << QString();
    QTest::addRow("no content type") << valid << Headers{{"Authorization", "Bearer DEVICE"}} << 415
                                     << u"unsupported_media_type"_s << QString();
    QTest::addRow("malformed json") << QByteArray("{\"submissionId\": ") << device << 400 << u"malformed_json"_s
                                    << QString();
    QTest::addRow("number 2.") << withField(valid, u"answers"_s, QJsonObject()).replace("{}", "{\"phq9_q1\":2.}")
                               << device << 400 << u"malformed_json"_s << QString();
    QTest::addRow("raw tab in string") << withField(valid, u"patientId"_s, u"P-TAB"_s).replace("P-TAB", "P\t1")
                                       << device << 400 << u"malformed_json"_s << QString();
    QTest::addRow("array body") << QByteArray("[1,2]") << device << 400 << u"not_an_object"_s << QString();
    QTest::addRow("missing patientId") << withField(valid, u"patientId"_s, QJsonValue::Undefined) << device << 400
                                       << u"missing_field"_s << u"patientId"_s;
    QTest::addRow("patientId with space")
        << withField(valid, u"patientId"_s, u"P 1"_s) << device << 400 << u"invalid_field"_s << u"patientId"_s;
    QTest::addRow("patientId too long") << withField(valid, u"patientId"_s, QString(65, u'x')) << device << 400
                                        << u"invalid_field"_s << u"patientId"_s;
    QTest::addRow("patientId number") << withField(valid, u"patientId"_s, 12) << device << 400 << u"invalid_field"_s
                                      << u"patientId"_s;
    QTest::addRow("trialId empty") << withField(valid, u"trialId"_s, QString()) << device << 400 << u"invalid_field"_s
                                   << u"trialId"_s;
    QTest::addRow("unknown field") << withField(valid, u"patientID"_s, u"x"_s) << device << 400 << u"unknown_field"_s
                                   << u"patientID"_s;
    QTest::addRow("submissionId not uuid")
        << withField(valid, u"submissionId"_s, u"1234"_s) << device << 400 << u"invalid_field"_s << u"submissionId"_s;
    QTest::addRow("unknown questionnaire") << withField(valid, u"questionnaireId"_s, u"bdi2"_s) << device << 400
                                           << u"unknown_questionnaire"_s << u"questionnaireId"_s;
    QTest::addRow("completedAt without offset") << withField(valid, u"completedAt"_s, u"2026-11-26T09:30:00"_s)
                                                << device << 400 << u"invalid_field"_s << u"completedAt"_s;
    QTest::addRow("completedAt impossible date") << withField(valid, u"completedAt"_s, u"2026-02-30T09:30:00Z"_s)
                                                 << device << 400 << u"invalid_field"_s << u"completedAt"_s;
    QTest::addRow("completedAt next year") << withField(valid, u"completedAt"_s, u"2099-01-01T00:00:00Z"_s) << device
                                           << 400 << u"invalid_field"_s << u"completedAt"_s;
    QTest::addRow("answers is a list") << withField(valid, u"answers"_s, QJsonArray{1, 2}) << device << 400
                                       << u"invalid_field"_s << u"answers"_s;
    QTest::addRow("answers missing") << withField(valid, u"answers"_s, QJsonValue::Undefined) << device << 400
                                     << u"missing_field"_s << u"answers"_s;
}

void TstIngestApi::submissionErrors()
{
    QFETCH(QByteArray, body);
    QFETCH(Headers, headers);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    for (auto &[name, value] : headers)
        value.replace("DEVICE", m_server->deviceToken());

    const qint64 rowsBefore = m_server->countRows(u"submissions"_s);
    const RawResponse response =
        RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/submissions", body, headers);
    QCOMPARE(response.status, status);
    QCOMPARE(response.header("Content-Type"), QByteArray("application/json"));
    const QJsonObject error = response.json().value("error"_L1).toObject();
    QCOMPARE(error.value("code"_L1).toString(), code);
    QVERIFY2(!error.value("message"_L1).toString().isEmpty(), response.body.constData());
    QCOMPARE(error.value("field"_L1).toString(), field);
    if (status == 401)
        QCOMPARE(response.header("WWW-Authenticate"), QByteArray("Bearer realm=\"siterelay\""));
    QCOMPARE(m_server->countRows(u"submissions"_s), rowsBefore);
}

void TstIngestApi::routingErrors_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("allow");
    QTest::addRow("unknown path") << QByteArray("GET") << QByteArray("/api/v2/things") << 404 << QByteArray();
    QTest::addRow("root") << QByteArray("GET") << QByteArray("/") << 404 << QByteArray();
    QTest::addRow("GET on collection") << QByteArray("GET") << QByteArray("/api/v1/submissions") << 405
                                       << QByteArray("POST");
    QTest::addRow("DELETE health") << QByteArray("DELETE") << QByteArray("/api/v1/health") << 405
                                   << QByteArray("GET, HEAD");
    QTest::addRow("PUT a submission") << QByteArray("PUT") << QByteArray("/api/v1/submissions/abc") << 405
                                      << QByteArray("GET, HEAD");
    QTest::addRow("HEAD on collection") << QByteArray("HEAD") << QByteArray("/api/v1/submissions") << 405
                                        << QByteArray("POST");
    QTest::addRow("unknown submission") << QByteArray("GET")
                                        << QByteArray("/api/v1/submissions/00000000-0000-4000-8000-000000000000") << 404
                                        << QByteArray();
}

void TstIngestApi::routingErrors()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(int, status);
    QFETCH(QByteArray, allow);
    const RawResponse response =
        RawHttpClient::exchange(m_server->port(), method, path, method == "PUT" ? QByteArray("{}") : QByteArray(),
                                jsonHeaders(m_server->deviceToken()));
    QCOMPARE(response.status, status);
    QCOMPARE(response.header("Allow"), allow);
    if (method == "HEAD")
        QVERIFY(response.body.isEmpty()); // the status and headers say it all
    else
        QVERIFY(!response.errorCode().isEmpty());
}

void TstIngestApi::acceptsAndAnswersReceipt()
{
    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    const RawResponse response =
        RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/submissions",
                                TestServer::submissionBody(id.toUpper()), jsonHeaders(m_server->deviceToken()));
    QCOMPARE(response.status, 202);
    const QJsonObject receipt = response.json();
    QCOMPARE(receipt.value("submissionId"_L1).toString(), id); // normalised to lower case
    QCOMPARE(receipt.value("status"_L1).toString(), u"pending"_s);
    QCOMPARE(receipt.value("statusUrl"_L1).toString(), u"/api/v1/submissions/"_s + id);
    const QDateTime receivedAt = QDateTime::fromString(receipt.value("receivedAt"_L1).toString(), Qt::ISODateWithMs);
    QVERIFY(receivedAt.isValid());
    QVERIFY(qAbs(receivedAt.secsTo(QDateTime::currentDateTimeUtc())) < 60);
    QVERIFY(receipt.value("receivedAt"_L1).toString().endsWith(u'Z'));
    // The acknowledgement came after COMMIT: a separate connection sees the row at once.
    QCOMPARE(m_server->countRows(u"submissions"_s, u"submission_id = '%1' AND state = 'pending'"_s.arg(id)), 1);
    QCOMPARE(m_server->countRows(u"audit_log"_s, u"entity_id = '%1' AND action = 'received'"_s.arg(id)), 1);
}

void TstIngestApi::resendIsIdempotentAndConflictIsRefused()
{
    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    const QByteArray body = TestServer::submissionBody(id);
    const Headers headers = jsonHeaders(m_server->deviceToken());
    const RawResponse first = RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/submissions", body, headers);
    QCOMPARE(first.status, 202);
    const RawResponse again = RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/submissions", body, headers);
    QCOMPARE(again.status, 200);
    QCOMPARE(again.json().value("receivedAt"_L1), first.json().value("receivedAt"_L1));
    QCOMPARE(again.json().value("submissionId"_L1), first.json().value("submissionId"_L1));

    const RawResponse other = RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/submissions",
                                                      TestServer::submissionBody(id, u"P-001"_s, 3), headers);
    QCOMPARE(other.status, 409);
    QCOMPARE(other.errorCode(), u"submission_conflict"_s);

    // The same id from another device is other content too.
    const auto [otherDevice, otherToken] = m_server->addDevice(u"tablet-x"_s);
    QVERIFY(otherDevice > 0);
    const RawResponse foreign =
        RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/submissions", body, jsonHeaders(otherToken));
    QCOMPARE(foreign.status, 409);

    QCOMPARE(m_server->countRows(u"submissions"_s, u"submission_id = '%1'"_s.arg(id)), 1);
    QCOMPARE(m_server->countRows(u"audit_log"_s, u"entity_id = '%1'"_s.arg(id)), 1);
}

void TstIngestApi::identicalSubmissionsAtTheSameMoment()
{
    constexpr int Clients = 16;
    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    const QByteArray request = RawHttpClient::request("POST", "/api/v1/submissions", TestServer::submissionBody(id),
                                                      jsonHeaders(m_server->deviceToken()));
    std::vector<std::unique_ptr<RawHttpClient>> clients;
    for (int i = 0; i < Clients; ++i) {
        clients.push_back(std::make_unique<RawHttpClient>());
        QVERIFY(clients.back()->connectTo(m_server->port()));
    }
    // Everything is on the wire before any answer is read, so the requests meet in one batch.
    for (auto &client : clients)
        client->socket().write(request);
    for (auto &client : clients)
        client->socket().waitForBytesWritten(2000);
    int accepted = 0;
    int duplicates = 0;
    QSet<QString> receivedAt;
    for (auto &client : clients) {
        const RawResponse response = client->readResponse();
        accepted += response.status == 202;
        duplicates += response.status == 200;
        receivedAt.insert(response.json().value("receivedAt"_L1).toString());
    }
    QCOMPARE(accepted, 1);
    QCOMPARE(duplicates, Clients - 1);
    QCOMPARE(receivedAt.size(), 1);
    QCOMPARE(m_server->countRows(u"submissions"_s, u"submission_id = '%1'"_s.arg(id)), 1);
}

void TstIngestApi::revokedTokenIsRefusedAtOnce()
{
    const auto [deviceId, token] = m_server->addDevice(u"tablet-to-revoke"_s);
    const Headers headers = jsonHeaders(token);
    QCOMPARE(
        RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/submissions", TestServer::submissionBody(), headers)
            .status,
        202);

    // A kept-alive connection, too, must not keep its authority.
    RawHttpClient keptAlive;
    QVERIFY(keptAlive.connectTo(m_server->port()));
    keptAlive.send(RawHttpClient::request("GET", "/api/v1/questionnaires", {}, headers));
    QCOMPARE(keptAlive.readResponse().status, 200);

    const auto revoked = m_server->host().store().revokeDevice(deviceId, u"test"_s).result();
    QVERIFY(revoked);
    QVERIFY(!revoked->revokedAt.isEmpty());

    const RawResponse refused =
        RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/submissions", TestServer::submissionBody(), headers);
    QCOMPARE(refused.status, 401);
    QVERIFY(refused.json().value("error"_L1).toObject().value("message"_L1).toString().contains("revoked"_L1));
    keptAlive.send(RawHttpClient::request("GET", "/api/v1/questionnaires", {}, headers));
    QCOMPARE(keptAlive.readResponse().status, 401);
    // Other devices are unaffected.
    QCOMPARE(RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/submissions", TestServer::submissionBody(),
                                     jsonHeaders(m_server->deviceToken()))
                 .status,
             202);
    QCOMPARE(m_server->countRows(u"audit_log"_s,
                                 u"entity = 'device' AND action = 'revoked' AND entity_id = '%1'"_s.arg(deviceId)),
             1);
}

void TstIngestApi::statusIsVisibleToItsDeviceAndCoordinators()
{
    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    QCOMPARE(RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/submissions", TestServer::submissionBody(id),
                                     jsonHeaders(m_server->deviceToken()))
                 .status,
             202);
    const QByteArray path = "/api/v1/submissions/" + id.toLatin1();
    const RawResponse own =
        RawHttpClient::exchange(m_server->port(), "GET", path, {}, jsonHeaders(m_server->deviceToken()));
    QCOMPARE(own.status, 200);
    QCOMPARE(own.json().value("status"_L1).toString(), u"pending"_s);
    QCOMPARE(own.json().value("submissionId"_L1).toString(), id);
    QVERIFY(own.json().contains("receivedAt"_L1));
    QVERIFY(own.json().contains("completedAt"_L1));
    QVERIFY(!own.json().contains("answers"_L1));

    const RawResponse coordinator =
        RawHttpClient::exchange(m_server->port(), "GET", path, {}, jsonHeaders(m_server->coordinatorToken()));
    QCOMPARE(coordinator.status, 200);

    const auto [otherId, otherToken] = m_server->addDevice(u"tablet-other"_s);
    QVERIFY(otherId > 0);
    const RawResponse foreign = RawHttpClient::exchange(m_server->port(), "GET", path, {}, jsonHeaders(otherToken));
    QCOMPARE(foreign.status, 404);
    QCOMPARE(RawHttpClient::exchange(m_server->port(), "GET", path).status, 401);
}

void TstIngestApi::questionnairesAreServed()
{
    const RawResponse response = RawHttpClient::exchange(m_server->port(), "GET", "/api/v1/questionnaires", {},
                                                         jsonHeaders(m_server->deviceToken()));
    QCOMPARE(response.status, 200);
    const QJsonArray list = response.json().value("questionnaires"_L1).toArray();
    QStringList ids;
    for (const QJsonValue &entry : list)
        ids.append(entry.toObject().value("id"_L1).toString());
    ids.sort();
    QCOMPARE(ids, (QStringList{u"gad7"_s, u"phq9"_s}));
    for (const QJsonValue &entry : list)
        QVERIFY(entry.toObject().value("items"_L1).toArray().size() >= 7);
}

void TstIngestApi::bearerSchemeIsCaseInsensitive()
{
    for (const QByteArray scheme : {"bearer ", "BEARER ", "Bearer "}) {
        const RawResponse response = RawHttpClient::exchange(m_server->port(), "GET", "/api/v1/questionnaires", {},
                                                             {{"Authorization", scheme + m_server->deviceToken()}});
        QCOMPARE(response.status, 200);
    }
}

void TstIngestApi::healthProvesTheDatabaseIsWritable()
{
    const RawResponse response = RawHttpClient::exchange(m_server->port(), "GET", "/api/v1/health");
    QCOMPARE(response.status, 200);
    QCOMPARE(response.json().value("database"_L1).toString(), u"writable"_s);
    QCOMPARE(m_server->countRows(u"health_probe"_s), 1);
}

void TstIngestApi::statsAndMetricsCount()
{
    const qint64 pendingBefore = m_server->countRows(u"submissions"_s, u"state = 'pending'"_s);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/submissions", TestServer::submissionBody(),
                                         jsonHeaders(m_server->deviceToken()))
                     .status,
                 202);
    const RawResponse stats = RawHttpClient::exchange(m_server->port(), "GET", "/api/v1/stats");
    QCOMPARE(stats.status, 200);
    const QJsonObject object = stats.json();
    QCOMPARE(object.value("submissions"_L1).toObject().value("pending"_L1).toInteger(), pendingBefore + 3);
    for (const char *state : {"processing", "processed", "timed_out", "failed", "cancelled"})
        QVERIFY2(object.value("submissions"_L1).toObject().contains(QLatin1StringView(state)), state);
    QCOMPARE(object.value("queueDepth"_L1).toInteger(), pendingBefore + 3);
    const QJsonObject ingest = object.value("ingest"_L1).toObject();
    QVERIFY(ingest.value("accepted"_L1).toInteger() >= 3);
    QVERIFY(ingest.value("rejected"_L1).toInteger() >= 1);
    QVERIFY(ingest.contains("duplicate"_L1));
    const QJsonObject process = object.value("process"_L1).toObject();
    QVERIFY(process.value("threads"_L1).toInt() >= 3);
    QVERIFY(process.value("rssBytes"_L1).toInteger() > 1000000);

    const RawResponse metrics = RawHttpClient::exchange(m_server->port(), "GET", "/metrics");
    QCOMPARE(metrics.status, 200);
    QVERIFY(metrics.header("Content-Type").startsWith("text/plain; version=0.0.4"));
    QVERIFY2(metrics.body.contains(
                 QByteArray("siterelay_submissions{state=\"pending\"} " + QByteArray::number(pendingBefore + 3))),
             metrics.body.constData());
    QVERIFY(metrics.body.contains("# TYPE siterelay_ingest_requests_total counter"));
    QVERIFY(metrics.body.contains("siterelay_process_threads "));
}

void TstIngestApi::statsNeedCoordinatorUnlessLoopback()
{
    TestServer strict({{u"ingest/loopbackStats"_s, u"false"_s}});
    QVERIFY2(strict.isRunning(), qPrintable(strict.errorMessage()));
    QCOMPARE(RawHttpClient::exchange(strict.port(), "GET", "/api/v1/stats").status, 401);
    QCOMPARE(RawHttpClient::exchange(strict.port(), "GET", "/metrics", {}, jsonHeaders(strict.deviceToken())).status,
             403);
    QCOMPARE(RawHttpClient::exchange(strict.port(), "GET", "/api/v1/stats", {}, jsonHeaders(strict.coordinatorToken()))
                 .status,
             200);
    QCOMPARE(RawHttpClient::exchange(strict.port(), "GET", "/api/v1/health").status, 200); // health stays open
}

void TstIngestApi::legacyDataSubmit()
{
    const QJsonObject report{{u"questionnaireId"_s, u"gad7"_s},
                             {u"completedAt"_s, u"2026-11-26T08:00:00Z"_s},
                             {u"answers"_s, QJsonObject{{u"gad7_q1"_s, 2}}}};
    const QByteArray body =
        QJsonDocument(
            QJsonObject{{u"patientId"_s, u"P-LEG"_s},
                        {u"trialId"_s, u"TRIAL-7"_s},
                        {u"reportData"_s, QString::fromUtf8(QJsonDocument(report).toJson(QJsonDocument::Compact))}})
            .toJson(QJsonDocument::Compact);
    const Headers headers = jsonHeaders(m_server->deviceToken());
    const RawResponse first = RawHttpClient::exchange(m_server->port(), "POST", "/data/submit", body, headers);
    QCOMPARE(first.status, 202);
    QVERIFY(!first.json().value("message"_L1).toString().isEmpty());
    const QString id = first.json().value("submissionId"_L1).toString();
    QVERIFY(!QUuid::fromString(id).isNull());
    // A legacy client resending the same report (it has no idempotency key) is not stored twice.
    const RawResponse again = RawHttpClient::exchange(m_server->port(), "POST", "/data/submit", body, headers);
    QCOMPARE(again.status, 200);
    QCOMPARE(again.json().value("submissionId"_L1).toString(), id);
    QCOMPARE(m_server->countRows(
                 u"submissions"_s,
                 u"submission_id = '%1' AND source = 'legacy_data_submit' AND questionnaire_id = 'gad7'"_s.arg(id)),
             1);

    const QByteArray notJson = R"({"patientId":"P-LEG","trialId":"T","reportData":"{not json"})";
    const RawResponse bad = RawHttpClient::exchange(m_server->port(), "POST", "/data/submit", notJson, headers);
    QCOMPARE(bad.status, 400);
    QCOMPARE(bad.json().value("error"_L1).toObject().value("field"_L1).toString(), u"reportData"_s);
    QCOMPARE(RawHttpClient::exchange(m_server->port(), "POST", "/data/submit", body, jsonHeaders({})).status, 401);
}

void TstIngestApi::auditTrailIsAppendOnly()
{
    QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"audit-check"_s);
    db.setDatabaseName(m_server->databasePath());
    db.setConnectOptions(u"QSQLITE_BUSY_TIMEOUT=5000"_s);
    QVERIFY(db.open());
    {
        QSqlQuery query(db);
        QVERIFY(query.exec(u"SELECT count(*) FROM audit_log"_s) && query.next());
        const qint64 rows = query.value(0).toLongLong();
        QVERIFY(rows > 0);
        QVERIFY(!query.exec(u"UPDATE audit_log SET actor = 'mallory'"_s));
        QVERIFY(query.lastError().text().contains("append-only"_L1));
        QVERIFY(!query.exec(u"DELETE FROM audit_log"_s));
        QVERIFY(query.exec(u"SELECT count(*) FROM audit_log WHERE actor = 'mallory'"_s) && query.next());
        QCOMPARE(query.value(0).toLongLong(), 0);
    }
    db.close();
    db = QSqlDatabase();
    QSqlDatabase::removeDatabase(u"audit-check"_s);
}

QTEST_GUILESS_MAIN(TstIngestApi)
#include "tst_ingestapi.moc"
