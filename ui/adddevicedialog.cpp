#include "adddevicedialog.h"

#include "futurecallback.h"
#include "submissionstore.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStackedWidget>
#include <QStyle>
#include <QVBoxLayout>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

constexpr int MaxDeviceNameLength = 128;

} // namespace

AddDeviceDialog::AddDeviceDialog(SubmissionStore &store, QWidget *parent)
    : QDialog(parent)
    , m_store(store)
{
    setObjectName(u"addDeviceDialog"_s);
    setWindowTitle(tr("Add device"));

    // Page 1: what to add.
    auto *askPage = new QWidget(this);
    m_nameEdit = new QLineEdit(askPage);
    m_nameEdit->setObjectName(u"deviceNameEdit"_s);
    m_nameEdit->setMaxLength(MaxDeviceNameLength);
    m_nameEdit->setPlaceholderText(tr("e.g. Tablet 3, waiting room"));
    m_roleCombo = new QComboBox(askPage);
    m_roleCombo->setObjectName(u"deviceRoleCombo"_s);
    m_roleCombo->addItem(tr("Tablet (submits questionnaires)"), toString(DeviceRole::Device));
    m_roleCombo->addItem(tr("Coordinator (reads everything and acts)"), toString(DeviceRole::Coordinator));
    m_errorLabel = new QLabel(askPage);
    m_errorLabel->setObjectName(u"addDeviceErrorLabel"_s);
    m_errorLabel->setWordWrap(true);
    m_errorLabel->hide();
    auto *askLayout = new QFormLayout(askPage);
    askLayout->addRow(tr("&Name:"), m_nameEdit);
    askLayout->addRow(tr("&Role:"), m_roleCombo);
    askLayout->addRow(m_errorLabel);

    // Page 2: the token, once.
    auto *tokenPage = new QWidget(this);
    auto *warningIcon = new QLabel(tokenPage);
    warningIcon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(24, 24));
    auto *warning = new QLabel(
        tr("This token is shown only now and cannot be shown again. Enter it on the device (or copy it) before "
           "closing this window; if it is lost, revoke the device and add it again."),
        tokenPage);
    warning->setObjectName(u"tokenWarningLabel"_s);
    warning->setWordWrap(true);
    m_tokenEdit = new QLineEdit(tokenPage);
    m_tokenEdit->setObjectName(u"newDeviceTokenEdit"_s);
    m_tokenEdit->setReadOnly(true);
    m_tokenEdit->setMinimumWidth(m_tokenEdit->fontMetrics().horizontalAdvance(QString(56, u'M')) / 2);
    auto *copy = new QPushButton(tr("&Copy"), tokenPage);
    copy->setObjectName(u"copyTokenButton"_s);
    copy->setToolTip(tr("Copy the token to the clipboard"));
    connect(copy, &QPushButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(m_tokenEdit->text()); });
    auto *warningRow = new QHBoxLayout;
    warningRow->addWidget(warningIcon, 0, Qt::AlignTop);
    warningRow->addWidget(warning, 1);
    auto *tokenRow = new QHBoxLayout;
    tokenRow->addWidget(m_tokenEdit, 1);
    tokenRow->addWidget(copy);
    auto *tokenLayout = new QVBoxLayout(tokenPage);
    tokenLayout->addLayout(warningRow);
    tokenLayout->addLayout(tokenRow);

    m_pages = new QStackedWidget(this);
    m_pages->addWidget(askPage);
    m_pages->addWidget(tokenPage);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_addButton = m_buttons->addButton(tr("&Add"), QDialogButtonBox::AcceptRole);
    m_addButton->setObjectName(u"addDeviceOkButton"_s);
    m_addButton->setDefault(true);
    connect(m_addButton, &QPushButton::clicked, this, &AddDeviceDialog::addDevice);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_nameEdit, &QLineEdit::textChanged, this, [this](const QString &text) {
        if (m_addButton)
            m_addButton->setEnabled(!m_writing && !text.trimmed().isEmpty());
    });
    m_addButton->setEnabled(false);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_pages);
    layout->addWidget(m_buttons);
}

QString AddDeviceDialog::shownToken() const
{
    return m_tokenEdit->text();
}

void AddDeviceDialog::addDevice()
{
    const QString name = m_nameEdit->text().trimmed();
    if (m_writing || name.isEmpty() || m_pages->currentIndex() != 0)
        return;
    m_writing = true;
    m_addButton->setEnabled(false);
    m_errorLabel->hide();
    const DeviceRole role = deviceRoleFromString(m_roleCombo->currentData().toString()).value_or(DeviceRole::Device);
    whenFinished(m_store.addDevice(name, role, u"dashboard"_s), this, [this](const Expected<NewDevice> &result) {
        m_writing = false;
        if (!result) {
            m_errorLabel->setText(tr("The device was not added: %1").arg(result.error().message));
            m_errorLabel->show();
            if (m_addButton)
                m_addButton->setEnabled(true);
            return;
        }
        showToken(*result);
        Q_EMIT deviceAdded(result->record);
    });
}

void AddDeviceDialog::showToken(const NewDevice &device)
{
    setWindowTitle(tr("Device %1 added").arg(device.record.name));
    m_tokenEdit->setText(device.token);
    m_tokenEdit->selectAll();
    m_pages->setCurrentIndex(1);
    m_buttons->clear();
    m_addButton = nullptr; // deleted by clear()
    // Close has the reject role: it ends the dialog through the rejected() connection above.
    m_buttons->addButton(QDialogButtonBox::Close)->setObjectName(u"closeTokenButton"_s);
}

} // namespace SiteRelay
