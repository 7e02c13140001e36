#pragma once

#include "alertreader.h"
#include "backgroundreads.h"
#include "reviewservice.h"

#include <QElapsedTimer>
#include <QFrame>
#include <QList>
#include <QPointer>
#include <QTimer>

class QLabel;
class QPushButton;
class QTreeWidget;

namespace SiteRelay {

class AcknowledgeAlertDialog;
class SubmissionStore;

/**
 * The safety-alert banner: lists every unacknowledged alert (patient, questionnaire, the rule's
 * message, when it was raised) under a warning icon and the words "Safety alert", so it reads
 * without colour, and stays visible until each one is acknowledged. "Acknowledge…" opens an
 * AcknowledgeAlertDialog for the selected alert; once that commits, the alert leaves the banner.
 *
 * It reads through BackgroundReads (a worker thread, never the GUI thread) when refresh() is
 * called — connect the store's committed signal (queued) or a timer. However often refresh() is
 * called (a commit every few milliseconds on a busy morning), it reads at most once per
 * MinRefreshIntervalMs and repaints only when the open alerts changed. GUI thread only.
 */
class AlertBanner final : public QFrame
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AlertBanner)
public:
    /// @p store must outlive the banner. Call refresh() once to fill it.
    explicit AlertBanner(SubmissionStore &store, QWidget *parent = nullptr);
    static constexpr int MinRefreshIntervalMs = 250;
    ~AlertBanner() override;

    /// Unacknowledged alerts as of the last read.
    int alertCount() const { return int(m_unacknowledged); }
    const QList<AlertRecord> &alerts() const { return m_alerts; }
    /// Whether a read is running or scheduled (refresh() called and not yet answered).
    bool isReading() const { return m_reading || m_refreshTimer.isActive(); }

public Q_SLOTS:
    /// Reads the open alerts again (asynchronously).
    void refresh();
    /// Opens the acknowledge dialog for the selected alert (the first if none is selected).
    void acknowledgeSelected();
    /// Opens the acknowledge dialog for one alert shown in the banner; false if it is not shown.
    bool acknowledge(qint64 alertId);

Q_SIGNALS:
    /// The number of unacknowledged alerts changed (for the status strip).
    void alertCountChanged(int count);
    /// An alert was acknowledged from this banner and committed.
    void alertAcknowledged(qint64 alertId);
    /// A read finished (successfully or not) and its result is shown.
    void refreshed();
    /// The acknowledge dialog was opened (tests and the window may want to know).
    void acknowledgeDialogOpened(SiteRelay::AcknowledgeAlertDialog *dialog);

private:
    void applySnapshot(const AlertsSnapshot &snapshot);
    void showReadError(const QString &message);
    void removeAlert(qint64 alertId);
    void setCount(qint64 count);
    void rebuildList();

    SubmissionStore &m_store;
    ReviewService m_review;
    QList<AlertRecord> m_alerts;
    qint64 m_unacknowledged = 0;
    void startRead();

    bool m_reading = false;
    bool m_readAgain = false;
    QElapsedTimer m_sinceRead;
    QTimer m_refreshTimer; ///< the next read, when refresh() came too soon after the last
    QLabel *m_titleLabel = nullptr;
    QTreeWidget *m_list = nullptr;
    QPushButton *m_acknowledgeButton = nullptr;
    QPointer<AcknowledgeAlertDialog> m_dialog;
};

} // namespace SiteRelay
