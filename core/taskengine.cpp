#include "taskengine.h"

#include "futurecallback.h"
#include "logging.h"
#include "questionnairecatalog.h"
#include "storereader.h"
#include "submissionstore.h"

#include <QNetworkAccessManager>
#include <QRandomGenerator>
#include <QThreadPool>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// Longest sleep of the retry timer: a later due time is re-read when it wakes up anyway.
constexpr qint64 MaxRetryTimerMs = 60 * 1000;

AttemptOutcome decideOutcome(AttemptResult::Kind kind, int attemptInRun, const RetryPolicy &retry)
{
    switch (kind) {
    case AttemptResult::Kind::Processed:
        return AttemptOutcome::Processed;
    case AttemptResult::Kind::Permanent:
        return AttemptOutcome::Failed;
    case AttemptResult::Kind::Cancelled:
        return AttemptOutcome::Cancelled;
    case AttemptResult::Kind::Shutdown:
        return AttemptOutcome::Retry;
    case AttemptResult::Kind::Transient:
        return retry.mayRetryAfter(attemptInRun) ? AttemptOutcome::Retry : AttemptOutcome::Failed;
    case AttemptResult::Kind::TimedOut:
        return retry.mayRetryAfter(attemptInRun) ? AttemptOutcome::Retry : AttemptOutcome::TimedOut;
    }
    return AttemptOutcome::Failed;
}

void resolve(const std::shared_ptr<QPromise<Expected<TaskState>>> &promise, Expected<TaskState> value)
{
    promise->addResult(std::move(value));
    promise->finish();
}

} // namespace

TaskEngine::TaskEngine(SubmissionStore &store, const QuestionnaireCatalog &catalog, Options options, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_queue(store)
    , m_catalog(catalog)
    , m_options(std::move(options))
    , m_pool(std::make_unique<QThreadPool>())
    , m_analysisGate(std::make_unique<AnalysisGate>(m_options.maxConcurrentAnalysis))
    , m_retryTimer(this)
{
    const int workers = m_options.workers > 0 ? m_options.workers : qMax(2, QThread::idealThreadCount());
    m_pool->setMaxThreadCount(workers);
    m_pool->setObjectName(u"engine-pool"_s);
    m_network = new QNetworkAccessManager(this);
    m_network->setAutoDeleteReplies(false);
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &TaskEngine::wake);
}

TaskEngine::~TaskEngine()
{
    for (ProcessingAttempt *attempt : std::as_const(m_attempts))
        delete attempt;
    m_attempts.clear();
    m_pool->clear();
    m_pool->waitForDone(); // only at destruction, after stop(): the cancelled tasks return at their next check
}

void TaskEngine::start()
{
    auto reader = StoreReader::open(m_store.databasePath());
    if (reader)
        m_reader = std::move(reader).value();
    else
        qCWarning(lcEngine).noquote() << "no read connection; retries are found only on new submissions:"
                                      << reader.error().message;
    whenFinished(m_queue.recoverInterrupted(), this, [this](const Expected<int> &recovered) {
        if (!recovered)
            qCWarning(lcEngine).noquote() << "could not recover interrupted tasks:" << recovered.error().message;
        else if (*recovered > 0)
            qCInfo(lcEngine) << "recovered" << *recovered << "tasks interrupted by the last stop";
        m_started = true;
        pump();
    });
}

void TaskEngine::wake()
{
    pump();
}

void TaskEngine::pump()
{
    if (!m_started || m_stopping)
        return;
    if (m_claiming) {
        m_wakeAgain = true; // more may have become due while this claim was being written
        return;
    }
    const int free = m_options.maxInFlight - int(m_attempts.size());
    if (free <= 0)
        return;
    m_claiming = true;
    m_wakeAgain = false;
    whenFinished(m_queue.claimDue(free), this, [this, free](const Expected<QList<ClaimedTask>> &claimed) {
        m_claiming = false;
        if (!claimed) {
            qCWarning(lcEngine).noquote() << "could not claim tasks:" << claimed.error().message;
            m_retryTimer.start(1000);
            return;
        }
        for (const ClaimedTask &task : *claimed)
            startAttempt(task);
        if (m_stopping) {
            checkStopped();
            return;
        }
        if (claimed->size() == free || m_wakeAgain)
            pump();
        else
            scheduleRetryWakeup();
    });
}

void TaskEngine::startAttempt(const ClaimedTask &task)
{
    const Questionnaire *questionnaire = m_catalog.find(task.questionnaireId);
    auto *attempt = new ProcessingAttempt(
        task, questionnaire ? *questionnaire : Questionnaire{}, m_options.attempt, m_pool.get(), m_network,
        m_options.clock,
        [this](ProcessingAttempt *finished, AttemptResult result) { onAttemptFinished(finished, std::move(result)); },
        this);
    attempt->setOpenRequestCounter(&m_openRequests);
    attempt->setAnalysisGate(m_analysisGate.get());
    m_attempts.insert(task.submissionId, attempt);
    ++m_inFlight;
    ++m_attemptsStarted;
    if (!questionnaire) {
        // Legacy reports may name no questionnaire this site knows: nothing to validate against.
        attempt->cancel(AttemptResult::Kind::Permanent, u"engine"_s);
        return;
    }
    attempt->start();
    if (m_stopping) {
        attempt->cancel(AttemptResult::Kind::Shutdown, u"engine"_s);
        return;
    }
    const auto raced = m_cancelOnClaim.find(task.submissionId);
    if (raced != m_cancelOnClaim.end()) {
        const auto [actor, promises] = *raced;
        m_cancelOnClaim.erase(raced);
        m_cancelWaiters[task.submissionId] += promises;
        attempt->cancel(AttemptResult::Kind::Cancelled, actor);
    }
}

void TaskEngine::onAttemptFinished(ProcessingAttempt *attempt, AttemptResult result)
{
    const ClaimedTask task = attempt->task();
    m_attempts.remove(task.submissionId);
    --m_inFlight;
    attempt->deleteLater();

    if (result.kind == AttemptResult::Kind::Permanent && result.error.isEmpty())
        result.error = u"questionnaire \"%1\" is not known to this site"_s.arg(task.questionnaireId);

    AttemptRecord record;
    record.submissionId = task.submissionId;
    record.attempt = task.attempt;
    record.outcome = decideOutcome(result.kind, task.attemptInRun, m_options.retry);
    record.stageReached = result.stageReached;
    record.error = result.error;
    record.stageDurationsMs = result.stageDurationsMs;
    record.startedAt = result.startedAt;
    record.endedAt = result.endedAt;
    record.actor = result.actor;
    record.score = result.score;
    record.reportPath = result.reportPath;
    record.reportSha256 = result.reportSha256;
    record.analysis = result.analysis;
    if (record.outcome == AttemptOutcome::Retry) {
        const qint64 delay =
            result.kind == AttemptResult::Kind::Shutdown
                ? 0
                : m_options.retry.delayMs(task.attemptInRun, QRandomGenerator::global()->generateDouble());
        record.nextAttemptAt = toIsoUtc(m_options.clock->nowUtc().addMSecs(delay));
        if (result.kind != AttemptResult::Kind::Shutdown && !m_stopping &&
            (!m_retryTimer.isActive() || m_retryTimer.remainingTime() > delay))
            m_retryTimer.start(int(qMin(delay, MaxRetryTimerMs)));
    }
    switch (record.outcome) {
    case AttemptOutcome::Processed:
        ++m_processed;
        break;
    case AttemptOutcome::Retry:
        ++m_retries;
        break;
    case AttemptOutcome::Failed:
        ++m_failed;
        break;
    case AttemptOutcome::TimedOut:
        ++m_timedOut;
        break;
    case AttemptOutcome::Cancelled:
        ++m_cancelled;
        break;
    }

    ++m_recordsOutstanding;
    const QString state = toString(record.outcome == AttemptOutcome::Retry       ? TaskState::Retrying
                                   : record.outcome == AttemptOutcome::Processed ? TaskState::Processed
                                   : record.outcome == AttemptOutcome::TimedOut  ? TaskState::TimedOut
                                   : record.outcome == AttemptOutcome::Cancelled ? TaskState::Cancelled
                                                                                 : TaskState::Failed);
    whenFinished(m_queue.record(record), this, [this, id = task.submissionId, state](const Expected<bool> &recorded) {
        --m_recordsOutstanding;
        if (!recorded)
            qCWarning(lcEngine).noquote() << "could not record an attempt's outcome:" << recorded.error().message;
        const QList<CancelPromise> waiters = m_cancelWaiters.take(id);
        for (const CancelPromise &promise : waiters) {
            if (recorded)
                resolve(promise, taskStateFromString(state).value_or(TaskState::Failed));
            else
                resolve(promise, recorded.error());
        }
        if (recorded && *recorded)
            Q_EMIT taskChanged(id, state);
        checkStopped();
    });
    pump();
}

void TaskEngine::scheduleRetryWakeup()
{
    if (!m_reader || m_stopping)
        return;
    const auto due = m_reader->nextRetryDueAt();
    if (!due || due->isEmpty())
        return;
    const QDateTime when = QDateTime::fromString(*due, Qt::ISODateWithMs);
    const qint64 waitMs = qBound<qint64>(0, m_options.clock->nowUtc().msecsTo(when), MaxRetryTimerMs);
    if (!m_retryTimer.isActive() || m_retryTimer.remainingTime() > waitMs)
        m_retryTimer.start(int(waitMs));
}

QFuture<Expected<TaskState>> TaskEngine::cancel(const QString &submissionId, const QString &actor)
{
    auto promise = std::make_shared<QPromise<Expected<TaskState>>>();
    promise->start();
    QFuture<Expected<TaskState>> future = promise->future();
    QMetaObject::invokeMethod(
        this, [this, submissionId, actor, promise] { cancelOnEngineThread(submissionId, actor, promise); },
        Qt::QueuedConnection);
    return future;
}

void TaskEngine::cancelOnEngineThread(const QString &submissionId, const QString &actor, CancelPromise promise)
{
    if (ProcessingAttempt *attempt = m_attempts.value(submissionId)) {
        m_cancelWaiters[submissionId].append(promise);
        attempt->cancel(AttemptResult::Kind::Cancelled, actor);
        return;
    }
    whenFinished(m_queue.cancelWaiting(submissionId, actor), this,
                 [this, submissionId, actor, promise](const Expected<TaskState> &result) {
                     if (!result && result.error().code == ErrorCode::Conflict) {
                         // It may have been claimed while this cancel was on its way.
                         if (ProcessingAttempt *attempt = m_attempts.value(submissionId)) {
                             m_cancelWaiters[submissionId].append(promise);
                             attempt->cancel(AttemptResult::Kind::Cancelled, actor);
                             return;
                         }
                         // Only a task the store says is processing can be in a claim on its way here.
                         const bool processing = m_reader && [&] {
                             const auto stored = m_reader->submissionStatus(submissionId);
                             return stored && stored->state == toString(TaskState::Processing);
                         }();
                         if (m_claiming && processing) {
                             auto &entry = m_cancelOnClaim[submissionId];
                             entry.first = actor;
                             entry.second.append(promise);
                             return;
                         }
                     }
                     if (result)
                         Q_EMIT taskChanged(submissionId, toString(*result));
                     resolve(promise, result);
                 });
}

QFuture<Expected<Done>> TaskEngine::requeue(const QString &submissionId, const QString &actor)
{
    // The store's commit signal wakes the engine, which then claims the requeued task.
    return m_queue.requeue(submissionId, actor);
}

void TaskEngine::stop()
{
    if (m_stopping)
        return;
    m_stopping = true;
    m_retryTimer.stop();
    const QList<ProcessingAttempt *> attempts = m_attempts.values();
    for (ProcessingAttempt *attempt : attempts)
        attempt->cancel(AttemptResult::Kind::Shutdown, u"engine"_s);
    checkStopped();
}

void TaskEngine::checkStopped()
{
    if (!m_stopping || m_stopped || m_claiming || !m_attempts.isEmpty() || m_recordsOutstanding > 0)
        return;
    m_stopped = true;
    for (auto it = m_cancelOnClaim.begin(); it != m_cancelOnClaim.end(); ++it) {
        for (const CancelPromise &promise : std::as_const(it->second))
            resolve(promise, Error{ErrorCode::StorageUnavailable, u"SiteRelay is shutting down"_s});
    }
    m_cancelOnClaim.clear();
    Q_EMIT stopped();
}

EngineSnapshot TaskEngine::snapshot() const
{
    EngineSnapshot snapshot;
    snapshot.workersActive = m_pool->activeThreadCount();
    snapshot.workersMax = m_pool->maxThreadCount();
    snapshot.attemptsInFlight = m_inFlight.load();
    snapshot.openRequests = m_openRequests.load();
    snapshot.attemptsStarted = m_attemptsStarted.load();
    snapshot.processed = m_processed.load();
    snapshot.retriesScheduled = m_retries.load();
    snapshot.failed = m_failed.load();
    snapshot.timedOut = m_timedOut.load();
    snapshot.cancelled = m_cancelled.load();
    return snapshot;
}

} // namespace SiteRelay
