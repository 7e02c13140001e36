// The processing engine across process deaths: the real siterelay binary is killed (SIGKILL) or
// stopped (SIGTERM) while attempts hang on the analysis service, then restarted on the same data
// directory. What the database holds afterwards is read from the SQLite file itself.
#include "enginetestkit.h"
#include "serverhost.h"
#include "siterelayprocess.h"
#include "stubanalysisserver.h"
#include "testpaths.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;
using namespace SiteRelay::Test::EngineKit;
using Mode = StubAnalysisServer::Mode;

namespace {

constexpr int SettleMs = 30000;
const QByteArray AnalysisToken = "t0k";

QStringList serverArguments(const StubAnalysisServer &stub, const QStringList &extra = {})
{
    // A 60 s analysis timeout: attempts against the Never stub hang until the process dies.
    return QStringList{u"--set"_s, u"analysis/url="_s + stub.url().toString(),
                       u"--set"_s, u"analysis/token="_s + QString::fromLatin1(AnalysisToken),
                       u"--set"_s, u"analysis/timeoutMs=60000"_s} +
           extra;
}

/// The answers of the n-th test submission: every fifth has PHQ-9 item 9 above 0 (an alert).
QJsonObject answersFor(int n)
{
    QJsonObject answers = uniformAnswers(u"phq9"_s, n % 3);
    answers.insert(u"phq9_q9"_s, n % 5 == 0 ? 1 : 0);
    return answers;
}

/// CPU time (user + system) the process @p pid has used, in ms; -1 if unreadable.
qint64 cpuTimeMs(qint64 pid)
{
    QFile file(u"/proc/%1/stat"_s.arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray stat = file.readAll();
    // Fields after the command name (which may hold spaces) start after the last ')'; utime and
    // stime are fields 14 and 15 of the whole line, so 12 and 13 after it.
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 13)
        return -1;
    const qint64 ticks = fields[11].toLongLong() + fields[12].toLongLong();
    return ticks * 1000 / sysconf(_SC_CLK_TCK);
}

QStringList column(const QList<QVariantList> &rows)
{
    QStringList values;
    for (const QVariantList &row : rows)
        values.append(row.value(0).toString());
    return values;
}

} // namespace

class TstEngineRecovery : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void sigkillWhileAttemptsHangThenRestart();
    void sigtermWhileAttemptsHangThenRestart();
    void idleEngineDoesNotSpin();
};

void TstEngineRecovery::initTestCase()
{
    QVERIFY2(QFileInfo(siterelayBinary()).isExecutable(), "SITERELAY_BINARY must name the built siterelay");
}

void TstEngineRecovery::sigkillWhileAttemptsHangThenRestart()
{
    constexpr int Tasks = 50;
    constexpr int InFlight = 20; // the rest wait as pending rows when the process dies

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString db = ServerHost::databasePath(dir.path());
    const QByteArray token = SiteRelayProcess::addDevice(dir.path(), u"tablet-recovery"_s);
    QVERIFY(!token.isEmpty());
    StubAnalysisServer stub(Mode::Never);
    stub.setExpectedToken(AnalysisToken);
    QVERIFY(stub.listen());
    const QStringList arguments = serverArguments(stub, {u"--set"_s, u"engine/maxInFlight=%1"_s.arg(InFlight)});

    SiteRelayProcess server(dir.path());
    QVERIFY2(server.start(arguments), server.output().constData());
    QSet<QString> withAlert;
    QStringList ids;
    for (int n = 0; n < Tasks; ++n) {
        ids.append(submit(server.port(), token, u"phq9"_s, answersFor(n)));
        QVERIFY(!ids.last().isEmpty());
        if (n % 5 == 0)
            withAlert.insert(ids.last());
    }
    QTRY_VERIFY_WITH_TIMEOUT(submissionsIn(server.port(), u"processing"_s) == InFlight &&
                                 engineStats(server.port()).value("attemptsInFlight"_L1).toInt() == InFlight &&
                                 stub.requestsReceived() >= 1,
                             SettleMs);
    const int hungRequests = stub.requestsReceived();
    server.kill();
    QCOMPARE(server.exitCode(), -1); // killed, not exited

    // What the crash left: attempts open in the file, the rest pending.
    const QStringList interrupted = column(query(db, u"SELECT submission_id FROM submissions WHERE state = "
                                                     u"'processing' ORDER BY id"_s));
    QCOMPARE(interrupted.size(), InFlight);
    QCOMPARE(scalar(db, u"SELECT count(*) FROM attempts WHERE outcome IS NULL"_s).toInt(), InFlight);
    QCOMPARE(scalar(db, u"SELECT count(*) FROM submissions WHERE state = 'pending'"_s).toInt(), Tasks - InFlight);
    // The kernel closed the dead process's sockets; the service sees every connection go.
    QTRY_COMPARE_WITH_TIMEOUT(stub.openConnections(), 0, 10000);

    stub.setMode(Mode::Fast);
    QVERIFY2(server.start(arguments), server.output().constData());
    QTRY_COMPARE_WITH_TIMEOUT(submissionsIn(server.port(), u"processed"_s), qint64(Tasks), SettleMs);
    QVERIFY2(server.terminate(), server.output().constData());
    QCOMPARE(server.exitCode(), 0);

    QCOMPARE(scalar(db, u"PRAGMA integrity_check"_s).toString(), u"ok"_s);
    QCOMPARE(scalar(db, u"SELECT count(*) FROM submissions WHERE state = 'processed'"_s).toInt(), Tasks);
    QCOMPARE(scalar(db, u"SELECT sum(count) FROM state_counts WHERE state = 'processed'"_s).toInt(), Tasks);
    // Processed exactly once: one processed attempt and one attempt_processed audit row each.
    QCOMPARE(scalar(db, u"SELECT count(*) FROM attempts WHERE outcome = 'processed'"_s).toInt(), Tasks);
    QCOMPARE(scalar(db, u"SELECT count(DISTINCT submission_id) FROM attempts WHERE outcome = 'processed'"_s).toInt(),
             Tasks);
    QCOMPARE(scalar(db, u"SELECT count(*) FROM audit_log WHERE action = 'attempt_processed'"_s).toInt(), Tasks);
    QCOMPARE(stub.answered(), Tasks);
    QCOMPARE(scalar(db, u"SELECT count(*) FROM attempts WHERE outcome IS NULL"_s).toInt(), 0);

    const QSet<QString> interruptedSet(interrupted.cbegin(), interrupted.cend());
    for (const QString &id : std::as_const(ids)) {
        const QStringList outcomes =
            column(query(db, u"SELECT outcome FROM attempts WHERE submission_id = ? ORDER BY number"_s, {id}));
        const int interruptedRows =
            scalar(db,
                   u"SELECT count(*) FROM audit_log WHERE entity_id = ? AND action = 'attempt_interrupted' AND "
                   u"old_state = 'processing' AND new_state = 'retrying'"_s,
                   {id})
                .toInt();
        if (interruptedSet.contains(id)) {
            QCOMPARE(outcomes, (QStringList{u"interrupted"_s, u"processed"_s}));
            QCOMPARE(interruptedRows, 1);
        } else {
            QCOMPARE(outcomes, QStringList{u"processed"_s});
            QCOMPARE(interruptedRows, 0);
        }
    }
    // Alerts: one per submission with item 9 above 0, however often it was scored.
    QCOMPARE(scalar(db, u"SELECT count(*) FROM alerts"_s).toInt(), int(withAlert.size()));
    QCOMPARE(scalar(db, u"SELECT count(*) FROM audit_log WHERE action = 'alert_raised'"_s).toInt(),
             int(withAlert.size()));
    const QStringList alerted = column(query(db, u"SELECT submission_id FROM alerts"_s));
    QCOMPARE(QSet<QString>(alerted.cbegin(), alerted.cend()), withAlert);
    qInfo("kill -9 with %d attempts in flight (%d requests hung at the service), %d pending; after restart all %d "
          "processed once",
          InFlight, hungRequests, Tasks - InFlight, Tasks);
}

void TstEngineRecovery::sigtermWhileAttemptsHangThenRestart()
{
    constexpr int Tasks = 10;
    constexpr qint64 ExitWithinMs = 5000;

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString db = ServerHost::databasePath(dir.path());
    const QByteArray token = SiteRelayProcess::addDevice(dir.path(), u"tablet-sigterm"_s);
    QVERIFY(!token.isEmpty());
    StubAnalysisServer stub(Mode::Never);
    stub.setExpectedToken(AnalysisToken);
    QVERIFY(stub.listen());
    const QStringList arguments = serverArguments(stub);

    SiteRelayProcess server(dir.path());
    QVERIFY2(server.start(arguments), server.output().constData());
    QStringList ids;
    for (int n = 0; n < Tasks; ++n) {
        ids.append(submit(server.port(), token, u"phq9"_s, answersFor(n)));
        QVERIFY(!ids.last().isEmpty());
    }
    QTRY_VERIFY_WITH_TIMEOUT(engineStats(server.port()).value("attemptsInFlight"_L1).toInt() == Tasks &&
                                 stub.requestsReceived() >= 1,
                             SettleMs);

    QElapsedTimer clock;
    clock.start();
    server.process().terminate();
    QTRY_VERIFY_WITH_TIMEOUT(server.process().state() == QProcess::NotRunning, ExitWithinMs + 10000);
    const qint64 exitMs = clock.elapsed();
    server.terminate(0); // collects the remaining output
    qInfo("SIGTERM with %d attempts hanging: exited after %lld ms", Tasks, exitMs);
    QCOMPARE(server.process().exitStatus(), QProcess::NormalExit);
    QVERIFY2(server.exitCode() == 0, server.output().constData());
    QVERIFY2(exitMs < ExitWithinMs, qPrintable(u"exited %1 ms after SIGTERM"_s.arg(exitMs)));

    // Every hanging attempt was ended and recorded as a retry due at once, not left open.
    QCOMPARE(scalar(db, u"PRAGMA integrity_check"_s).toString(), u"ok"_s);
    QCOMPARE(scalar(db, u"SELECT count(*) FROM submissions WHERE state = 'retrying' AND next_attempt_at IS NOT NULL "
                        u"AND next_attempt_at <= updated_at"_s)
                 .toInt(),
             Tasks);
    QCOMPARE(
        scalar(db, u"SELECT count(*) FROM attempts WHERE outcome = 'retry' AND error LIKE 'interrupted:%'"_s).toInt(),
        Tasks);
    QCOMPARE(scalar(db, u"SELECT count(*) FROM attempts WHERE outcome IS NULL"_s).toInt(), 0);
    QCOMPARE(scalar(db, u"SELECT count(*) FROM audit_log WHERE action = 'attempt_retry' AND new_state = 'retrying'"_s)
                 .toInt(),
             Tasks);

    stub.setMode(Mode::Fast);
    QVERIFY2(server.start(arguments), server.output().constData());
    QTRY_COMPARE_WITH_TIMEOUT(submissionsIn(server.port(), u"processed"_s), qint64(Tasks), SettleMs);
    QVERIFY2(server.terminate(), server.output().constData());
    QCOMPARE(server.exitCode(), 0);

    for (const QString &id : std::as_const(ids)) {
        const QStringList outcomes =
            column(query(db, u"SELECT outcome FROM attempts WHERE submission_id = ? ORDER BY number"_s, {id}));
        QCOMPARE(outcomes, (QStringList{u"retry"_s, u"processed"_s}));
    }
    QCOMPARE(stub.answered(), Tasks);
    QCOMPARE(scalar(db, u"SELECT count(*) FROM alerts"_s).toInt(), 2); // n = 0 and n = 5
    QCOMPARE(scalar(db, u"PRAGMA integrity_check"_s).toString(), u"ok"_s);
}

void TstEngineRecovery::idleEngineDoesNotSpin()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    StubAnalysisServer stub(Mode::Fast);
    stub.setExpectedToken(AnalysisToken);
    QVERIFY(stub.listen());
    const QByteArray token = SiteRelayProcess::addDevice(dir.path(), u"tablet-idle"_s);
    QVERIFY(!token.isEmpty());
    SiteRelayProcess server(dir.path());
    QVERIFY2(server.start(serverArguments(stub)), server.output().constData());
    // One processed task first, so the engine has been through a whole claim/record cycle.
    const QString id = submit(server.port(), token, u"gad7"_s, uniformAnswers(u"gad7"_s, 1));
    QVERIFY(!id.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(server.port(), token, id), u"processed"_s, SettleMs);

    // A measuring window, not a wait for a condition: with nothing to do the process should
    // use next to no CPU in it.
    const qint64 pid = server.process().processId();
    const qint64 before = cpuTimeMs(pid);
    QVERIFY(before >= 0);
    QElapsedTimer clock;
    clock.start();
    QTest::qWait(1000);
    const qint64 usedMs = cpuTimeMs(pid) - before;
    const qint64 wallMs = clock.elapsed();
    qInfo("idle siterelay used %lld ms CPU in %lld ms", usedMs, wallMs);
    // 5 % of the window: an idle process uses next to nothing, while a spinning one gets far more
    // than that even on a loaded 2-core machine.
    QVERIFY2(usedMs < wallMs / 20, qPrintable(u"%1 ms CPU in %2 ms idle"_s.arg(usedMs).arg(wallMs)));
}

QTEST_GUILESS_MAIN(TstEngineRecovery)
#include "tst_enginerecovery.moc"
