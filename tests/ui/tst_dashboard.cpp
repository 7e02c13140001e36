// The assembled dashboard (ui/dashboard.*) against a real in-process server: the banner sits in
// the window, the task actions act on the table's selection and change the stored state, the
// menu entries open the devices (with tablet enrollment), export and batches dialogs, and the
// store's commits alone bring new rows in, wired as the composition root wires them.
#include "alertbanner.h"
#include "batchesdialog.h"
#include "dashboard.h"
#include "dashboardtestkit.h"
#include "devicesdialog.h"
#include "exportdialog.h"
#include "taskactions.h"
#include "tasktablemodel.h"
#include "testserver.h"

#include <QAction>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QToolBar>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

constexpr int longWaitMs = 20000;

} // namespace

class TestDashboard : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void bannerAndActionsAreInTheWindow();
    void retryFromTheTableChangesTheStoredState();
    void exportSelectedFollowsTheSelection();
    void menuEntriesOpenOneDialogEach_data();
    void menuEntriesOpenOneDialogEach();
    void enrollmentIsOfferedOnlyWithASiteUrl_data();
    void enrollmentIsOfferedOnlyWithASiteUrl();

private:
    void start(const QStringList &siteUrls = {u"http://192.0.2.10:8787"_s});

    QTemporaryDir m_dir;
    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<Dashboard> m_dashboard;
};

void TestDashboard::init()
{
    QVERIFY(m_dir.isValid());
}

void TestDashboard::cleanup()
{
    m_dashboard.reset();
    m_server.reset();
}

void TestDashboard::start(const QStringList &siteUrls)
{
    m_server = std::make_unique<TestServer>();
    QVERIFY2(m_server->isRunning(), qPrintable(m_server->errorMessage()));
    Dashboard::Context context;
    context.store = &m_server->host().store();
    context.engine = m_server->host().engine();
    context.catalog = &m_server->host().catalog();
    context.dataDir = m_server->dataDir();
    context.listenUrls = {m_server->host().url()};
    context.enrollmentSiteUrls = siteUrls;
    context.windowSettingsFile = m_dir.filePath(u"dashboard.ini"_s);
    m_dashboard = std::make_unique<Dashboard>(std::move(context));
    connect(&m_server->host().store(), &SubmissionStore::committed, m_dashboard.get(), &Dashboard::storeChanged,
            Qt::QueuedConnection);
    m_dashboard->window()->show();
}

void TestDashboard::bannerAndActionsAreInTheWindow()
{
    start();
    MainWindow *window = m_dashboard->window();
    QCOMPARE(window->banner(), m_dashboard->alertBanner());
    const QList<QAction *> menu = window->actionsMenu()->actions();
    const QList<QAction *> toolBar = window->toolBar()->actions();
    for (QAction *action : m_dashboard->taskActions()->actions()) {
        QVERIFY2(menu.contains(action), qPrintable(action->text()));
        QVERIFY2(toolBar.contains(action), qPrintable(action->text()));
    }
    // Nothing selected: nothing to act on.
    QVERIFY(!m_dashboard->taskActions()->retryAction()->isEnabled());
    QVERIFY(!m_dashboard->taskActions()->cancelAction()->isEnabled());
}

void TestDashboard::retryFromTheTableChangesTheStoredState()
{
    start();
    MainWindow *window = m_dashboard->window();
    QCOMPARE(postSubmission(m_server->port(), m_server->deviceToken(), phq9Body(u"P-RETRY"_s)), 202);
    // Only the store's committed signal, connected as in the composition root, brings it in.
    QTRY_COMPARE_WITH_TIMEOUT(window->taskModel()->rowCount(), 1, longWaitMs);
    const QString id = window->taskModel()->rowAt(0).submissionId;
    auto failed = setState(m_server->host().store(), id, u"failed"_s);
    QTRY_VERIFY_WITH_TIMEOUT(failed.isFinished(), longWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(window->taskModel()->rowAt(0).state, u"failed"_s, longWaitMs);

    window->taskView()->selectRow(0);
    QTRY_VERIFY_WITH_TIMEOUT(m_dashboard->taskActions()->retryAction()->isEnabled(), longWaitMs);
    QVERIFY(!m_dashboard->taskActions()->cancelAction()->isEnabled()); // a failed task has nothing to cancel
    m_dashboard->taskActions()->retryAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->countRows(u"submissions"_s, u"state = 'pending'"_s), qint64(1), longWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(
        m_server->countRows(u"audit_log"_s, u"actor = 'dashboard' AND entity_id = '%1'"_s.arg(id)), qint64(1),
        longWaitMs);
    // The refresh after the action shows the new state in the table and the actions follow it.
    QTRY_COMPARE_WITH_TIMEOUT(window->taskModel()->rowAt(0).state, u"pending"_s, longWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!m_dashboard->taskActions()->retryAction()->isEnabled(), longWaitMs);
    QVERIFY(m_dashboard->taskActions()->cancelAction()->isEnabled());
}

void TestDashboard::exportSelectedFollowsTheSelection()
{
    start();
    MainWindow *window = m_dashboard->window();
    for (const QString &patient : {u"P-A"_s, u"P-B"_s})
        QCOMPARE(postSubmission(m_server->port(), m_server->deviceToken(), phq9Body(patient)), 202);
    QTRY_COMPARE_WITH_TIMEOUT(window->taskModel()->rowCount(), 2, longWaitMs);
    const QString processedId = window->taskModel()->rowAt(0).submissionId;
    auto processed = setState(m_server->host().store(), processedId, u"processed"_s);
    QTRY_VERIFY_WITH_TIMEOUT(processed.isFinished(), longWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(window->taskModel()->rowAt(0).state, u"processed"_s, longWaitMs);

    QAction *exportSelected = m_dashboard->exportSelectedAction();
    QVERIFY(window->actionsMenu()->actions().contains(exportSelected));
    window->taskView()->selectRow(1); // pending: nothing to export yet
    QVERIFY(!exportSelected->isEnabled());
    window->taskView()->selectRow(0);
    QVERIFY(exportSelected->isEnabled());

    exportSelected->trigger();
    const QList<ExportDialog *> dialogs = window->findChildren<ExportDialog *>();
    QCOMPARE(dialogs.size(), 1);
    auto *label = dialogs.constFirst()->findChild<QLabel *>(u"batchLabel"_s);
    QVERIFY(label && label->isVisibleTo(dialogs.constFirst()));
    QVERIFY2(label->text().startsWith(u"1 selected"_s), qPrintable(label->text()));
    // Exporting it takes exactly the selected row.
    dialogs.constFirst()->startExport();
    QTRY_VERIFY_WITH_TIMEOUT(dialogs.constFirst()->lastResult().has_value(), longWaitMs);
    QVERIFY2(dialogs.constFirst()->lastResult()->ok(), qPrintable(dialogs.constFirst()->lastResult()->error.message));
    QCOMPARE(m_server->countRows(u"submissions"_s, u"export_batch_id IS NOT NULL"_s), qint64(1));
    QCOMPARE(m_server->countRows(u"submissions"_s,
                                 u"export_batch_id IS NOT NULL AND submission_id = '%1'"_s.arg(processedId)),
             qint64(1));
}

void TestDashboard::menuEntriesOpenOneDialogEach_data()
{
    QTest::addColumn<QString>("entry");
    QTest::addRow("devices") << u"devices"_s;
    QTest::addRow("export") << u"export"_s;
    QTest::addRow("batches") << u"batches"_s;
}

void TestDashboard::menuEntriesOpenOneDialogEach()
{
    QFETCH(QString, entry);
    start();
    MainWindow *window = m_dashboard->window();
    QAction *action = entry == "devices"_L1  ? window->devicesAction()
                      : entry == "export"_L1 ? window->exportAction()
                                             : window->batchesAction();
    QVERIFY(action->isEnabled());
    const auto openDialogs = [window, &entry]() -> qsizetype {
        if (entry == "devices"_L1)
            return window->findChildren<DevicesDialog *>().size();
        if (entry == "export"_L1)
            return window->findChildren<ExportDialog *>().size();
        return window->findChildren<BatchesDialog *>().size();
    };
    QCOMPARE(openDialogs(), 0);
    action->trigger();
    QCOMPARE(openDialogs(), 1);
    // Triggering again raises the open dialog instead of stacking a second one.
    action->trigger();
    QCOMPARE(openDialogs(), 1);
}

void TestDashboard::enrollmentIsOfferedOnlyWithASiteUrl_data()
{
    QTest::addColumn<QStringList>("siteUrls");
    QTest::addColumn<bool>("enabled");
    QTest::addRow("LAN address known") << QStringList{u"http://192.0.2.10:8787"_s} << true;
    QTest::addRow("no LAN address") << QStringList{} << false;
}

void TestDashboard::enrollmentIsOfferedOnlyWithASiteUrl()
{
    QFETCH(QStringList, siteUrls);
    QFETCH(bool, enabled);
    start(siteUrls);
    DevicesDialog *dialog = m_dashboard->openDevices();
    QVERIFY(dialog);
    auto *enroll = dialog->findChild<QPushButton *>(u"enrollTabletButton"_s);
    QVERIFY(enroll);
    QCOMPARE(enroll->isEnabled(), enabled);
}

QTEST_MAIN(TestDashboard)
#include "tst_dashboard.moc"
