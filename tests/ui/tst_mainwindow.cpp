#include "activitychart.h"
#include "dashboardtestkit.h"
#include "detailspane.h"
#include "mainwindow.h"
#include "questionnairecatalog.h"
#include "scoretrendchart.h"
#include "statusstrip.h"
#include "taskengine.h"
#include "taskfilterbar.h"
#include "tasktablemodel.h"
#include "testserver.h"

#include <QAbstractButton>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

constexpr int longWaitMs = 20000;

QString labelText(const QWidget &root, const QString &objectName)
{
    const auto *label = root.findChild<QLabel *>(objectName);
    return label ? label->text() : QString();
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void countsAndRowsFollowHttpSubmissions();
    void filterButtonsAndSearchBox_data();
    void filterButtonsAndSearchBox();
    void detailsOfAProcessedSubmission();
    void scrolledViewKeepsItsRowsWhenNewOnesArrive();
    void burstOfChangesIsCoalesced();
    void windowAndColumnStateAreRemembered();

private:
    void start(const QHash<QString, QString> &overrides = {});
    std::unique_ptr<MainWindow> makeWindow();

    QTemporaryDir m_settingsDir;
    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<MainWindow> m_window;
};

void TestMainWindow::init()
{
    QVERIFY(m_settingsDir.isValid());
}

void TestMainWindow::cleanup()
{
    m_window.reset();
    m_server.reset();
    QFile::remove(m_settingsDir.filePath(u"dashboard.ini"_s));
}

void TestMainWindow::start(const QHash<QString, QString> &overrides)
{
    m_server = std::make_unique<TestServer>(overrides);
    QVERIFY2(m_server->isRunning(), qPrintable(m_server->errorMessage()));
    m_window = makeWindow();
    m_window->show();
}

std::unique_ptr<MainWindow> TestMainWindow::makeWindow()
{
    MainWindow::Sources sources;
    sources.databasePath = m_server->databasePath();
    sources.catalog = &m_server->host().catalog();
    sources.listenUrls = {m_server->host().url()};
    ServerHost *host = &m_server->host();
    sources.workerLoad = [host] {
        WorkerLoad load;
        if (TaskEngine *engine = host->engine()) {
            const EngineSnapshot snapshot = engine->snapshot();
            load = WorkerLoad{true, snapshot.workersActive, snapshot.workersMax};
        }
        return load;
    };
    sources.settingsFile = m_settingsDir.filePath(u"dashboard.ini"_s);
    auto window = std::make_unique<MainWindow>(sources);
    // Wired as the composition root does.
    connect(&host->store(), &SubmissionStore::committed, window.get(), &MainWindow::markDirty, Qt::QueuedConnection);
    if (TaskEngine *engine = host->engine())
        connect(engine, &TaskEngine::taskChanged, window.get(), &MainWindow::markDirty, Qt::QueuedConnection);
    return window;
}

void TestMainWindow::countsAndRowsFollowHttpSubmissions()
{
    start();
    QTRY_COMPARE_WITH_TIMEOUT(m_window->filterBar()->button(QString())->text(), u"All (0)"_s, longWaitMs);
    QVERIFY(labelText(*m_window, u"listenUrlLabel"_s).contains(m_server->host().url()));
    QCOMPARE(labelText(*m_window, u"tlsLabel"_s), u"TLS off"_s);
    QCOMPARE(labelText(*m_window, u"workersLabel"_s), u"Processing off"_s);

    for (int i = 0; i < 5; ++i)
        QCOMPARE(postSubmission(m_server->port(), m_server->deviceToken(), phq9Body(u"P-%1"_s.arg(i), 1, i == 4)), 202);
    // No refreshNow(): the store's committed signal alone must bring the rows in.
    QTRY_COMPARE_WITH_TIMEOUT(m_window->taskModel()->rowCount(), 5, longWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->filterBar()->button(QString())->text(), u"All (5)"_s, longWaitMs);
    QCOMPARE(m_window->filterBar()->button(u"pending"_s)->text(), u"Pending (5)"_s);
    QCOMPARE(m_window->filterBar()->button(u"failed"_s)->text(), u"Failed (0)"_s);
    QTRY_COMPARE_WITH_TIMEOUT(labelText(*m_window, u"ingestRateLabel"_s), u"Ingest: 5/min"_s, longWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(labelText(*m_window, u"devicesSeenLabel"_s), u"Devices (5 min): 1"_s, longWaitMs);
    QVERIFY(labelText(*m_window, u"databaseSizeLabel"_s).startsWith(u"Database: "_s));
    QCOMPARE(m_window->taskModel()->index(0, int(TaskColumn::Patient)).data().toString(), u"P-4"_s);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->activityChart()->count(QTime::currentTime().hour(), u"pending"_s), 5,
                              longWaitMs);

    // A state change reaches the counts too.
    const QString id = m_window->taskModel()->rowAt(0).submissionId;
    auto done = setState(m_server->host().store(), id, u"failed"_s);
    QTRY_VERIFY_WITH_TIMEOUT(done.isFinished(), longWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->filterBar()->button(u"failed"_s)->text(), u"Failed (1)"_s, longWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->taskModel()->rowAt(0).state, u"failed"_s, longWaitMs);
}

void TestMainWindow::filterButtonsAndSearchBox_data()
{
    QTest::addColumn<QString>("state");
    QTest::addColumn<QString>("search");
    QTest::addColumn<int>("expected");
    QTest::addRow("all") << QString() << QString() << 6;
    QTest::addRow("failed button") << u"failed"_s << QString() << 2;
    QTest::addRow("pending button") << u"pending"_s << QString() << 4;
    QTest::addRow("one patient") << QString() << u"P-SMITH"_s << 3;
    QTest::addRow("one patient, failed") << u"failed"_s << u"P-SMITH"_s << 1;
}

void TestMainWindow::filterButtonsAndSearchBox()
{
    QFETCH(QString, state);
    QFETCH(QString, search);
    QFETCH(int, expected);
    start();
    QStringList ids;
    for (int i = 0; i < 6; ++i) {
        const NewSubmission s = phq9Submission(1, i % 2 ? u"P-SMITH"_s : u"P-JONES"_s, i);
        ids.append(s.submissionId);
        auto appended = m_server->host().store().append(s);
        QTRY_VERIFY_WITH_TIMEOUT(appended.isFinished(), longWaitMs);
        QVERIFY(appended.result().hasValue());
    }
    for (const int i : {0, 1}) {
        auto done = setState(m_server->host().store(), ids.at(i), u"failed"_s);
        QTRY_VERIFY_WITH_TIMEOUT(done.isFinished(), longWaitMs);
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_window->taskModel()->rowCount(), 6, longWaitMs);

    m_window->filterBar()->button(state)->click();
    QLineEdit *box = m_window->findChild<QLineEdit *>(u"searchBox"_s);
    QVERIFY(box);
    box->setFocus();
    QTest::keyClicks(box, search);
    QTest::keyClick(box, Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->taskModel()->rowCount(), expected, longWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->taskModel()->isBusy(), longWaitMs);
    QCOMPARE(m_window->taskModel()->rowCount(), expected);
    for (int row = 0; row < expected; ++row) {
        if (!search.isEmpty())
            QCOMPARE(m_window->taskModel()->rowAt(row).patientId, search);
        if (!state.isEmpty())
            QCOMPARE(m_window->taskModel()->rowAt(row).state, state);
    }
}

void TestMainWindow::detailsOfAProcessedSubmission()
{
    // The real engine, no analysis service: validate, score, report.
    start({{u"engine/enabled"_s, u"true"_s}, {u"report/enabled"_s, u"true"_s}});
    QCOMPARE(postSubmission(m_server->port(), m_server->deviceToken(),
                            phq9Body(u"P-TREND"_s, 1, 0, u"2026-11-20T09:00:00+01:00"_s)),
             202);
    QCOMPARE(postSubmission(m_server->port(), m_server->deviceToken(),
                            phq9Body(u"P-TREND"_s, 3, 2, u"2026-11-26T09:00:00+01:00"_s)),
             202);
    TaskTableModel *model = m_window->taskModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, longWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(model->rowAt(0).state == u"processed"_s && model->rowAt(1).state == u"processed"_s,
                             longWaitMs);
    QCOMPARE(model->rowAt(0).scoreTotal, std::optional<int>(5));
    QCOMPARE(model->index(0, int(TaskColumn::Score)).data().toString(), u"5 · Mild depression"_s);
    QVERIFY(model->index(0, int(TaskColumn::Alert)).data().toString().contains(u"not acknowledged"_s));
    QTRY_VERIFY_WITH_TIMEOUT(labelText(*m_window, u"unacknowledgedAlertsLabel"_s).endsWith(u": 1"_s), longWaitMs);

    QSignalSpy selected(m_window.get(), &MainWindow::selectionChanged);
    m_window->taskView()->selectRow(0);
    QCOMPARE(selected.size(), 1);
    QCOMPARE(m_window->selectedSubmissionIds(), QStringList{model->rowAt(0).submissionId});
    DetailsPane *details = m_window->detailsPane();
    QTRY_COMPARE_WITH_TIMEOUT(details->submissionId(), model->rowAt(0).submissionId, longWaitMs);

    // Answers with the published item wording from the catalog.
    auto *answers = details->findChild<QTreeWidget *>(u"answersView"_s);
    const Questionnaire *phq9 = m_server->host().catalog().find(u"phq9"_s);
    QCOMPARE(answers->topLevelItemCount(), phq9->items.size()); // item 10 (unscored) unanswered, still listed
    QCOMPARE(answers->topLevelItem(0)->text(0), u"phq9_q1"_s);
    QCOMPARE(answers->topLevelItem(0)->text(2), m_server->host().catalog().find(u"phq9"_s)->item(u"phq9_q1"_s)->text);
    QVERIFY(answers->topLevelItem(8)->text(1).startsWith(u"2 — "_s));
    QVERIFY(labelText(*details, u"detailsFactsLabel"_s).contains(u"Score: 5 of 27"_s));
    // One attempt, with its stage timings as children.
    auto *attempts = details->findChild<QTreeWidget *>(u"attemptsView"_s);
    QCOMPARE(attempts->topLevelItemCount(), 1);
    QCOMPARE(attempts->topLevelItem(0)->text(3), u"processed"_s);
    QVERIFY(attempts->topLevelItem(0)->childCount() >= 2);
    auto *alerts = details->findChild<QTreeWidget *>(u"alertsView"_s);
    QCOMPARE(alerts->topLevelItemCount(), 1);
    QCOMPARE(alerts->topLevelItem(0)->text(0), u"critical"_s);
    // The audit trail: received, then the engine's changes.
    auto *audit = details->findChild<QTreeWidget *>(u"auditView"_s);
    QVERIFY(audit->topLevelItemCount() >= 2);
    QCOMPARE(audit->topLevelItem(0)->text(2), u"received"_s);
    // The trend: both submissions over the five PHQ-9 bands.
    auto *trend = details->findChild<ScoreTrendChart *>();
    QCOMPARE(trend->pointCount(), 2);
    QCOMPARE(trend->bandCount(), 5);
    // The report opens through the desktop; here through the seam.
    QString opened;
    details->setReportOpener([&opened](const QString &path) {
        opened = path;
        return true;
    });
    QVERIFY(m_window->openReportAction()->isEnabled());
    m_window->openReportAction()->trigger();
    QVERIFY(!opened.isEmpty());
    QVERIFY2(QFile::exists(opened), qPrintable(opened));

    // Two rows: the pane says so instead of showing one of them.
    m_window->taskView()->selectAll();
    QCOMPARE(m_window->selectedSubmissionIds().size(), 2);
    QVERIFY(details->submissionId().isEmpty());
}

void TestMainWindow::scrolledViewKeepsItsRowsWhenNewOnesArrive()
{
    start();
    QList<NewSubmission> submissions;
    for (int i = 0; i < 150; ++i)
        submissions.append(phq9Submission(1, u"P-%1"_s.arg(i), i % 4));
    auto last = appendAll(m_server->host().store(), submissions);
    QTRY_VERIFY_WITH_TIMEOUT(last.isFinished(), longWaitMs);
    m_window->resize(1200, 800);
    QTableView *view = m_window->taskView();
    QTRY_COMPARE_WITH_TIMEOUT(m_window->taskModel()->rowCount(), 150, longWaitMs);
    view->scrollTo(m_window->taskModel()->index(60, 0), QAbstractItemView::PositionAtTop);
    QVERIFY(view->verticalScrollBar()->value() > 0);
    const QString top = view->indexAt(QPoint(0, 0)).data(TaskTableModel::SubmissionIdRole).toString();
    QVERIFY(!top.isEmpty());

    for (int i = 0; i < 4; ++i)
        QCOMPARE(postSubmission(m_server->port(), m_server->deviceToken(), phq9Body(u"P-LATE%1"_s.arg(i))), 202);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->taskModel()->rowCount(), 154, longWaitMs);
    QCOMPARE(view->indexAt(QPoint(0, 0)).data(TaskTableModel::SubmissionIdRole).toString(), top);

    // At the top, the view follows new arrivals instead.
    view->scrollToTop();
    QCOMPARE(postSubmission(m_server->port(), m_server->deviceToken(), phq9Body(u"P-NEWEST"_s)), 202);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->taskModel()->rowCount(), 155, longWaitMs);
    QCOMPARE(view->indexAt(QPoint(0, 0)).data(TaskTableModel::SubmissionIdRole).toString(),
             m_window->taskModel()->rowAt(0).submissionId);
    QCOMPARE(m_window->taskModel()->rowAt(0).patientId, u"P-NEWEST"_s);
}

void TestMainWindow::burstOfChangesIsCoalesced()
{
    start();
    QTRY_VERIFY_WITH_TIMEOUT(m_window->refreshCount() >= 1, longWaitMs);
    QSignalSpy cycles(m_window.get(), &MainWindow::refreshed);
    QElapsedTimer clock;
    clock.start();
    // A thousand change notifications within a few milliseconds: one or two refreshes, not a thousand.
    for (int i = 0; i < 1000; ++i)
        m_window->markDirty();
    QTRY_VERIFY_WITH_TIMEOUT(cycles.size() >= 1, longWaitMs);
    const qint64 firstAfterMs = clock.elapsed();
    QTRY_VERIFY_WITH_TIMEOUT(clock.elapsed() > firstAfterMs + 600, longWaitMs);
    QVERIFY2(cycles.size() <= 2, qPrintable(QString::number(cycles.size())));
}

void TestMainWindow::windowAndColumnStateAreRemembered()
{
    start();
    m_window->resize(1311, 777);
    QHeaderView *header = m_window->taskView()->horizontalHeader();
    header->resizeSection(int(TaskColumn::Patient), 222);
    header->setSortIndicator(int(TaskColumn::Patient), Qt::AscendingOrder);
    m_window->close(); // saves
    m_window.reset();

    m_window = makeWindow();
    QCOMPARE(m_window->size(), QSize(1311, 777));
    header = m_window->taskView()->horizontalHeader();
    QCOMPARE(header->sectionSize(int(TaskColumn::Patient)), 222);
    QCOMPARE(header->sortIndicatorSection(), int(TaskColumn::Patient));
    QCOMPARE(header->sortIndicatorOrder(), Qt::AscendingOrder);
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
