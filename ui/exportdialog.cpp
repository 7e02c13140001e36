#include "exportdialog.h"

#include "clock.h"

#include <QCheckBox>
#include <QDateEdit>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

ExportDialog::ExportDialog(QString dataDir, Settings settings, SubmissionStore *store, QWidget *parent)
    : QDialog(parent)
    , m_dataDir(std::move(dataDir))
    , m_settings(std::move(settings))
    , m_store(store)
{
    setWindowTitle(tr("Export to the central platform"));
    setObjectName(u"exportDialog"_s);

    m_batchLabel = new QLabel(this);
    m_batchLabel->setObjectName(u"batchLabel"_s);
    m_batchLabel->setVisible(false);
    m_trialEdit = new QLineEdit(this);
    m_trialEdit->setObjectName(u"trialEdit"_s);
    m_trialEdit->setPlaceholderText(tr("all trials"));
    m_sinceCheck = new QCheckBox(tr("Completed since"), this);
    m_sinceCheck->setObjectName(u"sinceCheck"_s);
    m_sinceEdit = new QDateEdit(QDate::currentDate().addMonths(-1), this);
    m_sinceEdit->setObjectName(u"sinceEdit"_s);
    m_sinceEdit->setDisplayFormat(u"yyyy-MM-dd"_s);
    m_sinceEdit->setCalendarPopup(true);
    m_sinceEdit->setEnabled(false);
    connect(m_sinceCheck, &QCheckBox::toggled, m_sinceEdit, &QWidget::setEnabled);
    // Exclusive, as the command line's --until: a range of whole days ends at midnight UTC of this date.
    m_untilCheck = new QCheckBox(tr("Completed before"), this);
    m_untilCheck->setObjectName(u"untilCheck"_s);
    m_untilCheck->setToolTip(tr("Only submissions completed before midnight UTC of this date (not on it)"));
    m_untilEdit = new QDateEdit(QDate::currentDate(), this);
    m_untilEdit->setObjectName(u"untilEdit"_s);
    m_untilEdit->setDisplayFormat(u"yyyy-MM-dd"_s);
    m_untilEdit->setCalendarPopup(true);
    m_untilEdit->setEnabled(false);
    connect(m_untilCheck, &QCheckBox::toggled, m_untilEdit, &QWidget::setEnabled);
    m_folderEdit = new QLineEdit(this);
    m_folderEdit->setObjectName(u"folderEdit"_s);
    m_folderEdit->setPlaceholderText(tr("DATA_DIR/exports/<batch id>"));
    m_browseButton = new QPushButton(tr("Choose…"), this);
    m_browseButton->setObjectName(u"browseButton"_s);
    connect(m_browseButton, &QPushButton::clicked, this, [this] {
        const QString folder = QFileDialog::getExistingDirectory(this, tr("Export folder"), m_folderEdit->text());
        if (!folder.isEmpty())
            m_folderEdit->setText(folder);
    });
    m_uploadCheck = new QCheckBox(tr("Upload to the central platform"), this);
    m_uploadCheck->setObjectName(u"uploadCheck"_s);
    const QString kind = m_settings.text(SettingKey::UploadKind);
    if (kind == "none"_L1) {
        m_uploadCheck->setEnabled(false);
        m_uploadCheck->setToolTip(tr("Uploading is not configured (upload/kind, upload/url, upload/tokenFile)."));
    } else {
        m_uploadCheck->setToolTip(tr("%1 at %2").arg(kind, m_settings.text(SettingKey::UploadUrl)));
    }

    auto *folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folderEdit, 1);
    folderRow->addWidget(m_browseButton);
    auto *form = new QFormLayout;
    form->addRow(m_batchLabel);
    form->addRow(tr("Trial"), m_trialEdit);
    form->addRow(m_sinceCheck, m_sinceEdit);
    form->addRow(m_untilCheck, m_untilEdit);
    form->addRow(tr("Folder"), folderRow);
    form->addRow(m_uploadCheck);

    m_phaseLabel = new QLabel(this);
    m_phaseLabel->setObjectName(u"phaseLabel"_s);
    m_progressBar = new QProgressBar(this);
    m_progressBar->setObjectName(u"progressBar"_s);
    m_progressBar->setRange(0, 100);
    m_progressBar->setValue(0);
    m_resultLabel = new QLabel(this);
    m_resultLabel->setObjectName(u"resultLabel"_s);
    m_resultLabel->setWordWrap(true);
    m_resultLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_errorText = new QPlainTextEdit(this);
    m_errorText->setObjectName(u"errorText"_s);
    m_errorText->setReadOnly(true);
    m_errorText->setVisible(false);

    m_startButton = new QPushButton(tr("Export"), this);
    m_startButton->setObjectName(u"startButton"_s);
    m_startButton->setDefault(true);
    m_cancelButton = new QPushButton(tr("Close"), this);
    m_cancelButton->setObjectName(u"cancelButton"_s);
    connect(m_startButton, &QPushButton::clicked, this, &ExportDialog::startExport);
    connect(m_cancelButton, &QPushButton::clicked, this, &ExportDialog::cancelOrClose);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(m_startButton);
    buttons->addWidget(m_cancelButton);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_phaseLabel);
    layout->addWidget(m_progressBar);
    layout->addWidget(m_resultLabel);
    layout->addWidget(m_errorText, 1);
    layout->addLayout(buttons);
    resize(560, 360);
}

ExportDialog::~ExportDialog() = default; // the job (a child) cancels and waits for its thread

void ExportDialog::setBatch(const QString &batchId, bool upload)
{
    m_batchId = batchId;
    const bool newBatch = batchId.isEmpty();
    m_batchLabel->setText(tr("Batch %1").arg(batchId));
    m_batchLabel->setVisible(!newBatch);
    enableFilters(newBatch);
    if (m_uploadCheck->isEnabled())
        m_uploadCheck->setChecked(upload);
}

void ExportDialog::setSelection(const QStringList &submissionIds)
{
    m_selection = submissionIds;
    const bool selected = !submissionIds.isEmpty();
    m_batchLabel->setText(tr("%n selected submission(s); only those processed, not rejected and not yet exported "
                             "are taken",
                             nullptr, int(submissionIds.size())));
    m_batchLabel->setVisible(selected);
    enableFilters(!selected);
}

void ExportDialog::enableFilters(bool enabled)
{
    m_trialEdit->setEnabled(enabled);
    m_sinceCheck->setEnabled(enabled);
    m_sinceEdit->setEnabled(enabled && m_sinceCheck->isChecked());
    m_untilCheck->setEnabled(enabled);
    m_untilEdit->setEnabled(enabled && m_untilCheck->isChecked());
}

void ExportDialog::startExport()
{
    if (isRunning())
        return;
    ExportJobRequest request;
    request.actor = u"dashboard"_s;
    request.upload = m_uploadCheck->isChecked();
    request.files.batchId = m_batchId;
    request.files.outputFolder = m_folderEdit->text().trimmed();
    request.files.batch.siteId = BatchExporter::siteIdFor(m_settings);
    if (m_batchId.isEmpty() && !m_selection.isEmpty()) {
        request.files.batch.submissionIds = m_selection;
    } else if (m_batchId.isEmpty()) {
        const QString trial = m_trialEdit->text().trimmed();
        if (!trial.isEmpty() && !BatchExporter::isValidId(trial)) {
            m_resultLabel->setText(tr("The trial id must be 1-64 of A-Z a-z 0-9 . _ -"));
            return;
        }
        request.files.batch.trialFilter = trial;
        if (m_sinceCheck->isChecked())
            request.files.batch.sinceFilter = toIsoUtc(QDateTime(m_sinceEdit->date(), QTime(0, 0), Qt::UTC));
        if (m_untilCheck->isChecked())
            request.files.batch.untilFilter = toIsoUtc(QDateTime(m_untilEdit->date(), QTime(0, 0), Qt::UTC));
        if (!BatchExporter::checkRange(request.files.batch.sinceFilter, request.files.batch.untilFilter)) {
            m_resultLabel->setText(tr("\"Completed before\" must be a later date than \"Completed since\"."));
            return;
        }
    }

    delete m_job;
    m_job = new ExportJob({m_dataDir, m_settings, m_store}, request, this);
    connect(m_job, &ExportJob::phaseChanged, this, [this](const QString &phase) {
        m_phaseLabel->setText(phase);
        m_progressBar->setValue(0);
    });
    connect(m_job, &ExportJob::progress, this, [this](qint64 done, qint64 total) {
        // Per mille: a 32-bit progress bar for counts that could exceed it.
        m_progressBar->setRange(0, 1000);
        m_progressBar->setValue(total > 0 ? int(done * 1000 / total) : 0);
    });
    connect(m_job, &ExportJob::finished, this, [this](const ExportJobResult &result) {
        m_lastResult = result;
        setRunning(false);
        showResult(result);
        Q_EMIT exportFinished(result);
    });
    m_lastResult.reset();
    m_errorText->clear();
    m_errorText->setVisible(false);
    m_resultLabel->setText(tr("Exporting…"));
    m_progressBar->setValue(0);
    setRunning(true);
    m_job->start();
}

void ExportDialog::cancelOrClose()
{
    if (isRunning()) {
        m_cancelButton->setEnabled(false);
        m_resultLabel->setText(tr("Cancelling…"));
        m_job->cancel();
        return;
    }
    accept();
}

void ExportDialog::reject()
{
    if (isRunning())
        m_job->cancel();
    QDialog::reject();
}

void ExportDialog::setRunning(bool running)
{
    m_startButton->setEnabled(!running);
    m_cancelButton->setEnabled(true);
    m_cancelButton->setText(running ? tr("Cancel") : tr("Close"));
    for (QWidget *input : {static_cast<QWidget *>(m_folderEdit), static_cast<QWidget *>(m_browseButton)})
        input->setEnabled(!running);
    if (m_batchId.isEmpty() && m_selection.isEmpty())
        enableFilters(!running);
    if (m_settings.text(SettingKey::UploadKind) != "none"_L1)
        m_uploadCheck->setEnabled(!running);
}

void ExportDialog::showResult(const ExportJobResult &result)
{
    QString summary;
    switch (result.status) {
    case ExportJobResult::Status::NothingToExport:
        summary = result.error.message;
        break;
    case ExportJobResult::Status::Cancelled:
        summary = tr("Cancelled.");
        break;
    case ExportJobResult::Status::Failed:
        summary = tr("Failed.");
        break;
    case ExportJobResult::Status::Done:
        summary = tr("Done.");
        m_progressBar->setRange(0, 1000);
        m_progressBar->setValue(1000);
        break;
    }
    if (result.filesWritten)
        summary += u' ' + tr("Batch %1 (sequence %2, %3 submissions) written to %4.")
                              .arg(result.files.batch.id)
                              .arg(result.files.batch.sequence)
                              .arg(result.files.batch.submissionCount)
                              .arg(result.files.folder);
    if (result.upload) {
        const UploadOutcome &upload = *result.upload;
        if (upload.ok())
            summary += u' ' + tr("Uploaded: the platform confirmed %1 of %2 parts (%3 records).")
                                  .arg(upload.partsConfirmed)
                                  .arg(upload.parts)
                                  .arg(upload.recordsConfirmed);
        else
            summary += u' ' + tr("Not uploaded: %1 of %2 parts confirmed; the batch stays unconfirmed and a "
                                 "re-upload resumes.")
                                  .arg(upload.partsConfirmed)
                                  .arg(upload.parts);
    }
    m_resultLabel->setText(summary);
    if (result.status == ExportJobResult::Status::Failed || result.status == ExportJobResult::Status::Cancelled) {
        // In full: REDCap's per-field errors are what the data manager must fix.
        m_errorText->setPlainText(result.error.message);
        m_errorText->setVisible(true);
    }
}

} // namespace SiteRelay
