#include "rawhttpclient.h"
#include "serverhost.h"
#include "settings.h"
#include "siterelayprocess.h"
#include "submissionload.h"
#include "testpaths.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <algorithm>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

struct Run
{
    int exitCode = -1; ///< -1: crashed or did not finish in time
    QByteArray out;
    QByteArray err;
};

/// Runs the real binary with @p arguments to completion. A run that does not end in time (e.g. a
/// server that started although the arguments were bad) is killed and reported as -1.
Run runSiteRelay(const QStringList &arguments, int timeoutMs = 15000)
{
    QProcess process;
    process.start(siterelayBinary(), arguments);
    Run run;
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
    } else if (process.exitStatus() == QProcess::NormalExit) {
        run.exitCode = process.exitCode();
    }
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

QString describe(const Run &run)
{
    return u"exit %1; stdout: %2; stderr: %3"_s.arg(run.exitCode)
        .arg(QString::fromUtf8(run.out), QString::fromUtf8(run.err));
}

/// Whether stderr has a "siterelay: ..." line containing @p message (log lines may surround it).
bool hasErrorLine(const Run &run, const QString &message)
{
    const QStringList lines = QString::fromUtf8(run.err).split(u'\n');
    return std::any_of(lines.cbegin(), lines.cend(), [&](const QString &line) {
        return line.startsWith(u"siterelay: "_s) && line.contains(message);
    });
}

QByteArray lastLine(const QByteArray &text)
{
    return text.trimmed().split('\n').last().trimmed();
}

qint64 deviceIdOf(const QByteArray &token)
{
    return token.split('_').value(1).toLongLong(); // "srt_<id>_<secret>"
}

/// One row of `device list`, split at its columns (names in these tests have no spaces).
QStringList deviceListRow(const QByteArray &listing, qint64 id)
{
    const QList<QByteArray> lines = listing.split('\n');
    for (const QByteArray &line : lines) {
        const QStringList columns = QString::fromUtf8(line).split(u' ', Qt::SkipEmptyParts);
        if (columns.value(0) == QString::number(id))
            return columns;
    }
    return {};
}

QList<QPair<QByteArray, QByteArray>> jsonWithToken(const QByteArray &token)
{
    return {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
}

bool writeFile(const QString &path, const QByteArray &contents)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(contents) == contents.size();
}

} // namespace

/**
 * The command line of the real binary: documented options, exit code 2 with a specific message
 * for every kind of bad input, the device commands (also against a running server), and that the
 * settings reach the server.
 */
class TestCli final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void helpDocuments_data();
    void helpDocuments();
    void version();
    void badInputExitsWithCode2_data();
    void badInputExitsWithCode2();
    void badConfigFileExitsWithCode2_data();
    void badConfigFileExitsWithCode2();
    void deviceAddAndList();
    void tokenIsNotStoredInClearText();
    void revokeTakesEffectOnRunningServer();
    void revokeUnknownDeviceFails();
    void portZeroPrintsRealPort();
    void configFileIsHonoured_data();
    void configFileIsHonoured();

private:
    Run m_help;
};

void TestCli::initTestCase()
{
    QVERIFY2(QFileInfo(siterelayBinary()).isExecutable(), "SITERELAY_BINARY must name the built siterelay");
    m_help = runSiteRelay({u"--help"_s});
}

void TestCli::helpDocuments_data()
{
    QTest::addColumn<QString>("text");
    for (const char *option :
         {"--headless", "--bind", "--port", "--data-dir", "--config", "--set", "--role", "--help", "--version"})
        QTest::addRow("option %s", option) << QString::fromLatin1(option);
    for (const char *command : {"device add NAME", "device list", "device revoke ID"})
        QTest::addRow("command %s", command) << QString::fromLatin1(command);
    // Taken from the settings table itself, so a key added there without help text fails here.
    for (const SettingSpec &spec : settingSpecs())
        QTest::addRow("setting %s", qPrintable(spec.name)) << spec.name;
}

void TestCli::helpDocuments()
{
    QFETCH(QString, text);
    QCOMPARE(m_help.exitCode, 0);
    QVERIFY2(QString::fromUtf8(m_help.out).contains(text), qPrintable(describe(m_help)));
}

void TestCli::version()
{
    const Run run = runSiteRelay({u"--version"_s});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.out, QByteArray("siterelay " SITERELAY_VERSION "\n"));
}

void TestCli::badInputExitsWithCode2_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");
    QTest::addRow("unknown option") << QStringList{u"--frobnicate"_s} << u"Unknown option 'frobnicate'"_s;
    QTest::addRow("option without value") << QStringList{u"--set"_s} << u"Missing value after '--set'"_s;
    QTest::addRow("unknown setting") << QStringList{u"--set"_s, u"nosuchkey=1"_s}
                                     << u"--set: unknown setting nosuchkey"_s;
    QTest::addRow("assignment without =")
        << QStringList{u"--set"_s, u"server/port"_s} << u"--set expects KEY=VALUE, got \"server/port\""_s;
    QTest::addRow("number not a number") << QStringList{u"--set"_s, u"server/port=abc"_s}
                                         << u"setting server/port must be a whole number, not \"abc\""_s;
    QTest::addRow("number out of range") << QStringList{u"--set"_s, u"ingest/maxBodyBytes=10"_s}
                                         << u"setting ingest/maxBodyBytes must be between 1024 and 67108864, not 10"_s;
    QTest::addRow("choice not offered") << QStringList{u"--set"_s, u"storage/synchronous=OFF"_s}
                                        << u"setting storage/synchronous must be one of FULL, NORMAL, not \"OFF\""_s;
    QTest::addRow("flag not a flag") << QStringList{u"--set"_s, u"bench/noStoreRoute=maybe"_s}
                                     << u"setting bench/noStoreRoute must be true or false, not \"maybe\""_s;
    QTest::addRow("port option not a number")
        << QStringList{u"--port"_s, u"http"_s} << u"setting server/port must be a whole number, not \"http\""_s;
    QTest::addRow("unknown command") << QStringList{u"frobnicate"_s} << u"unknown command \"frobnicate\""_s;
    QTest::addRow("unknown device action")
        << QStringList{u"device"_s, u"rename"_s} << u"usage: siterelay device add NAME [--role R] | device list"_s;
    QTest::addRow("revoke without number") << QStringList{u"device"_s, u"revoke"_s, u"abc"_s}
                                           << u"device revoke needs a device id (a number from `device list`), "
                                              u"not \"abc\""_s;
    QTest::addRow("revoke zero") << QStringList{u"device"_s, u"revoke"_s, u"0"_s}
                                 << u"device revoke needs a device id"_s;
    QTest::addRow("add without name") << QStringList{u"device"_s, u"add"_s}
                                      << u"usage: siterelay device add NAME [--role device|coordinator]"_s;
    QTest::addRow("add with blank name") << QStringList{u"device"_s, u"add"_s, u"  "_s}
                                         << u"usage: siterelay device add NAME"_s;
    QTest::addRow("add with bad role") << QStringList{u"device"_s, u"add"_s, u"tablet-1"_s, u"--role"_s, u"admin"_s}
                                       << u"--role must be device or coordinator, not \"admin\""_s;
}

void TestCli::badInputExitsWithCode2()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    QTemporaryDir parent;
    QVERIFY(parent.isValid());
    // A data folder that does not exist yet: bad input must be refused before anything is created
    // or started. Loopback and port 0, so a server wrongly started would not take a real port.
    const QString dataDir = parent.filePath(u"data"_s);
    // The case's own arguments go last, so "--set" can be the final, value-less argument. No
    // "--port 0" here: --port would override the "--set server/port=..." under test.
    const Run run =
        runSiteRelay(QStringList{u"--headless"_s, u"--bind"_s, u"127.0.0.1"_s, u"--data-dir"_s, dataDir} + arguments);
    QVERIFY2(run.exitCode == 2, qPrintable(describe(run)));
    QVERIFY2(hasErrorLine(run, message), qPrintable(describe(run)));
    QVERIFY2(run.out.isEmpty(), qPrintable(describe(run)));
    QVERIFY2(!QFileInfo::exists(dataDir), "bad input created the data folder");
}

void TestCli::badConfigFileExitsWithCode2_data()
{
    QTest::addColumn<QByteArray>("ini");
    QTest::addColumn<QString>("message");
    QTest::addRow("unknown key") << QByteArray("[ingest]\nmaxBodyBytes=4096\nfrobnicate=1\n")
                                 << u"unknown setting ingest/frobnicate"_s;
    QTest::addRow("unknown section") << QByteArray("[storage]\nsynchronous=FULL\n[nosuch]\nkey=1\n")
                                     << u"unknown setting nosuch/key"_s;
    QTest::addRow("bad value") << QByteArray("[ingest]\nidleTimeoutMs=soon\n")
                               << u"setting ingest/idleTimeoutMs must be a whole number, not \"soon\""_s;
}

void TestCli::badConfigFileExitsWithCode2()
{
    QFETCH(QByteArray, ini);
    QFETCH(QString, message);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString config = dir.filePath(u"site.ini"_s);
    QVERIFY(writeFile(config, ini));
    const Run run = runSiteRelay({u"--headless"_s, u"--bind"_s, u"127.0.0.1"_s, u"--port"_s, u"0"_s, u"--data-dir"_s,
                                  dir.filePath(u"data"_s), u"--config"_s, config});
    QVERIFY2(run.exitCode == 2, qPrintable(describe(run)));
    // Which file and which key: on a site with several INI files the operator must find the line.
    QVERIFY2(hasErrorLine(run, config), qPrintable(describe(run)));
    QVERIFY2(hasErrorLine(run, message), qPrintable(describe(run)));
}

void TestCli::deviceAddAndList()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QRegularExpression tokenPattern(u"^srt_(\\d+)_[A-Za-z0-9_-]{43}$"_s);

    const Run tablet = runSiteRelay({u"device"_s, u"add"_s, u"ward-3-tablet"_s, u"--data-dir"_s, dir.path()});
    QVERIFY2(tablet.exitCode == 0, qPrintable(describe(tablet)));
    const auto tabletToken = tokenPattern.match(QString::fromUtf8(lastLine(tablet.out)));
    QVERIFY2(tabletToken.hasMatch(), qPrintable(describe(tablet)));
    const Run coordinator = runSiteRelay(
        {u"device"_s, u"add"_s, u"study-nurse"_s, u"--role"_s, u"coordinator"_s, u"--data-dir"_s, dir.path()});
    QVERIFY2(coordinator.exitCode == 0, qPrintable(describe(coordinator)));
    const auto coordinatorToken = tokenPattern.match(QString::fromUtf8(lastLine(coordinator.out)));
    QVERIFY2(coordinatorToken.hasMatch(), qPrintable(describe(coordinator)));
    QVERIFY(tabletToken.captured(0) != coordinatorToken.captured(0));

    const Run list = runSiteRelay({u"device"_s, u"list"_s, u"--data-dir"_s, dir.path()});
    QVERIFY2(list.exitCode == 0, qPrintable(describe(list)));
    const QString header = QString::fromUtf8(list.out.split('\n').value(0));
    for (const char *column : {"ID", "NAME", "ROLE", "CREATED", "LAST SEEN", "REVOKED"})
        QVERIFY2(header.contains(QLatin1StringView(column)), qPrintable(header));
    const struct
    {
        qint64 id;
        const char *name;
        const char *role;
    } expected[] = {{tabletToken.captured(1).toLongLong(), "ward-3-tablet", "device"},
                    {coordinatorToken.captured(1).toLongLong(), "study-nurse", "coordinator"}};
    for (const auto &device : expected) {
        const QStringList row = deviceListRow(list.out, device.id);
        QCOMPARE(row.size(), 6);
        QCOMPARE(row[1], QString::fromLatin1(device.name));
        QCOMPARE(row[2], QString::fromLatin1(device.role));
        const QDateTime created = QDateTime::fromString(row[3], Qt::ISODateWithMs);
        QVERIFY2(created.isValid() && row[3].endsWith(u'Z'), qPrintable(row[3]));
        QVERIFY(qAbs(created.secsTo(QDateTime::currentDateTimeUtc())) < 600);
        QCOMPARE(row[4], u"-"_s); // never seen
        QCOMPARE(row[5], u"-"_s); // not revoked
    }
}

void TestCli::tokenIsNotStoredInClearText()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray name = "cleartext-probe-" + QUuid::createUuid().toByteArray(QUuid::Id128);
    const QByteArray token = SiteRelayProcess::addDevice(dir.path(), QString::fromLatin1(name));
    QVERIFY(token.startsWith("srt_"));
    const QByteArray secretText = token.mid(token.indexOf('_', 4) + 1);
    const auto secret =
        QByteArray::fromBase64Encoding(secretText, QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals |
                                                       QByteArray::AbortOnBase64DecodingErrors);
    QVERIFY(secret);
    QCOMPARE(secret.decoded.size(), 32);

    // The database and whatever journal files lie beside it.
    const QFileInfoList files =
        QDir(dir.path()).entryInfoList({u"siterelay.sqlite*"_s}, QDir::Files | QDir::Hidden | QDir::System);
    QVERIFY(!files.isEmpty());
    QByteArray bytes;
    for (const QFileInfo &info : files) {
        QFile file(info.filePath());
        QVERIFY(file.open(QIODevice::ReadOnly));
        bytes += file.readAll();
    }
    // The device name is in there: proof that the bytes searched are the ones the command wrote.
    QVERIFY(bytes.contains(name));
    QVERIFY2(!bytes.contains(token), "the full token is stored in clear text");
    QVERIFY2(!bytes.contains(secretText), "the token's secret is stored in clear text");
    QVERIFY2(!bytes.contains(secret.decoded), "the token's secret is stored as raw bytes");
    QVERIFY2(!bytes.contains(secret.decoded.toHex()), "the token's secret is stored as hex");
}

void TestCli::revokeTakesEffectOnRunningServer()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray revoked = SiteRelayProcess::addDevice(dir.path(), u"tablet-revoked"_s);
    const QByteArray kept = SiteRelayProcess::addDevice(dir.path(), u"tablet-kept"_s);
    QVERIFY(!revoked.isEmpty() && !kept.isEmpty());
    SiteRelayProcess server(dir.path());
    QVERIFY2(server.start(), server.output().constData());

    // A keep-alive connection opened and used before the revoke: the revoke must not wait for a
    // new connection.
    RawHttpClient connection;
    QVERIFY(connection.connectTo(server.port()));
    const QByteArray questionnaires =
        RawHttpClient::request("GET", "/api/v1/questionnaires", {}, {{"Authorization", "Bearer " + revoked}});
    connection.send(questionnaires);
    QCOMPARE(connection.readResponse().status, 200);
    const auto submit = [&](const QByteArray &token) {
        const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
        return RawHttpClient::exchange(server.port(), "POST", "/api/v1/submissions",
                                       SubmissionLoad::makeSubmission(id, 1).body, jsonWithToken(token));
    };
    QCOMPARE(submit(revoked).status, 202);
    QCOMPARE(submit(kept).status, 202);

    const Run revoke =
        runSiteRelay({u"device"_s, u"revoke"_s, QString::number(deviceIdOf(revoked)), u"--data-dir"_s, dir.path()});
    QVERIFY2(revoke.exitCode == 0, qPrintable(describe(revoke)));
    QVERIFY2(revoke.out.startsWith(
                 QByteArray("Revoked device " + QByteArray::number(deviceIdOf(revoked)) + " \"tablet-revoked\"")),
             qPrintable(describe(revoke)));

    connection.send(questionnaires);
    const RawResponse afterRevoke = connection.readResponse();
    QCOMPARE(afterRevoke.status, 401);
    QCOMPARE(afterRevoke.errorCode(), u"unauthenticated"_s);
    const RawResponse submitAfterRevoke = submit(revoked);
    QCOMPARE(submitAfterRevoke.status, 401);
    QCOMPARE(submit(kept).status, 202);
    QCOMPARE(RawHttpClient::exchange(server.port(), "GET", "/api/v1/questionnaires", {},
                                     {{"Authorization", "Bearer " + kept}})
                 .status,
             200);

    // The list shows the revocation, and both devices as seen (the server recorded it before the
    // 202s above, through the same writer).
    const Run list = runSiteRelay({u"device"_s, u"list"_s, u"--data-dir"_s, dir.path()});
    QVERIFY2(list.exitCode == 0, qPrintable(describe(list)));
    const QStringList revokedRow = deviceListRow(list.out, deviceIdOf(revoked));
    const QStringList keptRow = deviceListRow(list.out, deviceIdOf(kept));
    QCOMPARE(revokedRow.size(), 6);
    QCOMPARE(keptRow.size(), 6);
    QVERIFY2(QDateTime::fromString(revokedRow[5], Qt::ISODateWithMs).isValid(), qPrintable(revokedRow.join(u' ')));
    QCOMPARE(keptRow[5], u"-"_s);
    QVERIFY2(revokedRow[4] != "-"_L1 && keptRow[4] != "-"_L1, list.out.constData());

    QVERIFY2(server.terminate(), server.output().constData());
    QCOMPARE(server.exitCode(), 0);
}

void TestCli::revokeUnknownDeviceFails()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray token = SiteRelayProcess::addDevice(dir.path(), u"tablet-1"_s);
    QVERIFY(!token.isEmpty());
    const Run run = runSiteRelay({u"device"_s, u"revoke"_s, u"999"_s, u"--data-dir"_s, dir.path()});
    QVERIFY2(run.exitCode > 0, qPrintable(describe(run)));
    QVERIFY2(hasErrorLine(run, u"there is no device with id 999"_s), qPrintable(describe(run)));
    // The existing device is untouched.
    const Run list = runSiteRelay({u"device"_s, u"list"_s, u"--data-dir"_s, dir.path()});
    QCOMPARE(deviceListRow(list.out, deviceIdOf(token)).value(5), u"-"_s);
}

void TestCli::portZeroPrintsRealPort()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    SiteRelayProcess server(dir.path()); // starts with --bind 127.0.0.1 --port 0
    QVERIFY2(server.start(), server.output().constData());
    QVERIFY(server.port() != 0);
    // The banner goes to stdout, after the log line start() waited for: read on until it is there.
    const QByteArray banner =
        "SiteRelay " SITERELAY_VERSION " listening on http://127.0.0.1:" + QByteArray::number(server.port()) + '\n';
    QByteArray printed = server.output();
    const auto bannerPrinted = [&] {
        printed += server.process().readAll();
        return printed.contains(banner);
    };
    QTRY_VERIFY2_WITH_TIMEOUT(bannerPrinted(), printed.constData(), 10000);
    const RawResponse health = RawHttpClient::exchange(server.port(), "GET", "/api/v1/health");
    QCOMPARE(health.status, 200);
    QCOMPARE(health.json().value("status"_L1).toString(), u"ok"_s);
    QCOMPARE(health.json().value("database"_L1).toString(), u"writable"_s);
    QVERIFY2(server.terminate(), server.output().constData());
    QCOMPARE(server.exitCode(), 0);
}

void TestCli::configFileIsHonoured_data()
{
    QTest::addColumn<QStringList>("extraArguments");
    QTest::addColumn<int>("expectedStatus");
    // The default limit (256 KiB) would take 3000 bytes: a 413 can only come from the INI file.
    QTest::addRow("INI limit 2048") << QStringList{} << 413;
    QTest::addRow("--set overrides INI") << QStringList{u"--set"_s, u"ingest/maxBodyBytes=4096"_s} << 202;
}

void TestCli::configFileIsHonoured()
{
    QFETCH(QStringList, extraArguments);
    QFETCH(int, expectedStatus);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString config = dir.filePath(u"site.ini"_s);
    QVERIFY(writeFile(config, "[ingest]\nmaxBodyBytes=2048\n"));
    const QByteArray token = SiteRelayProcess::addDevice(dir.path(), u"tablet-1"_s);
    QVERIFY(!token.isEmpty());
    SiteRelayProcess server(dir.path());
    QVERIFY2(server.start(QStringList{u"--config"_s, config} + extraArguments), server.output().constData());

    // A valid submission padded with whitespace to 3000 bytes: only its size can be objected to.
    QByteArray large = SubmissionLoad::makeSubmission(QUuid::createUuid().toString(QUuid::WithoutBraces), 1).body;
    large += QByteArray(3000 - large.size(), ' ');
    QCOMPARE(large.size(), 3000);
    const RawResponse response =
        RawHttpClient::exchange(server.port(), "POST", "/api/v1/submissions", large, jsonWithToken(token));
    QCOMPARE(response.status, expectedStatus);
    if (expectedStatus == 413)
        QCOMPARE(response.errorCode(), u"body_too_large"_s);

    // A small one still passes: the limit is the INI's, not a broken server.
    const QByteArray small = SubmissionLoad::makeSubmission(QUuid::createUuid().toString(QUuid::WithoutBraces), 2).body;
    QVERIFY(small.size() < 2048);
    QCOMPARE(RawHttpClient::exchange(server.port(), "POST", "/api/v1/submissions", small, jsonWithToken(token)).status,
             202);
    QVERIFY2(server.terminate(), server.output().constData());
    QCOMPARE(server.exitCode(), 0);
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
