// Analysis calls beyond what Qt sends to one host in parallel wait in the engine, and their
// timeout starts only when they are sent.
#include "rawhttpclient.h"
#include "stubanalysisserver.h"
#include "testserver.h"

#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

class TstAnalysisGate : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void slowServiceUnderLoad_data();
    void slowServiceUnderLoad();
};

void TstAnalysisGate::slowServiceUnderLoad_data()
{
    QTest::addColumn<QString>("maxConcurrent");
    QTest::addColumn<bool>("allProcessed");
    // 30 calls to a service that answers in 300 ms, each allowed 1 s: six at a time that is five
    // waves (1.5 s), so without the gate the later waves time out inside Qt's queue.
    QTest::addRow("gate at six") << u"6"_s << true;
    QTest::addRow("no effective gate") << u"1000"_s << false;
}

void TstAnalysisGate::slowServiceUnderLoad()
{
    QFETCH(QString, maxConcurrent);
    QFETCH(bool, allProcessed);
    StubAnalysisServer stub(StubAnalysisServer::Mode::Slow, 300);
    QVERIFY(stub.listen());
    TestServer server({{u"engine/enabled"_s, u"true"_s},
                       {u"report/enabled"_s, u"false"_s},
                       {u"engine/maxInFlight"_s, u"30"_s},
                       {u"retry/maxAttempts"_s, u"1"_s},
                       {u"analysis/url"_s, stub.url().toString()},
                       {u"analysis/token"_s, u"t0k"_s},
                       {u"analysis/timeoutMs"_s, u"1000"_s},
                       {u"analysis/maxConcurrent"_s, maxConcurrent}});
    QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));
    constexpr int Count = 30;
    for (int i = 0; i < Count; ++i) {
        QCOMPARE(RawHttpClient::exchange(
                     server.port(), "POST", "/api/v1/submissions", TestServer::submissionBody(),
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + server.deviceToken()}})
                     .status,
                 202);
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.countRows(u"submissions"_s, u"state IN ('processed', 'timed_out')"_s), Count,
                              30000);
    const qint64 processed = server.countRows(u"submissions"_s, u"state = 'processed'"_s);
    qInfo() << "maxConcurrent" << maxConcurrent << ":" << processed << "of" << Count << "processed";
    if (allProcessed)
        QCOMPARE(processed, Count);
    else
        QVERIFY2(processed < Count, "without the gate some calls should time out in Qt's queue");
    // Kept-alive connections are the network manager's to reuse; once SiteRelay stops, none is left.
    server.stop();
    QTRY_COMPARE_WITH_TIMEOUT(stub.openConnections(), 0, 10000);
}

QTEST_GUILESS_MAIN(TstAnalysisGate)
#include "tst_analysisgate.moc"
