#pragma once

#include <QElapsedTimer>
#include <QMainWindow>
#include <QTimer>

#include <functional>
#include <memory>

class QAction;
class QLabel;
class QSettings;
class QSplitter;
class QTableView;
class QToolBar;
class QVBoxLayout;

namespace SiteRelay {

class ActivityChart;
class DashboardReader;
class DetailsPane;
class QuestionnaireCatalog;
class StatusStrip;
class TaskFilterBar;
class TaskTableModel;

/// Processing workers busy of the maximum, as the status strip shows them.
struct WorkerLoad
{
    bool enabled = false;
    int busy = 0;
    int max = 0;
};

/**
 * The coordinator's dashboard: state filters with live counts and a search, the task list, the
 * details of the selected task, today's activity and the status strip.
 *
 * Every read goes through its own DashboardReader (a thread with its own SQLite connection); the
 * window only applies results. Live updates: connect the store's committed and the engine's
 * taskChanged signals (queued) to markDirty(); refreshes are coalesced to at most one every 250 ms
 * (longer when reads take longer), and the selection and scroll position survive them.
 *
 * Integration points for actions and dialogs built elsewhere: setBanner() (a widget above the
 * filters), actionsMenu() and toolBar() (add QActions; selectedSubmissionIds() and
 * selectionChanged() tell them what to act on), devicesAction(), exportAction(), batchesAction()
 * (disabled until whoever connects them enables them) and refreshNow() after an action.
 *
 * GUI thread only. Window geometry, splitters and the column layout are saved in QSettings.
 */
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)
public:
    struct Sources
    {
        QString databasePath;
        const QuestionnaireCatalog *catalog = nullptr; ///< must outlive the window; may be null
        QStringList listenUrls;
        bool tls = false;
        /// Called on the GUI thread at each refresh; must be cheap (no I/O). Null: processing off.
        std::function<WorkerLoad()> workerLoad;
        /// An INI file for the window state; empty: the application's QSettings. Tests use a temporary one.
        QString settingsFile;
        /// Minimum time between two refreshes.
        int minRefreshIntervalMs = 250;
    };

    explicit MainWindow(const Sources &sources, QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Puts @p banner above the filters (the window takes ownership); null removes the current one.
    void setBanner(QWidget *banner);
    QWidget *banner() const { return m_banner; }
    QMenu *actionsMenu() const { return m_actionsMenu; }
    QToolBar *toolBar() const { return m_toolBar; }
    QAction *devicesAction() const { return m_devicesAction; }
    QAction *exportAction() const { return m_exportAction; }
    QAction *batchesAction() const { return m_batchesAction; }
    QAction *refreshAction() const { return m_refreshAction; }
    QAction *openReportAction() const { return m_openReportAction; }

    /// The submission IDs of the selected rows, in row order.
    QStringList selectedSubmissionIds() const;

    TaskTableModel *taskModel() const { return m_model; }
    QTableView *taskView() const { return m_view; }
    TaskFilterBar *filterBar() const { return m_filters; }
    DetailsPane *detailsPane() const { return m_details; }
    StatusStrip *statusStrip() const { return m_strip; }
    ActivityChart *activityChart() const { return m_activity; }
    DashboardReader &reader() const { return *m_reader; }
    /// Refresh cycles completed (for tests and the benchmark).
    qint64 refreshCount() const { return m_refreshCount; }

public Q_SLOTS:
    /// Something changed in the store: refresh soon (coalesced).
    void markDirty();
    /// Refresh as soon as the reader is free, without waiting for the coalescing interval.
    void refreshNow();
    void saveWindowState();

Q_SIGNALS:
    void selectionChanged(const QStringList &submissionIds);
    /// A refresh cycle (counts, figures, details) was applied.
    void refreshed();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void buildLayout();
    void restoreWindowState();
    std::unique_ptr<QSettings> settings() const;
    void scheduleRefresh();
    void startRefresh();
    void cycleStepDone();
    void requestDetails();
    void onSelectionChanged();
    void copySubmissionIds();

    Sources m_sources;
    std::unique_ptr<DashboardReader> m_reader;
    TaskTableModel *m_model = nullptr;
    QTableView *m_view = nullptr;
    TaskFilterBar *m_filters = nullptr;
    DetailsPane *m_details = nullptr;
    StatusStrip *m_strip = nullptr;
    ActivityChart *m_activity = nullptr;
    QVBoxLayout *m_bannerArea = nullptr;
    QWidget *m_banner = nullptr;
    QSplitter *m_mainSplitter = nullptr;
    QSplitter *m_tableSplitter = nullptr;
    QToolBar *m_toolBar = nullptr;
    QMenu *m_actionsMenu = nullptr;
    QAction *m_devicesAction = nullptr;
    QAction *m_exportAction = nullptr;
    QAction *m_batchesAction = nullptr;
    QAction *m_refreshAction = nullptr;
    QAction *m_openReportAction = nullptr;
    QAction *m_copyIdAction = nullptr;

    QTimer m_refreshTimer;  ///< fires when the coalescing interval allows the next refresh
    QTimer m_periodicTimer; ///< time-based figures (rate, devices seen) change without commits
    QElapsedTimer m_sinceRefreshStart;
    QElapsedTimer m_sinceActivity;
    QElapsedTimer m_sinceDetails;
    int m_intervalMs = 250;
    bool m_dirty = false;
    int m_stepsInFlight = 0;
    qint64 m_refreshCount = 0;
    quint64 m_detailsRequest = 0;
    QString m_scrollAnchor; ///< submission at the top of the view while a refresh is applied
    QStringList m_lastSelection;
};

} // namespace SiteRelay
