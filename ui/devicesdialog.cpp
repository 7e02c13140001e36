#include "devicesdialog.h"

#include "backgroundreads.h"
#include "futurecallback.h"
#include "submissionstore.h"

#include <QDateTime>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

enum Column { IdColumn, NameColumn, RoleColumn, CreatedColumn, LastSeenColumn, RevokedColumn, ColumnCount };

QString localTime(const QString &iso)
{
    if (iso.isEmpty())
        return QString();
    return QDateTime::fromString(iso, Qt::ISODateWithMs).toLocalTime().toString(u"yyyy-MM-dd HH:mm"_s);
}

} // namespace

DevicesDialog::DevicesDialog(SubmissionStore &store, QWidget *parent)
    : QDialog(parent)
    , m_store(store)
{
    setObjectName(u"devicesDialog"_s);
    setWindowTitle(tr("Devices"));

    m_list = new QTreeWidget(this);
    m_list->setObjectName(u"deviceList"_s);
    m_list->setColumnCount(ColumnCount);
    m_list->setHeaderLabels({tr("ID"), tr("Name"), tr("Role"), tr("Created"), tr("Last seen"), tr("Revoked")});
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setSortingEnabled(true);
    m_list->sortByColumn(IdColumn, Qt::AscendingOrder);
    m_list->header()->setSectionResizeMode(NameColumn, QHeaderView::Stretch);
    connect(m_list, &QTreeWidget::itemSelectionChanged, this, &DevicesDialog::updateButtons);

    m_statusLabel = new QLabel(this);
    m_statusLabel->setObjectName(u"devicesStatusLabel"_s);
    m_statusLabel->setWordWrap(true);

    m_enrollButton = new QPushButton(tr("&Enroll tablet…"), this);
    m_enrollButton->setObjectName(u"enrollTabletButton"_s);
    connect(m_enrollButton, &QPushButton::clicked, this, &DevicesDialog::enrollTablet);
    auto *add = new QPushButton(tr("&Add…"), this);
    add->setObjectName(u"addDeviceButton"_s);
    add->setToolTip(tr("Add a tablet or a coordinator and show its token once"));
    connect(add, &QPushButton::clicked, this, &DevicesDialog::addDevice);
    m_revokeButton = new QPushButton(tr("&Revoke"), this);
    m_revokeButton->setObjectName(u"revokeDeviceButton"_s);
    m_revokeButton->setToolTip(tr("Stop accepting the selected device's token, at once"));
    connect(m_revokeButton, &QPushButton::clicked, this, &DevicesDialog::revokeSelected);
    auto *refreshButton = new QPushButton(tr("Re&fresh"), this);
    refreshButton->setObjectName(u"refreshDevicesButton"_s);
    refreshButton->setToolTip(tr("Read the list again (F5)"));
    refreshButton->setShortcut(QKeySequence::Refresh);
    connect(refreshButton, &QPushButton::clicked, this, &DevicesDialog::refresh);
    auto *close = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_enrollButton);
    buttons->addWidget(add);
    buttons->addWidget(m_revokeButton);
    buttons->addWidget(refreshButton);
    buttons->addStretch(1);
    buttons->addWidget(close);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_list);
    layout->addWidget(m_statusLabel);
    layout->addLayout(buttons);
    resize(760, 360);

    m_confirm = [this](const QString &title, const QString &text, std::function<void(bool)> answer) {
        auto *box = new QMessageBox(QMessageBox::Warning, title, text, QMessageBox::Yes | QMessageBox::No, this);
        box->setDefaultButton(QMessageBox::No);
        box->setAttribute(Qt::WA_DeleteOnClose);
        connect(box, &QMessageBox::finished, box,
                [box, answer = std::move(answer)] { answer(box->clickedButton() == box->button(QMessageBox::Yes)); });
        box->open();
    };
    updateButtons();
    refresh();
}

void DevicesDialog::refresh()
{
    if (m_reading) {
        m_readAgain = true;
        return;
    }
    m_reading = true;
    whenFinished(BackgroundReads::devices(m_store.databasePath()), this,
                 [this](const Expected<QList<DeviceRecord>> &devices) {
                     m_reading = false;
                     if (devices)
                         showDevices(*devices);
                     else
                         m_statusLabel->setText(tr("The devices could not be read: %1").arg(devices.error().message));
                     if (m_readAgain) {
                         m_readAgain = false;
                         refresh();
                         return;
                     }
                     Q_EMIT refreshed();
                 });
}

void DevicesDialog::showDevices(const QList<DeviceRecord> &devices)
{
    const qint64 selected = selectedDeviceId();
    m_devices = devices;
    m_list->setSortingEnabled(false);
    m_list->clear();
    int active = 0;
    for (const DeviceRecord &device : devices) {
        auto *item = new QTreeWidgetItem;
        item->setData(IdColumn, Qt::DisplayRole, device.id);
        item->setText(NameColumn, device.name);
        item->setText(RoleColumn, device.role == DeviceRole::Coordinator ? tr("Coordinator") : tr("Tablet"));
        item->setText(CreatedColumn, localTime(device.createdAt));
        item->setText(LastSeenColumn, device.lastSeenAt.isEmpty() ? tr("never") : localTime(device.lastSeenAt));
        // Words, not only a colour or strike-through, say that a device is revoked.
        item->setText(RevokedColumn,
                      device.revokedAt.isEmpty() ? QString() : tr("Revoked %1").arg(localTime(device.revokedAt)));
        if (!device.revokedAt.isEmpty()) {
            for (int column = 0; column < ColumnCount; ++column)
                item->setForeground(column, palette().brush(QPalette::Disabled, QPalette::Text));
        } else {
            ++active;
        }
        m_list->addTopLevelItem(item);
        if (device.id == selected)
            m_list->setCurrentItem(item);
    }
    m_list->setSortingEnabled(true);
    for (int column : {IdColumn, RoleColumn, CreatedColumn, LastSeenColumn})
        m_list->resizeColumnToContents(column);
    m_statusLabel->setText(tr("%1 active, %2 revoked").arg(active).arg(devices.size() - active));
    updateButtons();
}

qint64 DevicesDialog::selectedDeviceId() const
{
    const QTreeWidgetItem *item = m_list->currentItem();
    return item && item->isSelected() ? item->data(IdColumn, Qt::DisplayRole).toLongLong() : 0;
}

void DevicesDialog::updateButtons()
{
    const qint64 id = selectedDeviceId();
    bool revocable = false;
    for (const DeviceRecord &device : std::as_const(m_devices)) {
        if (device.id == id)
            revocable = device.revokedAt.isEmpty();
    }
    m_revokeButton->setEnabled(revocable);
    m_enrollButton->setEnabled(!m_siteUrls.isEmpty());
    m_enrollButton->setToolTip(m_siteUrls.isEmpty()
                                   ? tr("No address is known that tablets could reach this server on, so there is no "
                                        "QR code to show; use Add… to add a device with a token")
                                   : tr("Show a QR code a tablet scans to enroll itself"));
}

void DevicesDialog::setSiteUrls(const QStringList &urls)
{
    m_siteUrls = urls;
    updateButtons();
}

void DevicesDialog::enrollTablet()
{
    if (m_siteUrls.isEmpty())
        return;
    if (m_enrollDialog) {
        m_enrollDialog->raise();
        return;
    }
    m_enrollDialog = new EnrollTabletDialog(m_store, m_siteUrls, this);
    m_enrollDialog->setAttribute(Qt::WA_DeleteOnClose);
    // A tablet's device row appears when it redeems its code, maybe while this was open: read again.
    connect(m_enrollDialog, &QDialog::finished, this, &DevicesDialog::refresh);
    m_enrollDialog->open();
    Q_EMIT enrollTabletDialogOpened(m_enrollDialog);
}

void DevicesDialog::addDevice()
{
    if (m_addDialog) {
        m_addDialog->raise();
        return;
    }
    m_addDialog = new AddDeviceDialog(m_store, this);
    m_addDialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_addDialog, &AddDeviceDialog::deviceAdded, this, &DevicesDialog::refresh);
    m_addDialog->open();
    Q_EMIT addDeviceDialogOpened(m_addDialog);
}

void DevicesDialog::revokeSelected()
{
    const qint64 id = selectedDeviceId();
    QString name;
    for (const DeviceRecord &device : std::as_const(m_devices)) {
        if (device.id == id)
            name = device.name;
    }
    if (id == 0 || !m_revokeButton->isEnabled())
        return;
    m_confirm(tr("Revoke device"),
              tr("Revoke device %1 \"%2\"? Its token stops working at once; the device must be added again to "
                 "submit.")
                  .arg(id)
                  .arg(name),
              [this, id](bool confirmed) {
                  if (!confirmed)
                      return;
                  whenFinished(
                      m_store.revokeDevice(id, u"dashboard"_s), this, [this](const Expected<DeviceRecord> &result) {
                          if (!result)
                              m_statusLabel->setText(tr("The device was not revoked: %1").arg(result.error().message));
                          Q_EMIT revokeFinished(bool(result));
                          refresh();
                      });
              });
}

} // namespace SiteRelay
