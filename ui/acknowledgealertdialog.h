#pragma once

#include "alertreader.h"
#include "reviewservice.h"

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;

namespace SiteRelay {

/**
 * Asks the coordinator's name (remembered for next time) and a note, and acknowledges one safety
 * alert through ReviewService. OK stays disabled until a name is filled in. The write is
 * asynchronous: the dialog waits for the commit without blocking the event loop, then emits
 * acknowledged() and closes as accepted; a failure is shown in the dialog, which stays open.
 * GUI thread only. Show it with open(), not exec().
 */
class AcknowledgeAlertDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AcknowledgeAlertDialog)
public:
    /// @p review must outlive the dialog; @p alert is the alert as the banner showed it.
    AcknowledgeAlertDialog(ReviewService &review, const AlertRecord &alert, QWidget *parent = nullptr);

    qint64 alertId() const { return m_alert.id; }
    QString coordinatorName() const;
    QString note() const;

    /// The name last used to acknowledge or review (QSettings), to prefill the next dialog.
    static QString rememberedCoordinatorName();
    static void rememberCoordinatorName(const QString &name);

    /// Who the audit trail names as the caller for acts from the dashboard.
    static QString dashboardActor();

public Q_SLOTS:
    /// Writes the acknowledgement (what OK does).
    void accept() override;

Q_SIGNALS:
    /// The acknowledgement is committed.
    void acknowledged(const SiteRelay::AlertRecord &alert);

private:
    void updateOkButton();

    ReviewService &m_review;
    AlertRecord m_alert;
    QLineEdit *m_nameEdit = nullptr;
    QPlainTextEdit *m_noteEdit = nullptr;
    QLabel *m_errorLabel = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    bool m_writing = false;
};

} // namespace SiteRelay
