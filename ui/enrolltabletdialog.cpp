#include "enrolltabletdialog.h"

#include "futurecallback.h"
#include "qrcode.h"
#include "submissionstore.h"

#include <QClipboard>
#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPixmap>
#include <QPushButton>
#include <QStackedWidget>
#include <QVBoxLayout>

#include <cmath>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

constexpr int MaxDeviceNameLength = 128; // as in AddDeviceDialog
// A code's URL fits a 33-module QR code (41 with the quiet zone): 8 pixels a module make it about
// 330 pixels, which a tablet camera reads from arm's length off an ordinary monitor.
constexpr int QrModulePixels = 8;

} // namespace

EnrollTabletDialog::EnrollTabletDialog(SubmissionStore &store, const QStringList &siteUrls, QWidget *parent)
    : QDialog(parent)
    , m_enrollment(store)
{
    setObjectName(u"enrollTabletDialog"_s);
    setWindowTitle(tr("Enroll tablet"));

    // Page 1: which tablet, and the address it will use.
    auto *askPage = new QWidget(this);
    m_nameEdit = new QLineEdit(askPage);
    m_nameEdit->setObjectName(u"tabletNameEdit"_s);
    m_nameEdit->setMaxLength(MaxDeviceNameLength);
    m_nameEdit->setPlaceholderText(tr("e.g. Tablet 3, waiting room"));
    m_siteUrlCombo = new QComboBox(askPage);
    m_siteUrlCombo->setObjectName(u"siteUrlCombo"_s);
    m_siteUrlCombo->addItems(siteUrls);
    m_siteUrlCombo->setToolTip(
        tr("The addresses this server is reachable on. Pick the one on the tablets' network; it goes into the QR "
           "code."));
    auto *siteUrlHint = new QLabel(
        tr("The tablet must be on the same network as this address. The code is valid for 15 minutes and enrolls "
           "one tablet."),
        askPage);
    siteUrlHint->setWordWrap(true);
    m_errorLabel = new QLabel(askPage);
    m_errorLabel->setObjectName(u"enrollErrorLabel"_s);
    m_errorLabel->setWordWrap(true);
    m_errorLabel->hide();
    auto *askLayout = new QFormLayout(askPage);
    askLayout->addRow(tr("Tablet &name:"), m_nameEdit);
    askLayout->addRow(tr("Server &address:"), m_siteUrlCombo);
    askLayout->addRow(siteUrlHint);
    askLayout->addRow(m_errorLabel);

    // Page 2: the code, as QR code and as text.
    auto *codePage = new QWidget(this);
    m_instructionLabel = new QLabel(codePage);
    m_instructionLabel->setObjectName(u"enrollInstructionLabel"_s);
    m_instructionLabel->setWordWrap(true);
    m_qrLabel = new QLabel(codePage);
    m_qrLabel->setObjectName(u"enrollQrLabel"_s);
    m_qrLabel->setAlignment(Qt::AlignCenter);
    m_codeLabel = new QLabel(codePage);
    m_codeLabel->setObjectName(u"enrollCodeLabel"_s);
    m_codeLabel->setTextFormat(Qt::PlainText);
    m_codeLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont codeFont = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    codeFont.setPointSizeF(codeFont.pointSizeF() * 2);
    codeFont.setBold(true);
    m_codeLabel->setFont(codeFont);
    auto *copy = new QPushButton(tr("&Copy"), codePage);
    copy->setObjectName(u"copyCodeButton"_s);
    copy->setToolTip(tr("Copy the code to the clipboard"));
    connect(copy, &QPushButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(m_code.code); });
    m_urlLabel = new QLabel(codePage);
    m_urlLabel->setObjectName(u"enrollUrlLabel"_s);
    // Plain selectable text, not a link: opening it on this computer would enroll this computer.
    m_urlLabel->setTextFormat(Qt::PlainText);
    m_urlLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_urlLabel->setWordWrap(true);
    m_validityLabel = new QLabel(codePage);
    m_validityLabel->setObjectName(u"enrollValidityLabel"_s);
    m_validityLabel->setWordWrap(true);
    auto *codeRow = new QHBoxLayout;
    codeRow->addStretch(1);
    codeRow->addWidget(m_codeLabel);
    codeRow->addWidget(copy);
    codeRow->addStretch(1);
    auto *codeLayout = new QVBoxLayout(codePage);
    codeLayout->addWidget(m_instructionLabel);
    codeLayout->addWidget(m_qrLabel, 1);
    codeLayout->addLayout(codeRow);
    codeLayout->addWidget(m_urlLabel);
    codeLayout->addWidget(m_validityLabel);

    m_pages = new QStackedWidget(this);
    m_pages->addWidget(askPage);
    m_pages->addWidget(codePage);

    // Both pages' buttons live in one box; each page shows its own.
    auto *buttons = new QDialogButtonBox(this);
    m_createButton = buttons->addButton(tr("Create &code"), QDialogButtonBox::ActionRole);
    m_createButton->setObjectName(u"createCodeButton"_s);
    m_createButton->setDefault(true);
    connect(m_createButton, &QPushButton::clicked, this, &EnrollTabletDialog::createCode);
    m_cancelButton = buttons->addButton(QDialogButtonBox::Cancel);
    m_anotherButton = buttons->addButton(tr("&Another tablet"), QDialogButtonBox::ActionRole);
    m_anotherButton->setObjectName(u"enrollAnotherButton"_s);
    m_anotherButton->setToolTip(tr("Create a code for the next tablet; this one stays valid until it expires"));
    connect(m_anotherButton, &QPushButton::clicked, this, &EnrollTabletDialog::startOver);
    m_closeButton = buttons->addButton(QDialogButtonBox::Close);
    m_closeButton->setObjectName(u"closeEnrollButton"_s);
    // Cancel and Close have the reject role: they end the dialog through rejected().
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_nameEdit, &QLineEdit::textChanged, this, [this] {
        // An error about the name is stale once it changes; the one about missing addresses is not.
        if (m_siteUrlCombo->count() > 0)
            m_errorLabel->hide();
    });

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_pages);
    layout->addWidget(buttons);

    startOver();
    if (siteUrls.isEmpty())
        showError(tr("No address is known that tablets could reach this server on, so no code can be created: "
                     "enrolling needs the server listening on the network."));
}

void EnrollTabletDialog::startOver()
{
    if (m_writing)
        return;
    m_code = EnrollmentCode();
    m_qrLabel->clear();
    m_codeLabel->clear();
    m_urlLabel->clear();
    m_validityLabel->clear();
    m_errorLabel->hide();
    m_nameEdit->clear();
    m_pages->setCurrentIndex(0);
    m_createButton->setVisible(true);
    m_cancelButton->setVisible(true);
    m_anotherButton->setVisible(false);
    m_closeButton->setVisible(false);
    setWindowTitle(tr("Enroll tablet"));
    updateCreateButton();
    m_nameEdit->setFocus();
}

void EnrollTabletDialog::updateCreateButton()
{
    m_createButton->setEnabled(!m_writing && m_siteUrlCombo->count() > 0);
    m_nameEdit->setEnabled(!m_writing);
    m_siteUrlCombo->setEnabled(!m_writing);
}

void EnrollTabletDialog::showError(const QString &message)
{
    m_errorLabel->setText(message);
    m_errorLabel->show();
}

void EnrollTabletDialog::createCode()
{
    if (m_writing || m_pages->currentIndex() != 0 || m_siteUrlCombo->count() == 0)
        return;
    const QString name = m_nameEdit->text().trimmed();
    if (name.isEmpty()) {
        // Checked here too (the service refuses it as well) to say it at once and in the user's terms.
        showError(tr("Enter the tablet's name first: it names the device in the device list and the audit trail."));
        m_nameEdit->setFocus();
        return;
    }
    m_writing = true;
    m_errorLabel->hide();
    updateCreateButton();
    whenFinished(m_enrollment.create(name, m_siteUrlCombo->currentText(), u"dashboard"_s), this,
                 [this](const Expected<EnrollmentCode> &result) {
                     m_writing = false;
                     updateCreateButton();
                     if (!result) {
                         showError(tr("No code was created: %1").arg(result.error().message));
                         return;
                     }
                     showCode(*result);
                     Q_EMIT codeCreated(*result);
                 });
}

void EnrollTabletDialog::showCode(const EnrollmentCode &code)
{
    m_code = code;
    const QString name = m_nameEdit->text().trimmed();
    setWindowTitle(tr("Enroll tablet %1").arg(name));
    m_instructionLabel->setText(
        tr("On tablet \"%1\", scan this QR code with the camera, or open the address below in its browser, or type "
           "the code on its enrollment page.")
            .arg(name));
    // Drawn in device pixels so that a module stays sharp (and as large) on a high-DPI screen.
    const int scale = std::max(1, int(std::ceil(devicePixelRatioF())));
    const Expected<QImage> qr = QrCode::image(code.enrollUrl, QrModulePixels * scale);
    if (qr) {
        QPixmap pixmap = QPixmap::fromImage(*qr);
        pixmap.setDevicePixelRatio(scale);
        m_qrLabel->setPixmap(pixmap);
    } else {
        // The code is committed and valid; typing it still works.
        m_qrLabel->setText(tr("The QR code could not be drawn (%1). Type the code instead.").arg(qr.error().message));
    }
    m_codeLabel->setText(code.code);
    m_urlLabel->setText(code.enrollUrl);
    const QDateTime expires = QDateTime::fromString(code.expiresAt, Qt::ISODateWithMs).toLocalTime();
    m_validityLabel->setText(tr("Valid until %1 (%2 minutes), single use: it enrolls one tablet.")
                                 .arg(expires.toString(u"HH:mm"_s))
                                 .arg(EnrollmentService::ValidityMs / 60000));
    m_pages->setCurrentIndex(1);
    m_createButton->setVisible(false);
    m_cancelButton->setVisible(false);
    m_anotherButton->setVisible(true);
    m_closeButton->setVisible(true);
    m_closeButton->setDefault(true);
}

} // namespace SiteRelay
