#include "dashboard.h"

#include "alertbanner.h"
#include "batchesdialog.h"
#include "devicesdialog.h"
#include "exportdialog.h"
#include "submissionstore.h"
#include "taskactions.h"
#include "tasktablemodel.h"

#include <QItemSelectionModel>
#include <QMenu>
#include <QTableView>
#include <QToolBar>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

Dashboard::Dashboard(Context context, QObject *parent)
    : QObject(parent)
    , m_context(std::move(context))
{
    Q_ASSERT(m_context.store);
    MainWindow::Sources sources;
    sources.databasePath = m_context.store->databasePath();
    sources.catalog = m_context.catalog;
    sources.listenUrls = m_context.listenUrls;
    sources.tls = false;
    sources.workerLoad = m_context.workerLoad;
    sources.settingsFile = m_context.windowSettingsFile;
    m_window = std::make_unique<MainWindow>(sources);

    m_banner = new AlertBanner(*m_context.store);
    m_window->setBanner(m_banner);
    // An acknowledgement changes the alert column and the status strip's count as well.
    connect(m_banner, &AlertBanner::alertAcknowledged, m_window.get(), &MainWindow::refreshNow);
    m_banner->refresh();

    m_actions = new TaskActions(
        *m_context.store, m_context.engine, [this] { return selectedTasks(); }, m_window.get(), m_window.get());
    QMenu *menu = m_window->actionsMenu();
    QAction *first = menu->actions().isEmpty() ? nullptr : menu->actions().constFirst();
    menu->insertActions(first, m_actions->actions());
    if (first)
        menu->insertSeparator(first);
    m_window->toolBar()->addSeparator();
    m_window->toolBar()->addActions(m_actions->actions());
    connect(m_window.get(), &MainWindow::selectionChanged, m_actions, &TaskActions::updateEnabled);
    // A refresh can change the selected rows' states (a retry finished, a cancel landed).
    connect(m_window.get(), &MainWindow::refreshed, m_actions, &TaskActions::updateEnabled);
    connect(m_actions, &TaskActions::actionCompleted, m_window.get(), &MainWindow::refreshNow);
    connect(m_actions, &TaskActions::actionCompleted, m_banner, &AlertBanner::refresh);
    m_actions->updateEnabled();

    m_exportSelected = new QAction(tr("E&xport selected…"), m_window.get());
    m_exportSelected->setObjectName(u"exportSelectedAction"_s);
    m_exportSelected->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    m_exportSelected->setToolTip(tr("Export the selected processed submissions as a new batch (and upload it)"));
    menu->insertAction(first, m_exportSelected);
    connect(m_exportSelected, &QAction::triggered, this, &Dashboard::openExportSelected);
    connect(m_window.get(), &MainWindow::selectionChanged, this, &Dashboard::updateExportSelected);
    connect(m_window.get(), &MainWindow::refreshed, this, &Dashboard::updateExportSelected);
    updateExportSelected();

    m_window->devicesAction()->setEnabled(true);
    connect(m_window->devicesAction(), &QAction::triggered, this, &Dashboard::openDevices);
    m_window->exportAction()->setEnabled(true);
    connect(m_window->exportAction(), &QAction::triggered, this, &Dashboard::openExport);
    m_window->batchesAction()->setEnabled(true);
    connect(m_window->batchesAction(), &QAction::triggered, this, &Dashboard::openBatches);
}

Dashboard::~Dashboard() = default;

void Dashboard::storeChanged()
{
    m_window->markDirty();
    m_banner->refresh();
}

QList<SelectedTask> Dashboard::selectedTasks() const
{
    QList<SelectedTask> tasks;
    const QItemSelectionModel *selection = m_window->taskView()->selectionModel();
    if (!selection)
        return tasks;
    const TaskTableModel *model = m_window->taskModel();
    const QModelIndexList rows = selection->selectedRows();
    for (const QModelIndex &index : rows) {
        if (index.row() < 0 || index.row() >= model->rowCount())
            continue;
        const TaskRow &row = model->rowAt(index.row());
        tasks.append(SelectedTask{row.submissionId, row.state, row.reviewState});
    }
    return tasks;
}

void Dashboard::updateExportSelected()
{
    bool exportable = false;
    const TaskTableModel *model = m_window->taskModel();
    const QItemSelectionModel *selection = m_window->taskView()->selectionModel();
    const QModelIndexList rows = selection ? selection->selectedRows() : QModelIndexList();
    for (const QModelIndex &index : rows) {
        if (index.row() < 0 || index.row() >= model->rowCount())
            continue;
        const TaskRow &row = model->rowAt(index.row());
        exportable = exportable ||
                     (row.state == "processed"_L1 && row.exportBatchId.isEmpty() && row.reviewState != "rejected"_L1);
    }
    m_exportSelected->setEnabled(exportable);
}

// One instance of each dialog: opening it again raises the open one.
template <typename DialogType, typename... Args>
DialogType *Dashboard::openSingle(QPointer<DialogType> &slot, Args &&...args)
{
    if (slot) {
        slot->raise();
        slot->activateWindow();
        return slot.data();
    }
    auto *dialog = new DialogType(std::forward<Args>(args)..., m_window.get());
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    slot = dialog;
    dialog->show();
    return dialog;
}

DevicesDialog *Dashboard::openDevices()
{
    const bool fresh = !m_devices;
    DevicesDialog *dialog = openSingle(m_devices, *m_context.store);
    if (fresh)
        dialog->setSiteUrls(m_context.enrollmentSiteUrls);
    return dialog;
}

ExportDialog *Dashboard::openExport()
{
    ExportDialog *dialog = openSingle(m_export, m_context.dataDir, m_context.settings, m_context.store);
    connect(dialog, &ExportDialog::exportFinished, m_window.get(), &MainWindow::refreshNow, Qt::UniqueConnection);
    return dialog;
}

ExportDialog *Dashboard::openExportSelected()
{
    if (m_export)
        return openExport(); // one export at a time: show the one already open
    QStringList ids;
    const QList<SelectedTask> tasks = selectedTasks();
    for (const SelectedTask &task : tasks)
        ids.append(task.submissionId);
    ExportDialog *dialog = openExport();
    dialog->setSelection(ids);
    return dialog;
}

BatchesDialog *Dashboard::openBatches()
{
    return openSingle(m_batches, m_context.dataDir, m_context.settings, m_context.store);
}

} // namespace SiteRelay
