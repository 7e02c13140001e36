#pragma once

#include "adddevicedialog.h"
#include "device.h"
#include "enrolltabletdialog.h"

#include <QDialog>
#include <QList>
#include <QPointer>
#include <QStringList>

#include <functional>

class QLabel;
class QPushButton;
class QTreeWidget;

namespace SiteRelay {

class SubmissionStore;

/**
 * Lists the devices and coordinators (name, role, created, last seen, revoked), enrolls a tablet
 * with a one-time QR code (EnrollTabletDialog; needs setSiteUrls()), adds a device or coordinator
 * directly (its token shown once, see AddDeviceDialog) and revokes one after confirmation. Writes
 * go through EnrollmentService::create and SubmissionStore::addDevice/revokeDevice, the calls
 * `siterelay device add [--qr]|revoke` make, audited with the actor "dashboard"; the list is read
 * on a worker thread (BackgroundReads) and again when the enroll dialog closes, as a tablet may
 * have enrolled meanwhile. GUI thread only; show it with open() or show().
 */
class DevicesDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DevicesDialog)
public:
    /// Shows @p text and calls @p answer(true) if the coordinator confirms (replaceable for tests).
    using ConfirmHandler =
        std::function<void(const QString &title, const QString &text, std::function<void(bool)> answer)>;

    /// @p store must outlive the dialog. The list is read at once.
    explicit DevicesDialog(SubmissionStore &store, QWidget *parent = nullptr);

    /**
     * The "http://ADDR:PORT" addresses tablets can reach the server on (EnrollmentAddresses::siteUrls,
     * the preferred one first), offered by the enroll dialog. Until there is one, Enroll tablet… is
     * disabled and its tooltip says why.
     */
    void setSiteUrls(const QStringList &urls);
    void setConfirmHandler(ConfirmHandler handler) { m_confirm = std::move(handler); }

    /// The devices as last read.
    QList<DeviceRecord> devices() const { return m_devices; }

public Q_SLOTS:
    void refresh();
    /// Opens the enroll dialog (what Enroll tablet… does); nothing without a site URL.
    void enrollTablet();
    /// Opens the Add dialog (what Add… does).
    void addDevice();
    /// Revokes the selected device after confirmation (what Revoke does).
    void revokeSelected();

Q_SIGNALS:
    /// The list was read again.
    void refreshed();
    void addDeviceDialogOpened(SiteRelay::AddDeviceDialog *dialog);
    void enrollTabletDialogOpened(SiteRelay::EnrollTabletDialog *dialog);
    /// A revoke committed or failed (the list refreshes after it).
    void revokeFinished(bool ok);

private:
    void showDevices(const QList<DeviceRecord> &devices);
    void updateButtons();
    qint64 selectedDeviceId() const;

    SubmissionStore &m_store;
    ConfirmHandler m_confirm;
    QStringList m_siteUrls;
    QList<DeviceRecord> m_devices;
    QTreeWidget *m_list = nullptr;
    QLabel *m_statusLabel = nullptr;
    QPushButton *m_revokeButton = nullptr;
    QPushButton *m_enrollButton = nullptr;
    QPointer<AddDeviceDialog> m_addDialog;
    QPointer<EnrollTabletDialog> m_enrollDialog;
    bool m_reading = false;
    bool m_readAgain = false;
};

} // namespace SiteRelay
