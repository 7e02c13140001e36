#pragma once

#include "enrollmentservice.h"

#include <QDialog>
#include <QStringList>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;

namespace SiteRelay {

class SubmissionStore;

/**
 * Enrolls a tablet without typing a token on it: asks for the tablet's name and the address
 * tablets reach this server on, creates a one-time code through EnrollmentService::create (actor
 * "dashboard") and shows it as a QR code to scan, as text to type (with a Copy button), with the
 * enroll URL and how long it is valid. The tablet then redeems it itself (POST /api/v1/enroll);
 * the device exists only from then on. The code lives only in this dialog and the QR code; only
 * its hash is stored. Errors (no name, no address, storage) are shown in the dialog. GUI thread
 * only; show it with open().
 */
class EnrollTabletDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EnrollTabletDialog)
public:
    /**
     * @p store must outlive the dialog. @p siteUrls are the "http://ADDR:PORT" addresses the
     * server is reachable on (EnrollmentAddresses::siteUrls); the first is preselected. Without
     * any, no code can be created and the dialog says why.
     */
    EnrollTabletDialog(SubmissionStore &store, const QStringList &siteUrls, QWidget *parent = nullptr);

    /// The code shown, or an empty one (id 0) while none is.
    EnrollmentCode shownCode() const { return m_code; }

public Q_SLOTS:
    /// Creates a code for the name and address entered (what Create code does).
    void createCode();
    /// Back to the first page for the next tablet; the code shown stays valid until it expires.
    void startOver();

Q_SIGNALS:
    /// A code was committed and is now shown.
    void codeCreated(const SiteRelay::EnrollmentCode &code);

private:
    void showCode(const EnrollmentCode &code);
    void showError(const QString &message);
    void updateCreateButton();

    EnrollmentService m_enrollment;
    EnrollmentCode m_code;
    QStackedWidget *m_pages = nullptr;
    QLineEdit *m_nameEdit = nullptr;
    QComboBox *m_siteUrlCombo = nullptr;
    QLabel *m_errorLabel = nullptr;
    QLabel *m_instructionLabel = nullptr;
    QLabel *m_qrLabel = nullptr;
    QLabel *m_codeLabel = nullptr;
    QLabel *m_urlLabel = nullptr;
    QLabel *m_validityLabel = nullptr;
    QPushButton *m_createButton = nullptr;
    QPushButton *m_cancelButton = nullptr;
    QPushButton *m_anotherButton = nullptr;
    QPushButton *m_closeButton = nullptr;
    bool m_writing = false;
};

} // namespace SiteRelay
