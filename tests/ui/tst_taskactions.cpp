// The task actions against a real in-process server: retry and cancel through TaskQueue (engine
// off) and through the running TaskEngine (an attempt held by an analysis service that never
// answers), review decisions through ReviewService; stored states and audit rows checked.
#include "acknowledgealertdialog.h"
#include "enginetestkit.h"
#include "stubanalysisserver.h"
#include "taskactions.h"
#include "testserver.h"

#include <QAction>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;
using namespace SiteRelay::Test::EngineKit;

namespace {

QString stateIn(const TestServer &server, const QString &id)
{
    return scalar(server.databasePath(), u"SELECT state FROM submissions WHERE submission_id = ?"_s, {id}).toString();
}

/// The audit rows written by the dashboard for a submission: "action old→new".
QStringList dashboardAudit(const TestServer &server, const QString &id)
{
    QStringList rows;
    const auto result = query(server.databasePath(),
                              u"SELECT action, coalesce(old_state, '-'), coalesce(new_state, '-') FROM audit_log "
                              u"WHERE entity_id = ? AND actor = 'dashboard' ORDER BY id"_s,
                              {id});
    for (const QVariantList &row : result)
        rows.append(u"%1 %2>%3"_s.arg(row[0].toString(), row[1].toString(), row[2].toString()));
    return rows;
}

/// Answers every confirmation with @p answer and records the questions.
struct ConfirmRecorder
{
    bool answer = true;
    QStringList questions;
    TaskActions::ConfirmHandler handler()
    {
        return [this](const QString &, const QString &text, std::function<void(bool)> reply) {
            questions.append(text);
            reply(answer);
        };
    }
};

} // namespace

class TstTaskActions : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void actionsHaveShortcutsAndTooltips();
    void enabledFollowsTheSelection_data();
    void enabledFollowsTheSelection();
    void cancelAndRetryWithoutEngine();
    void failuresAreShownAndStillComplete();
    void cancelEndsAnAttemptInFlightThroughTheEngine();
    void markReviewedAndReject();

private:
    QTemporaryDir m_settingsDir;
    std::unique_ptr<TestServer> m_idle; ///< engine off: tasks stay where the test puts them
};

void TstTaskActions::initTestCase()
{
    QVERIFY(m_settingsDir.isValid());
    QCoreApplication::setOrganizationName(u"SiteRelayTests"_s);
    QCoreApplication::setApplicationName(u"tst_taskactions"_s);
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settingsDir.path());
    m_idle = std::make_unique<TestServer>();
    QVERIFY2(m_idle->isRunning(), qPrintable(m_idle->errorMessage()));
}

void TstTaskActions::cleanupTestCase()
{
    m_idle.reset();
}

void TstTaskActions::actionsHaveShortcutsAndTooltips()
{
    TaskActions actions(m_idle->host().store(), nullptr, [] { return QList<SelectedTask>(); });
    QCOMPARE(actions.retryAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_R));
    QCOMPARE(actions.cancelAction()->shortcut(), QKeySequence(QKeySequence::Delete));
    QCOMPARE(actions.actions().size(), 4);
    for (QAction *action : actions.actions()) {
        QVERIFY2(!action->toolTip().isEmpty() && action->toolTip() != action->text().remove(u'&'),
                 qPrintable(action->text()));
        QVERIFY(!action->objectName().isEmpty());
        // Nothing selected: nothing to act on.
        QVERIFY(!action->isEnabled());
    }
}

void TstTaskActions::enabledFollowsTheSelection_data()
{
    QTest::addColumn<QString>("state");
    QTest::addColumn<QString>("reviewState");
    QTest::addColumn<bool>("retry");
    QTest::addColumn<bool>("cancel");
    QTest::addColumn<bool>("cancelWithEngine");
    QTest::addColumn<bool>("markReviewed");
    QTest::addColumn<bool>("reject");

    QTest::addRow("pending") << u"pending"_s << QString() << false << true << true << false << true;
    QTest::addRow("processing") << u"processing"_s << QString() << false << false << true << false << true;
    QTest::addRow("processed") << u"processed"_s << QString() << false << false << false << true << true;
    QTest::addRow("processed, reviewed") << u"processed"_s << u"reviewed"_s << false << false << false << false << true;
    QTest::addRow("processed, rejected") << u"processed"_s << u"rejected"_s << false << false << false << true << false;
    QTest::addRow("retrying") << u"retrying"_s << QString() << true << true << true << false << true;
    QTest::addRow("timed_out") << u"timed_out"_s << QString() << true << false << false << false << true;
    QTest::addRow("failed") << u"failed"_s << QString() << true << false << false << false << true;
    QTest::addRow("cancelled") << u"cancelled"_s << QString() << true << false << false << false << true;
}

void TstTaskActions::enabledFollowsTheSelection()
{
    QFETCH(QString, state);
    QFETCH(QString, reviewState);
    QFETCH(bool, retry);
    QFETCH(bool, cancel);
    QFETCH(bool, cancelWithEngine);
    QFETCH(bool, markReviewed);
    QFETCH(bool, reject);

    QList<SelectedTask> selection;
    TaskActions actions(m_idle->host().store(), nullptr, [&selection] { return selection; });
    // A selection that also holds a row no action applies to: each action looks for any it fits.
    selection = {{u"a"_s, state, reviewState}, {u"b"_s, u"processing"_s, u"rejected"_s}};
    actions.updateEnabled();
    QCOMPARE(actions.retryAction()->isEnabled(), retry);
    QCOMPARE(actions.cancelAction()->isEnabled(), cancel);
    QCOMPARE(TaskActions::canCancel(selection.constFirst(), true), cancelWithEngine);
    QCOMPARE(actions.markReviewedAction()->isEnabled(), markReviewed);
    QCOMPARE(actions.rejectAction()->isEnabled(), reject);
    selection.clear();
    actions.updateEnabled();
    QVERIFY(!actions.retryAction()->isEnabled());
    QVERIFY(!actions.cancelAction()->isEnabled());
}

void TstTaskActions::cancelAndRetryWithoutEngine()
{
    const QString id = submit(m_idle->port(), m_idle->deviceToken(), u"phq9"_s, uniformAnswers(u"phq9"_s, 1));
    QVERIFY(!id.isEmpty());
    QCOMPARE(stateIn(*m_idle, id), u"pending"_s);

    QList<SelectedTask> selection = {{id, u"pending"_s, QString()}};
    TaskActions actions(m_idle->host().store(), nullptr, [&selection] { return selection; });
    ConfirmRecorder confirm;
    actions.setConfirmHandler(confirm.handler());
    QStringList errors;
    actions.setErrorHandler([&errors](const QString &, const QString &text) { errors.append(text); });
    QSignalSpy completed(&actions, &TaskActions::actionCompleted);
    actions.updateEnabled();
    QVERIFY(actions.cancelAction()->isEnabled());

    // Declining the confirmation changes nothing.
    confirm.answer = false;
    actions.cancelAction()->trigger();
    QCOMPARE(confirm.questions.size(), 1);
    QVERIFY(confirm.questions.constFirst().contains(id));
    QVERIFY(completed.isEmpty());
    QCOMPARE(stateIn(*m_idle, id), u"pending"_s);

    confirm.answer = true;
    actions.cancelAction()->trigger();
    // While its write is outstanding, no second action starts (it would only race the first).
    QVERIFY(!actions.cancelAction()->isEnabled());
    actions.cancel();
    QCOMPARE(confirm.questions.size(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(completed.count(), 1, 10000);
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
    QCOMPARE(stateIn(*m_idle, id), u"cancelled"_s);
    QCOMPARE(dashboardAudit(*m_idle, id), QStringList{u"cancelled pending>cancelled"_s});

    selection = {{id, u"cancelled"_s, QString()}};
    actions.updateEnabled();
    QVERIFY(actions.retryAction()->isEnabled());
    actions.retryAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(completed.count(), 2, 10000);
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
    QCOMPARE(stateIn(*m_idle, id), u"pending"_s);
    QCOMPARE(dashboardAudit(*m_idle, id),
             (QStringList{u"cancelled pending>cancelled"_s, u"requeued cancelled>pending"_s}));
}

void TstTaskActions::failuresAreShownAndStillComplete()
{
    // The table may be a moment behind the store: here it offers a task that does not exist.
    const QString missing = u"00000000-0000-4000-8000-00000000abcd"_s;
    TaskActions actions(m_idle->host().store(), nullptr, [missing] {
        return QList<SelectedTask>{{missing, u"pending"_s, QString()}};
    });
    ConfirmRecorder confirm;
    actions.setConfirmHandler(confirm.handler());
    QStringList errors;
    actions.setErrorHandler([&errors](const QString &, const QString &text) { errors.append(text); });
    QSignalSpy completed(&actions, &TaskActions::actionCompleted);
    actions.cancel();
    QTRY_COMPARE_WITH_TIMEOUT(completed.count(), 1, 10000);
    QCOMPARE(errors.size(), 1);
    QVERIFY(errors.constFirst().contains(missing));
}

void TstTaskActions::cancelEndsAnAttemptInFlightThroughTheEngine()
{
    StubAnalysisServer stub(StubAnalysisServer::Mode::Never);
    QVERIFY(stub.listen());
    TestServer server({{u"engine/enabled"_s, u"true"_s},
                       {u"report/enabled"_s, u"false"_s},
                       {u"analysis/url"_s, stub.url().toString()},
                       {u"analysis/token"_s, u"stub-token"_s},
                       {u"analysis/timeoutMs"_s, u"60000"_s}});
    QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));
    QVERIFY(server.host().engine());
    const QString id = submit(server.port(), server.deviceToken(), u"phq9"_s, uniformAnswers(u"phq9"_s, 1));
    QVERIFY(!id.isEmpty());
    // Held in the analysis stage: the attempt is in flight.
    QTRY_VERIFY_WITH_TIMEOUT(stub.requestsReceived() >= 1, 20000);
    QCOMPARE(stateIn(server, id), u"processing"_s);

    QList<SelectedTask> selection = {{id, u"processing"_s, QString()}};
    TaskActions actions(server.host().store(), server.host().engine(), [&selection] { return selection; });
    ConfirmRecorder confirm;
    actions.setConfirmHandler(confirm.handler());
    QStringList errors;
    actions.setErrorHandler([&errors](const QString &, const QString &text) { errors.append(text); });
    QSignalSpy completed(&actions, &TaskActions::actionCompleted);
    actions.updateEnabled();
    QVERIFY(actions.cancelAction()->isEnabled());
    actions.cancelAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(completed.count(), 1, 15000);
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
    QCOMPARE(stateIn(server, id), u"cancelled"_s);
    QCOMPARE(
        scalar(server.databasePath(), u"SELECT outcome FROM attempts WHERE submission_id = ? AND number = 1"_s, {id})
            .toString(),
        u"cancelled"_s);
    QVERIFY(scalar(server.databasePath(),
                   u"SELECT count(*) FROM audit_log WHERE entity_id = ? AND actor = 'dashboard' AND "
                   u"new_state = 'cancelled'"_s,
                   {id})
                .toInt() >= 1);

    // Retry through the engine: requeued by the dashboard and claimed again.
    selection = {{id, u"cancelled"_s, QString()}};
    actions.updateEnabled();
    actions.retryAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(completed.count(), 2, 15000);
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
    QVERIFY(dashboardAudit(server, id).contains(u"requeued cancelled>pending"_s));
    QTRY_VERIFY_WITH_TIMEOUT(stub.requestsReceived() >= 2, 20000);
    QVERIFY2(
        stateIn(server, id) == "processing"_L1,
        qPrintable(scalar(server.databasePath(), u"SELECT last_error FROM submissions WHERE submission_id = ?"_s, {id})
                       .toString()));
    server.stop();
}

void TstTaskActions::markReviewedAndReject()
{
    TestServer server({{u"engine/enabled"_s, u"true"_s}, {u"report/enabled"_s, u"false"_s}});
    QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));
    const QString first = submit(server.port(), server.deviceToken(), u"phq9"_s, uniformAnswers(u"phq9"_s, 1));
    const QString second = submit(server.port(), server.deviceToken(), u"gad7"_s, uniformAnswers(u"gad7"_s, 2));
    QVERIFY(!first.isEmpty() && !second.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(stateIn(server, first), u"processed"_s, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(stateIn(server, second), u"processed"_s, 20000);

    QList<SelectedTask> selection = {{first, u"processed"_s, QString()}};
    TaskActions actions(server.host().store(), server.host().engine(), [&selection] { return selection; });
    ConfirmRecorder confirm;
    actions.setConfirmHandler(confirm.handler());
    QStringList errors;
    actions.setErrorHandler([&errors](const QString &, const QString &text) { errors.append(text); });
    QStringList asked; // the decisions asked about, by name
    std::optional<ReviewInput> reviewAnswer;
    actions.setReviewInputHandler([&](ReviewDecision decision, int count, const QString &,
                                      std::function<void(std::optional<ReviewInput>)> answer) {
        asked.append(toString(decision));
        QCOMPARE(count, 1);
        answer(reviewAnswer);
    });
    QSignalSpy completed(&actions, &TaskActions::actionCompleted);

    // No remembered name: marking reviewed asks who; cancelling that writes nothing.
    AcknowledgeAlertDialog::rememberCoordinatorName(QString());
    actions.markReviewedAction()->trigger();
    QCOMPARE(asked, QStringList{u"reviewed"_s});
    QVERIFY(completed.isEmpty());
    QVERIFY(dashboardAudit(server, first).isEmpty());

    reviewAnswer = ReviewInput{u"Dr. Ana Lima"_s, QString()};
    actions.markReviewedAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(completed.count(), 1, 10000);
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
    const QList<QVariantList> reviewed = query(
        server.databasePath(), u"SELECT review_state, reviewed_by FROM submissions WHERE submission_id = ?"_s, {first});
    QCOMPARE(reviewed[0][0].toString(), u"reviewed"_s);
    QCOMPARE(reviewed[0][1].toString(), u"Dr. Ana Lima"_s);
    QCOMPARE(dashboardAudit(server, first), QStringList{u"reviewed ->reviewed"_s});
    // The name is remembered: the next review does not ask.
    QCOMPARE(AcknowledgeAlertDialog::rememberedCoordinatorName(), u"Dr. Ana Lima"_s);

    selection = {{second, u"processed"_s, QString()}};
    actions.updateEnabled();
    asked.clear();
    actions.markReviewedAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(completed.count(), 2, 10000);
    QVERIFY(asked.isEmpty());
    QCOMPARE(dashboardAudit(server, second), QStringList{u"reviewed ->reviewed"_s});

    // Reject asks to confirm, then who and why.
    selection = {{second, u"processed"_s, u"reviewed"_s}};
    actions.updateEnabled();
    QVERIFY(actions.rejectAction()->isEnabled());
    confirm.answer = false;
    actions.rejectAction()->trigger();
    QCOMPARE(confirm.questions.size(), 1);
    QVERIFY(confirm.questions.constFirst().contains("not be exported"_L1));
    QVERIFY(asked.isEmpty());
    confirm.answer = true;
    reviewAnswer = ReviewInput{u"Dr. Ana Lima"_s, u"wrong patient ID"_s};
    actions.rejectAction()->trigger();
    QCOMPARE(asked, QStringList{u"rejected"_s});
    QTRY_COMPARE_WITH_TIMEOUT(completed.count(), 3, 10000);
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
    const QList<QVariantList> rejected =
        query(server.databasePath(), u"SELECT review_state, review_note FROM submissions WHERE submission_id = ?"_s,
              {second});
    QCOMPARE(rejected[0][0].toString(), u"rejected"_s);
    QCOMPARE(rejected[0][1].toString(), u"wrong patient ID"_s);
    QCOMPARE(dashboardAudit(server, second), (QStringList{u"reviewed ->reviewed"_s, u"rejected reviewed>rejected"_s}));
    server.stop();
}

QTEST_MAIN(TstTaskActions)
#include "tst_taskactions.moc"
