// The external-check stage: a foreign program run as a child process, killed at its deadline.
#include "rawhttpclient.h"
#include "testserver.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

QList<QPair<QByteArray, QByteArray>> auth(const QByteArray &token)
{
    return {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
}

bool processRunning(const QString &pattern)
{
    QProcess pgrep;
    pgrep.start(u"pgrep"_s, {u"-f"_s, pattern});
    pgrep.waitForFinished(5000);
    return pgrep.exitCode() == 0;
}

} // namespace

class TstExternalCheck : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void answerIsStored();
    void hangingProgramIsKilledAtItsDeadline();
};

void TstExternalCheck::answerIsStored()
{
    QTemporaryDir scripts;
    const QString script = scripts.filePath(u"check.sh"_s);
    QFile file(script);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("#!/bin/sh\n# Reads the scored submission and answers with a verdict.\n"
               "grep -q '\"questionnaireId\":\"phq9\"' && echo '{\"verdict\":\"ok\"}'\n");
    file.close();
    TestServer server({{u"engine/enabled"_s, u"true"_s},
                       {u"report/enabled"_s, u"false"_s},
                       {u"engine/externalCheck"_s, u"sh "_s + script}});
    QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));
    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    QCOMPARE(RawHttpClient::exchange(server.port(), "POST", "/api/v1/submissions", TestServer::submissionBody(id),
                                     auth(server.deviceToken()))
                 .status,
             202);
    QTRY_COMPARE_WITH_TIMEOUT(server.countRows(u"submissions"_s, u"state = 'processed'"_s), 1, 10000);
    QCOMPARE(server.countRows(u"submissions"_s, u"analysis LIKE '%\"verdict\":\"ok\"%'"_s), 1);
    const RawResponse status = RawHttpClient::exchange(server.port(), "GET", "/api/v1/submissions/" + id.toLatin1(), {},
                                                       auth(server.deviceToken()));
    const QJsonObject durations =
        status.json().value("attempts"_L1).toArray().first().toObject().value("stageDurationsMs"_L1).toObject();
    QVERIFY2(durations.contains("external"_L1), status.body.constData());
}

void TstExternalCheck::hangingProgramIsKilledAtItsDeadline()
{
    // A marker that no other process on the machine has on its command line.
    const QString marker = u"sleep 31.%1"_s.arg(QCoreApplication::applicationPid());
    TestServer server({{u"engine/enabled"_s, u"true"_s},
                       {u"report/enabled"_s, u"false"_s},
                       {u"engine/stageTimeoutMs"_s, u"400"_s},
                       {u"retry/maxAttempts"_s, u"1"_s},
                       {u"engine/externalCheck"_s, marker}});
    QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));
    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    QElapsedTimer clock;
    clock.start();
    QCOMPARE(RawHttpClient::exchange(server.port(), "POST", "/api/v1/submissions", TestServer::submissionBody(id),
                                     auth(server.deviceToken()))
                 .status,
             202);
    QTRY_VERIFY_WITH_TIMEOUT(processRunning(marker), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(server.countRows(u"submissions"_s, u"state = 'timed_out'"_s), 1, 10000);
    qInfo() << "timed out after" << clock.elapsed() << "ms (stage timeout 400 ms)";
    QTRY_VERIFY_WITH_TIMEOUT(!processRunning(marker), 5000);
    QCOMPARE(server.countRows(u"attempts"_s, u"outcome = 'timed_out' AND stage_reached = 'external'"_s), 1);
}

QTEST_GUILESS_MAIN(TstExternalCheck)
#include "tst_externalcheck.moc"
