#pragma once

#include "device.h"

#include <QDialog>
#include <QPointer>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;

namespace SiteRelay {

class SubmissionStore;

/**
 * Adds a device or coordinator (name + role) through SubmissionStore::addDevice — the call
 * `siterelay device add` makes — and then shows its token once: in a read-only field with a Copy
 * button and a warning that it will not be shown again. The token lives only in this dialog,
 * which is deleted when closed. For coordinators and scripted clients; a tablet is better enrolled
 * with a QR code (EnrollTabletDialog), which puts no token on screen. GUI thread only; show it
 * with open().
 */
class AddDeviceDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AddDeviceDialog)
public:
    /// @p store must outlive the dialog.
    explicit AddDeviceDialog(SubmissionStore &store, QWidget *parent = nullptr);

    /// The token shown, or empty before the device was added.
    QString shownToken() const;

public Q_SLOTS:
    /// Adds the device (what the Add button does).
    void addDevice();

Q_SIGNALS:
    /// The device is committed (no token in the signal: it must be shown once, here).
    void deviceAdded(const SiteRelay::DeviceRecord &device);

private:
    void showToken(const NewDevice &device);

    SubmissionStore &m_store;
    QStackedWidget *m_pages = nullptr;
    QLineEdit *m_nameEdit = nullptr;
    QComboBox *m_roleCombo = nullptr;
    QLabel *m_errorLabel = nullptr;
    QPointer<QPushButton> m_addButton;
    QLineEdit *m_tokenEdit = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    bool m_writing = false;
};

} // namespace SiteRelay
