#include "httprequestframer.h"

#include <QTest>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

// Found by argument-dependent lookup, so QCOMPARE prints result names instead of "<unknown>".
char *toString(HttpRequestFramer::Result result)
{
    switch (result) {
    case HttpRequestFramer::Result::NeedMore:
        return qstrdup("NeedMore");
    case HttpRequestFramer::Result::Ready:
        return qstrdup("Ready");
    case HttpRequestFramer::Result::Failed:
        return qstrdup("Failed");
    }
    return qstrdup("?");
}

} // namespace SiteRelay

using SiteRelay::FramedRequest;
using SiteRelay::HttpRequestFramer;
using Result = HttpRequestFramer::Result;

namespace {

const HttpRequestFramer::Limits defaultLimits;

// A table row that succeeds must be the whole input: the framer strips only the one tolerated leading CRLF.
QByteArray expectedRaw(const QByteArray &input)
{
    return input.startsWith("\r\n") ? input.mid(2) : input;
}

void compareRequests(const FramedRequest &actual, const FramedRequest &expected)
{
    QCOMPARE(actual.raw, expected.raw);
    QCOMPARE(actual.method, expected.method);
    QCOMPARE(actual.target, expected.target);
    QCOMPARE(actual.httpMinorVersion, expected.httpMinorVersion);
    QCOMPARE(actual.contentLength, expected.contentLength);
    QCOMPARE(actual.keepAlive, expected.keepAlive);
}

QByteArray postRequest(const QByteArray &body)
{
    return "POST /api/v1/submissions HTTP/1.1\r\nHost: relay\r\nContent-Length: "_ba + QByteArray::number(body.size()) +
           "\r\n\r\n"_ba + body;
}

} // namespace

class TstHttpRequestFramer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void framing_data();
    void framing();
    void framingByteByByte_data();
    void framingByteByByte();
    void pipelinedRequestsInOneAppend();
    void pipelinedStreamInUnevenChunks();
    void bodyTooLargeReportedAfterHeadOnly();
    void headersTooLargeReportedWhileHeadIncomplete();
    void headLimitBoundary();
    void continueFlow();
    void noContinueWhenNotWanted();
    void largeBodyInSmallAppends();
    void bufferedBytesAccounting();
    void failedIsFinal();
    void takeRequestWithoutReadyIsEmpty();
};

void TstHttpRequestFramer::framing_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<Result>("result");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("code");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<int>("minorVersion");
    QTest::addColumn<qint64>("contentLength");
    QTest::addColumn<bool>("keepAlive");

    const auto ok = [](const char *name, const QByteArray &input, const QByteArray &method, const QByteArray &target,
                       int minor, qint64 contentLength, bool keepAlive) {
        QTest::addRow("%s", name) << input << Result::Ready << 0 << QByteArray() << method << target << minor
                                  << contentLength << keepAlive;
    };
    const auto needMore = [](const char *name, const QByteArray &input) {
        QTest::addRow("%s", name) << input << Result::NeedMore << 0 << QByteArray() << QByteArray() << QByteArray() << 0
                                  << qint64(0) << false;
    };
    const auto bad = [](const char *name, const QByteArray &input, int status, const QByteArray &code) {
        QTest::addRow("%s", name) << input << Result::Failed << status << code << QByteArray() << QByteArray() << 0
                                  << qint64(0) << false;
    };
    const QByteArray host = "Host: relay\r\n"_ba;
    const QByteArray longValue(17 * 1024, 'a');

    // Valid requests.
    ok("simple GET", "GET / HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, "GET"_ba, "/"_ba, 1, 0, true);
    ok("POST with body", postRequest("hello"_ba), "POST"_ba, "/api/v1/submissions"_ba, 1, 5, true);
    ok("query target", "GET /api/v1/submissions?x=1&y=%20z HTTP/1.1\r\nHost: relay:8443\r\n\r\n"_ba, "GET"_ba,
       "/api/v1/submissions?x=1&y=%20z"_ba, 1, 0, true);
    ok("HTTP/1.0 without Host", "GET /status HTTP/1.0\r\n\r\n"_ba, "GET"_ba, "/status"_ba, 0, 0, false);
    ok("HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"_ba, "GET"_ba, "/"_ba, 0, 0, true);
    ok("HTTP/1.1 Connection close", "GET / HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n"_ba, "GET"_ba, "/"_ba,
       1, 0, false);
    ok("Connection token list", "GET / HTTP/1.1\r\nHost: relay\r\nConnection: Upgrade ,\tCLOSE\r\n\r\n"_ba, "GET"_ba,
       "/"_ba, 1, 0, false);
    ok("one leading empty line", "\r\nGET / HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, "GET"_ba, "/"_ba, 1, 0, true);
    ok("OPTIONS asterisk", "OPTIONS * HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, "OPTIONS"_ba, "*"_ba, 1, 0, true);
    ok("case-insensitive names", "PUT /x HTTP/1.1\r\nhOsT: relay\r\ncontent-LENGTH: 3\r\n\r\nabc"_ba, "PUT"_ba, "/x"_ba,
       1, 3, true);
    ok("OWS around value", "POST /x HTTP/1.1\r\nHost:relay\r\nContent-Length:\t 4 \t\r\n\r\nabcd"_ba, "POST"_ba,
       "/x"_ba, 1, 4, true);
    ok("empty POST body", "POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length: 0\r\n\r\n"_ba, "POST"_ba, "/x"_ba, 1, 0,
       true);
    ok("tab and obs-text in value", "GET / HTTP/1.1\r\nHost: relay\r\nX-Note: a\tb \xc3\xa9\r\n\r\n"_ba, "GET"_ba,
       "/"_ba, 1, 0, true);
    ok("GET with body", "GET /q HTTP/1.1\r\nHost: relay\r\nContent-Length: 2\r\n\r\nhi"_ba, "GET"_ba, "/q"_ba, 1, 2,
       true);
    ok("leading zeros in Content-Length", "POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length: 002\r\n\r\nhi"_ba,
       "POST"_ba, "/x"_ba, 1, 2, true);
    ok("custom token method", "M-SEARCH /x HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, "M-SEARCH"_ba, "/x"_ba, 1, 0, true);
    ok("Expect with complete body",
       "POST /x HTTP/1.1\r\nHost: relay\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"_ba, "POST"_ba, "/x"_ba,
       1, 1, true);
    ok("empty header value", "GET / HTTP/1.1\r\nHost: relay\r\nX-Empty:\r\n\r\n"_ba, "GET"_ba, "/"_ba, 1, 0, true);

    // Incomplete requests.
    needMore("empty input", QByteArray());
    needMore("partial request line", "GET / HT"_ba);
    needMore("head without final CRLF", "GET / HTTP/1.1\r\nHost: relay\r\n"_ba);
    needMore("dangling CR", "GET / HTTP/1.1\r"_ba);
    needMore("partial body", postRequest("hello"_ba).chopped(2));

    // Request line.
    bad("double spaces", "GET  /  HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, 400, "malformed_request_line"_ba);
    bad("trailing space", "GET / HTTP/1.1 \r\nHost: relay\r\n\r\n"_ba, 400, "malformed_request_line"_ba);
    bad("leading space", " GET / HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, 400, "malformed_request_line"_ba);
    bad("HTTP/0.9 style", "GET /\r\n\r\n"_ba, 400, "malformed_request_line"_ba);
    bad("two leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, 400,
        "malformed_request_line"_ba);
    bad("tab separator", "GET\t/ HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, 400, "malformed_request_line"_ba);
    bad("method not a token", "G(T / HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, 400, "invalid_method"_ba);
    bad("absolute-form target", "GET http://relay/ HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, 400,
        "invalid_request_target"_ba);
    bad("asterisk without OPTIONS", "GET * HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, 400, "invalid_request_target"_ba);
    bad("DEL in target", "GET /a\x7f HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, 400, "invalid_request_target"_ba);
    bad("non-ASCII target", "GET /\xc3\xa9 HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, 400, "invalid_request_target"_ba);
    bad("HTTP/2.0", "GET / HTTP/2.0\r\nHost: relay\r\n\r\n"_ba, 505, "unsupported_http_version"_ba);
    bad("HTTP/1.2", "GET / HTTP/1.2\r\nHost: relay\r\n\r\n"_ba, 505, "unsupported_http_version"_ba);
    bad("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"_ba, 505, "unsupported_http_version"_ba);
    bad("lower-case version", "GET / http/1.1\r\nHost: relay\r\n\r\n"_ba, 400, "malformed_request_line"_ba);
    bad("version garbage", "GET / HTTP/1.1x\r\nHost: relay\r\n\r\n"_ba, 400, "malformed_request_line"_ba);

    // Line endings and folding.
    bad("LF-only line endings", "GET / HTTP/1.1\nHost: relay\n\n"_ba, 400, "bare_line_feed"_ba);
    bad("one header ends in LF", "GET / HTTP/1.1\r\nHost: relay\nX-A: b\r\n\r\n"_ba, 400, "bare_line_feed"_ba);
    bad("head ends in LF LF", "GET / HTTP/1.1\r\nHost: relay\r\n\n"_ba, 400, "bare_line_feed"_ba);
    bad("bare CR in value", "GET / HTTP/1.1\r\nHost: relay\r\nX-A: b\rc\r\n\r\n"_ba, 400, "bare_carriage_return"_ba);
    bad("CR-only line endings", "GET / HTTP/1.1\rHost: relay\r\r"_ba, 400, "bare_carriage_return"_ba);
    bad("obs-fold", "GET / HTTP/1.1\r\nHost: relay\r\nX-A: b\r\n\tc\r\n\r\n"_ba, 400, "obsolete_line_folding"_ba);
    bad("leading space before Content-Length", "POST /x HTTP/1.1\r\nHost: relay\r\n Content-Length: 5\r\n\r\nhello"_ba,
        400, "obsolete_line_folding"_ba);

    // Header fields.
    bad("space before colon", "POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length : 5\r\n\r\nhello"_ba, 400,
        "invalid_header"_ba);
    bad("no colon", "GET / HTTP/1.1\r\nHost: relay\r\nX-A b\r\n\r\n"_ba, 400, "invalid_header"_ba);
    bad("empty name", "GET / HTTP/1.1\r\nHost: relay\r\n: b\r\n\r\n"_ba, 400, "invalid_header"_ba);
    bad("name not a token", "GET / HTTP/1.1\r\nHost: relay\r\nX(A): b\r\n\r\n"_ba, 400, "invalid_header"_ba);
    bad("NUL in value", "GET / HTTP/1.1\r\nHost: relay\r\nX-A: b\0c\r\n\r\n"_ba, 400, "invalid_header"_ba);
    bad("DEL in value", "GET / HTTP/1.1\r\nHost: relay\r\nX-A: b\x7f\r\n\r\n"_ba, 400, "invalid_header"_ba);
    bad("control char in value", "GET / HTTP/1.1\r\nHost: relay\r\nX-A: b\x01\r\n\r\n"_ba, 400, "invalid_header"_ba);

    // Host.
    bad("missing Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"_ba, 400, "missing_host"_ba);
    bad("duplicate Host", "GET / HTTP/1.1\r\nHost: relay\r\nhost: relay\r\n\r\n"_ba, 400, "duplicate_host"_ba);
    bad("duplicate Host in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"_ba, 400, "duplicate_host"_ba);
    bad("Host with space", "GET / HTTP/1.1\r\nHost: re lay\r\n\r\n"_ba, 400, "invalid_host"_ba);
    bad("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n"_ba, 400, "invalid_host"_ba);

    // Body framing.
    bad("CL then TE",
        "POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello"_ba, 400,
        "conflicting_framing"_ba);
    bad("TE then CL", "POST /x HTTP/1.1\r\nHost: relay\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"_ba,
        400, "conflicting_framing"_ba);
    bad("TE alone", "POST /x HTTP/1.1\r\nHost: relay\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"_ba,
        411, "length_required"_ba);
    bad("POST without Content-Length", "POST /x HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, 411, "length_required"_ba);
    bad("PUT without Content-Length", "PUT /x HTTP/1.1\r\nHost: relay\r\n\r\n"_ba, 411, "length_required"_ba);
    bad("PATCH without Content-Length", "PATCH /x HTTP/1.0\r\n\r\n"_ba, 411, "length_required"_ba);
    bad("two equal Content-Lengths",
        "POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"_ba, 400,
        "duplicate_content_length"_ba);
    bad("two different Content-Lengths",
        "POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length: 5\r\ncontent-length: 0\r\n\r\nhello"_ba, 400,
        "duplicate_content_length"_ba);
    const QList<QByteArray> badLengths = {"+5"_ba,  "-1"_ba, "5 5"_ba, "5,5"_ba,
                                          "0x5"_ba, ""_ba,   "5a"_ba,  "1234567890123456789"_ba};
    for (const QByteArray &length : badLengths) {
        QTest::addRow("Content-Length '%s'", length.constData())
            << "POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length: "_ba + length + "\r\n\r\nhello"_ba << Result::Failed
            << 400 << "invalid_content_length"_ba << QByteArray() << QByteArray() << 0 << qint64(0) << false;
    }
    bad("body too large", "POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length: 300000\r\n\r\n"_ba, 413,
        "body_too_large"_ba);
    bad("18-digit Content-Length", "POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length: 999999999999999999\r\n\r\n"_ba,
        413, "body_too_large"_ba);

    // Head size.
    bad("incomplete head too long", "GET / HTTP/1.1\r\n"_ba + host + "X-Long: "_ba + longValue, 431,
        "headers_too_large"_ba);
    bad("complete head too long", "GET / HTTP/1.1\r\n"_ba + host + "X-Long: "_ba + longValue + "\r\n\r\n"_ba, 431,
        "headers_too_large"_ba);
    bad("request line too long", "GET /"_ba + longValue + " HTTP/1.1\r\n"_ba + host + "\r\n"_ba, 431,
        "headers_too_large"_ba);
}

void TstHttpRequestFramer::framing()
{
    QFETCH(QByteArray, input);
    QFETCH(Result, result);
    QFETCH(int, status);
    QFETCH(QByteArray, code);

    HttpRequestFramer framer(defaultLimits);
    framer.append(input);
    QCOMPARE(framer.next(), result);

    switch (result) {
    case Result::Ready: {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(int, minorVersion);
        QFETCH(qint64, contentLength);
        QFETCH(bool, keepAlive);
        QVERIFY(!framer.hasPartialRequest());
        const FramedRequest request = framer.takeRequest();
        QCOMPARE(request.raw, expectedRaw(input));
        QCOMPARE(request.method, method);
        QCOMPARE(request.target, target);
        QCOMPARE(request.httpMinorVersion, minorVersion);
        QCOMPARE(request.contentLength, contentLength);
        QCOMPARE(request.keepAlive, keepAlive);
        QCOMPARE(framer.bufferedBytes(), 0);
        QCOMPARE(framer.next(), Result::NeedMore);
        break;
    }
    case Result::Failed:
        QCOMPARE(framer.error().status, status);
        QCOMPARE(framer.error().code, code);
        QVERIFY(!framer.error().message.isEmpty());
        QVERIFY(framer.error().message.endsWith(u'.'));
        QVERIFY(!framer.hasPartialRequest());
        QVERIFY(!framer.wantsContinue());
        break;
    case Result::NeedMore:
        QCOMPARE(framer.hasPartialRequest(), !input.isEmpty());
        break;
    }
}

void TstHttpRequestFramer::framingByteByByte_data()
{
    framing_data();
}

void TstHttpRequestFramer::framingByteByByte()
{
    QFETCH(QByteArray, input);
    QFETCH(Result, result);
    QFETCH(QByteArray, code);

    HttpRequestFramer whole(defaultLimits);
    whole.append(input);
    QCOMPARE(whole.next(), result);

    HttpRequestFramer framer(defaultLimits);
    Result last = Result::NeedMore;
    qsizetype fed = 0;
    while (fed < input.size() && last == Result::NeedMore) {
        framer.append(QByteArrayView(input).sliced(fed, 1));
        ++fed;
        last = framer.next();
    }
    QCOMPARE(last, result);
    if (result == Result::Ready) {
        // Ready exactly when the last byte arrived, not before.
        QCOMPARE(fed, input.size());
        compareRequests(framer.takeRequest(), whole.takeRequest());
        QCOMPARE(framer.bufferedBytes(), 0);
    } else if (result == Result::Failed) {
        QCOMPARE(framer.error().code, code);
        QCOMPARE(framer.error().status, whole.error().status);
        QCOMPARE(framer.error().message, whole.error().message);
    }
}

void TstHttpRequestFramer::pipelinedRequestsInOneAppend()
{
    const QByteArray first = "GET /a HTTP/1.1\r\nHost: relay\r\n\r\n"_ba;
    const QByteArray second = postRequest("{\"answers\":[1,2,3]}"_ba);
    const QByteArray third = "GET /c HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n"_ba;

    HttpRequestFramer framer(defaultLimits);
    framer.append(QByteArray(first + second + third));
    QCOMPARE(framer.bufferedBytes(), first.size() + second.size() + third.size());

    for (const QByteArray &expected : {first, second, third}) {
        QCOMPARE(framer.next(), Result::Ready);
        // A repeated next() must not frame a second request before the first is taken.
        QCOMPARE(framer.next(), Result::Ready);
        const FramedRequest request = framer.takeRequest();
        QCOMPARE(request.raw, expected);
    }
    QCOMPARE(framer.next(), Result::NeedMore);
    QCOMPARE(framer.bufferedBytes(), 0);
    QVERIFY(!framer.hasPartialRequest());

    // A partial fourth request behind a complete one counts as partial even while the first is Ready.
    framer.append(QByteArray(first + "GET /d HT"_ba));
    QCOMPARE(framer.next(), Result::Ready);
    QVERIFY(framer.hasPartialRequest());
    QCOMPARE(framer.takeRequest().raw, first);
    QCOMPARE(framer.next(), Result::NeedMore);
    QVERIFY(framer.hasPartialRequest());
    QCOMPARE(framer.bufferedBytes(), 9);
}

void TstHttpRequestFramer::pipelinedStreamInUnevenChunks()
{
    // Enough requests that the read offset is compacted many times mid-stream.
    QList<QByteArray> requests;
    QByteArray stream;
    for (int i = 0; i < 2000; ++i) {
        QByteArray request = i % 3 == 0
                                 ? postRequest(QByteArray(i % 700, char('a' + i % 26)))
                                 : "GET /item/"_ba + QByteArray::number(i) + " HTTP/1.1\r\nHost: relay\r\n\r\n"_ba;
        if (i % 5 == 0)
            stream += "\r\n"_ba; // tolerated between requests
        stream += request;
        requests.append(std::move(request));
    }

    HttpRequestFramer framer(defaultLimits);
    qsizetype fed = 0;
    quint32 seed = 12345;
    qsizetype taken = 0;
    while (fed < stream.size()) {
        seed = seed * 1103515245u + 12345u;
        const qsizetype chunk = qMin<qsizetype>(1 + (seed >> 16) % 1500, stream.size() - fed);
        framer.append(QByteArrayView(stream).sliced(fed, chunk));
        fed += chunk;
        Result result;
        while ((result = framer.next()) == Result::Ready) {
            QVERIFY(taken < requests.size());
            QCOMPARE(framer.takeRequest().raw, requests.at(taken));
            ++taken;
        }
        QCOMPARE(result, Result::NeedMore);
    }
    QCOMPARE(taken, requests.size());
    QCOMPARE(framer.bufferedBytes(), 0);
}

void TstHttpRequestFramer::bodyTooLargeReportedAfterHeadOnly()
{
    HttpRequestFramer framer(defaultLimits);
    framer.append("POST /api/v1/submissions HTTP/1.1\r\nHost: relay\r\nExpect: 100-continue\r\n"
                  "Content-Length: 300000\r\n\r\n"_ba);
    QCOMPARE(framer.next(), Result::Failed);
    QCOMPARE(framer.error().status, 413);
    QCOMPARE(framer.error().code, "body_too_large"_ba);
    QCOMPARE(framer.error().message, u"The request body is 300000 bytes; this server accepts at most 262144 bytes."_s);
    QVERIFY(!framer.wantsContinue());

    // Exactly at the limit is accepted.
    HttpRequestFramer atLimit({1024, 10});
    atLimit.append("POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length: 10\r\n\r\n0123456789"_ba);
    QCOMPARE(atLimit.next(), Result::Ready);
}

void TstHttpRequestFramer::headersTooLargeReportedWhileHeadIncomplete()
{
    HttpRequestFramer framer({1024, 1024});
    framer.append("GET / HTTP/1.1\r\nHost: relay\r\n"_ba);
    QCOMPARE(framer.next(), Result::NeedMore);
    framer.append(QByteArray("X-Padding: "_ba + QByteArray(2000, 'p')));
    QCOMPARE(framer.next(), Result::Failed);
    QCOMPARE(framer.error().status, 431);
    QCOMPARE(framer.error().code, "headers_too_large"_ba);
    QVERIFY(framer.error().message.contains(u"1024"_s));

    // Without a line break at all: a request line that never ends.
    HttpRequestFramer endless({1024, 1024});
    endless.append(QByteArray("GET /"_ba + QByteArray(1100, 'x')));
    QCOMPARE(endless.next(), Result::Failed);
    QCOMPARE(endless.error().code, "headers_too_large"_ba);
}

void TstHttpRequestFramer::headLimitBoundary()
{
    const QByteArray prefix = "GET / HTTP/1.1\r\nHost: relay\r\nX-P: "_ba;
    const qint64 limit = 256;
    const QByteArray exact = prefix + QByteArray(limit - prefix.size() - 4, 'p') + "\r\n\r\n"_ba;
    QCOMPARE(exact.size(), limit);

    HttpRequestFramer fits({limit, 0});
    fits.append(exact);
    QCOMPARE(fits.next(), Result::Ready);
    QCOMPARE(fits.takeRequest().raw, exact);

    HttpRequestFramer tooLong({limit, 0});
    tooLong.append(QByteArray(prefix + QByteArray(limit - prefix.size() - 3, 'p') + "\r\n\r\n"_ba));
    QCOMPARE(tooLong.next(), Result::Failed);
    QCOMPARE(tooLong.error().status, 431);

    // The tolerated leading CRLF does not count against the head.
    HttpRequestFramer withLeadingLine({limit, 0});
    withLeadingLine.append(QByteArray("\r\n"_ba + exact));
    QCOMPARE(withLeadingLine.next(), Result::Ready);
    QCOMPARE(withLeadingLine.takeRequest().raw, exact);
}

void TstHttpRequestFramer::continueFlow()
{
    HttpRequestFramer framer(defaultLimits);
    framer.append("POST /api/v1/submissions HTTP/1.1\r\nHost: relay\r\nExpect: 100-Continue\r\n"_ba);
    QCOMPARE(framer.next(), Result::NeedMore);
    QVERIFY(!framer.wantsContinue()); // head not complete yet
    framer.append("Content-Length: 10\r\n\r\n"_ba);
    QCOMPARE(framer.next(), Result::NeedMore);
    QVERIFY(framer.wantsContinue());
    framer.append("01234"_ba);
    QCOMPARE(framer.next(), Result::NeedMore);
    QVERIFY(framer.wantsContinue());
    framer.continueSent();
    QVERIFY(!framer.wantsContinue());
    framer.append("56789"_ba);
    QCOMPARE(framer.next(), Result::Ready);
    QVERIFY(!framer.wantsContinue());
    QCOMPARE(framer.takeRequest().contentLength, 10);

    // The flag belongs to one request: the next one starts without it.
    framer.append("POST /x HTTP/1.1\r\nHost: relay\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"_ba);
    QCOMPARE(framer.next(), Result::NeedMore);
    QVERIFY(framer.wantsContinue());
}

void TstHttpRequestFramer::noContinueWhenNotWanted()
{
    const auto wants = [](const QByteArray &head) {
        HttpRequestFramer framer(defaultLimits);
        framer.append(head);
        framer.next();
        return framer.wantsContinue();
    };
    QVERIFY(!wants("POST /x HTTP/1.1\r\nHost: relay\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n"_ba));
    QVERIFY(!wants("POST /x HTTP/1.1\r\nHost: relay\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"_ba));
    QVERIFY(!wants("POST /x HTTP/1.1\r\nHost: relay\r\nExpect: something-else\r\nContent-Length: 5\r\n\r\n"_ba));
    QVERIFY(!wants("POST /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"_ba));
    QVERIFY(!wants("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"_ba)); // missing Host
    QVERIFY(!wants("POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length: 5\r\n\r\n"_ba));
    // Body bytes appended but next() not yet called: the body is complete, so no 100 Continue.
    HttpRequestFramer framer(defaultLimits);
    framer.append("POST /x HTTP/1.1\r\nHost: relay\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"_ba);
    QCOMPARE(framer.next(), Result::NeedMore);
    QVERIFY(framer.wantsContinue());
    framer.append("ok"_ba);
    QVERIFY(!framer.wantsContinue());
}

void TstHttpRequestFramer::largeBodyInSmallAppends()
{
    const QByteArray body(200 * 1000, 'b');
    const QByteArray request = postRequest(body);
    const qsizetype headSize = request.size() - body.size();

    HttpRequestFramer framer(defaultLimits);
    framer.append(QByteArrayView(request).first(headSize));
    QCOMPARE(framer.next(), Result::NeedMore);
    QVERIFY(framer.hasPartialRequest());

    const qsizetype chunk = body.size() / 1000;
    for (int i = 0; i < 1000; ++i) {
        framer.append(QByteArrayView(body).sliced(i * chunk, chunk));
        QCOMPARE(framer.bufferedBytes(), headSize + (i + 1) * chunk);
        if (i < 999) {
            QCOMPARE(framer.next(), Result::NeedMore);
            QVERIFY(framer.hasPartialRequest());
        }
    }
    QCOMPARE(framer.next(), Result::Ready);
    QVERIFY(!framer.hasPartialRequest());
    const FramedRequest framed = framer.takeRequest();
    QCOMPARE(framed.contentLength, body.size());
    QCOMPARE(framed.raw, request);
    QCOMPARE(framer.bufferedBytes(), 0);
    QVERIFY(!framer.hasPartialRequest());
}

void TstHttpRequestFramer::bufferedBytesAccounting()
{
    const QByteArray first = postRequest("abc"_ba);
    const QByteArray second = "GET / HTTP/1.1\r\nHost: relay\r\n\r\n"_ba;

    HttpRequestFramer framer(defaultLimits);
    QCOMPARE(framer.bufferedBytes(), 0);
    QVERIFY(!framer.hasPartialRequest());

    framer.append(first.first(10));
    QCOMPARE(framer.bufferedBytes(), 10);
    QCOMPARE(framer.next(), Result::NeedMore);
    QCOMPARE(framer.bufferedBytes(), 10);

    framer.append(QByteArray(first.sliced(10) + second.first(5)));
    QCOMPARE(framer.bufferedBytes(), first.size() + 5);
    QCOMPARE(framer.next(), Result::Ready);
    QCOMPARE(framer.bufferedBytes(), first.size() + 5); // the ready request is held until taken
    QCOMPARE(framer.takeRequest().raw, first);
    QCOMPARE(framer.bufferedBytes(), 5);

    framer.append(second.sliced(5));
    QCOMPARE(framer.next(), Result::Ready);
    QCOMPARE(framer.takeRequest().raw, second);
    QCOMPARE(framer.bufferedBytes(), 0);

    // The tolerated empty line is consumed, so an idle connection holds nothing.
    framer.append("\r\n"_ba);
    QCOMPARE(framer.bufferedBytes(), 2);
    QCOMPARE(framer.next(), Result::NeedMore);
    QCOMPARE(framer.bufferedBytes(), 0);
    QVERIFY(!framer.hasPartialRequest());

    framer.append("GET / HTTP/1.1\n"_ba);
    QCOMPARE(framer.next(), Result::Failed);
    QCOMPARE(framer.bufferedBytes(), 0);
}

void TstHttpRequestFramer::failedIsFinal()
{
    HttpRequestFramer framer(defaultLimits);
    framer.append("GET / HTTP/2.0\r\n"_ba);
    QCOMPARE(framer.next(), Result::Failed);
    QCOMPARE(framer.error().status, 505);
    QCOMPARE(framer.error().message, u"HTTP/2.0 is not supported; send the request as HTTP/1.1."_s);

    framer.append("\r\nGET / HTTP/1.1\r\nHost: relay\r\n\r\n"_ba);
    QCOMPARE(framer.next(), Result::Failed);
    QCOMPARE(framer.error().code, "unsupported_http_version"_ba);
    QVERIFY(framer.takeRequest().raw.isEmpty());
    QVERIFY(!framer.hasPartialRequest());

    // A valid request does not vouch for what follows it on the connection.
    HttpRequestFramer pipelined(defaultLimits);
    pipelined.append("GET / HTTP/1.1\r\nHost: relay\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"_ba);
    QCOMPARE(pipelined.next(), Result::Ready);
    QVERIFY(!pipelined.takeRequest().raw.isEmpty());
    QCOMPARE(pipelined.next(), Result::Failed);
    QCOMPARE(pipelined.error().code, "duplicate_host"_ba);

    // A body ending in CR must not pair with an LF that starts the next request.
    HttpRequestFramer crBody(defaultLimits);
    crBody.append(QByteArray(postRequest("x\r"_ba) + "\nGET / HTTP/1.1\r\nHost: relay\r\n\r\n"_ba));
    QCOMPARE(crBody.next(), Result::Ready);
    QCOMPARE(crBody.takeRequest().raw, postRequest("x\r"_ba));
    QCOMPARE(crBody.next(), Result::Failed);
    QCOMPARE(crBody.error().code, "bare_line_feed"_ba);
}

void TstHttpRequestFramer::takeRequestWithoutReadyIsEmpty()
{
    HttpRequestFramer framer(defaultLimits);
    framer.append("GET / HTTP/1.1\r\nHost: relay\r\n"_ba);
    QCOMPARE(framer.next(), Result::NeedMore);
    QVERIFY(framer.takeRequest().raw.isEmpty());
    QCOMPARE(framer.bufferedBytes(), 29);
    framer.append("\r\n"_ba);
    QCOMPARE(framer.next(), Result::Ready);
    QCOMPARE(framer.takeRequest().raw.size(), 31);
}

QTEST_GUILESS_MAIN(TstHttpRequestFramer)
#include "tst_httprequestframer.moc"
