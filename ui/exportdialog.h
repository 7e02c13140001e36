#pragma once

#include "exportjob.h"
#include "settings.h"

#include <QDialog>
#include <QPointer>
#include <QStringList>

#include <optional>

class QCheckBox;
class QDateEdit;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace SiteRelay {

class SubmissionStore;

/**
 * Exports (and uploads) a batch from the dashboard: the options of `siterelay export` (trial,
 * since, until, output folder, upload), a progress bar, a Cancel that stops the running job (the writers
 * within a thousand rows, the upload by aborting its request), and the result — including the
 * central platform's per-field errors in full. Runs an ExportJob, so the GUI thread never waits for
 * files or the network. GUI thread only; show it with open() or show().
 *
 * Opening it from a menu:
 * @code
 *   auto *dialog = new ExportDialog(dataDir, settings, &host.store(), mainWindow);
 *   dialog->setAttribute(Qt::WA_DeleteOnClose);
 *   dialog->open();
 * @endcode
 * @p dataDir is the data folder (exports go to DATA_DIR/exports/<batch id> unless a folder is
 * chosen); @p settings the running settings (the upload settings, site/id); @p store the running server's
 * store, or null to let each job open its own on DATA_DIR/siterelay.sqlite. A given store must
 * outlive the dialog. Closing the dialog cancels a running job.
 */
class ExportDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ExportDialog)
public:
    ExportDialog(QString dataDir, Settings settings, SubmissionStore *store = nullptr, QWidget *parent = nullptr);
    ~ExportDialog() override;

    /// Works on a recorded batch instead of a new one (re-export, or re-upload with @p upload).
    void setBatch(const QString &batchId, bool upload);
    /**
     * Exports only these submissions (the dashboard's "Export selected"): a new batch takes those
     * of them that are processed, not rejected and in no batch yet. The trial and date filters
     * are then off.
     */
    void setSelection(const QStringList &submissionIds);

    bool isRunning() const { return m_job && m_job->isRunning(); }
    /// The result of the last job, once it finished.
    std::optional<ExportJobResult> lastResult() const { return m_lastResult; }

public Q_SLOTS:
    /// Starts the export with the options shown (what the Export button does).
    void startExport();
    /// Cancels a running export; without one, closes the dialog.
    void cancelOrClose();

Q_SIGNALS:
    void exportFinished(const SiteRelay::ExportJobResult &result);

protected:
    void reject() override;

private:
    void setRunning(bool running);
    /// Enables the new-batch filters (trial, since, until), each date only while its box is ticked.
    void enableFilters(bool enabled);
    void showResult(const ExportJobResult &result);

    QString m_dataDir;
    Settings m_settings;
    SubmissionStore *m_store;
    QString m_batchId;
    QStringList m_selection;
    QPointer<ExportJob> m_job;
    std::optional<ExportJobResult> m_lastResult;

    QLabel *m_batchLabel = nullptr;
    QLineEdit *m_trialEdit = nullptr;
    QCheckBox *m_sinceCheck = nullptr;
    QDateEdit *m_sinceEdit = nullptr;
    QCheckBox *m_untilCheck = nullptr;
    QDateEdit *m_untilEdit = nullptr;
    QLineEdit *m_folderEdit = nullptr;
    QPushButton *m_browseButton = nullptr;
    QCheckBox *m_uploadCheck = nullptr;
    QLabel *m_phaseLabel = nullptr;
    QProgressBar *m_progressBar = nullptr;
    QLabel *m_resultLabel = nullptr;
    QPlainTextEdit *m_errorText = nullptr;
    QPushButton *m_startButton = nullptr;
    QPushButton *m_cancelButton = nullptr;
};

} // namespace SiteRelay
