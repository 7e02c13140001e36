#pragma once

#include "expected.h"
#include "task.h"

#include <QFuture>
#include <QList>

namespace SiteRelay {

class SubmissionStore;

/**
 * The processing queue as it lives in SQLite: claiming due tasks, recording attempts, recovery,
 * cancel and requeue. Every call is one write through the store's writer (so one transaction with
 * its audit rows) and returns a future resolved after COMMIT. Thread-safe; holds a reference to
 * the store, which must outlive it.
 */
class TaskQueue
{
public:
    explicit TaskQueue(SubmissionStore &store);

    /**
     * Claims up to @p limit due tasks in order of receipt — pending ones and retrying ones whose
     * time has come — and marks each processing with a new attempt row and an audit row.
     */
    QFuture<Expected<QList<ClaimedTask>>> claimDue(int limit);

    /**
     * Ends an attempt: updates its row, the submission's state and results, raises its alerts and
     * writes the audit rows. A record for an attempt that is no longer the current one (the task
     * was cancelled or requeued meanwhile) changes nothing and resolves to false.
     */
    QFuture<Expected<bool>> record(const AttemptRecord &record);

    /// At start-up: tasks a crash left "processing" become due again at once, their open attempt
    /// recorded as interrupted. Resolves to how many were recovered.
    QFuture<Expected<int>> recoverInterrupted();

    /// Cancels a task that is waiting (pending or retrying). Conflict if it is being processed
    /// (the engine cancels those) or already finished; NotFound if there is no such submission.
    QFuture<Expected<TaskState>> cancelWaiting(const QString &submissionId, const QString &actor);

    /// Starts a failed, timed-out, cancelled or retrying task over: pending, retries counted anew.
    QFuture<Expected<Done>> requeue(const QString &submissionId, const QString &actor);

private:
    SubmissionStore &m_store;
};

} // namespace SiteRelay
