#pragma once

#include "mainwindow.h"
#include "settings.h"

#include <QObject>
#include <QPointer>
#include <QStringList>

#include <functional>
#include <memory>

namespace SiteRelay {

class AlertBanner;
struct SelectedTask;
class BatchesDialog;
class DevicesDialog;
class ExportDialog;
class QuestionnaireCatalog;
class SubmissionStore;
class TaskActions;
class TaskEngine;

/**
 * The coordinator's dashboard, assembled: the MainWindow with the safety-alert banner above its
 * filters, the task actions (retry, cancel, review, reject) in its Actions menu and toolbar, and
 * the Devices, Export and Batches dialogs behind its menu entries. Everything it shows is read off
 * the GUI thread and everything it changes goes through the core calls the API uses, so the
 * dashboard and the API can never disagree about what an action does.
 *
 * Live updates: connect the store's committed and the engine's taskChanged signals (queued) to
 * storeChanged(); both the window and the banner coalesce their reads. GUI thread only.
 */
class Dashboard final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Dashboard)
public:
    struct Context
    {
        SubmissionStore *store = nullptr;              ///< must outlive the dashboard
        TaskEngine *engine = nullptr;                  ///< null when processing is disabled
        const QuestionnaireCatalog *catalog = nullptr; ///< must outlive the dashboard
        Settings settings;                             ///< the running settings (export, upload, site)
        QString dataDir;
        QStringList listenUrls;
        /// Where tablets reach this server, offered for enrollment QR codes; empty: enrollment off.
        QStringList enrollmentSiteUrls;
        std::function<WorkerLoad()> workerLoad;
        QString windowSettingsFile; ///< empty: the application's QSettings (tests pass a temporary file)
    };

    explicit Dashboard(Context context, QObject *parent = nullptr);
    ~Dashboard() override;

    MainWindow *window() const { return m_window.get(); }
    AlertBanner *alertBanner() const { return m_banner; }
    TaskActions *taskActions() const { return m_actions; }
    /// "Export selected…": enabled while the selection holds a processed, unexported, unrejected task.
    QAction *exportSelectedAction() const { return m_exportSelected; }

public Q_SLOTS:
    /// Something was committed or a task changed state: refresh the window and the banner soon.
    void storeChanged();
    DevicesDialog *openDevices();
    ExportDialog *openExport();
    /// An export dialog limited to the selected tasks (what "Export selected…" opens).
    ExportDialog *openExportSelected();
    BatchesDialog *openBatches();

private:
    QList<SelectedTask> selectedTasks() const;
    void updateExportSelected();
    template <typename DialogType, typename... Args>
    DialogType *openSingle(QPointer<DialogType> &slot, Args &&...args);

    Context m_context;
    std::unique_ptr<MainWindow> m_window;
    AlertBanner *m_banner = nullptr;  ///< owned by the window
    TaskActions *m_actions = nullptr; ///< child of the window
    QAction *m_exportSelected = nullptr;
    QPointer<DevicesDialog> m_devices;
    QPointer<ExportDialog> m_export;
    QPointer<BatchesDialog> m_batches;
};

} // namespace SiteRelay
