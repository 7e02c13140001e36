#pragma once

#include "exportbatch.h"
#include "settings.h"

#include <QDialog>
#include <QList>
#include <QPointer>

class QPushButton;
class QTableWidget;

namespace SiteRelay {

class ExportDialog;
class SubmissionStore;

/**
 * The export batches: sequence, id, created, submissions, state, upload state (parts confirmed),
 * the files' checksums and the last upload error; Re-export writes a selected batch's files again
 * (byte-identical), Re-upload uploads it (resuming without re-sending confirmed parts). Both open an
 * ExportDialog on that batch and start it. The list is read on a pool thread through its own read
 * connection, so the GUI thread does not wait for SQLite. GUI thread only.
 *
 * Opening it from a menu:
 * @code
 *   auto *dialog = new BatchesDialog(dataDir, settings, &host.store(), mainWindow);
 *   dialog->setAttribute(Qt::WA_DeleteOnClose);
 *   dialog->open();
 * @endcode
 * The arguments are those of ExportDialog; a given store must outlive the dialog.
 */
class BatchesDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BatchesDialog)
public:
    BatchesDialog(QString dataDir, Settings settings, SubmissionStore *store = nullptr, QWidget *parent = nullptr);

    /// The batches as last read (newest first).
    QList<ExportBatch> batches() const { return m_batches; }

public Q_SLOTS:
    void refresh();
    /// Re-export / re-upload the selected batch (what the buttons do); returns the dialog opened.
    ExportDialog *reexportSelected();
    ExportDialog *reuploadSelected();

Q_SIGNALS:
    void refreshed();
    void exportDialogOpened(SiteRelay::ExportDialog *dialog);

private:
    ExportDialog *openFor(bool upload);
    void fill(const QList<ExportBatch> &batches, const QString &error);
    QString databasePath() const;

    QString m_dataDir;
    Settings m_settings;
    SubmissionStore *m_store;
    QList<ExportBatch> m_batches;
    QTableWidget *m_table = nullptr;
    QPushButton *m_refreshButton = nullptr;
    QPushButton *m_reexportButton = nullptr;
    QPushButton *m_reuploadButton = nullptr;
    QPointer<ExportDialog> m_open;
};

} // namespace SiteRelay
