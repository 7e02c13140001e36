// ReviewService and AlertReader on a real SQLite file: alerts raised by the real engine from a
// PHQ-9 with item 9 > 0, acknowledged and reviewed through the store's writer, audit rows checked.
#include "alertreader.h"
#include "enginetestkit.h"
#include "reviewservice.h"
#include "submissionstore.h"
#include "testserver.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;
using namespace SiteRelay::Test::EngineKit;

namespace {

std::unique_ptr<TestServer> startEngineServer()
{
    // No analysis URL and no PDF: a submission is processed in milliseconds and scoring raises alerts.
    return std::make_unique<TestServer>(
        QHash<QString, QString>{{u"engine/enabled"_s, u"true"_s}, {u"report/enabled"_s, u"false"_s}});
}

QJsonObject phq9WithItem9(int item9)
{
    QJsonObject answers = uniformAnswers(u"phq9"_s, 1);
    answers.insert(u"phq9_q9"_s, item9);
    return answers;
}

/// Submits a PHQ-9 and waits until the engine processed it; empty on failure.
QString submitProcessed(TestServer &server, const QJsonObject &answers)
{
    const QString id = submit(server.port(), server.deviceToken(), u"phq9"_s, answers);
    if (id.isEmpty())
        return {};
    QDeadlineTimer deadline(20000);
    while (!deadline.hasExpired()) {
        if (scalar(server.databasePath(), u"SELECT state FROM submissions WHERE submission_id = ?"_s, {id})
                .toString() == "processed"_L1)
            return id;
        QTest::qWait(20);
    }
    return {};
}

qint64 alertIdOf(const TestServer &server, const QString &submissionId)
{
    return scalar(server.databasePath(), u"SELECT id FROM alerts WHERE submission_id = ?"_s, {submissionId})
        .toLongLong();
}

qint64 auditCount(const TestServer &server)
{
    return server.countRows(u"audit_log"_s);
}

} // namespace

class TstReviewService : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void readerListsAndCountsOpenAlerts();
    void acknowledgeWritesAlertAndAuditRow();
    void acknowledgeErrors_data();
    void acknowledgeErrors();
    void reviewDecisionsAreAuditedAndUndoable();
    void reviewErrors_data();
    void reviewErrors();
    void parseRequests_data();
    void parseRequests();

private:
    std::unique_ptr<TestServer> m_server;
    QString m_alertSubmission;
};

void TstReviewService::initTestCase()
{
    m_server = startEngineServer();
    QVERIFY2(m_server->isRunning(), qPrintable(m_server->errorMessage()));
    m_alertSubmission = submitProcessed(*m_server, phq9WithItem9(2));
    QVERIFY(!m_alertSubmission.isEmpty());
    QCOMPARE(m_server->countRows(u"alerts"_s), 1);
}

void TstReviewService::cleanupTestCase()
{
    m_server.reset();
}

void TstReviewService::readerListsAndCountsOpenAlerts()
{
    auto reader = AlertReader::open(m_server->databasePath());
    QVERIFY(reader);
    const auto count = (*reader)->unacknowledgedCount();
    QVERIFY(count);
    QCOMPARE(*count, 1);
    const auto open = (*reader)->alerts(AlertReader::Filter::Unacknowledged);
    QVERIFY(open);
    QCOMPARE(open->size(), 1);
    const AlertRecord &alert = open->constFirst();
    QCOMPARE(alert.submissionId, m_alertSubmission);
    QCOMPARE(alert.patientId, u"P-ENG-1"_s);
    QCOMPARE(alert.questionnaireId, u"phq9"_s);
    QCOMPARE(alert.ruleId, u"phq9_item9_self_harm"_s);
    QCOMPARE(alert.itemValue, std::optional<int>(2));
    QVERIFY(!alert.message.isEmpty());
    QVERIFY(!alert.raisedAt.isEmpty());
    QVERIFY(!alert.isAcknowledged());
    QCOMPARE(alert.toJson().value("acknowledged"_L1).toBool(), false);
}

void TstReviewService::acknowledgeWritesAlertAndAuditRow()
{
    // A second alert of its own, so this test does not depend on the order the others run in.
    const QString submission = submitProcessed(*m_server, phq9WithItem9(1));
    QVERIFY(!submission.isEmpty());
    const qint64 alertId = alertIdOf(*m_server, submission);
    QVERIFY(alertId > 0);

    ReviewService review(m_server->host().store());
    const auto acknowledged =
        review.acknowledgeAlert(alertId, u"  Dr. Ana Lima "_s, u"Called the patient."_s, u"dashboard"_s).result();
    QVERIFY2(acknowledged, acknowledged ? "" : qPrintable(acknowledged.error().message));
    QCOMPARE(acknowledged->acknowledgedBy, u"Dr. Ana Lima"_s);
    QVERIFY(acknowledged->isAcknowledged());

    const QString db = m_server->databasePath();
    const QList<QVariantList> rows =
        query(db, u"SELECT acknowledged_at, acknowledged_by, acknowledge_note FROM alerts WHERE id = ?"_s, {alertId});
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows[0][0].toString(), acknowledged->acknowledgedAt);
    QCOMPARE(rows[0][1].toString(), u"Dr. Ana Lima"_s);
    QCOMPARE(rows[0][2].toString(), u"Called the patient."_s);

    const QList<QVariantList> audit =
        query(db,
              u"SELECT actor, old_state, new_state, detail, at FROM audit_log WHERE entity = 'alert' AND "
              u"entity_id = ? AND action = 'alert_acknowledged'"_s,
              {submission});
    QCOMPARE(audit.size(), 1);
    QCOMPARE(audit[0][0].toString(), u"dashboard"_s);
    QCOMPARE(audit[0][1].toString(), u"unacknowledged"_s);
    QCOMPARE(audit[0][2].toString(), u"acknowledged"_s);
    QVERIFY(audit[0][3].toString().contains("Dr. Ana Lima"_L1));
    QVERIFY(audit[0][3].toString().contains("Called the patient."_L1));
    QCOMPARE(audit[0][4].toString(), acknowledged->acknowledgedAt);

    // Acknowledging again is a conflict that names who did it first, and writes nothing.
    const qint64 auditBefore = auditCount(*m_server);
    const auto again = review.acknowledgeAlert(alertId, u"Someone Else"_s, QString(), u"dashboard"_s).result();
    QVERIFY(!again);
    QCOMPARE(again.error().code, ErrorCode::Conflict);
    QVERIFY(again.error().message.contains("Dr. Ana Lima"_L1));
    QCOMPARE(auditCount(*m_server), auditBefore);
    QCOMPARE(scalar(db, u"SELECT acknowledged_by FROM alerts WHERE id = ?"_s, {alertId}).toString(), u"Dr. Ana Lima"_s);

    auto reader = AlertReader::open(db);
    QVERIFY(reader);
    const auto all = (*reader)->alerts(AlertReader::Filter::All);
    QVERIFY(all);
    QVERIFY(std::any_of(all->cbegin(), all->cend(),
                        [alertId](const AlertRecord &alert) { return alert.id == alertId && alert.isAcknowledged(); }));
    const auto open = (*reader)->alerts(AlertReader::Filter::Unacknowledged);
    QVERIFY(open);
    QVERIFY(std::none_of(open->cbegin(), open->cend(),
                         [alertId](const AlertRecord &alert) { return alert.id == alertId; }));
}

void TstReviewService::acknowledgeErrors_data()
{
    QTest::addColumn<bool>("knownAlert");
    QTest::addColumn<QString>("by");
    QTest::addColumn<QString>("note");
    QTest::addColumn<ErrorCode>("code");
    QTest::addColumn<QString>("field");

    QTest::addRow("unknown id") << false << u"Dr. Lima"_s << QString() << ErrorCode::NotFound << u"id"_s;
    QTest::addRow("empty name") << true << QString() << u"note"_s << ErrorCode::InvalidArgument << u"by"_s;
    QTest::addRow("blank name") << true << u"   "_s << QString() << ErrorCode::InvalidArgument << u"by"_s;
    QTest::addRow("name too long") << true << QString(ReviewService::MaxNameLength + 1, u'x') << QString()
                                   << ErrorCode::InvalidArgument << u"by"_s;
    QTest::addRow("note too long") << true << u"Dr. Lima"_s << QString(ReviewService::MaxNoteLength + 1, u'n')
                                   << ErrorCode::InvalidArgument << u"note"_s;
}

void TstReviewService::acknowledgeErrors()
{
    QFETCH(bool, knownAlert);
    QFETCH(QString, by);
    QFETCH(QString, note);
    QFETCH(ErrorCode, code);
    QFETCH(QString, field);

    const qint64 alertId = knownAlert ? alertIdOf(*m_server, m_alertSubmission) : 999999;
    const qint64 auditBefore = auditCount(*m_server);
    ReviewService review(m_server->host().store());
    const auto result = review.acknowledgeAlert(alertId, by, note, u"dashboard"_s).result();
    QVERIFY(!result);
    QCOMPARE(result.error().code, code);
    QCOMPARE(result.error().field, field);
    QVERIFY(!result.error().message.isEmpty());
    QCOMPARE(auditCount(*m_server), auditBefore);
    QVERIFY(scalar(m_server->databasePath(), u"SELECT acknowledged_at FROM alerts WHERE submission_id = ?"_s,
                   {m_alertSubmission})
                .isNull());
}

void TstReviewService::reviewDecisionsAreAuditedAndUndoable()
{
    const QString id = submitProcessed(*m_server, phq9WithItem9(0));
    QVERIFY(!id.isEmpty());
    const QString db = m_server->databasePath();
    ReviewService review(m_server->host().store());

    struct Step
    {
        ReviewDecision decision;
        QString action;
        QVariant oldState;
        QVariant newState;
    };
    const QVariant null(QMetaType(QMetaType::QString));
    const QList<Step> steps = {
        {ReviewDecision::Reviewed, u"reviewed"_s, null, u"reviewed"_s},
        {ReviewDecision::Rejected, u"rejected"_s, u"reviewed"_s, u"rejected"_s},
        {ReviewDecision::None, u"review_undone"_s, u"rejected"_s, null},
    };
    for (const Step &step : steps) {
        const auto outcome =
            review.review(id, step.decision, u"Dr. Lima"_s, u"checked against the source"_s, u"coordinator:9"_s)
                .result();
        QVERIFY2(outcome, outcome ? "" : qPrintable(outcome.error().message));
        QCOMPARE(toString(outcome->decision), toString(step.decision));
        const QList<QVariantList> row = query(
            db,
            u"SELECT review_state, reviewed_by, review_note, reviewed_at FROM submissions WHERE submission_id = ?"_s,
            {id});
        QCOMPARE(row.size(), 1);
        if (step.decision == ReviewDecision::None) {
            for (const QVariant &column : row[0])
                QVERIFY(column.isNull());
        } else {
            QCOMPARE(row[0][0].toString(), toString(step.decision));
            QCOMPARE(row[0][1].toString(), u"Dr. Lima"_s);
            QCOMPARE(row[0][2].toString(), u"checked against the source"_s);
            QCOMPARE(row[0][3].toString(), outcome->reviewedAt);
        }
        const QList<QVariantList> audit =
            query(db,
                  u"SELECT actor, old_state, new_state, detail FROM audit_log WHERE entity = 'submission' AND "
                  u"entity_id = ? AND action = ? ORDER BY id DESC LIMIT 1"_s,
                  {id, step.action});
        QCOMPARE(audit.size(), 1);
        QCOMPARE(audit[0][0].toString(), u"coordinator:9"_s);
        QCOMPARE(audit[0][1].isNull(), step.oldState.isNull());
        QCOMPARE(audit[0][1].toString(), step.oldState.toString());
        QCOMPARE(audit[0][2].isNull(), step.newState.isNull());
        QCOMPARE(audit[0][2].toString(), step.newState.toString());
        QVERIFY(audit[0][3].toString().contains("Dr. Lima"_L1));
    }
    // The processing state is not touched by a review.
    QCOMPARE(scalar(db, u"SELECT state FROM submissions WHERE submission_id = ?"_s, {id}).toString(), u"processed"_s);
}

void TstReviewService::reviewErrors_data()
{
    QTest::addColumn<QString>("setup"); ///< "pending", "processed", "exported", "unknown"
    QTest::addColumn<ReviewDecision>("decision");
    QTest::addColumn<QString>("by");
    QTest::addColumn<ErrorCode>("code");
    QTest::addColumn<QString>("reason");

    QTest::addRow("unknown submission") << u"unknown"_s << ReviewDecision::Reviewed << u"Dr. Lima"_s
                                        << ErrorCode::NotFound << u"not_found"_s;
    QTest::addRow("reviewed before processing")
        << u"pending"_s << ReviewDecision::Reviewed << u"Dr. Lima"_s << ErrorCode::Conflict << u"invalid_state"_s;
    QTest::addRow("undo without a decision")
        << u"processed"_s << ReviewDecision::None << u"Dr. Lima"_s << ErrorCode::Conflict << u"review_unchanged"_s;
    QTest::addRow("reject an exported one")
        << u"exported"_s << ReviewDecision::Rejected << u"Dr. Lima"_s << ErrorCode::Conflict << u"already_exported"_s;
    QTest::addRow("no name") << u"processed"_s << ReviewDecision::Reviewed << u" "_s << ErrorCode::InvalidArgument
                             << u"missing_field"_s;
}

void TstReviewService::reviewErrors()
{
    QFETCH(QString, setup);
    QFETCH(ReviewDecision, decision);
    QFETCH(QString, by);
    QFETCH(ErrorCode, code);
    QFETCH(QString, reason);

    SubmissionStore &store = m_server->host().store();
    QString id = u"00000000-0000-4000-8000-000000000000"_s;
    if (setup == "pending"_L1) {
        // A submission the engine never sees: stored through the real store, engine off in its own server.
        TestServer idle;
        QVERIFY(idle.isRunning());
        id = submit(idle.port(), idle.deviceToken(), u"phq9"_s, phq9WithItem9(0));
        QVERIFY(!id.isEmpty());
        ReviewService idleReview(idle.host().store());
        const auto result = idleReview.review(id, decision, by, QString(), u"dashboard"_s).result();
        QVERIFY(!result);
        QCOMPARE(result.error().code, code);
        QCOMPARE(result.error().reason, reason);
        QCOMPARE(idle.countRows(u"audit_log"_s, u"action LIKE 'review%' OR action IN ('reviewed','rejected')"_s), 0);
        return;
    }
    if (setup == "processed"_L1 || setup == "exported"_L1) {
        id = submitProcessed(*m_server, phq9WithItem9(0));
        QVERIFY(!id.isEmpty());
    }
    if (setup == "exported"_L1) {
        // What the batch exporter does when it takes a row, written through the same writer.
        const auto marked =
            store
                .submit<Done>([id](QSqlDatabase &db) -> Expected<Done> {
                    QSqlQuery insert(db);
                    if (!insert.exec(u"INSERT INTO batches (id, sequence, created_at, site_id, "
                                     u"submission_count) VALUES ('batch-t', 1, "
                                     u"'2026-11-26T10:00:00.000Z', 'SITE', 1)"_s))
                        return Error{ErrorCode::Internal, insert.lastError().text()};
                    QSqlQuery update(db);
                    update.prepare(u"UPDATE submissions SET export_batch_id = 'batch-t' WHERE submission_id = ?"_s);
                    update.addBindValue(id);
                    if (!update.exec())
                        return Error{ErrorCode::Internal, update.lastError().text()};
                    return Done{};
                })
                .result();
        QVERIFY2(marked, marked ? "" : qPrintable(marked.error().message));
    }
    const qint64 auditBefore = auditCount(*m_server);
    ReviewService review(store);
    const auto result = review.review(id, decision, by, QString(), u"dashboard"_s).result();
    QVERIFY(!result);
    QCOMPARE(result.error().code, code);
    QCOMPARE(result.error().reason, reason);
    QVERIFY(!result.error().message.isEmpty());
    QCOMPARE(auditCount(*m_server), auditBefore);
    if (setup != "unknown"_L1)
        QVERIFY(
            scalar(m_server->databasePath(), u"SELECT review_state FROM submissions WHERE submission_id = ?"_s, {id})
                .isNull());
}

void TstReviewService::parseRequests_data()
{
    QTest::addColumn<bool>("review"); ///< parse as a review body, else as an acknowledge body
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("field"); ///< empty: valid
    QTest::addColumn<QString>("reason");

    QTest::addRow("ack ok") << false << QByteArray(R"({"by":"Dr. Lima","note":"called"})") << QString() << QString();
    QTest::addRow("ack without note") << false << QByteArray(R"({"by":"Dr. Lima"})") << QString() << QString();
    QTest::addRow("ack null note") << false << QByteArray(R"({"by":"Dr. Lima","note":null})") << QString() << QString();
    QTest::addRow("ack missing by") << false << QByteArray(R"({"note":"x"})") << u"by"_s << u"missing_field"_s;
    QTest::addRow("ack by not a string") << false << QByteArray(R"({"by":7})") << u"by"_s << u"invalid_field"_s;
    QTest::addRow("ack unknown field") << false << QByteArray(R"({"by":"A","who":"B"})") << u"who"_s
                                       << u"unknown_field"_s;
    QTest::addRow("ack malformed") << false << QByteArray(R"({"by":)") << QString() << u"malformed_json"_s;
    QTest::addRow("ack array") << false << QByteArray("[]") << QString() << u"not_an_object"_s;
    QTest::addRow("review ok") << true << QByteArray(R"({"decision":"rejected","by":"A","note":"wrong patient"})")
                               << QString() << QString();
    QTest::addRow("review none") << true << QByteArray(R"({"decision":"none","by":"A"})") << QString() << QString();
    QTest::addRow("review missing decision")
        << true << QByteArray(R"({"by":"A"})") << u"decision"_s << u"missing_field"_s;
    QTest::addRow("review bad decision") << true << QByteArray(R"({"decision":"approved","by":"A"})") << u"decision"_s
                                         << u"invalid_field"_s;
    QTest::addRow("review empty by") << true << QByteArray(R"({"decision":"reviewed","by":""})") << u"by"_s
                                     << u"missing_field"_s;
}

void TstReviewService::parseRequests()
{
    QFETCH(bool, review);
    QFETCH(QByteArray, body);
    QFETCH(QString, field);
    QFETCH(QString, reason);

    const std::optional<Error> error = [&]() -> std::optional<Error> {
        if (review) {
            const auto parsed = ReviewService::parseReviewRequest(body);
            return parsed ? std::nullopt : std::optional<Error>(parsed.error());
        }
        const auto parsed = ReviewService::parseAcknowledgeRequest(body);
        return parsed ? std::nullopt : std::optional<Error>(parsed.error());
    }();
    if (reason.isEmpty()) {
        QVERIFY2(!error, error ? qPrintable(error->message) : "");
        return;
    }
    QVERIFY(error);
    QCOMPARE(error->code, ErrorCode::InvalidArgument);
    QCOMPARE(error->field, field);
    QCOMPARE(error->reason, reason);
}

QTEST_GUILESS_MAIN(TstReviewService)
#include "tst_reviewservice.moc"
