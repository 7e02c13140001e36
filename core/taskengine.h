#pragma once

#include "analysisgate.h"
#include "clock.h"
#include "expected.h"
#include "processingattempt.h"
#include "retrypolicy.h"
#include "task.h"
#include "taskqueue.h"

#include <QFuture>
#include <QHash>
#include <QObject>
#include <QPromise>
#include <QTimer>

#include <atomic>
#include <memory>

class QNetworkAccessManager;
class QThreadPool;

namespace SiteRelay {

class QuestionnaireCatalog;
class StoreReader;
class SubmissionStore;

/// A snapshot of the engine for /api/v1/stats, /metrics and the dashboard. Readable from any thread.
struct EngineSnapshot
{
    int workersActive = 0;
    int workersMax = 0;
    int attemptsInFlight = 0;
    int openRequests = 0;
    qint64 attemptsStarted = 0;
    qint64 processed = 0;
    qint64 retriesScheduled = 0;
    qint64 failed = 0;
    qint64 timedOut = 0;
    qint64 cancelled = 0;
};

/**
 * The scheduler: claims due tasks from SQLite in order of receipt, never more than maxInFlight at
 * once, and runs each as a ProcessingAttempt. A backlog costs rows, not threads or futures. When
 * an attempt ends, the retry policy decides the task's next state and TaskQueue records it with
 * its audit row. At start it recovers tasks a crash left "processing".
 *
 * Construct, start() and stop() on the engine thread (it owns the QNetworkAccessManager, the
 * timers and the attempts); cancel(), requeue() and snapshot() may be called from any thread.
 */
class TaskEngine final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TaskEngine)
public:
    struct Options
    {
        int workers = 0; ///< 0: max(2, ideal thread count)
        int maxInFlight = 256;
        int maxConcurrentAnalysis = 6;
        RetryPolicy retry;
        AttemptSettings attempt;
        std::shared_ptr<Clock> clock = Clock::system();
    };

    TaskEngine(SubmissionStore &store, const QuestionnaireCatalog &catalog, Options options, QObject *parent = nullptr);
    ~TaskEngine() override;

    /// Recovers interrupted tasks, then starts claiming. Engine thread.
    void start();
    /// Stops claiming and ends every attempt in flight (they become due again); emits stopped()
    /// once their outcomes are recorded. Engine thread.
    void stop();

    /**
     * Cancels a task: an attempt in flight ends at once (its request aborted, its pool task
     * cancelled) and the task becomes "cancelled"; a waiting one becomes "cancelled" directly.
     * Conflict if it already finished. Any thread.
     */
    QFuture<Expected<TaskState>> cancel(const QString &submissionId, const QString &actor);
    /// Starts a failed, timed-out, cancelled or retrying task over. Any thread.
    QFuture<Expected<Done>> requeue(const QString &submissionId, const QString &actor);

    EngineSnapshot snapshot() const;

Q_SIGNALS:
    void stopped();
    /// A task's attempt ended and its new state is recorded.
    void taskChanged(const QString &submissionId, const QString &state);

public Q_SLOTS:
    /// Looks for due work now (connected to the store's commits).
    void wake();

private:
    using CancelPromise = std::shared_ptr<QPromise<Expected<TaskState>>>;

    void pump();
    void startAttempt(const ClaimedTask &task);
    void onAttemptFinished(ProcessingAttempt *attempt, AttemptResult result);
    void scheduleRetryWakeup();
    void cancelOnEngineThread(const QString &submissionId, const QString &actor, CancelPromise promise);
    void checkStopped();

    SubmissionStore &m_store;
    TaskQueue m_queue;
    const QuestionnaireCatalog &m_catalog;
    Options m_options;
    std::unique_ptr<QThreadPool> m_pool;
    std::unique_ptr<AnalysisGate> m_analysisGate;
    QNetworkAccessManager *m_network = nullptr;
    std::unique_ptr<StoreReader> m_reader;
    QHash<QString, ProcessingAttempt *> m_attempts;
    QHash<QString, QList<CancelPromise>> m_cancelWaiters; ///< resolved when the attempt's outcome is recorded
    QHash<QString, QPair<QString, QList<CancelPromise>>> m_cancelOnClaim; ///< cancels that raced a claim
    QTimer m_retryTimer;
    int m_recordsOutstanding = 0;
    bool m_started = false;
    bool m_claiming = false;
    bool m_wakeAgain = false;
    bool m_stopping = false;
    bool m_stopped = false;

    std::atomic<int> m_inFlight{0};
    std::atomic<int> m_openRequests{0};
    std::atomic<qint64> m_attemptsStarted{0};
    std::atomic<qint64> m_processed{0};
    std::atomic<qint64> m_retries{0};
    std::atomic<qint64> m_failed{0};
    std::atomic<qint64> m_timedOut{0};
    std::atomic<qint64> m_cancelled{0};
};

} // namespace SiteRelay
