// GET /api/v1/alerts, POST /api/v1/alerts/{id}/acknowledge and POST /api/v1/submissions/{id}/review
// through real HTTP on loopback, with alerts raised by the real engine and the SQLite file checked.
#include "enginetestkit.h"
#include "rawhttpclient.h"
#include "testserver.h"

#include <QJsonArray>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;
using namespace SiteRelay::Test::EngineKit;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

Headers headers(const QByteArray &token, bool json = true)
{
    Headers list;
    if (json)
        list.append(qMakePair("Content-Type"_ba, "application/json"_ba));
    if (!token.isEmpty())
        list.append(qMakePair("Authorization"_ba, QByteArray("Bearer " + token)));
    return list;
}

QJsonObject phq9WithItem9(int item9)
{
    QJsonObject answers = uniformAnswers(u"phq9"_s, 1);
    answers.insert(u"phq9_q9"_s, item9);
    return answers;
}

} // namespace

class TstAlertsApi : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void listsOpenAlertsForCoordinators();
    void routeErrors_data();
    void routeErrors();
    void acknowledgeOverHttp();
    void reviewOverHttp();
    void statsAndMetricsCountOpenAlerts();

private:
    RawResponse call(const QByteArray &method, const QByteArray &path, const QByteArray &token,
                     const QByteArray &body = {}, bool json = true)
    {
        return RawHttpClient::exchange(m_server->port(), method, path, body, headers(token, json));
    }
    /// Submits a PHQ-9 and waits until it is processed.
    QString submitProcessed(int item9)
    {
        const QString id = submit(m_server->port(), m_server->deviceToken(), u"phq9"_s, phq9WithItem9(item9));
        if (id.isEmpty())
            return {};
        QDeadlineTimer deadline(20000);
        while (!deadline.hasExpired()) {
            if (stateOf(m_server->port(), m_server->coordinatorToken(), id) == "processed"_L1)
                return id;
            QTest::qWait(20);
        }
        return {};
    }
    qint64 alertIdOf(const QString &submissionId) const
    {
        return scalar(m_server->databasePath(), u"SELECT id FROM alerts WHERE submission_id = ?"_s, {submissionId})
            .toLongLong();
    }

    std::unique_ptr<TestServer> m_server;
    QString m_alertSubmission;
};

void TstAlertsApi::initTestCase()
{
    m_server = std::make_unique<TestServer>(
        QHash<QString, QString>{{u"engine/enabled"_s, u"true"_s}, {u"report/enabled"_s, u"false"_s}});
    QVERIFY2(m_server->isRunning(), qPrintable(m_server->errorMessage()));
    m_alertSubmission = submitProcessed(3);
    QVERIFY(!m_alertSubmission.isEmpty());
}

void TstAlertsApi::cleanupTestCase()
{
    m_server.reset();
}

void TstAlertsApi::listsOpenAlertsForCoordinators()
{
    const RawResponse response = call("GET", "/api/v1/alerts", m_server->coordinatorToken(), {}, false);
    QCOMPARE(response.status, 200);
    const QJsonObject body = response.json();
    const QJsonArray alerts = body.value("alerts"_L1).toArray();
    QVERIFY(body.value("unacknowledged"_L1).toInteger() >= 1);
    const auto it = std::find_if(alerts.begin(), alerts.end(), [this](const QJsonValue &alert) {
        return alert.toObject().value("submissionId"_L1).toString() == m_alertSubmission;
    });
    QVERIFY(it != alerts.end());
    const QJsonObject alert = it->toObject();
    QCOMPARE(alert.value("patientId"_L1).toString(), u"P-ENG-1"_s);
    QCOMPARE(alert.value("questionnaireId"_L1).toString(), u"phq9"_s);
    QCOMPARE(alert.value("ruleId"_L1).toString(), u"phq9_item9_self_harm"_s);
    QCOMPARE(alert.value("severity"_L1).toString(), u"critical"_s);
    QCOMPARE(alert.value("itemValue"_L1).toInt(), 3);
    QCOMPARE(alert.value("acknowledged"_L1).toBool(true), false);
    QVERIFY(alert.value("acknowledgedBy"_L1).isNull());
    QVERIFY(!alert.value("raisedAt"_L1).toString().isEmpty());
    QVERIFY(alert.value("id"_L1).toInteger() > 0);
}

void TstAlertsApi::routeErrors_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QString>("token"); ///< "device", "coordinator" or none
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("json");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");

    const QByteArray ack = R"({"by":"Dr. Lima"})";
    QTest::addRow("list without token") << "GET"_ba
                                        << "/api/v1/alerts"_ba << QString() << QByteArray() << false << 401
                                        << u"unauthenticated"_s << QString();
    QTest::addRow("list with device token")
        << "GET"_ba
        << "/api/v1/alerts"_ba << u"device"_s << QByteArray() << false << 403 << u"forbidden"_s << QString();
    QTest::addRow("list bad state") << "GET"_ba
                                    << "/api/v1/alerts?state=closed"_ba << u"coordinator"_s << QByteArray() << false
                                    << 400 << u"invalid_field"_s << u"state"_s;
    QTest::addRow("list wrong method") << "DELETE"_ba
                                       << "/api/v1/alerts"_ba << u"coordinator"_s << QByteArray() << false << 405
                                       << u"method_not_allowed"_s << QString();
    QTest::addRow("ack with device token")
        << "POST"_ba
        << "/api/v1/alerts/1/acknowledge"_ba << u"device"_s << ack << true << 403 << u"forbidden"_s << QString();
    QTest::addRow("ack unknown alert") << "POST"_ba
                                       << "/api/v1/alerts/987654/acknowledge"_ba << u"coordinator"_s << ack << true
                                       << 404 << u"not_found"_s << u"id"_s;
    QTest::addRow("ack id not a number") << "POST"_ba
                                         << "/api/v1/alerts/abc/acknowledge"_ba << u"coordinator"_s << ack << true
                                         << 404 << u"not_found"_s << QString();
    QTest::addRow("ack without json") << "POST"_ba
                                      << "/api/v1/alerts/1/acknowledge"_ba << u"coordinator"_s << ack << false << 415
                                      << u"unsupported_media_type"_s << QString();
    QTest::addRow("ack without name") << "POST"_ba
                                      << "/api/v1/alerts/1/acknowledge"_ba << u"coordinator"_s
                                      << QByteArray(R"({"by":"  ","note":"x"})") << true << 400 << u"missing_field"_s
                                      << u"by"_s;
    QTest::addRow("ack malformed") << "POST"_ba
                                   << "/api/v1/alerts/1/acknowledge"_ba << u"coordinator"_s << QByteArray("{") << true
                                   << 400 << u"malformed_json"_s << QString();
    QTest::addRow("review with device token")
        << "POST"_ba
        << "/api/v1/submissions/00000000-0000-4000-8000-000000000000/review"_ba << u"device"_s
        << QByteArray(R"({"decision":"reviewed","by":"A"})") << true << 403 << u"forbidden"_s << QString();
    QTest::addRow("review unknown submission")
        << "POST"_ba
        << "/api/v1/submissions/00000000-0000-4000-8000-000000000000/review"_ba << u"coordinator"_s
        << QByteArray(R"({"decision":"reviewed","by":"A"})") << true << 404 << u"not_found"_s << QString();
    QTest::addRow("review bad decision") << "POST"_ba
                                         << "/api/v1/submissions/00000000-0000-4000-8000-000000000000/review"_ba
                                         << u"coordinator"_s << QByteArray(R"({"decision":"ok","by":"A"})") << true
                                         << 400 << u"invalid_field"_s << u"decision"_s;
    QTest::addRow("review unknown field")
        << "POST"_ba
        << "/api/v1/submissions/00000000-0000-4000-8000-000000000000/review"_ba << u"coordinator"_s
        << QByteArray(R"({"decision":"reviewed","by":"A","when":"now"})") << true << 400 << u"unknown_field"_s
        << u"when"_s;
}

void TstAlertsApi::routeErrors()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QString, token);
    QFETCH(QByteArray, body);
    QFETCH(bool, json);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);

    const QByteArray bearer = token == "device"_L1        ? m_server->deviceToken()
                              : token == "coordinator"_L1 ? m_server->coordinatorToken()
                                                          : QByteArray();
    const qint64 auditBefore = m_server->countRows(u"audit_log"_s);
    const RawResponse response = call(method, path, bearer, body, json);
    QCOMPARE(response.status, status);
    QCOMPARE(response.errorCode(), code);
    QCOMPARE(response.json().value("error"_L1).toObject().value("field"_L1).toString(), field);
    QCOMPARE(m_server->countRows(u"audit_log"_s), auditBefore);
}

void TstAlertsApi::acknowledgeOverHttp()
{
    const QString submission = submitProcessed(1);
    QVERIFY(!submission.isEmpty());
    const qint64 alertId = alertIdOf(submission);
    QVERIFY(alertId > 0);
    const QByteArray path = "/api/v1/alerts/" + QByteArray::number(alertId) + "/acknowledge";

    const RawResponse first = call("POST", path, m_server->coordinatorToken(),
                                   R"({"by":"Dr. Ana Lima","note":"Patient called back; PI informed."})");
    QCOMPARE(first.status, 200);
    QCOMPARE(first.json().value("id"_L1).toInteger(), alertId);
    QCOMPARE(first.json().value("acknowledged"_L1).toBool(), true);
    QCOMPARE(first.json().value("acknowledgedBy"_L1).toString(), u"Dr. Ana Lima"_s);
    QCOMPARE(first.json().value("acknowledgeNote"_L1).toString(), u"Patient called back; PI informed."_s);

    const QString db = m_server->databasePath();
    QCOMPARE(scalar(db, u"SELECT acknowledged_by FROM alerts WHERE id = ?"_s, {alertId}).toString(), u"Dr. Ana Lima"_s);
    const QList<QVariantList> audit =
        query(db,
              u"SELECT actor, new_state FROM audit_log WHERE entity = 'alert' AND entity_id = ? AND "
              u"action = 'alert_acknowledged'"_s,
              {submission});
    QCOMPARE(audit.size(), 1);
    QCOMPARE(audit[0][0].toString(), u"coordinator:%1"_s.arg(tokenDeviceId(m_server->coordinatorToken())));
    QCOMPARE(audit[0][1].toString(), u"acknowledged"_s);

    const RawResponse second = call("POST", path, m_server->coordinatorToken(), R"({"by":"Someone Else"})");
    QCOMPARE(second.status, 409);
    QCOMPARE(second.errorCode(), u"already_acknowledged"_s);

    // Gone from the open list, still in the full one.
    const auto listed = [this](const QByteArray &url, qint64 id) {
        const QJsonArray alerts =
            call("GET", url, m_server->coordinatorToken(), {}, false).json().value("alerts"_L1).toArray();
        for (const QJsonValue &alert : alerts) {
            if (alert.toObject().value("id"_L1).toInteger() == id)
                return alert.toObject();
        }
        return QJsonObject();
    };
    QVERIFY(listed("/api/v1/alerts?state=open", alertId).isEmpty());
    QCOMPARE(listed("/api/v1/alerts?state=all", alertId).value("acknowledgedBy"_L1).toString(), u"Dr. Ana Lima"_s);
}

void TstAlertsApi::reviewOverHttp()
{
    const QString id = submitProcessed(0);
    QVERIFY(!id.isEmpty());
    const QByteArray path = "/api/v1/submissions/" + id.toLatin1() + "/review";
    const QByteArray token = m_server->coordinatorToken();

    RawResponse response = call("POST", path, token, R"({"decision":"rejected","by":"Dr. Lima","note":"wrong ID"})");
    QCOMPARE(response.status, 200);
    QCOMPARE(response.json().value("reviewState"_L1).toString(), u"rejected"_s);
    QCOMPARE(response.json().value("previousReviewState"_L1).toString(), u"none"_s);
    QCOMPARE(response.json().value("reviewedBy"_L1).toString(), u"Dr. Lima"_s);
    const QString db = m_server->databasePath();
    QCOMPARE(scalar(db, u"SELECT review_state FROM submissions WHERE submission_id = ?"_s, {id}).toString(),
             u"rejected"_s);

    response = call("POST", path, token, R"({"decision":"rejected","by":"Dr. Lima"})");
    QCOMPARE(response.status, 409);
    QCOMPARE(response.errorCode(), u"review_unchanged"_s);

    response = call("POST", path, token, R"({"decision":"none","by":"Dr. Lima","note":"ID was right after all"})");
    QCOMPARE(response.status, 200);
    QCOMPARE(response.json().value("reviewState"_L1).toString(), u"none"_s);
    QVERIFY(response.json().value("reviewedBy"_L1).isNull());
    QVERIFY(scalar(db, u"SELECT review_state FROM submissions WHERE submission_id = ?"_s, {id}).isNull());

    const QList<QVariantList> audit =
        query(db,
              u"SELECT action, old_state, new_state FROM audit_log WHERE entity = 'submission' AND entity_id = ? AND "
              u"action IN ('reviewed', 'rejected', 'review_undone') ORDER BY id"_s,
              {id});
    QCOMPARE(audit.size(), 2);
    QCOMPARE(audit[0][0].toString(), u"rejected"_s);
    QCOMPARE(audit[1][0].toString(), u"review_undone"_s);
    QCOMPARE(audit[1][1].toString(), u"rejected"_s);
    QVERIFY(audit[1][2].isNull());
}

void TstAlertsApi::statsAndMetricsCountOpenAlerts()
{
    const auto openCount = [this] {
        return scalar(m_server->databasePath(), u"SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL"_s)
            .toLongLong();
    };
    const QString extra = submitProcessed(2);
    QVERIFY(!extra.isEmpty());
    const qint64 expected = openCount();
    QVERIFY(expected >= 1);

    const RawResponse stats = call("GET", "/api/v1/stats", m_server->coordinatorToken(), {}, false);
    QCOMPARE(stats.status, 200);
    QCOMPARE(stats.json().value("alerts"_L1).toObject().value("unacknowledged"_L1).toInteger(), expected);

    const RawResponse metrics = call("GET", "/metrics", m_server->coordinatorToken(), {}, false);
    QCOMPARE(metrics.status, 200);
    QVERIFY(metrics.body.contains("# TYPE siterelay_alerts_unacknowledged gauge\n"));
    QVERIFY2(
        metrics.body.contains(QByteArray("\nsiterelay_alerts_unacknowledged " + QByteArray::number(expected) + "\n")),
        metrics.body.constData());

    // Acknowledging one brings both down by one.
    const RawResponse ack = call("POST", "/api/v1/alerts/" + QByteArray::number(alertIdOf(extra)) + "/acknowledge",
                                 m_server->coordinatorToken(), R"({"by":"Dr. Lima"})");
    QCOMPARE(ack.status, 200);
    QCOMPARE(call("GET", "/api/v1/stats", m_server->coordinatorToken(), {}, false)
                 .json()
                 .value("alerts"_L1)
                 .toObject()
                 .value("unacknowledged"_L1)
                 .toInteger(),
             expected - 1);
}

QTEST_GUILESS_MAIN(TstAlertsApi)
#include "tst_alertsapi.moc"
