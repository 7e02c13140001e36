#include "databasesnapshot.h"
#include "serverhost.h"
#include "siterelayprocess.h"
#include "submissionload.h"
#include "testpaths.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

/**
 * SIGTERM while submissions are in flight: the real binary stops accepting, answers what it is
 * storing, and exits 0 by itself. What was acknowledged is stored; what was refused with an error
 * is not; what got no answer may be stored, but then completely, audit row included.
 */
class TestShutdown final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void sigtermWhileSubmissionsInFlight();
};

void TestShutdown::initTestCase()
{
    QVERIFY2(QFileInfo(siterelayBinary()).isExecutable(), "SITERELAY_BINARY must name the built siterelay");
}

void TestShutdown::sigtermWhileSubmissionsInFlight()
{
    constexpr int Total = 200;
    constexpr int Connections = 50;
    constexpr int TerminateAfter = 60;
    constexpr qint64 ExitWithinMs = 20000;

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray token = SiteRelayProcess::addDevice(dir.path(), u"tablet-shutdown"_s);
    QVERIFY(!token.isEmpty());
    const qint64 deviceId = token.split('_').value(1).toLongLong();
    SiteRelayProcess server(dir.path());
    QVERIFY2(server.start(), server.output().constData());

    SubmissionLoad load(server.port(), token, Connections, Total);
    QElapsedTimer sinceTerminate;
    int sentAtTerminate = -1;
    // Sent from inside the answer handler: at that moment the other connections have submissions
    // on the wire or in the writer's queue, and more are still to be sent.
    connect(&load, &SubmissionLoad::acknowledged, &load, [&](int total) {
        if (total == TerminateAfter) {
            server.process().terminate();
            sinceTerminate.start();
            sentAtTerminate = load.sentCount();
        }
    });
    load.start();
    QTRY_VERIFY2_WITH_TIMEOUT(sinceTerminate.isValid(),
                              qPrintable(u"only %1 acknowledgements"_s.arg(load.acknowledgedCount())), 30000);
    QTRY_VERIFY_WITH_TIMEOUT(server.process().state() == QProcess::NotRunning, ExitWithinMs + 5000);
    const qint64 exitMs = sinceTerminate.elapsed();
    server.terminate(0); // collects the remaining output
    QVERIFY2(exitMs <= ExitWithinMs, qPrintable(u"exited %1 ms after SIGTERM"_s.arg(exitMs)));
    QCOMPARE(server.process().exitStatus(), QProcess::NormalExit);
    QVERIFY2(server.exitCode() == 0, server.output().constData());
    QTRY_VERIFY_WITH_TIMEOUT(load.isFinished(), 20000);
    QCOMPARE(load.sentCount(), Total);
    QCOMPARE(load.unexpectedAnswers(), 0);
    QVERIFY2(sentAtTerminate < Total, "the load had finished before SIGTERM; it proves nothing about in-flight work");

    const DatabaseSnapshot snapshot = DatabaseSnapshot::read(ServerHost::databasePath(dir.path()));
    QVERIFY2(snapshot.error.isEmpty(), qPrintable(snapshot.error));
    QCOMPARE(snapshot.integrityCheck, u"ok"_s);
    QCOMPARE(snapshot.duplicatedIds, 0);
    QCOMPARE(snapshot.rowCount, qint64(snapshot.submissions.size()));
    // The engine runs (the default), so rows move on from 'pending': every state's count must
    // match its rows, and together they must count every row.
    QVERIFY2(snapshot.stateCountErrors.isEmpty(), qPrintable(snapshot.stateCountErrors));
    QCOMPARE(snapshot.pendingCount, snapshot.pendingRows);
    QCOMPARE(snapshot.stateCountTotal, snapshot.rowCount);
    QCOMPARE(snapshot.orphanAuditRows, 0);

    int acknowledged = 0;
    int refused = 0;
    int unanswered = 0;
    int unansweredStored = 0;
    int unansweredWritten = 0;
    const auto &sent = load.submissions();
    for (auto it = sent.cbegin(); it != sent.cend(); ++it) {
        const bool stored = snapshot.submissions.contains(it.key());
        if (it->acknowledged()) {
            ++acknowledged;
            QCOMPARE(it->status, 202); // every id is new
            QVERIFY2(stored, qPrintable(u"acknowledged %1 is not in the database"_s.arg(it.key())));
        } else if (it->status == 0) {
            ++unanswered;
            if (it->written)
                ++unansweredWritten;
            if (stored)
                ++unansweredStored;
        } else {
            ++refused;
            // The only refusal a valid submission may get while stopping is 503, and its message
            // promises that nothing was stored.
            QVERIFY2(it->status == 503,
                     qPrintable(u"%1 answered %2 %3"_s.arg(it.key()).arg(it->status).arg(it->errorCode)));
            QVERIFY2(!stored, qPrintable(u"%1 was answered 503 %2 but is stored"_s.arg(it.key(), it->errorCode)));
        }
    }
    for (auto it = snapshot.submissions.cbegin(); it != snapshot.submissions.cend(); ++it) {
        const auto sentIt = sent.constFind(it.key());
        QVERIFY2(sentIt != sent.cend(), qPrintable(u"stored %1, which was never sent"_s.arg(it.key())));
        const QString mismatch = it->mismatchWith(*sentIt, deviceId);
        QVERIFY2(mismatch.isEmpty(), qPrintable(u"%1: %2"_s.arg(it.key(), mismatch)));
    }
    QVERIFY(acknowledged >= TerminateAfter);
    qInfo("shutdown: exited %lld ms after SIGTERM; %d sent (%d before SIGTERM), %d acknowledged, %d refused with "
          "503, %d unanswered (%d written, then the connection closed; %d refused connections) of which %d stored, "
          "%lld stored; states: %s",
          exitMs, Total, sentAtTerminate, acknowledged, refused, unanswered, unansweredWritten,
          unanswered - unansweredWritten, unansweredStored, snapshot.rowCount, qPrintable(snapshot.stateSummary));
}

QTEST_GUILESS_MAIN(TestShutdown)
#include "tst_shutdown.moc"
