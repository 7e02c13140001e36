#include "acknowledgealertdialog.h"

#include "futurecallback.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// One key for the name, shared by every dashboard dialog that asks for it.
const auto CoordinatorNameKey = "dashboard/coordinatorName"_L1;

} // namespace

AcknowledgeAlertDialog::AcknowledgeAlertDialog(ReviewService &review, const AlertRecord &alert, QWidget *parent)
    : QDialog(parent)
    , m_review(review)
    , m_alert(alert)
{
    setObjectName(u"acknowledgeAlertDialog"_s);
    setWindowTitle(tr("Acknowledge safety alert"));

    auto *summary = new QLabel(this);
    summary->setObjectName(u"acknowledgeAlertSummary"_s);
    summary->setTextFormat(Qt::PlainText);
    summary->setWordWrap(true);
    summary->setText(
        tr("Patient %1, %2 (submission %3)\n%4\nRaised %5")
            .arg(alert.patientId, alert.questionnaireId.toUpper(), alert.submissionId, alert.message, alert.raisedAt));

    m_nameEdit = new QLineEdit(this);
    m_nameEdit->setObjectName(u"coordinatorNameEdit"_s);
    m_nameEdit->setMaxLength(ReviewService::MaxNameLength);
    m_nameEdit->setPlaceholderText(tr("Your full name"));
    m_nameEdit->setToolTip(tr("Who acknowledges the alert; recorded in the audit trail."));
    m_nameEdit->setText(rememberedCoordinatorName());

    m_noteEdit = new QPlainTextEdit(this);
    m_noteEdit->setObjectName(u"acknowledgeNoteEdit"_s);
    m_noteEdit->setPlaceholderText(tr("What was done, e.g. \"Called the patient; PI informed.\""));
    m_noteEdit->setTabChangesFocus(true);

    m_errorLabel = new QLabel(this);
    m_errorLabel->setObjectName(u"acknowledgeErrorLabel"_s);
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setTextFormat(Qt::PlainText);
    m_errorLabel->hide();

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Acknowledge"));
    m_buttons->button(QDialogButtonBox::Ok)->setObjectName(u"acknowledgeOkButton"_s);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &AcknowledgeAlertDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *form = new QFormLayout;
    form->addRow(tr("Coordinator &name:"), m_nameEdit);
    form->addRow(tr("N&ote:"), m_noteEdit);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(summary);
    layout->addLayout(form);
    layout->addWidget(m_errorLabel);
    layout->addWidget(m_buttons);

    connect(m_nameEdit, &QLineEdit::textChanged, this, &AcknowledgeAlertDialog::updateOkButton);
    updateOkButton();
    if (m_nameEdit->text().isEmpty())
        m_nameEdit->setFocus();
    else
        m_noteEdit->setFocus();
}

QString AcknowledgeAlertDialog::coordinatorName() const
{
    return m_nameEdit->text().trimmed();
}

QString AcknowledgeAlertDialog::note() const
{
    return m_noteEdit->toPlainText().trimmed();
}

QString AcknowledgeAlertDialog::rememberedCoordinatorName()
{
    return QSettings().value(CoordinatorNameKey).toString();
}

void AcknowledgeAlertDialog::rememberCoordinatorName(const QString &name)
{
    QSettings().setValue(CoordinatorNameKey, name.trimmed());
}

QString AcknowledgeAlertDialog::dashboardActor()
{
    return u"dashboard"_s;
}

void AcknowledgeAlertDialog::updateOkButton()
{
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!m_writing && !coordinatorName().isEmpty());
}

void AcknowledgeAlertDialog::accept()
{
    if (m_writing || coordinatorName().isEmpty())
        return;
    m_writing = true;
    m_errorLabel->hide();
    updateOkButton();
    const QString name = coordinatorName();
    whenFinished(m_review.acknowledgeAlert(m_alert.id, name, note(), dashboardActor()), this,
                 [this, name](const Expected<AlertRecord> &result) {
                     m_writing = false;
                     if (!result) {
                         m_errorLabel->setText(tr("Not acknowledged: %1").arg(result.error().message));
                         m_errorLabel->show();
                         updateOkButton();
                         return;
                     }
                     rememberCoordinatorName(name);
                     Q_EMIT acknowledged(*result);
                     QDialog::accept();
                 });
}

} // namespace SiteRelay
