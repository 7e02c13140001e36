#include "rawhttpclient.h"
#include "stubanalysisserver.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTest>
#include <QUuid>

#include <memory>
#include <vector>

using namespace Qt::Literals::StringLiterals;

using SiteRelay::StubAnalysisServer;
using SiteRelay::Test::RawHttpClient;
using Mode = StubAnalysisServer::Mode;

namespace {

constexpr int replyTimeoutMs = 15000;
const QByteArray token = "test-token"_ba;
const QByteArray submission = R"({"submissionId":"5b0f3c4e-1f7a-4b8e-9a57-3f1f1c2d9e10","totalScore":12})"_ba;

QNetworkRequest analysisRequest(const QUrl &url, const QByteArray &authorization = "Bearer "_ba + token)
{
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    if (!authorization.isEmpty())
        request.setRawHeader("Authorization"_ba, authorization);
    return request;
}

int httpStatus(const QNetworkReply *reply)
{
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

} // namespace

class TstStubAnalysisServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void modes_data();
    void modes();
    void dropClosesWithoutAnswering();
    void neverHoldsTheRequestUntilTheClientAborts();
    void abortedNeverRequestClosesItsConnection();
    void concurrentNeverRequestsAreHeldAndReleased();
    void validation_data();
    void validation();
    void keepAliveAndPipeliningWhileTheTestThreadBlocks();
    void setModeAppliesToNewRequestsOnly();
    void closingTheClientClosesKeptAliveConnections();
    void modeFromString_data();
    void modeFromString();
};

void TstStubAnalysisServer::modes_data()
{
    QTest::addColumn<Mode>("mode");
    QTest::addColumn<int>("delayMs");
    QTest::addColumn<int>("status"); // 0: no HTTP response at all
    QTest::addColumn<QNetworkReply::NetworkError>("error");
    QTest::addColumn<QString>("body");  // "accepted", "error" or "not json"
    QTest::addColumn<int>("openAfter"); // connections open once the reply finished
    QTest::addColumn<int>("requests");

    // A kept-alive connection stays open after an answer; a dropped one is gone.
    QTest::addRow("fast") << Mode::Fast << 0 << 200 << QNetworkReply::NoError << u"accepted"_s << 1 << 1;
    QTest::addRow("slow") << Mode::Slow << 400 << 200 << QNetworkReply::NoError << u"accepted"_s << 1 << 1;
    QTest::addRow("error500") << Mode::Error500 << 0 << 500 << QNetworkReply::InternalServerError << u"error"_s << 1
                              << 1;
    QTest::addRow("invalid") << Mode::Invalid << 0 << 200 << QNetworkReply::NoError << u"not json"_s << 1 << 1;
    // Qt 6.4's QNetworkAccessManager resends a request, POST included, once when the connection closes before any
    // answer (QHttpNetworkConnectionChannel::handleUnexpectedEOF), so one dropped POST reaches the service twice.
    // Pinned here because the engine's analysis calls inherit it; dropClosesWithoutAnswering() checks the stub alone.
    QTest::addRow("drop") << Mode::Drop << 0 << 0 << QNetworkReply::RemoteHostClosedError << QString() << 0 << 2;
}

void TstStubAnalysisServer::modes()
{
    QFETCH(Mode, mode);
    QFETCH(int, delayMs);
    QFETCH(int, status);
    QFETCH(QNetworkReply::NetworkError, error);
    QFETCH(QString, body);
    QFETCH(int, openAfter);
    QFETCH(int, requests);

    StubAnalysisServer stub(mode, delayMs);
    QVERIFY(stub.listen());
    QVERIFY(stub.port() != 0);
    QCOMPARE(stub.url(), QUrl(u"http://127.0.0.1:%1/analyse"_s.arg(stub.port())));

    QNetworkAccessManager nam;
    QElapsedTimer elapsed;
    elapsed.start();
    std::unique_ptr<QNetworkReply> reply(nam.post(analysisRequest(stub.url()), submission));
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), replyTimeoutMs);

    QCOMPARE(reply->error(), error);
    QCOMPARE(httpStatus(reply.get()), status);
    if (delayMs > 0) {
        // The stub's timer starts when the request has arrived, after our clock started.
        QVERIFY2(elapsed.elapsed() >= delayMs, qPrintable(u"answered after %1 ms"_s.arg(elapsed.elapsed())));
    }
    const QByteArray answer = reply->readAll();
    if (body == "accepted"_L1) {
        const QJsonObject json = QJsonDocument::fromJson(answer).object();
        QCOMPARE(json.value("status"_L1).toString(), u"accepted"_s);
        QVERIFY(!QUuid::fromString(json.value("analysisId"_L1).toString()).isNull());
        QCOMPARE(json.value("riskFlags"_L1).toArray(), QJsonArray());
        QCOMPARE(json.value("receivedBytes"_L1).toInteger(), submission.size());
    } else if (body == "error"_L1) {
        const QJsonObject json = QJsonDocument::fromJson(answer).object();
        QCOMPARE(json.value("error"_L1).toObject().value("code"_L1).toString(), u"analysisFailed"_s);
    } else {
        QCOMPARE(answer, body.toUtf8());
    }

    QCOMPARE(stub.requestsReceived(), requests);
    QCOMPARE(stub.answered(), status != 0 ? requests : 0);
    QCOMPARE(stub.rejected(), 0);
    QCOMPARE(stub.connectionsAccepted(), requests); // a resend needs a new connection
    QTRY_COMPARE(stub.openConnections(), openAfter);
    QCOMPARE(stub.authorizationHeaders(), QList<QByteArray>(requests, "Bearer "_ba + token));
    QCOMPARE(stub.lastBody(), QJsonDocument::fromJson(submission).object());
}

void TstStubAnalysisServer::dropClosesWithoutAnswering()
{
    StubAnalysisServer stub(Mode::Drop);
    QVERIFY(stub.listen());
    RawHttpClient client;
    QVERIFY(client.connectTo(stub.port()));
    client.send(RawHttpClient::request(
        "POST"_ba, "/analyse"_ba, submission,
        {{"Content-Type"_ba, "application/json"_ba}, {"Authorization"_ba, "Bearer "_ba + token}}));
    QCOMPARE(client.readResponse().status, 0); // 0: the connection closed with no response
    QVERIFY(client.waitForClose());
    QCOMPARE(stub.requestsReceived(), 1);
    QCOMPARE(stub.answered(), 0);
    QTRY_COMPARE(stub.openConnections(), 0);
}

void TstStubAnalysisServer::neverHoldsTheRequestUntilTheClientAborts()
{
    StubAnalysisServer stub(Mode::Never);
    QVERIFY(stub.listen());
    QNetworkAccessManager nam;
    std::unique_ptr<QNetworkReply> reply(nam.post(analysisRequest(stub.url()), submission));
    QTRY_COMPARE(stub.requestsReceived(), 1);
    QCOMPARE(stub.lastBody(), QJsonDocument::fromJson(submission).object());

    // Proving that no answer comes needs a window; a quarter second is far longer than a Fast answer takes.
    QTest::qWait(250);
    QVERIFY(!reply->isFinished());
    QCOMPARE(stub.answered(), 0);
    QCOMPARE(stub.openConnections(), 1);

    reply->abort();
    QCOMPARE(reply->error(), QNetworkReply::OperationCanceledError);
}

void TstStubAnalysisServer::abortedNeverRequestClosesItsConnection()
{
    StubAnalysisServer stub(Mode::Never);
    QVERIFY(stub.listen());
    QNetworkAccessManager nam;
    std::unique_ptr<QNetworkReply> reply(nam.post(analysisRequest(stub.url()), submission));
    QTRY_COMPARE(stub.requestsReceived(), 1);
    QCOMPARE(stub.openConnections(), 1);

    reply->abort();
    QTRY_COMPARE(stub.openConnections(), 0);
    QCOMPARE(stub.connectionsAccepted(), 1);
    QCOMPARE(stub.answered(), 0);
}

void TstStubAnalysisServer::concurrentNeverRequestsAreHeldAndReleased()
{
    constexpr int requestCount = 200;
    // Qt 6.4's QNetworkAccessManager opens at most 6 HTTP/1 connections per host and queues the rest, so
    // every request needs a slot of its own among enough managers to be in flight at the same time.
    constexpr int connectionsPerManager = 6;

    StubAnalysisServer stub(Mode::Never);
    QVERIFY(stub.listen());
    std::vector<std::unique_ptr<QNetworkAccessManager>> managers;
    std::vector<std::unique_ptr<QNetworkReply>> replies;
    for (int i = 0; i < requestCount; ++i) {
        if (i % connectionsPerManager == 0)
            managers.push_back(std::make_unique<QNetworkAccessManager>());
        replies.emplace_back(managers.back()->post(analysisRequest(stub.url()), submission));
    }

    QTRY_COMPARE_WITH_TIMEOUT(stub.requestsReceived(), requestCount, 30000);
    QCOMPARE(stub.openConnections(), requestCount);
    QCOMPARE(stub.connectionsAccepted(), requestCount);
    QCOMPARE(stub.answered(), 0);
    for (const auto &reply : replies)
        QVERIFY(!reply->isFinished());

    for (const auto &reply : replies)
        reply->abort();
    QTRY_COMPARE_WITH_TIMEOUT(stub.openConnections(), 0, 30000);
    QCOMPARE(stub.requestsReceived(), requestCount);
}

void TstStubAnalysisServer::validation_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("contentType");      // empty: none
    QTest::addColumn<QByteArray>("authorization"); // empty: none
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("expectedToken");
    QTest::addColumn<int>("status");

    const QByteArray bearer = "Bearer "_ba + token;
    const QString json = u"application/json"_s;
    QTest::addRow("valid") << "POST"_ba << u"/analyse"_s << json << bearer << submission << QByteArray() << 200;
    QTest::addRow("json with charset") << "POST"_ba << u"/analyse"_s << u"application/json; charset=utf-8"_s << bearer
                                       << submission << QByteArray() << 200;
    QTest::addRow("expected token") << "POST"_ba << u"/analyse"_s << json << bearer << submission << token << 200;
    QTest::addRow("other path") << "POST"_ba << u"/analyze"_s << json << bearer << submission << QByteArray() << 404;
    QTest::addRow("GET") << "GET"_ba << u"/analyse"_s << QString() << bearer << QByteArray() << QByteArray() << 400;
    QTest::addRow("PUT") << "PUT"_ba << u"/analyse"_s << json << bearer << submission << QByteArray() << 400;
    QTest::addRow("text/plain") << "POST"_ba << u"/analyse"_s << u"text/plain"_s << bearer << submission << QByteArray()
                                << 400;
    QTest::addRow("no authorization") << "POST"_ba << u"/analyse"_s << json << QByteArray() << submission
                                      << QByteArray() << 401;
    QTest::addRow("basic scheme") << "POST"_ba << u"/analyse"_s << json << "Basic dGVzdDp0ZXN0"_ba << submission
                                  << QByteArray() << 401;
    QTest::addRow("bearer without token")
        << "POST"_ba << u"/analyse"_s << json << "Bearer"_ba << submission << QByteArray() << 401;
    QTest::addRow("wrong token") << "POST"_ba << u"/analyse"_s << json << bearer << submission << "other"_ba << 401;
    QTest::addRow("malformed json") << "POST"_ba << u"/analyse"_s << json << bearer << "{\"a\":"_ba << QByteArray()
                                    << 400;
    QTest::addRow("json array") << "POST"_ba << u"/analyse"_s << json << bearer << "[1,2]"_ba << QByteArray() << 400;
}

void TstStubAnalysisServer::validation()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QString, contentType);
    QFETCH(QByteArray, authorization);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, expectedToken);
    QFETCH(int, status);

    StubAnalysisServer stub(Mode::Fast);
    stub.setExpectedToken(expectedToken);
    QVERIFY(stub.listen());
    QUrl url = stub.url();
    url.setPath(path);
    QNetworkRequest request(url);
    if (!contentType.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
    if (!authorization.isEmpty())
        request.setRawHeader("Authorization"_ba, authorization);

    QNetworkAccessManager nam;
    std::unique_ptr<QNetworkReply> reply(method == "GET"_ba ? nam.get(request)
                                                            : nam.sendCustomRequest(request, method, body));
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), replyTimeoutMs);

    QCOMPARE(httpStatus(reply.get()), status);
    const QJsonObject answer = QJsonDocument::fromJson(reply->readAll()).object();
    QCOMPARE(stub.requestsReceived(), 1);
    QCOMPARE(stub.answered(), 1);
    QCOMPARE(stub.authorizationHeaders(), QList<QByteArray>{authorization});
    if (status == 200) {
        QCOMPARE(stub.rejected(), 0);
        QCOMPARE(answer.value("status"_L1).toString(), u"accepted"_s);
        QCOMPARE(stub.lastBody(), QJsonDocument::fromJson(body).object());
    } else {
        QCOMPARE(stub.rejected(), 1);
        QVERIFY(!answer.value("error"_L1).toObject().value("code"_L1).toString().isEmpty());
        QVERIFY(stub.lastBody().isEmpty());
    }
}

void TstStubAnalysisServer::keepAliveAndPipeliningWhileTheTestThreadBlocks()
{
    StubAnalysisServer stub(Mode::Fast);
    QVERIFY(stub.listen());

    // RawHttpClient blocks this thread in waitForReadyRead: answers can only come from the stub's own thread.
    RawHttpClient client;
    QVERIFY(client.connectTo(stub.port()));
    const QList<QPair<QByteArray, QByteArray>> headers{{"Content-Type"_ba, "application/json"_ba},
                                                       {"Authorization"_ba, "Bearer "_ba + token}};
    const QByteArray secondBody = R"({"n":2})"_ba;
    client.send(RawHttpClient::request("POST"_ba, "/analyse"_ba, submission, headers) +
                RawHttpClient::request("POST"_ba, "/analyse"_ba, secondBody, headers));
    const auto first = client.readResponse();
    const auto second = client.readResponse();
    QCOMPARE(first.status, 200);
    QCOMPARE(second.status, 200);
    QCOMPARE(first.header("Connection"_ba), "keep-alive"_ba);
    QCOMPARE(first.json().value("receivedBytes"_L1).toInteger(), submission.size());
    QCOMPARE(second.json().value("receivedBytes"_L1).toInteger(), secondBody.size());
    QVERIFY(first.json().value("analysisId"_L1) != second.json().value("analysisId"_L1));

    // A third request on the same connection asks for it to be closed afterwards.
    client.send(RawHttpClient::request("POST"_ba, "/analyse"_ba, secondBody,
                                       headers + QList<QPair<QByteArray, QByteArray>>{{"Connection"_ba, "close"_ba}}));
    const auto third = client.readResponse();
    QCOMPARE(third.status, 200);
    QCOMPARE(third.header("Connection"_ba), "close"_ba);
    QVERIFY(client.waitForClose());

    QCOMPARE(stub.connectionsAccepted(), 1);
    QCOMPARE(stub.requestsReceived(), 3);
    QCOMPARE(stub.answered(), 3);
    QTRY_COMPARE(stub.openConnections(), 0);
}

void TstStubAnalysisServer::setModeAppliesToNewRequestsOnly()
{
    StubAnalysisServer stub(Mode::Slow, 300);
    QVERIFY(stub.listen());
    QCOMPARE(stub.mode(), Mode::Slow);
    QNetworkAccessManager nam;
    std::unique_ptr<QNetworkReply> held(nam.post(analysisRequest(stub.url()), submission));
    QTRY_COMPARE(stub.requestsReceived(), 1);

    // The held Slow request keeps its mode; the next request gets the new one.
    stub.setMode(Mode::Error500);
    QCOMPARE(stub.mode(), Mode::Error500);
    std::unique_ptr<QNetworkReply> next(nam.post(analysisRequest(stub.url()), submission));
    QTRY_VERIFY_WITH_TIMEOUT(held->isFinished() && next->isFinished(), replyTimeoutMs);
    QCOMPARE(httpStatus(held.get()), 200);
    QCOMPARE(httpStatus(next.get()), 500);
    QCOMPARE(stub.requestsReceived(), 2);
    QCOMPARE(stub.answered(), 2);
}

void TstStubAnalysisServer::closingTheClientClosesKeptAliveConnections()
{
    StubAnalysisServer stub(Mode::Fast);
    QVERIFY(stub.listen());
    auto nam = std::make_unique<QNetworkAccessManager>();
    std::unique_ptr<QNetworkReply> reply(nam->post(analysisRequest(stub.url()), submission));
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), replyTimeoutMs);
    QCOMPARE(httpStatus(reply.get()), 200);
    QCOMPARE(stub.openConnections(), 1); // kept alive by the client for the next request

    reply.reset();
    nam.reset();
    QTRY_COMPARE(stub.openConnections(), 0);
}

void TstStubAnalysisServer::modeFromString_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<Mode>("mode");

    QTest::addRow("fast") << u"fast"_s << true << Mode::Fast;
    QTest::addRow("slow") << u"slow"_s << true << Mode::Slow;
    QTest::addRow("never") << u"never"_s << true << Mode::Never;
    QTest::addRow("error500") << u"error500"_s << true << Mode::Error500;
    QTest::addRow("drop") << u"drop"_s << true << Mode::Drop;
    QTest::addRow("invalid") << u"invalid"_s << true << Mode::Invalid;
    QTest::addRow("upper case") << u"NEVER"_s << true << Mode::Never;
    QTest::addRow("unknown") << u"sometimes"_s << false << Mode::Fast;
    QTest::addRow("empty") << QString() << false << Mode::Fast;
}

void TstStubAnalysisServer::modeFromString()
{
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QFETCH(Mode, mode);

    const std::optional<Mode> parsed = StubAnalysisServer::modeFromString(name);
    QCOMPARE(parsed.has_value(), valid);
    if (valid)
        QCOMPARE(*parsed, mode);
}

QTEST_GUILESS_MAIN(TstStubAnalysisServer)
#include "tst_stubanalysisserver.moc"
