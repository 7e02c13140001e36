#include "dashboardtestkit.h"
#include "siterelayprocess.h"
#include "testpaths.h"

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

/**
 * The real binary: with a display (here the offscreen platform) it opens the dashboard, takes
 * submissions while it is open and shuts down cleanly on SIGTERM, saving the window state;
 * --headless opens no window at all.
 */
class TestDashboardApp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void windowOrHeadless_data();
    void windowOrHeadless();
};

void TestDashboardApp::windowOrHeadless_data()
{
    QTest::addColumn<bool>("headless");
    QTest::addRow("with a display") << false;
    QTest::addRow("headless") << true;
}

void TestDashboardApp::windowOrHeadless()
{
    QFETCH(bool, headless);
    QTemporaryDir dataDir;
    QTemporaryDir configHome; // QSettings of the window goes here, not into the user's ~/.config
    QVERIFY(dataDir.isValid() && configHome.isValid());
    const QByteArray token = SiteRelayProcess::addDevice(dataDir.path(), u"tablet"_s);
    QVERIFY(!token.isEmpty());

    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"QT_QPA_PLATFORM"_s, u"offscreen"_s);
    environment.insert(u"XDG_CONFIG_HOME"_s, configHome.path());
    process.setProcessEnvironment(environment);
    QStringList arguments{u"--bind"_s, u"127.0.0.1"_s, u"--port"_s, u"0"_s, u"--data-dir"_s, dataDir.path()};
    if (headless)
        arguments.prepend(u"--headless"_s);
    process.start(siterelayBinary(), arguments);
    QVERIFY(process.waitForStarted(10000));
    QByteArray output;
    const QRegularExpression listening(uR"(listening on http://127\.0\.0\.1:(\d+))"_s);
    QRegularExpressionMatch match;
    QTRY_VERIFY_WITH_TIMEOUT((output += process.readAllStandardOutput(),
                              match = listening.match(QString::fromUtf8(output)), match.hasMatch()),
                             20000);
    const auto port = quint16(match.captured(1).toUInt());
    for (int i = 0; i < 3; ++i)
        QCOMPARE(postSubmission(port, token, phq9Body(u"P-APP%1"_s.arg(i))), 202);

    process.terminate();
    QVERIFY(process.waitForFinished(20000));
    const QByteArray errors = process.readAllStandardError();
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QVERIFY2(process.exitCode() == 0, errors.constData());
    // A read connection closed on the wrong thread or still in use shows up as a Qt SQL warning.
    QVERIFY2(!errors.contains("QSqlDatabase"), errors.constData());

    const QString settingsFile = configHome.filePath(u"SiteRelay/siterelay.conf"_s);
    if (headless) {
        QVERIFY(!QFile::exists(settingsFile));
    } else {
        QVERIFY2(QFile::exists(settingsFile), qPrintable(settingsFile));
        QSettings saved(settingsFile, QSettings::IniFormat);
        QVERIFY(!saved.value(u"dashboard/geometry"_s).toByteArray().isEmpty());
        QVERIFY(!saved.value(u"dashboard/taskHeader"_s).toByteArray().isEmpty());
    }
}

QTEST_GUILESS_MAIN(TestDashboardApp)
#include "tst_dashboardapp.moc"
