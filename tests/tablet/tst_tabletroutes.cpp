// The tablet page, enrollment and the coordinator PIN through real HTTP on loopback, against a
// real SQLite file; and `siterelay device add NAME --qr FILE` through the real binary.
#include "enrollmentservice.h"
#include "rawhttpclient.h"
#include "siterelayprocess.h"
#include "submissionstore.h"
#include "tabletroutes.h"
#include "testserver.h"

#include <QImage>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

Headers jsonHeaders(const QByteArray &token = {})
{
    Headers headers = {{"Content-Type", "application/json"}};
    if (!token.isEmpty())
        headers.append({"Authorization", "Bearer " + token});
    return headers;
}

QByteArray codeBody(const QString &code)
{
    return QJsonDocument(QJsonObject{{u"code"_s, code}}).toJson(QJsonDocument::Compact);
}

QByteArray pinBody(const QString &pin)
{
    return QJsonDocument(QJsonObject{{u"pin"_s, pin}}).toJson(QJsonDocument::Compact);
}

// Runs one statement on the database through a connection of the test's own.
QVariant sql(const QString &databasePath, const QString &statement)
{
    const QString name = u"tst-tablet-%1"_s.arg(QUuid::createUuid().toString(QUuid::Id128));
    QVariant result;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
        db.setDatabaseName(databasePath);
        db.setConnectOptions(u"QSQLITE_BUSY_TIMEOUT=10000"_s);
        if (db.open()) {
            QSqlQuery query(db);
            if (!query.exec(statement))
                qWarning() << statement << query.lastError().text();
            else if (query.next())
                result = query.value(0);
        }
    }
    QSqlDatabase::removeDatabase(name);
    return result;
}

} // namespace

class TstTabletRoutes : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void servesThePage_data();
    void servesThePage();
    void pageHasNoInlineCodeAndNoExternalUrl();
    void pageIsReadOnly();
    void headAnswersLikeGetWithoutABody();
    void enrollsOnceWithAValidCode();
    void refusesExpiredCodes();
    void enrollErrors_data();
    void enrollErrors();
    void failedEnrollmentsAreRateLimited();
    void unlockChecksThePin();
    void wrongPinsAreRateLimited();
    void unlockWithoutConfiguredPinIsRefused();
    void cliWritesQrCodeThatEnrolls();

private:
    EnrollmentCode createCode(TestServer &server, const QString &name);

    std::unique_ptr<TestServer> m_server;
};

void TstTabletRoutes::initTestCase()
{
    m_server = std::make_unique<TestServer>(QHash<QString, QString>{{u"tablet/coordinatorPin"_s, u"2468"_s}});
    QVERIFY2(m_server->isRunning(), qPrintable(m_server->errorMessage()));
}

void TstTabletRoutes::cleanupTestCase()
{
    m_server.reset();
}

EnrollmentCode TstTabletRoutes::createCode(TestServer &server, const QString &name)
{
    EnrollmentService service(server.host().store());
    const auto created = service.create(name, u"http://127.0.0.1:%1"_s.arg(server.port())).result();
    if (!created) {
        qWarning() << created.error().message;
        return {};
    }
    return *created;
}

void TstTabletRoutes::servesThePage_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("contentType");

    QTest::addRow("folder") << QByteArray("/tablet/") << 200 << QByteArray("text/html; charset=utf-8");
    QTest::addRow("without slash") << QByteArray("/tablet") << 200 << QByteArray("text/html; charset=utf-8");
    QTest::addRow("with enroll query") << QByteArray("/tablet/?enroll=ABCD-EFGH-JKMN") << 200
                                       << QByteArray("text/html; charset=utf-8");
    QTest::addRow("index.html") << QByteArray("/tablet/index.html") << 200 << QByteArray("text/html; charset=utf-8");
    QTest::addRow("script") << QByteArray("/tablet/app.js") << 200 << QByteArray("text/javascript; charset=utf-8");
    QTest::addRow("style") << QByteArray("/tablet/app.css") << 200 << QByteArray("text/css; charset=utf-8");
    QTest::addRow("unknown asset") << QByteArray("/tablet/missing.js") << 404 << QByteArray("application/json");
    QTest::addRow("case differs") << QByteArray("/tablet/APP.JS") << 404 << QByteArray("application/json");
    QTest::addRow("deeper path") << QByteArray("/tablet/x/app.js") << 404 << QByteArray("application/json");
    // None of these may reach a file outside the page's folder (the migrations are resources too).
    QTest::addRow("dot dot") << QByteArray("/tablet/../sql/001_initial.sql") << 404 << QByteArray("application/json");
    QTest::addRow("dot dot only") << QByteArray("/tablet/..") << 404 << QByteArray("application/json");
    QTest::addRow("dot dot folder") << QByteArray("/tablet/../") << 404 << QByteArray("application/json");
    QTest::addRow("encoded dots") << QByteArray("/tablet/%2e%2e/sql/001_initial.sql") << 404
                                  << QByteArray("application/json");
    QTest::addRow("encoded dots and slash")
        << QByteArray("/tablet/%2e%2e%2fsql%2f001_initial.sql") << 404 << QByteArray("application/json");
    QTest::addRow("encoded upper case") << QByteArray("/tablet/%2E%2E%2Fquestionnaires%2Fphq9.json") << 404
                                        << QByteArray("application/json");
    QTest::addRow("backslash") << QByteArray("/tablet/..%5csql%5c001_initial.sql") << 404
                               << QByteArray("application/json");
    QTest::addRow("single dot") << QByteArray("/tablet/./app.js") << 404 << QByteArray("application/json");
    QTest::addRow("resource path") << QByteArray("/tablet/:/sql/001_initial.sql") << 404
                                   << QByteArray("application/json");
}

void TstTabletRoutes::servesThePage()
{
    QFETCH(QByteArray, path);
    QFETCH(int, status);
    QFETCH(QByteArray, contentType);

    const RawResponse response = RawHttpClient::exchange(m_server->port(), "GET", path);
    // A traversal that the URL parser resolves away leaves /tablet/: then a 404 of the API routes.
    QCOMPARE(response.status, status);
    QCOMPARE(response.header("Content-Type"), contentType);
    QCOMPARE(response.header("X-Content-Type-Options"), QByteArray("nosniff"));
    QCOMPARE(response.header("Cache-Control"), QByteArray("no-store"));
    QVERIFY(!response.body.contains("CREATE TABLE"));
    QVERIFY(!response.body.contains("\"scoring\""));
    if (status == 200 || path == "/tablet/missing.js" || path == "/tablet/APP.JS") {
        QCOMPARE(response.header("Content-Security-Policy"), TabletRoutes::ContentSecurityPolicy);
        QCOMPARE(response.header("Referrer-Policy"), QByteArray("no-referrer"));
    }
    if (status == 200)
        QVERIFY(!response.body.isEmpty());
}

void TstTabletRoutes::pageHasNoInlineCodeAndNoExternalUrl()
{
    // The CSP forbids inline script and style; the page must not rely on them, nor on anything
    // that is not its own (the clinic LAN may have no internet, and a CDN would see patients' use).
    const QByteArray csp = TabletRoutes::ContentSecurityPolicy;
    QVERIFY(csp.contains("default-src 'self'"));
    QVERIFY(!csp.contains("unsafe-inline"));
    QVERIFY(!csp.contains("unsafe-eval"));

    const QByteArray html = RawHttpClient::exchange(m_server->port(), "GET", "/tablet/").body;
    QVERIFY(html.contains("<script src=\"/tablet/app.js\""));
    QCOMPARE(html.count("<script"), 1);
    QVERIFY(!html.contains("<style"));
    QVERIFY(!QRegularExpression(u"\\sstyle\\s*="_s).match(QString::fromUtf8(html)).hasMatch());
    QVERIFY(!QRegularExpression(u"\\son[a-z]+\\s*="_s).match(QString::fromUtf8(html)).hasMatch());
    QVERIFY(!html.contains("javascript:"));

    const QByteArray script = RawHttpClient::exchange(m_server->port(), "GET", "/tablet/app.js").body;
    // Outside a secure context (plain HTTP on the LAN) these do not exist.
    QVERIFY(!script.contains("randomUUID"));
    QVERIFY(!script.contains("serviceWorker"));
    QVERIFY(script.contains("getRandomValues"));
    QVERIFY(!script.contains("eval("));
    QVERIFY(!script.contains("innerHTML"));
    QVERIFY(!script.contains("setAttribute('style'"));
    const QByteArray css = RawHttpClient::exchange(m_server->port(), "GET", "/tablet/app.css").body;
    for (const QByteArray &file : {html, script, css}) {
        QVERIFY(!file.contains("http://"));
        QVERIFY(!file.contains("https://"));
        QVERIFY(!file.contains("@import"));
    }
}

void TstTabletRoutes::pageIsReadOnly()
{
    const RawResponse response =
        RawHttpClient::exchange(m_server->port(), "POST", "/tablet/app.js", "x", {{"Content-Type", "text/plain"}});
    QCOMPARE(response.status, 405);
    QCOMPARE(response.header("Allow"), QByteArray("GET, HEAD"));
}

void TstTabletRoutes::headAnswersLikeGetWithoutABody()
{
    const RawResponse get = RawHttpClient::exchange(m_server->port(), "GET", "/tablet/app.js");
    const RawResponse head = RawHttpClient::exchange(m_server->port(), "HEAD", "/tablet/app.js");
    QCOMPARE(get.status, 200);
    QCOMPARE(head.status, 200);
    QVERIFY(!get.body.isEmpty());
    QVERIFY(head.body.isEmpty());
    QCOMPARE(head.header("Content-Type"), get.header("Content-Type"));
    QCOMPARE(head.header("Content-Security-Policy"), get.header("Content-Security-Policy"));
}

void TstTabletRoutes::enrollsOnceWithAValidCode()
{
    const EnrollmentCode code = createCode(*m_server, u"Tablet bay 3"_s);
    QVERIFY(!code.code.isEmpty());
    QVERIFY(QRegularExpression(u"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$"_s)
                .match(code.code)
                .hasMatch());
    QCOMPARE(code.enrollUrl, u"http://127.0.0.1:%1/tablet/?enroll=%2"_s.arg(m_server->port()).arg(code.code));
    const qint64 devicesBefore = m_server->countRows(u"devices"_s);
    // Nothing but a hash of the code is stored, and no device exists before it is redeemed.
    QCOMPARE(m_server->countRows(u"enrollment_codes"_s, u"code_hash = '%1' OR device_name = '%1'"_s.arg(code.code)),
             qint64(0));
    QCOMPARE(m_server->countRows(u"enrollment_codes"_s, u"id = %1 AND redeemed_at IS NULL"_s.arg(code.id)), qint64(1));

    // Typed on a tablet: lower case, without dashes.
    const QString typed = code.code.toLower().remove(u'-');
    const RawResponse enrolled =
        RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/enroll", codeBody(typed), jsonHeaders());
    QCOMPARE(enrolled.status, 200);
    const QByteArray token = enrolled.json().value("token"_L1).toString().toLatin1();
    QVERIFY(token.startsWith("srt_"));
    QCOMPARE(enrolled.json().value("deviceName"_L1).toString(), u"Tablet bay 3"_s);
    const qint64 deviceId = enrolled.json().value("deviceId"_L1).toInteger();
    QCOMPARE(m_server->countRows(u"devices"_s), devicesBefore + 1);
    QCOMPARE(
        m_server->countRows(u"devices"_s, u"id = %1 AND role = 'device' AND name = 'Tablet bay 3'"_s.arg(deviceId)),
        qint64(1));
    QCOMPARE(
        m_server->countRows(u"enrollment_codes"_s,
                            u"id = %1 AND redeemed_at IS NOT NULL AND device_id = %2"_s.arg(code.id).arg(deviceId)),
        qint64(1));
    QCOMPARE(m_server->countRows(u"audit_log"_s, u"entity = 'enrollment' AND entity_id = '%1'"_s.arg(code.id)),
             qint64(2));
    QCOMPARE(m_server->countRows(u"audit_log"_s,
                                 u"entity = 'device' AND entity_id = '%1' AND action = 'created'"_s.arg(deviceId)),
             qint64(1));
    QCOMPARE(m_server->countRows(u"audit_log"_s, u"detail LIKE '%%1%'"_s.arg(code.code)), qint64(0));

    // The token works, and is the device's, not a coordinator's.
    const RawResponse questionnaires = RawHttpClient::exchange(m_server->port(), "GET", "/api/v1/questionnaires", {},
                                                               {{"Authorization", "Bearer " + token}});
    QCOMPARE(questionnaires.status, 200);
    const RawResponse cancel = RawHttpClient::exchange(
        m_server->port(), "POST", "/api/v1/submissions/00000000-0000-4000-8000-000000000000/cancel", {},
        {{"Authorization", "Bearer " + token}});
    QCOMPARE(cancel.status, 403);

    // Single use.
    const RawResponse again =
        RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/enroll", codeBody(code.code), jsonHeaders());
    QCOMPARE(again.status, 403);
    QCOMPARE(again.errorCode(), u"enrollment_code_used"_s);
    QCOMPARE(m_server->countRows(u"devices"_s), devicesBefore + 1);
}

void TstTabletRoutes::refusesExpiredCodes()
{
    const EnrollmentCode code = createCode(*m_server, u"late tablet"_s);
    QVERIFY(!code.code.isEmpty());
    // Created 15 minutes ago, as far as the database knows.
    const QDateTime created =
        QDateTime::fromString(code.expiresAt, Qt::ISODateWithMs).addMSecs(-EnrollmentService::ValidityMs);
    QVERIFY(created.isValid());
    QVERIFY(qAbs(created.secsTo(QDateTime::currentDateTimeUtc())) < 60);
    sql(m_server->databasePath(), u"UPDATE enrollment_codes SET expires_at = '%1' WHERE id = %2"_s
                                      .arg(toIsoUtc(QDateTime::currentDateTimeUtc().addMSecs(-1)))
                                      .arg(code.id));
    const qint64 devicesBefore = m_server->countRows(u"devices"_s);
    const RawResponse response =
        RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/enroll", codeBody(code.code), jsonHeaders());
    QCOMPARE(response.status, 403);
    QCOMPARE(response.errorCode(), u"enrollment_code_expired"_s);
    QCOMPARE(m_server->countRows(u"devices"_s), devicesBefore);
    QCOMPARE(m_server->countRows(u"enrollment_codes"_s, u"id = %1 AND redeemed_at IS NULL"_s.arg(code.id)), qint64(1));
}

void TstTabletRoutes::enrollErrors_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");

    QTest::addRow("unknown code") << codeBody(u"0000-0000-0000"_s) << QByteArray("application/json") << 403
                                  << u"enrollment_code_invalid"_s;
    QTest::addRow("not a code") << codeBody(u"hello"_s) << QByteArray("application/json") << 400 << u"invalid_field"_s;
    QTest::addRow("code too long") << codeBody(u"0000-0000-0000-0"_s) << QByteArray("application/json") << 400
                                   << u"invalid_field"_s;
    QTest::addRow("missing code") << QByteArray("{}") << QByteArray("application/json") << 400 << u"missing_field"_s;
    QTest::addRow("code is a number") << QByteArray("{\"code\":12}") << QByteArray("application/json") << 400
                                      << u"missing_field"_s;
    QTest::addRow("malformed json") << QByteArray("{\"code\":") << QByteArray("application/json") << 400
                                    << u"malformed_json"_s;
    QTest::addRow("form post") << QByteArray("code=0000-0000-0000") << QByteArray("application/x-www-form-urlencoded")
                               << 415 << u"unsupported_media_type"_s;
}

void TstTabletRoutes::enrollErrors()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, contentType);
    QFETCH(int, status);
    QFETCH(QString, code);
    // Its own server: these failures count towards the rate limit of 127.0.0.1.
    TestServer server;
    QVERIFY(server.isRunning());
    const RawResponse response =
        RawHttpClient::exchange(server.port(), "POST", "/api/v1/enroll", body, {{"Content-Type", contentType}});
    QCOMPARE(response.status, status);
    QCOMPARE(response.errorCode(), code);
}

void TstTabletRoutes::failedEnrollmentsAreRateLimited()
{
    TestServer server;
    QVERIFY(server.isRunning());
    const EnrollmentCode valid = createCode(server, u"patient tablet"_s);
    for (int i = 0; i < TabletRoutes::EnrollMaxFailures; ++i) {
        const RawResponse wrong =
            RawHttpClient::exchange(server.port(), "POST", "/api/v1/enroll",
                                    codeBody(u"0000-0000-%1"_s.arg(i, 4, 10, QChar(u'0'))), jsonHeaders());
        QCOMPARE(wrong.status, 403);
    }
    // Now even the right code is refused until the window has passed, so codes cannot be guessed.
    const RawResponse limited =
        RawHttpClient::exchange(server.port(), "POST", "/api/v1/enroll", codeBody(valid.code), jsonHeaders());
    QCOMPARE(limited.status, 429);
    QCOMPARE(limited.errorCode(), u"too_many_attempts"_s);
    const int retryAfter = limited.header("Retry-After").toInt();
    QVERIFY2(retryAfter > 0 && retryAfter <= TabletRoutes::EnrollWindowMs / 1000, limited.header("Retry-After"));
    QCOMPARE(server.countRows(u"enrollment_codes"_s, u"redeemed_at IS NULL"_s), qint64(1));
}

void TstTabletRoutes::unlockChecksThePin()
{
    const auto [deviceId, token] = m_server->addDevice(u"pin tablet"_s);
    QVERIFY(deviceId > 0);
    const RawResponse anonymous =
        RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/tablet/unlock", pinBody(u"2468"_s), jsonHeaders());
    QCOMPARE(anonymous.status, 401);
    const RawResponse wrong = RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/tablet/unlock",
                                                      pinBody(u"1357"_s), jsonHeaders(token));
    QCOMPARE(wrong.status, 403);
    QCOMPARE(wrong.errorCode(), u"wrong_pin"_s);
    const RawResponse prefix = RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/tablet/unlock",
                                                       pinBody(u"246"_s), jsonHeaders(token));
    QCOMPARE(prefix.status, 403);
    const RawResponse right = RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/tablet/unlock",
                                                      pinBody(u"2468"_s), jsonHeaders(token));
    QCOMPARE(right.status, 200);
    QCOMPARE(right.json().value("unlocked"_L1).toBool(), true);
    const RawResponse noPin =
        RawHttpClient::exchange(m_server->port(), "POST", "/api/v1/tablet/unlock", "{}", jsonHeaders(token));
    QCOMPARE(noPin.status, 400);
}

void TstTabletRoutes::wrongPinsAreRateLimited()
{
    TestServer server({{u"tablet/coordinatorPin"_s, u"2468"_s}});
    QVERIFY(server.isRunning());
    for (int i = 0; i < TabletRoutes::PinMaxFailures; ++i) {
        const RawResponse wrong =
            RawHttpClient::exchange(server.port(), "POST", "/api/v1/tablet/unlock", pinBody(QString::number(1000 + i)),
                                    jsonHeaders(server.deviceToken()));
        QCOMPARE(wrong.status, 403);
    }
    const RawResponse limited = RawHttpClient::exchange(server.port(), "POST", "/api/v1/tablet/unlock",
                                                        pinBody(u"2468"_s), jsonHeaders(server.deviceToken()));
    QCOMPARE(limited.status, 429);
    const int retryAfter = limited.header("Retry-After").toInt();
    QVERIFY2(retryAfter > 0 && retryAfter <= TabletRoutes::PinWindowMs / 1000, limited.header("Retry-After"));
    // Another token from the same client does not get a fresh set of guesses.
    const auto other = server.addDevice(u"second tablet"_s);
    const RawResponse otherDevice = RawHttpClient::exchange(server.port(), "POST", "/api/v1/tablet/unlock",
                                                            pinBody(u"2468"_s), jsonHeaders(other.second));
    QCOMPARE(otherDevice.status, 429);
}

void TstTabletRoutes::unlockWithoutConfiguredPinIsRefused()
{
    TestServer server;
    QVERIFY(server.isRunning());
    for (const QString &pin : {u"0000"_s, u"2468"_s}) {
        const RawResponse response = RawHttpClient::exchange(server.port(), "POST", "/api/v1/tablet/unlock",
                                                             pinBody(pin), jsonHeaders(server.deviceToken()));
        QCOMPARE(response.status, 403);
        QCOMPARE(response.errorCode(), u"pin_not_configured"_s);
    }
}

void TstTabletRoutes::cliWritesQrCodeThatEnrolls()
{
    QTemporaryDir dataDir;
    QVERIFY(dataDir.isValid());
    const QString png = dataDir.filePath(u"tablet.png"_s);
    QByteArray out;
    QByteArray err;
    const int exitCode = SiteRelayProcess::runCommand(dataDir.path(),
                                                      {u"device"_s, u"add"_s, u"Ward tablet"_s, u"--qr"_s, png,
                                                       u"--set"_s, u"tablet/siteUrl=http://clinic-pc.test:8787"_s},
                                                      &out, &err);
    QVERIFY2(exitCode == 0, err.constData());
    QVERIFY2(out.contains("http://clinic-pc.test:8787/tablet/?enroll="), out.constData());
    const QString code = QString::fromLatin1(out.trimmed().split('\n').last().trimmed());
    QVERIFY2(!EnrollmentService::normalize(code).isEmpty(), qPrintable(code));
    QVERIFY(out.contains(QByteArray(QByteArray("/tablet/?enroll=") + code.toLatin1())));
    const QImage image(png);
    QVERIFY(!image.isNull());
    QCOMPARE(image.width(), image.height());
    QVERIFY(image.width() >= 21 * 8);

    QCOMPARE(SiteRelayProcess::runCommand(dataDir.path(), {u"device"_s, u"list"_s, u"--qr"_s, png}), 2);
    // No port known and no site URL set: the command says so instead of printing a useless link.
    QCOMPARE(SiteRelayProcess::runCommand(dataDir.path(),
                                          {u"device"_s, u"add"_s, u"x"_s, u"--qr"_s, png, u"--port"_s, u"0"_s}),
             2);

    TestServer server({}, dataDir.path());
    QVERIFY(server.isRunning());
    const RawResponse enrolled =
        RawHttpClient::exchange(server.port(), "POST", "/api/v1/enroll", codeBody(code), jsonHeaders());
    QCOMPARE(enrolled.status, 200);
    QCOMPARE(enrolled.json().value("deviceName"_L1).toString(), u"Ward tablet"_s);
    QCOMPARE(server.countRows(u"audit_log"_s, u"entity = 'enrollment' AND actor = 'cli' AND action = 'created'"_s),
             qint64(1));
}

QTEST_GUILESS_MAIN(TstTabletRoutes)
#include "tst_tabletroutes.moc"
