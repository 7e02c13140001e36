#include "mainwindow.h"

#include "activitychart.h"
#include "dashboardreader.h"
#include "detailspane.h"
#include "futurecallback.h"
#include "statestyle.h"
#include "statusstrip.h"
#include "taskfilterbar.h"
#include "tasktablemodel.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QHeaderView>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// The window state saved in QSettings, all in one place.
const QString geometryKey = u"dashboard/geometry"_s;
const QString windowStateKey = u"dashboard/windowState"_s;
const QString mainSplitterKey = u"dashboard/mainSplitter"_s;
const QString tableSplitterKey = u"dashboard/tableSplitter"_s;
const QString detailsSplitterKey = u"dashboard/detailsSplitter"_s;
const QString headerKey = u"dashboard/taskHeader"_s;

constexpr int activityIntervalMs = 2000; // the chart is an overview; redrawing it costs more than the table
constexpr int detailsIntervalMs = 1000;
constexpr int periodicIntervalMs = 5000;

} // namespace

MainWindow::MainWindow(const Sources &sources, QWidget *parent)
    : QMainWindow(parent)
    , m_sources(sources)
    , m_reader(std::make_unique<DashboardReader>(sources.databasePath))
    , m_intervalMs(qMax(0, sources.minRefreshIntervalMs))
{
    setObjectName(u"mainWindow"_s);
    setWindowTitle(tr("SiteRelay — coordinator dashboard"));
    m_model = new TaskTableModel(*m_reader, sources.catalog, this);
    buildActions();
    buildLayout();
    m_strip->setListening(sources.listenUrls, sources.tls);

    m_refreshTimer.setSingleShot(true);
    connect(&m_refreshTimer, &QTimer::timeout, this, &MainWindow::startRefresh);
    m_periodicTimer.setInterval(periodicIntervalMs);
    connect(&m_periodicTimer, &QTimer::timeout, this, &MainWindow::markDirty);
    m_periodicTimer.start();

    connect(m_model, &TaskTableModel::aboutToApplyRefresh, this, [this] {
        m_scrollAnchor.clear();
        // At the very top the list follows new arrivals; scrolled down, the rows in view stay put.
        if (m_view->verticalScrollBar()->value() > 0) {
            const QModelIndex top = m_view->indexAt(QPoint(0, 0));
            if (top.isValid())
                m_scrollAnchor = top.data(TaskTableModel::SubmissionIdRole).toString();
        }
    });
    connect(m_model, &TaskTableModel::refreshed, this, [this] {
        if (!m_scrollAnchor.isEmpty()) {
            const int row = m_model->rowOf(m_scrollAnchor);
            if (row >= 0)
                m_view->scrollTo(m_model->index(row, 0), QAbstractItemView::PositionAtTop);
            m_scrollAnchor.clear();
        }
        onSelectionChanged();
    });
    connect(m_model, &TaskTableModel::readFailed, m_strip, &StatusStrip::setReadError);
    connect(m_model, &QAbstractItemModel::modelReset, this, &MainWindow::onSelectionChanged);

    restoreWindowState();
    m_sinceRefreshStart.start();
    m_sinceActivity.invalidate();
    refreshNow();
}

MainWindow::~MainWindow()
{
    // Queries still queued are cancelled with the reader; their watchers die with this window.
    m_refreshTimer.stop();
    m_periodicTimer.stop();
    // The model reads through m_reader, which is destroyed before the child widgets: detach it first.
    saveWindowState();
    disconnect(m_view->selectionModel(), nullptr, this, nullptr);
    disconnect(m_model, nullptr, this, nullptr);
    m_view->setModel(nullptr);
    delete m_model;
    m_model = nullptr;
}

void MainWindow::buildActions()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    m_exportAction = file->addAction(tr("&Export…"));
    m_exportAction->setObjectName(u"exportAction"_s);
    m_exportAction->setShortcut(QKeySequence(u"Ctrl+E"_s));
    m_exportAction->setToolTip(tr("Export processed submissions to the trial platform (Ctrl+E)"));
    m_exportAction->setEnabled(false);
    m_batchesAction = file->addAction(tr("&Batches…"));
    m_batchesAction->setObjectName(u"batchesAction"_s);
    m_batchesAction->setShortcut(QKeySequence(u"Ctrl+B"_s));
    m_batchesAction->setToolTip(tr("Show the export batches (Ctrl+B)"));
    m_batchesAction->setEnabled(false);
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    quit->setObjectName(u"quitAction"_s);
    quit->setToolTip(tr("Close the window and stop SiteRelay"));

    QMenu *view = menuBar()->addMenu(tr("&View"));
    m_refreshAction = view->addAction(QIcon::fromTheme(u"view-refresh"_s), tr("&Refresh"));
    m_refreshAction->setObjectName(u"refreshAction"_s);
    m_refreshAction->setShortcut(QKeySequence::Refresh);
    m_refreshAction->setToolTip(tr("Read everything again now (F5); the view also refreshes by itself"));
    connect(m_refreshAction, &QAction::triggered, this, &MainWindow::refreshNow);
    QAction *find = view->addAction(tr("&Search"));
    find->setObjectName(u"searchAction"_s);
    find->setShortcut(QKeySequence::Find);
    connect(find, &QAction::triggered, this, [this] {
        m_filters->searchBox()->setFocus(Qt::ShortcutFocusReason);
        m_filters->searchBox()->selectAll();
    });
    view->addSeparator();
    QMenu *filterMenu = view->addMenu(tr("&Filter"));
    QStringList states = StateStyle::states();
    states.append(QString());
    for (const QString &state : std::as_const(states)) {
        QAction *choose = filterMenu->addAction(state.isEmpty() ? tr("All") : StateStyle::label(state));
        if (!state.isEmpty())
            choose->setIcon(StateStyle::icon(state));
        connect(choose, &QAction::triggered, this, [this, state] { m_filters->chooseState(state); });
    }

    m_actionsMenu = menuBar()->addMenu(tr("&Actions"));
    m_actionsMenu->setObjectName(u"actionsMenu"_s);
    m_openReportAction = m_actionsMenu->addAction(QIcon::fromTheme(u"application-pdf"_s), tr("Open PDF &report"));
    m_openReportAction->setObjectName(u"openReportAction"_s);
    m_openReportAction->setShortcut(QKeySequence::Open);
    m_openReportAction->setToolTip(tr("Open the selected submission's report in the PDF viewer (Ctrl+O)"));
    m_openReportAction->setEnabled(false);
    m_copyIdAction = m_actionsMenu->addAction(QIcon::fromTheme(u"edit-copy"_s), tr("&Copy submission ID"));
    m_copyIdAction->setObjectName(u"copySubmissionIdAction"_s);
    m_copyIdAction->setShortcut(QKeySequence(u"Ctrl+Shift+C"_s));
    m_copyIdAction->setToolTip(tr("Copy the selected submissions' IDs (Ctrl+Shift+C)"));
    m_copyIdAction->setEnabled(false);
    connect(m_copyIdAction, &QAction::triggered, this, &MainWindow::copySubmissionIds);
    m_actionsMenu->addSeparator();

    QMenu *site = menuBar()->addMenu(tr("&Site"));
    m_devicesAction = site->addAction(tr("&Devices…"));
    m_devicesAction->setObjectName(u"devicesAction"_s);
    m_devicesAction->setShortcut(QKeySequence(u"Ctrl+D"_s));
    m_devicesAction->setToolTip(tr("List, add and revoke tablets (Ctrl+D)"));
    m_devicesAction->setEnabled(false);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About SiteRelay"), this, [this] {
        QMessageBox::about(this, tr("About SiteRelay"),
                           tr("<b>SiteRelay %1</b><p>Receives ePRO questionnaires from the clinic's tablets, "
                              "stores each durably before acknowledging it, scores it and raises safety alerts.</p>")
                               .arg(QCoreApplication::applicationVersion()));
    });

    m_toolBar = addToolBar(tr("Main"));
    m_toolBar->setObjectName(u"mainToolBar"_s);
    m_toolBar->setMovable(false);
    m_toolBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_toolBar->addAction(m_refreshAction);
    m_toolBar->addAction(m_openReportAction);
    m_toolBar->addSeparator();
}

void MainWindow::buildLayout()
{
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(6, 4, 6, 0);
    layout->setSpacing(4);
    m_bannerArea = new QVBoxLayout;
    m_bannerArea->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(m_bannerArea);

    m_filters = new TaskFilterBar(central);
    layout->addWidget(m_filters);
    connect(m_filters, &TaskFilterBar::stateChosen, m_model, &TaskTableModel::setStateFilter);
    connect(m_filters, &TaskFilterBar::searchChanged, m_model, &TaskTableModel::setSearchText);

    m_mainSplitter = new QSplitter(Qt::Horizontal, central);
    m_mainSplitter->setObjectName(u"mainSplitter"_s);
    m_mainSplitter->setChildrenCollapsible(false);
    m_tableSplitter = new QSplitter(Qt::Vertical, m_mainSplitter);
    m_tableSplitter->setObjectName(u"tableSplitter"_s);
    m_tableSplitter->setChildrenCollapsible(false);

    m_view = new QTableView(m_tableSplitter);
    m_view->setObjectName(u"taskTable"_s);
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->setCornerButtonEnabled(false);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 8);
    QHeaderView *header = m_view->horizontalHeader();
    header->setSectionsMovable(true);
    header->setHighlightSections(false);
    header->setStretchLastSection(true);
    const QFontMetrics metrics = m_view->fontMetrics();
    const int widths[taskColumnCount] = {
        metrics.horizontalAdvance(u"2026-11-26 09:30:00"_s) + 24,    // received
        metrics.horizontalAdvance(u"P-000000"_s) + 16,               // patient
        metrics.horizontalAdvance(u"TRIAL-000"_s) + 16,              // trial
        metrics.horizontalAdvance(u"GAD-7"_s) + 24,                  // questionnaire (short title)
        metrics.horizontalAdvance(u"Tablet room 12"_s) + 16,         // device
        metrics.horizontalAdvance(u"Timed out"_s) + 44,              // state, with its icon
        metrics.horizontalAdvance(u"Attempts"_s) + 24,               // attempts
        metrics.horizontalAdvance(u"19 · Moderately severe"_s) + 16, // longer bands elide; the tooltip has it all
        metrics.horizontalAdvance(u"critical – not acknowledged"_s) + 44,
        metrics.horizontalAdvance(u"Export batch"_s) + 24,
    };
    for (int c = 0; c < taskColumnCount; ++c) {
        const int title = metrics.horizontalAdvance(m_model->headerData(c, Qt::Horizontal).toString()) + 28;
        header->resizeSection(c, qMax(widths[c], title)); // the title and its sort arrow fit
    }
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(int(TaskColumn::Received), Qt::DescendingOrder);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::onSelectionChanged);
    connect(m_view, &QTableView::doubleClicked, this, [this](const QModelIndex &) { m_details->openReport(); });

    m_activity = new ActivityChart(m_tableSplitter);
    m_tableSplitter->addWidget(m_view);
    m_tableSplitter->addWidget(m_activity);
    m_tableSplitter->setStretchFactor(0, 4);
    m_tableSplitter->setStretchFactor(1, 1);

    m_details = new DetailsPane(m_sources.catalog, m_mainSplitter);
    m_mainSplitter->addWidget(m_tableSplitter);
    m_mainSplitter->addWidget(m_details);
    m_mainSplitter->setStretchFactor(0, 3);
    m_mainSplitter->setStretchFactor(1, 2);
    layout->addWidget(m_mainSplitter, 1);
    setCentralWidget(central);
    connect(m_openReportAction, &QAction::triggered, m_details, &DetailsPane::openReport);

    m_strip = new StatusStrip(this);
    statusBar()->addWidget(m_strip, 1);
    statusBar()->setSizeGripEnabled(true);
}

std::unique_ptr<QSettings> MainWindow::settings() const
{
    if (m_sources.settingsFile.isEmpty())
        return std::make_unique<QSettings>();
    return std::make_unique<QSettings>(m_sources.settingsFile, QSettings::IniFormat);
}

void MainWindow::restoreWindowState()
{
    const auto s = settings();
    if (!restoreGeometry(s->value(geometryKey).toByteArray()))
        resize(1400, 860);
    // First run: most of the width for the list, a fifth of its height for today's chart.
    m_mainSplitter->setSizes({width() * 64 / 100, width() * 36 / 100});
    m_tableSplitter->setSizes({height() * 75 / 100, height() * 25 / 100});
    restoreState(s->value(windowStateKey).toByteArray());
    m_mainSplitter->restoreState(s->value(mainSplitterKey).toByteArray());
    m_tableSplitter->restoreState(s->value(tableSplitterKey).toByteArray());
    m_details->splitter()->restoreState(s->value(detailsSplitterKey).toByteArray());
    m_view->horizontalHeader()->restoreState(s->value(headerKey).toByteArray());
}

void MainWindow::saveWindowState()
{
    const auto s = settings();
    s->setValue(geometryKey, saveGeometry());
    s->setValue(windowStateKey, saveState());
    s->setValue(mainSplitterKey, m_mainSplitter->saveState());
    s->setValue(tableSplitterKey, m_tableSplitter->saveState());
    s->setValue(detailsSplitterKey, m_details->splitter()->saveState());
    s->setValue(headerKey, m_view->horizontalHeader()->saveState());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveWindowState();
    QMainWindow::closeEvent(event);
}

void MainWindow::setBanner(QWidget *banner)
{
    if (m_banner == banner)
        return;
    if (m_banner) {
        m_bannerArea->removeWidget(m_banner);
        m_banner->deleteLater();
    }
    m_banner = banner;
    if (m_banner) {
        m_banner->setParent(centralWidget());
        m_bannerArea->addWidget(m_banner);
        m_banner->show();
    }
}

QStringList MainWindow::selectedSubmissionIds() const
{
    QModelIndexList rows = m_view->selectionModel()->selectedRows();
    std::sort(rows.begin(), rows.end(), [](const QModelIndex &a, const QModelIndex &b) { return a.row() < b.row(); });
    QStringList ids;
    ids.reserve(rows.size());
    for (const QModelIndex &index : std::as_const(rows))
        ids.append(index.data(TaskTableModel::SubmissionIdRole).toString());
    return ids;
}

void MainWindow::onSelectionChanged()
{
    const QStringList ids = selectedSubmissionIds();
    if (ids == m_lastSelection)
        return;
    m_lastSelection = ids;
    m_copyIdAction->setEnabled(!ids.isEmpty());
    if (ids.size() == 1) {
        requestDetails();
    } else {
        ++m_detailsRequest;
        m_details->clear(ids.isEmpty() ? QString() : tr("%n tasks selected.", nullptr, int(ids.size())));
        m_openReportAction->setEnabled(false);
    }
    Q_EMIT selectionChanged(ids);
}

void MainWindow::requestDetails()
{
    if (m_lastSelection.size() != 1)
        return;
    const quint64 request = ++m_detailsRequest;
    const QString id = m_lastSelection.constFirst();
    m_sinceDetails.start();
    ++m_stepsInFlight;
    whenFinished(m_reader->details(id), this, [this, request](const Expected<SubmissionDetails> &details) {
        if (request == m_detailsRequest) {
            if (details) {
                m_details->setDetails(*details);
                m_openReportAction->setEnabled(!details->reportPath.isEmpty());
            } else {
                m_details->clear(details.error().message);
                m_openReportAction->setEnabled(false);
            }
        }
        cycleStepDone();
    });
}

void MainWindow::copySubmissionIds()
{
    const QStringList ids = selectedSubmissionIds();
    if (!ids.isEmpty())
        QGuiApplication::clipboard()->setText(ids.join(u'\n'));
}

void MainWindow::markDirty()
{
    m_dirty = true;
    scheduleRefresh();
}

void MainWindow::refreshNow()
{
    m_dirty = true;
    m_refreshTimer.stop();
    if (m_stepsInFlight == 0)
        startRefresh();
}

void MainWindow::scheduleRefresh()
{
    if (!m_dirty || m_refreshTimer.isActive() || m_stepsInFlight > 0)
        return;
    const qint64 wait = qMax<qint64>(0, m_intervalMs - m_sinceRefreshStart.elapsed());
    m_refreshTimer.start(int(wait));
}

void MainWindow::startRefresh()
{
    if (m_stepsInFlight > 0)
        return; // cycleStepDone() schedules the next one
    m_dirty = false;
    m_sinceRefreshStart.restart();
    m_model->refresh();
    if (m_sources.workerLoad) {
        const WorkerLoad load = m_sources.workerLoad();
        m_strip->setWorkers(load.busy, load.max, load.enabled);
    } else {
        m_strip->setWorkers(0, 0, false);
    }

    const QDateTime now = QDateTime::currentDateTimeUtc();
    ++m_stepsInFlight;
    whenFinished(m_reader->summary(now), this, [this](const Expected<DashboardSummary> &summary) {
        if (summary) {
            m_strip->setSummary(*summary);
            m_filters->setCounts(summary->stateCounts, summary->total);
        } else {
            m_strip->setReadError(summary.error().message);
        }
        cycleStepDone();
    });
    if (!m_sinceActivity.isValid() || m_sinceActivity.elapsed() >= activityIntervalMs) {
        m_sinceActivity.start();
        const QDateTime dayStart = QDateTime(QDate::currentDate(), QTime(0, 0));
        ++m_stepsInFlight;
        whenFinished(m_reader->activity(dayStart.toUTC(), dayStart.addDays(1).toUTC()), this,
                     [this, dayStart](const Expected<QList<HourActivity>> &hours) {
                         if (hours)
                             m_activity->setActivity(*hours, dayStart);
                         cycleStepDone();
                     });
    }
    if (m_lastSelection.size() == 1 && (!m_sinceDetails.isValid() || m_sinceDetails.elapsed() >= detailsIntervalMs))
        requestDetails();
}

void MainWindow::cycleStepDone()
{
    if (--m_stepsInFlight > 0)
        return;
    ++m_refreshCount;
    // Slow reads (a huge database on a slow disk) stretch the interval instead of queueing reads.
    m_intervalMs = qMax(m_sources.minRefreshIntervalMs, int(2 * m_sinceRefreshStart.elapsed()));
    Q_EMIT refreshed();
    scheduleRefresh();
}

} // namespace SiteRelay
