#include "batchesdialog.h"

#include "exportdialog.h"
#include "exportreader.h"
#include "futurecallback.h"

#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

enum Column { Sequence, Id, Created, Submissions, State, Upload, Checksums, UploadError, ColumnCount };

struct ReadResult
{
    QList<ExportBatch> batches;
    QString error;
};

} // namespace

BatchesDialog::BatchesDialog(QString dataDir, Settings settings, SubmissionStore *store, QWidget *parent)
    : QDialog(parent)
    , m_dataDir(std::move(dataDir))
    , m_settings(std::move(settings))
    , m_store(store)
{
    setWindowTitle(tr("Export batches"));
    setObjectName(u"batchesDialog"_s);
    m_table = new QTableWidget(0, ColumnCount, this);
    m_table->setObjectName(u"batchesTable"_s);
    m_table->setHorizontalHeaderLabels({tr("Sequence"), tr("Id"), tr("Created"), tr("Submissions"), tr("State"),
                                        tr("Upload"), tr("Checksums (SHA-256)"), tr("Upload error")});
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->setVisible(false);

    m_refreshButton = new QPushButton(tr("Refresh"), this);
    m_refreshButton->setObjectName(u"refreshButton"_s);
    m_reexportButton = new QPushButton(tr("Re-export…"), this);
    m_reexportButton->setObjectName(u"reexportButton"_s);
    m_reuploadButton = new QPushButton(tr("Re-upload…"), this);
    m_reuploadButton->setObjectName(u"reuploadButton"_s);
    if (m_settings.text(SettingKey::UploadKind) == "none"_L1) {
        m_reuploadButton->setEnabled(false);
        m_reuploadButton->setToolTip(tr("Uploading is not configured (upload/kind)."));
    }
    auto *close = new QPushButton(tr("Close"), this);
    connect(m_refreshButton, &QPushButton::clicked, this, &BatchesDialog::refresh);
    connect(m_reexportButton, &QPushButton::clicked, this, &BatchesDialog::reexportSelected);
    connect(m_reuploadButton, &QPushButton::clicked, this, &BatchesDialog::reuploadSelected);
    connect(close, &QPushButton::clicked, this, &QDialog::accept);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_refreshButton);
    buttons->addStretch();
    buttons->addWidget(m_reexportButton);
    buttons->addWidget(m_reuploadButton);
    buttons->addWidget(close);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_table, 1);
    layout->addLayout(buttons);
    resize(900, 400);
    refresh();
}

QString BatchesDialog::databasePath() const
{
    return QDir(m_dataDir).filePath(u"siterelay.sqlite"_s);
}

void BatchesDialog::refresh()
{
    m_refreshButton->setEnabled(false);
    // The reader's connection is opened, used and closed on the pool thread that runs this.
    QFuture<ReadResult> future = QtConcurrent::run([path = databasePath()] {
        ReadResult result;
        auto reader = ExportReader::open(path);
        if (!reader) {
            result.error = reader.error().message;
            return result;
        }
        auto batches = (*reader)->batches();
        if (batches)
            result.batches = *batches;
        else
            result.error = batches.error().message;
        return result;
    });
    whenFinished(future, this, [this](const ReadResult &result) { fill(result.batches, result.error); });
}

void BatchesDialog::fill(const QList<ExportBatch> &batches, const QString &error)
{
    m_refreshButton->setEnabled(true);
    m_batches = batches;
    m_table->setRowCount(0);
    if (!error.isEmpty())
        setWindowTitle(tr("Export batches — %1").arg(error));
    m_table->setRowCount(int(batches.size()));
    for (int row = 0; row < batches.size(); ++row) {
        const ExportBatch &batch = batches[row];
        QString upload = tr("not uploaded");
        if (!batch.uploadState.isEmpty())
            upload = tr("%1 (%2, %3 of %4 parts)")
                         .arg(batch.uploadState, batch.uploadKind)
                         .arg(batch.uploadPartsConfirmed)
                         .arg(batch.uploadParts);
        QStringList sums;
        QStringList fullSums;
        for (auto it = batch.fileChecksums.constBegin(); it != batch.fileChecksums.constEnd(); ++it) {
            sums.append(it.key() + u' ' + it.value().toString().left(12));
            fullSums.append(it.key() + u"  "_s + it.value().toString());
        }
        const QStringList cells = {QString::number(batch.sequence),
                                   batch.id,
                                   batch.createdAt,
                                   QString::number(batch.submissionCount),
                                   batch.state,
                                   upload,
                                   sums.join(u"; "_s),
                                   batch.uploadError.section(u'\n', 0, 0)};
        for (int column = 0; column < ColumnCount; ++column) {
            auto *item = new QTableWidgetItem(cells[column]);
            if (column == Checksums)
                item->setToolTip(fullSums.join(u'\n'));
            if (column == UploadError)
                item->setToolTip(batch.uploadError);
            item->setData(Qt::UserRole, batch.id);
            m_table->setItem(row, column, item);
        }
    }
    m_table->resizeColumnsToContents();
    if (!batches.isEmpty() && m_table->currentRow() < 0)
        m_table->selectRow(0);
    Q_EMIT refreshed();
}

ExportDialog *BatchesDialog::reexportSelected()
{
    return openFor(false);
}

ExportDialog *BatchesDialog::reuploadSelected()
{
    return openFor(true);
}

ExportDialog *BatchesDialog::openFor(bool upload)
{
    const int row = m_table->currentRow();
    if (row < 0 || row >= m_batches.size())
        return nullptr;
    if (m_open && m_open->isRunning())
        return m_open;
    auto *dialog = new ExportDialog(m_dataDir, m_settings, m_store, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setBatch(m_batches[row].id, upload);
    connect(dialog, &ExportDialog::exportFinished, this, &BatchesDialog::refresh);
    m_open = dialog;
    dialog->open();
    dialog->startExport();
    Q_EMIT exportDialogOpened(dialog);
    return dialog;
}

} // namespace SiteRelay
