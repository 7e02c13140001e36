// The ingest listener's hardening, proved through real HTTP on loopback: strict framing of
// malformed and smuggling requests, early 413/431, pipelining in order, slow and idle clients,
// the connection cap, and that the connection and buffer accounting returns to zero.
#include "rawhttpclient.h"
#include "testserver.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QTest>
#include <QTimer>
#include <QUuid>

#include <memory>
#include <vector>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

// Long enough that no test request (all sent in one write) ever runs into it on a loaded machine,
// short enough that the slow-client tests finish fast.
constexpr int RequestDeadlineMs = 1500;
constexpr int MaxConnections = 20;
constexpr int MaxBodyBytes = 4096;
constexpr int MaxHeaderBytes = 2048;
// Placeholder in table rows for the live device token, which exists only once the server runs.
constexpr char TokenPlaceholder[] = "@TOKEN@";

Headers jsonHeaders(const QByteArray &token)
{
    Headers headers = {{"Content-Type", "application/json"}};
    if (!token.isEmpty())
        headers.append({"Authorization", "Bearer " + token});
    return headers;
}

QString newId()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

/// Parses the first response in @p bytes (as RawHttpClient does); status 0 if there is none.
RawResponse parseResponse(const QByteArray &bytes)
{
    RawResponse response;
    const qsizetype headEnd = bytes.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return response;
    const QList<QByteArray> lines = bytes.left(headEnd).split('\n');
    response.status = lines.value(0).trimmed().split(' ').value(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            response.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    response.body = bytes.mid(headEnd + 4, response.header("Content-Length").toLongLong());
    return response;
}

/// Bytes of the first response in @p bytes, so that a test can tell whether anything followed it.
qsizetype firstResponseLength(const QByteArray &bytes)
{
    const qsizetype headEnd = bytes.indexOf("\r\n\r\n");
    return headEnd < 0 ? -1 : headEnd + 4 + parseResponse(bytes).header("Content-Length").toLongLong();
}

/// Reads until the server closes the connection; returns what arrived, or sets @p closed false on timeout.
QByteArray readUntilClosed(QTcpSocket &socket, bool *closed, int timeoutMs = 5000)
{
    QByteArray bytes;
    QDeadlineTimer deadline(timeoutMs);
    while (socket.state() != QAbstractSocket::UnconnectedState && !deadline.hasExpired()) {
        socket.waitForReadyRead(50);
        bytes += socket.readAll();
    }
    bytes += socket.readAll();
    *closed = socket.state() == QAbstractSocket::UnconnectedState;
    return bytes;
}

QByteArray statsRequest()
{
    return RawHttpClient::request("GET", "/api/v1/stats", {}, {{"Connection", "close"}});
}

/// The "ingest" object of /api/v1/stats, asked over a fresh loopback connection.
QJsonObject ingestStats(quint16 port)
{
    RawHttpClient client;
    if (!client.connectTo(port))
        return {};
    client.send(statsRequest());
    return client.readResponse().json().value("ingest"_L1).toObject();
}

/// Open connections other than the one asking.
qint64 otherConnections(quint16 port)
{
    return ingestStats(port).value("openConnections"_L1).toInteger(-2) - 1;
}

/// Buffered request bytes other than those of the stats request itself, which is still accounted
/// for while it is being answered.
qint64 otherBufferedBytes(quint16 port)
{
    return ingestStats(port).value("bufferedBytes"_L1).toInteger(-1) - statsRequest().size();
}

} // namespace

class TstHardening : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();
    void malformedRequestIsRejectedAndClosed_data();
    void malformedRequestIsRejectedAndClosed();
    void oversizedBodyIsRefusedFromTheHead_data();
    void oversizedBodyIsRefusedFromTheHead();
    void pipelinedRequestsAreAnsweredInOrder();
    void slowlorisIsCutByTheRequestDeadline();
    void halfSentBodyTimesOutAndStoresNothing();
    void idleConnectionIsClosed();
    void connectionCapRefusesAndRecovers();
    void expectContinueGetsInterimThenFinal();
    void closingRequestsAreAnsweredThenClosed_data();
    void closingRequestsAreAnsweredThenClosed();
    void headResponseCarriesNoBody();
    void upgradeRequestIsAnsweredLikeAnyOther();

private:
    quint16 port() const { return m_server->port(); }
    std::unique_ptr<TestServer> m_server;
};

void TstHardening::initTestCase()
{
    m_server = std::make_unique<TestServer>(QHash<QString, QString>{
        // Idle closing has its own test and server; here it must never cut a test's connection.
        {u"ingest/idleTimeoutMs"_s, u"30000"_s},
        {u"ingest/requestDeadlineMs"_s, QString::number(RequestDeadlineMs)},
        {u"ingest/maxConnections"_s, QString::number(MaxConnections)},
        {u"ingest/maxBodyBytes"_s, QString::number(MaxBodyBytes)},
        {u"ingest/maxHeaderBytes"_s, QString::number(MaxHeaderBytes)},
    });
    QVERIFY2(m_server->isRunning(), qPrintable(m_server->errorMessage()));
}

void TstHardening::cleanup()
{
    // Whatever a test did, once its clients are gone the server holds no other connection and no
    // buffered bytes.
    QTRY_COMPARE_WITH_TIMEOUT(otherConnections(port()), 0, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(otherBufferedBytes(port()), 0, 10000);
}

void TstHardening::cleanupTestCase()
{
    m_server.reset();
}

void TstHardening::malformedRequestIsRejectedAndClosed_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");

    // A request that a lax parser would take as a second one after the smuggling carrier; it
    // must never be stored.
    const QByteArray smuggled = RawHttpClient::request(
        "POST", "/api/v1/submissions", TestServer::submissionBody(u"5a1e5a1e-0000-4000-8000-000000000001"_s),
        jsonHeaders(TokenPlaceholder));
    const QByteArray post = "POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    const QByteArray get = "GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n";

    QTest::addRow("CL then TE (CL.TE smuggling)")
        << post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled << 400
        << u"conflicting_framing"_s;
    QTest::addRow("TE then CL (TE.CL smuggling)")
        << post + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n" + smuggled + "\r\n0\r\n\r\n"
        << 400 << u"conflicting_framing"_s;
    QTest::addRow("two Content-Lengths") << post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello" + smuggled
                                         << 400 << u"duplicate_content_length"_s;
    QTest::addRow("two different Content-Lengths")
        << post + "Content-Length: 0\r\nContent-Length: " + QByteArray::number(smuggled.size()) + "\r\n\r\n" + smuggled
        << 400 << u"duplicate_content_length"_s;
    QTest::addRow("Content-Length list") << post + "Content-Length: 5, 5\r\n\r\nhello" << 400
                                         << u"invalid_content_length"_s;
    QTest::addRow("Content-Length +5") << post + "Content-Length: +5\r\n\r\nhello" << 400
                                       << u"invalid_content_length"_s;
    QTest::addRow("Content-Length -1") << post + "Content-Length: -1\r\n\r\n" << 400 << u"invalid_content_length"_s;
    QTest::addRow("Content-Length hex") << post + "Content-Length: 0x5\r\n\r\nhello" << 400
                                        << u"invalid_content_length"_s;
    QTest::addRow("Content-Length 19 digits")
        << post + "Content-Length: 0000000000000000005\r\n\r\nhello" << 400 << u"invalid_content_length"_s;
    QTest::addRow("Transfer-Encoding alone") << post + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                                             << 411 << u"length_required"_s;
    QTest::addRow("transfer-encoding lower case") << post + "transfer-encoding: chunked\r\n\r\n0\r\n\r\n"
                                                  << 411 << u"length_required"_s;
    QTest::addRow("POST without Content-Length") << post + "\r\n" << 411 << u"length_required"_s;
    QTest::addRow("bare LF") << QByteArray("GET /api/v1/health HTTP/1.1\nHost: 127.0.0.1\n\n") << 400
                             << u"bare_line_feed"_s;
    QTest::addRow("bare LF in one header") << get + "X-A: 1\n\r\n" << 400 << u"bare_line_feed"_s;
    QTest::addRow("bare CR") << get + "X-A: 1\rX-B: 2\r\n\r\n" << 400 << u"bare_carriage_return"_s;
    QTest::addRow("double space in request line")
        << QByteArray("GET  /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") << 400 << u"malformed_request_line"_s;
    QTest::addRow("request line without version")
        << QByteArray("GET /api/v1/health\r\nHost: 127.0.0.1\r\n\r\n") << 400 << u"malformed_request_line"_s;
    QTest::addRow("lower-case version") << QByteArray("GET /api/v1/health http/1.1\r\nHost: 127.0.0.1\r\n\r\n") << 400
                                        << u"malformed_request_line"_s;
    QTest::addRow("absolute-form target")
        << QByteArray("GET http://127.0.0.1/api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") << 400
        << u"invalid_request_target"_s;
    QTest::addRow("HTTP/2.0") << QByteArray("GET /api/v1/health HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n") << 505
                              << u"unsupported_http_version"_s;
    QTest::addRow("HTTP/0.9") << QByteArray("GET /api/v1/health HTTP/0.9\r\nHost: 127.0.0.1\r\n\r\n") << 505
                              << u"unsupported_http_version"_s;
    QTest::addRow("unknown method FOO") << QByteArray("FOO /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") << 501
                                        << u"method_not_implemented"_s;
    QTest::addRow("method not a token") << QByteArray("GE(T /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") << 400
                                        << u"invalid_method"_s;
    QTest::addRow("obs-fold") << get + "X-A: 1\r\n  continued\r\n\r\n" << 400 << u"obsolete_line_folding"_s;
    QTest::addRow("missing Host") << QByteArray("GET /api/v1/health HTTP/1.1\r\n\r\n") << 400 << u"missing_host"_s;
    QTest::addRow("two Hosts") << get + "Host: example.org\r\n\r\n" << 400 << u"duplicate_host"_s;
    QTest::addRow("Host with slash") << QByteArray("GET /api/v1/health HTTP/1.1\r\nHost: a/b\r\n\r\n") << 400
                                     << u"invalid_host"_s;
    QTest::addRow("space before colon") << get + "X-A : 1\r\n\r\n" << 400 << u"invalid_header"_s;
    QTest::addRow("NUL in header value") << get + QByteArray("X-A: a\0b\r\n\r\n", 11) << 400 << u"invalid_header"_s;
    QTest::addRow("two leading empty lines") << "\r\n\r\n" + get + "\r\n" << 400 << u"malformed_request_line"_s;
    // The head never ends: 431 must come as soon as the limit is passed, not when the head ends.
    QTest::addRow("oversized header") << get + "X-Pad: " + QByteArray(MaxHeaderBytes + 100, 'a') << 431
                                      << u"headers_too_large"_s;
    QTest::addRow("oversized request line")
        << "GET /" + QByteArray(MaxHeaderBytes + 100, 'a') << 431 << u"headers_too_large"_s;
}

void TstHardening::malformedRequestIsRejectedAndClosed()
{
    QFETCH(QByteArray, raw);
    QFETCH(int, status);
    QFETCH(QString, code);
    raw.replace(TokenPlaceholder, m_server->deviceToken());
    const qint64 rowsBefore = m_server->countRows(u"submissions"_s);

    RawHttpClient client;
    QVERIFY(client.connectTo(port()));
    client.send(raw);
    bool closed = false;
    const QByteArray received = readUntilClosed(client.socket(), &closed);
    QVERIFY2(closed, "the server kept a connection open after a framing error");
    const RawResponse response = parseResponse(received);
    QCOMPARE(response.status, status);
    QCOMPARE(response.errorCode(), code);
    QVERIFY(!response.json().value("error"_L1).toObject().value("message"_L1).toString().isEmpty());
    QCOMPARE(response.header("Connection"), QByteArray("close"));
    // Exactly one response: nothing after the bad request (e.g. a smuggled one) was answered.
    QCOMPARE(received.size(), firstResponseLength(received));
    QCOMPARE(m_server->countRows(u"submissions"_s), rowsBefore);
}

void TstHardening::oversizedBodyIsRefusedFromTheHead_data()
{
    QTest::addColumn<bool>("expectContinue");
    QTest::addRow("plain") << false;
    // The body is refused before the client is invited to send it: no 100 Continue.
    QTest::addRow("Expect: 100-continue") << true;
}

void TstHardening::oversizedBodyIsRefusedFromTheHead()
{
    QFETCH(bool, expectContinue);
    RawHttpClient client;
    QVERIFY(client.connectTo(port()));
    QByteArray head = "POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      "Authorization: Bearer " +
                      m_server->deviceToken() + "\r\nContent-Length: " + QByteArray::number(MaxBodyBytes + 1) + "\r\n";
    if (expectContinue)
        head += "Expect: 100-continue\r\n";
    client.send(head + "\r\n");
    // Only the head was sent; the answer must come without the body and well before the deadline.
    QElapsedTimer elapsed;
    elapsed.start();
    bool closed = false;
    const QByteArray received = readUntilClosed(client.socket(), &closed);
    QVERIFY(closed);
    QVERIFY2(elapsed.elapsed() < RequestDeadlineMs, "413 came only with the request deadline");
    QVERIFY2(received.startsWith("HTTP/1.1 413 "), received.constData());
    const RawResponse response = parseResponse(received);
    QCOMPARE(response.errorCode(), u"body_too_large"_s);
    QCOMPARE(received.size(), firstResponseLength(received));
}

void TstHardening::pipelinedRequestsAreAnsweredInOrder()
{
    const QByteArray token = m_server->deviceToken();
    struct Answer
    {
        int status;
        QString submissionId;
    };
    const QString a = newId();
    const QString b = newId();
    const QString c = newId();
    const QString d = newId();
    const QString e = newId();
    QByteArray wire;
    QList<Answer> expected;
    const auto add = [&](const QByteArray &request, int status, const QString &id = {}) {
        wire += request;
        expected.append({status, id});
    };
    const auto submit = [](const QString &id, const QByteArray &auth) {
        return RawHttpClient::request("POST", "/api/v1/submissions", TestServer::submissionBody(id), jsonHeaders(auth));
    };
    // Asynchronous answers (store commits, health probes) mixed with immediate ones (404, 401):
    // an immediate answer must still wait for the earlier asynchronous one.
    add(submit(a, token), 202, a);
    add(RawHttpClient::request("GET", "/api/v1/health"), 200);
    add(RawHttpClient::request("GET", "/nope"), 404);
    add(submit(b, {}), 401);
    add(submit(c, token), 202, c);
    add(RawHttpClient::request("GET", "/api/v1/nothing/here"), 404);
    add(submit(d, "srt_1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 401);
    add(RawHttpClient::request("GET", "/api/v1/health"), 200);
    add(submit(e, token), 202, e);
    add(submit(a, token), 200, a); // the resend of the first, in the same pipeline: a duplicate
    QCOMPARE(expected.size(), 10);

    RawHttpClient client;
    QVERIFY(client.connectTo(port()));
    client.send(wire); // one write: all ten are on the wire before any answer
    for (qsizetype i = 0; i < expected.size(); ++i) {
        const RawResponse response = client.readResponse(10000);
        QVERIFY2(
            response.status == expected[i].status,
            qPrintable(u"response %1: status %2, expected %3"_s.arg(i).arg(response.status).arg(expected[i].status)));
        if (!expected[i].submissionId.isEmpty())
            QCOMPARE(response.json().value("submissionId"_L1).toString(), expected[i].submissionId);
        else if (response.status == 200)
            QCOMPARE(response.json().value("status"_L1).toString(), u"ok"_s);
        else
            QVERIFY(!response.errorCode().isEmpty());
    }
    // The connection stays usable afterwards.
    client.send(RawHttpClient::request("GET", "/api/v1/health"));
    QCOMPARE(client.readResponse().status, 200);

    for (const QString &id : {a, c, e})
        QCOMPARE(m_server->countRows(u"submissions"_s, u"submission_id = '%1'"_s.arg(id)), 1);
    for (const QString &id : {b, d})
        QCOMPARE(m_server->countRows(u"submissions"_s, u"submission_id = '%1'"_s.arg(id)), 0);
}

void TstHardening::slowlorisIsCutByTheRequestDeadline()
{
    // A head far longer than the deadline lets through at one byte per 100 ms.
    const QByteArray head =
        RawHttpClient::request("GET", "/api/v1/health", {}, {{"X-Pad", QByteArray(200, 'a')}}).chopped(2);
    QTcpSocket slow;
    slow.connectToHost(QHostAddress::LocalHost, port());
    QVERIFY(slow.waitForConnected(5000));
    QByteArray received;
    connect(&slow, &QTcpSocket::readyRead, this, [&] { received += slow.readAll(); });
    qsizetype sent = 0;
    QTimer drip;
    drip.setInterval(100);
    connect(&drip, &QTimer::timeout, this, [&] {
        if (slow.state() == QAbstractSocket::ConnectedState && sent < head.size())
            slow.write(head.mid(sent++, 1));
    });
    QElapsedTimer elapsed;
    elapsed.start();
    drip.start();

    // Meanwhile other clients are served normally.
    QTRY_VERIFY(sent >= 3); // the slow request is under way
    const RawResponse health = RawHttpClient::exchange(port(), "GET", "/api/v1/health");
    QCOMPARE(health.status, 200);
    const QString id = newId();
    const RawResponse submitted = RawHttpClient::exchange(
        port(), "POST", "/api/v1/submissions", TestServer::submissionBody(id), jsonHeaders(m_server->deviceToken()));
    QCOMPARE(submitted.status, 202);

    QTRY_VERIFY_WITH_TIMEOUT(slow.state() == QAbstractSocket::UnconnectedState, 10000);
    drip.stop();
    const qint64 closedAfterMs = elapsed.elapsed();
    received += slow.readAll();
    const RawResponse response = parseResponse(received);
    QCOMPARE(response.status, 408);
    QCOMPARE(response.errorCode(), u"request_timeout"_s);
    // The deadline, not the (30 s) idle timeout, cut it; and it did so long before the head was complete.
    QVERIFY2(response.json().value("error"_L1).toObject().value("message"_L1).toString().contains("within"_L1),
             response.body.constData());
    QVERIFY2(closedAfterMs >= RequestDeadlineMs * 9 / 10, qPrintable(QString::number(closedAfterMs)));
    QVERIFY(sent < head.size());
}

void TstHardening::halfSentBodyTimesOutAndStoresNothing()
{
    const QString id = newId();
    // A valid submission padded with JSON whitespace to 4000 bytes, of which only half is sent.
    QByteArray body = TestServer::submissionBody(id);
    body += QByteArray(4000 - body.size(), ' ');
    const QByteArray request =
        RawHttpClient::request("POST", "/api/v1/submissions", body, jsonHeaders(m_server->deviceToken()));
    RawHttpClient client;
    QVERIFY(client.connectTo(port()));
    QElapsedTimer elapsed;
    elapsed.start();
    client.send(request.left(request.size() - 2000));

    // While it waits, the held bytes show in the server-wide accounting.
    QTRY_VERIFY_WITH_TIMEOUT(otherBufferedBytes(port()) >= 2000, RequestDeadlineMs);

    bool closed = false;
    const QByteArray received = readUntilClosed(client.socket(), &closed, 10000);
    QVERIFY(closed);
    QVERIFY2(elapsed.elapsed() >= RequestDeadlineMs * 9 / 10, qPrintable(QString::number(elapsed.elapsed())));
    const RawResponse response = parseResponse(received);
    QCOMPARE(response.status, 408);
    QCOMPARE(response.errorCode(), u"request_timeout"_s);
    QCOMPARE(m_server->countRows(u"submissions"_s, u"submission_id = '%1'"_s.arg(id)), 0);
}

void TstHardening::idleConnectionIsClosed()
{
    constexpr int IdleMs = 300;
    TestServer server({{u"ingest/idleTimeoutMs"_s, QString::number(IdleMs)}});
    QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));

    // Silent from the start: closed without a response.
    {
        RawHttpClient client;
        QElapsedTimer elapsed;
        elapsed.start();
        QVERIFY(client.connectTo(server.port()));
        bool closed = false;
        const QByteArray received = readUntilClosed(client.socket(), &closed);
        QVERIFY(closed);
        QCOMPARE(received, QByteArray());
        QVERIFY2(elapsed.elapsed() >= IdleMs * 9 / 10, qPrintable(QString::number(elapsed.elapsed())));
    }
    // Silent after an answered request on a keep-alive connection: closed likewise.
    {
        RawHttpClient client;
        QVERIFY(client.connectTo(server.port()));
        client.send(RawHttpClient::request("GET", "/api/v1/health"));
        const RawResponse response = client.readResponse();
        QCOMPARE(response.status, 200);
        QCOMPARE(response.header("Connection"), QByteArray());
        QElapsedTimer elapsed;
        elapsed.start();
        bool closed = false;
        const QByteArray received = readUntilClosed(client.socket(), &closed);
        QVERIFY(closed);
        QCOMPARE(received, QByteArray());
        QVERIFY2(elapsed.elapsed() >= IdleMs * 8 / 10, qPrintable(QString::number(elapsed.elapsed())));
    }
    QTRY_COMPARE_WITH_TIMEOUT(otherConnections(server.port()), 0, 10000);
}

void TstHardening::connectionCapRefusesAndRecovers()
{
    // Every connection proves it is counted by being answered, and stays open (keep-alive).
    std::vector<std::unique_ptr<RawHttpClient>> held;
    const auto openServed = [&](int count) {
        for (int i = 0; i < count; ++i) {
            auto client = std::make_unique<RawHttpClient>();
            if (!client->connectTo(port()))
                return false;
            client->send(RawHttpClient::request("GET", "/api/v1/health"));
            if (client->readResponse().status != 200)
                return false;
            held.push_back(std::move(client));
        }
        return true;
    };
    QVERIFY(openServed(MaxConnections));

    RawHttpClient refused;
    QVERIFY(refused.connectTo(port()));
    bool closed = false;
    const QByteArray received = readUntilClosed(refused.socket(), &closed);
    QVERIFY2(closed, "a connection over the cap was left open");
    const RawResponse response = parseResponse(received);
    QCOMPARE(response.status, 503);
    QCOMPARE(response.errorCode(), u"too_many_connections"_s);
    QVERIFY(response.header("Retry-After").toInt() > 0);

    // The held ones are unaffected.
    held.front()->send(RawHttpClient::request("GET", "/api/v1/health"));
    QCOMPARE(held.front()->readResponse().status, 200);

    constexpr int Released = 5;
    for (int i = 0; i < Released; ++i) {
        held.back()->abort();
        held.pop_back();
    }
    // Once the server has noticed, the freed slots serve again (the stats connection is one of them).
    QTRY_COMPARE_WITH_TIMEOUT(otherConnections(port()), MaxConnections - Released, 10000);
    // One slot is left for the stats connection that may not yet be gone.
    QVERIFY(openServed(Released - 1));
    QCOMPARE(int(held.size()), MaxConnections - 1);
}

void TstHardening::expectContinueGetsInterimThenFinal()
{
    const QString id = newId();
    const QByteArray body = TestServer::submissionBody(id);
    Headers headers = jsonHeaders(m_server->deviceToken());
    headers.append(qMakePair("Expect"_ba, "100-continue"_ba));
    const QByteArray request = RawHttpClient::request("POST", "/api/v1/submissions", body, headers);
    const QByteArray head = request.chopped(body.size());

    RawHttpClient client;
    QVERIFY(client.connectTo(port()));
    client.send(head);
    QByteArray interim;
    QDeadlineTimer deadline(5000);
    while (!interim.contains("\r\n\r\n") && !deadline.hasExpired()) {
        client.socket().waitForReadyRead(50);
        interim += client.socket().readAll();
    }
    QCOMPARE(interim, QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
    QCOMPARE(m_server->countRows(u"submissions"_s, u"submission_id = '%1'"_s.arg(id)), 0);

    client.send(body);
    const RawResponse response = client.readResponse();
    QCOMPARE(response.status, 202);
    QCOMPARE(response.json().value("submissionId"_L1).toString(), id);
    QCOMPARE(m_server->countRows(u"submissions"_s, u"submission_id = '%1'"_s.arg(id)), 1);

    // A body sent at once with the Expect header gets no interim response: only the final one.
    const QString second = newId();
    client.send(RawHttpClient::request("POST", "/api/v1/submissions", TestServer::submissionBody(second), headers));
    const RawResponse direct = client.readResponse();
    QCOMPARE(direct.status, 202);
    QCOMPARE(direct.json().value("submissionId"_L1).toString(), second);
}

void TstHardening::closingRequestsAreAnsweredThenClosed_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<int>("status");
    QTest::addColumn<bool>("closes");

    const QByteArray trailer = "GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    QTest::addRow("Connection: close") << QByteArray("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                     "Connection: close\r\n\r\n") +
                                              trailer
                                       << 200 << true;
    QTest::addRow("Connection: keep-alive, close")
        << QByteArray("GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive, close\r\n\r\n") + trailer << 404
        << true;
    QTest::addRow("HTTP/1.0") << QByteArray("GET /api/v1/health HTTP/1.0\r\n\r\n") + trailer << 200 << true;
    QTest::addRow("HTTP/1.0 keep-alive") << QByteArray("GET /api/v1/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                                         << 200 << false;
    QTest::addRow("HTTP/1.1 default") << QByteArray("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") << 200
                                      << false;
}

void TstHardening::closingRequestsAreAnsweredThenClosed()
{
    QFETCH(QByteArray, raw);
    QFETCH(int, status);
    QFETCH(bool, closes);
    RawHttpClient client;
    QVERIFY(client.connectTo(port()));
    // A closing request followed by another: the second is never answered.
    client.send(raw);
    const RawResponse response = client.readResponse();
    QCOMPARE(response.status, status);
    if (closes) {
        QCOMPARE(response.header("Connection"), QByteArray("close"));
        bool closed = false;
        const QByteArray rest = readUntilClosed(client.socket(), &closed);
        QVERIFY(closed);
        QCOMPARE(rest, QByteArray());
    } else {
        client.send(RawHttpClient::request("GET", "/api/v1/health"));
        QCOMPARE(client.readResponse().status, 200);
        QCOMPARE(client.socket().state(), QAbstractSocket::ConnectedState);
    }
}

void TstHardening::headResponseCarriesNoBody()
{
    // RFC 9110 §9.3.2: a response to HEAD has no content. A keep-alive client reads the next
    // response right after its head; a body there would be taken for the next response.
    RawHttpClient client;
    QVERIFY(client.connectTo(port()));
    client.send("HEAD /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + RawHttpClient::request("GET", "/nope"));
    QByteArray received;
    QDeadlineTimer deadline(5000);
    while (received.count("HTTP/1.1 ") < 2 && !deadline.hasExpired()) {
        client.socket().waitForReadyRead(50);
        received += client.socket().readAll();
    }
    const qsizetype headEnd = received.indexOf("\r\n\r\n");
    QVERIFY2(headEnd > 0, received.constData());
    QVERIFY2(received.startsWith("HTTP/1.1 405 ") || received.startsWith("HTTP/1.1 200 "), received.constData());
    QVERIFY2(received.mid(headEnd + 4).startsWith("HTTP/1.1 404 "), received.constData());
}

void TstHardening::upgradeRequestIsAnsweredLikeAnyOther()
{
    // The server speaks no other protocol, so an Upgrade offer must not change how the request is
    // answered (RFC 9110 §7.8 lets a server ignore it): one answer per request, in order.
    const QString id = newId();
    Headers headers = jsonHeaders(m_server->deviceToken());
    headers.append(qMakePair("Connection"_ba, "Upgrade"_ba));
    headers.append(qMakePair("Upgrade"_ba, "websocket"_ba));
    RawHttpClient client;
    QVERIFY(client.connectTo(port()));
    client.send(RawHttpClient::request("POST", "/api/v1/submissions", TestServer::submissionBody(id), headers) +
                RawHttpClient::request("GET", "/nope"));
    const RawResponse first = client.readResponse(5000);
    QCOMPARE(first.status, 202);
    QCOMPARE(first.json().value("submissionId"_L1).toString(), id);
    QCOMPARE(client.readResponse(5000).status, 404);
    QCOMPARE(m_server->countRows(u"submissions"_s, u"submission_id = '%1'"_s.arg(id)), 1);
}

QTEST_GUILESS_MAIN(TstHardening)
#include "tst_hardening.moc"
