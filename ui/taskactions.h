#pragma once

#include "reviewservice.h"
#include "taskqueue.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <optional>

class QAction;
class QWidget;

namespace SiteRelay {

class SubmissionStore;
class TaskEngine;

/// A selected row as the task table knows it.
struct SelectedTask
{
    QString submissionId;
    QString state;       ///< submissions.state: "pending", "failed", ...
    QString reviewState; ///< "reviewed", "rejected" or empty
};

/// Who takes a review decision and why (asked when marking reviewed without a remembered name, and on reject).
struct ReviewInput
{
    QString by;
    QString note;
};

/**
 * The actions on the task table's selection: "Retry now" (Ctrl+R), "Cancel" (Del), "Mark reviewed"
 * and "Reject…". Each is enabled only when it applies to at least one selected task and acts on
 * those it applies to. Retry and cancel go through TaskEngine::requeue/cancel (TaskQueue when the
 * engine is disabled) — the calls the API makes; review decisions through ReviewService. Every
 * write is audited by core with the actor "dashboard". Cancel and reject ask to confirm first.
 * Failures are shown in one message; actionCompleted() is emitted once all writes of an action
 * have committed or failed, so the window refreshes.
 *
 * The dialogs are asynchronous (no nested event loop) and replaceable for tests through the
 * set...Handler() seams. GUI thread only.
 */
class TaskActions final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TaskActions)
public:
    using SelectionProvider = std::function<QList<SelectedTask>()>;
    /// Shows @p text and calls @p answer(true) if the coordinator confirms.
    using ConfirmHandler =
        std::function<void(const QString &title, const QString &text, std::function<void(bool)> answer)>;
    /// Asks who decides and why; calls @p answer(std::nullopt) if cancelled.
    using ReviewInputHandler = std::function<void(ReviewDecision decision, int count, const QString &suggestedName,
                                                  std::function<void(std::optional<ReviewInput>)> answer)>;
    using ErrorHandler = std::function<void(const QString &title, const QString &text)>;

    /**
     * @p store must outlive this object; @p engine may be null (processing disabled). @p selection
     * gives the current selection; @p dialogParent (may be null) parents the dialogs.
     */
    TaskActions(SubmissionStore &store, TaskEngine *engine, SelectionProvider selection,
                QWidget *dialogParent = nullptr, QObject *parent = nullptr);
    ~TaskActions() override;

    QAction *retryAction() const { return m_retry; }
    QAction *cancelAction() const { return m_cancel; }
    QAction *markReviewedAction() const { return m_markReviewed; }
    QAction *rejectAction() const { return m_reject; }
    /// All four, in menu order.
    QList<QAction *> actions() const;

    void setConfirmHandler(ConfirmHandler handler) { m_confirm = std::move(handler); }
    void setReviewInputHandler(ReviewInputHandler handler) { m_askReview = std::move(handler); }
    void setErrorHandler(ErrorHandler handler) { m_showError = std::move(handler); }

    /// Which selected tasks an action applies to (the rules behind the enabled state).
    static bool canRetry(const SelectedTask &task);
    static bool canCancel(const SelectedTask &task, bool engineRunning);
    static bool canMarkReviewed(const SelectedTask &task);
    static bool canReject(const SelectedTask &task);

public Q_SLOTS:
    /// Re-evaluates which actions apply; call when the selection or the rows change.
    void updateEnabled();
    void retry();
    void cancel();
    void markReviewed();
    void reject();

Q_SIGNALS:
    /// Every write of an action has committed or failed; the view should read again.
    void actionCompleted();

private:
    QList<SelectedTask> applicable(const std::function<bool(const SelectedTask &)> &rule) const;
    /// Runs @p start for each id and reports once all finished.
    template <typename T>
    void runForEach(const QString &what, const QStringList &ids,
                    const std::function<QFuture<Expected<T>>(const QString &)> &start);
    void review(ReviewDecision decision, const QStringList &ids, const ReviewInput &input);
    void finish(const QString &what, const QStringList &failures);

    TaskEngine *m_engine = nullptr; ///< lives on the engine thread; its cancel/requeue are thread-safe
    TaskQueue m_queue;
    ReviewService m_review;
    SelectionProvider m_selection;
    QPointer<QWidget> m_dialogParent;
    QAction *m_retry = nullptr;
    QAction *m_cancel = nullptr;
    QAction *m_markReviewed = nullptr;
    QAction *m_reject = nullptr;
    int m_running = 0; ///< actions whose writes are still outstanding; no second one meanwhile
    ConfirmHandler m_confirm;
    ReviewInputHandler m_askReview;
    ErrorHandler m_showError;
};

} // namespace SiteRelay
