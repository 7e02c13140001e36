#pragma once

#include "clock.h"
#include "questionnaire.h"
#include "questionnairescorer.h"
#include "task.h"

#include <QElapsedTimer>
#include <QFuture>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

class QNetworkAccessManager;
class QNetworkReply;
class QProcess;
class QThreadPool;

namespace SiteRelay {

class AnalysisGate;

/// The settings one attempt runs under.
struct AttemptSettings
{
    int attemptDeadlineMs = 60000;
    int stageTimeoutMs = 30000;
    bool reportEnabled = true;
    QString dataDir;
    QUrl analysisUrl; ///< empty: the analysis stage is skipped
    QByteArray analysisToken;
    int analysisTimeoutMs = 10000;
    /// An external check run as a child process after scoring (empty: none). It gets the scored
    /// submission as JSON on stdin and must print a JSON object; it is killed at the stage timeout
    /// or on cancel, because a foreign program cannot be asked to stop between steps.
    QString externalCommand;
};

/// How an attempt ended, before the retry policy decides what that means for the task.
struct AttemptResult
{
    enum class Kind {
        Processed,
        Transient, ///< worth retrying: network error, 5xx, 429, disk full
        Permanent, ///< retrying cannot help: invalid answers, a 4xx from the service
        TimedOut,  ///< a stage timeout or the attempt deadline
        Cancelled, ///< a coordinator cancelled it
        Shutdown,  ///< SiteRelay is stopping; the task is due again at the next start
    };
    Kind kind = Kind::Permanent;
    QString stageReached;
    QString error;
    QJsonObject stageDurationsMs;
    QString startedAt;
    QString endedAt;
    QString actor = QStringLiteral("engine");
    std::optional<ScoreResult> score;
    QString reportPath;
    QString reportSha256;
    QJsonObject analysis;
};

/**
 * One attempt to process one submission: validate → score → report (on the bounded pool, one
 * QtConcurrent task with a QPromise that is checked between steps) → analysis (an asynchronous
 * POST on the engine thread; no thread waits for it). Every stage runs under a timeout and the
 * whole attempt under a deadline; cancel() — or either timer — ends it at once: the pool task is
 * cancelled (it stops at its next check), the network reply is aborted, and the result is
 * reported. Lives on the engine thread.
 */
class ProcessingAttempt final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProcessingAttempt)
public:
    using Finished = std::function<void(ProcessingAttempt *, AttemptResult)>;

    ProcessingAttempt(ClaimedTask task, Questionnaire questionnaire, const AttemptSettings &settings, QThreadPool *pool,
                      QNetworkAccessManager *network, std::shared_ptr<Clock> clock, Finished finished,
                      QObject *parent = nullptr);
    ~ProcessingAttempt() override;

    void start();
    /// Ends the attempt now (Cancelled or Shutdown). No effect once finished.
    void cancel(AttemptResult::Kind why, const QString &actor);

    /// The gate that limits concurrent analysis calls (may be null: no limit).
    void setAnalysisGate(AnalysisGate *gate) { m_gate = gate; }
    /// Sends the analysis call now; called by the gate when this attempt's turn has come.
    void postAnalysis();

    /// A counter of open network requests across attempts, kept up to date by this attempt.
    void setOpenRequestCounter(std::atomic<int> *counter) { m_openRequests = counter; }

    const ClaimedTask &task() const { return m_task; }
    bool hasOpenRequest() const { return m_reply != nullptr; }

private:
    struct CpuOutput;

    void startExternalCheck(const std::shared_ptr<CpuOutput> &cpu);
    void startAnalysis(const std::shared_ptr<CpuOutput> &cpu);
    void onAnalysisFinished();
    void finish(AttemptResult::Kind kind, const QString &error, const QString &actor = QStringLiteral("engine"));
    void abortWork();
    QString stageName() const;

    ClaimedTask m_task;
    Questionnaire m_questionnaire;
    AttemptSettings m_settings;
    QThreadPool *m_pool;
    QPointer<QNetworkAccessManager> m_network;
    std::shared_ptr<Clock> m_clock;
    Finished m_finished;

    std::shared_ptr<std::atomic<int>> m_stage; ///< written by the pool task, read here
    QFuture<void> m_cpuFuture;
    QNetworkReply *m_reply = nullptr;
    AnalysisGate *m_gate = nullptr;
    QByteArray m_analysisPayload; ///< built when the analysis stage starts, sent when the gate allows
    QProcess *m_process = nullptr;
    std::atomic<int> *m_openRequests = nullptr;
    QTimer m_deadline;
    QTimer m_stageTimer;
    QElapsedTimer m_analysisClock;
    QString m_startedAt;
    AttemptResult m_result;
    bool m_done = false;
};

} // namespace SiteRelay
