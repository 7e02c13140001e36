#include "processingattempt.h"

#include "analysisgate.h"
#include "futurecallback.h"
#include "logging.h"
#include "reportrenderer.h"

#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QPromise>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

/// What the CPU stages produce, handed from the pool thread to the engine thread by value.
struct ProcessingAttempt::CpuOutput
{
    bool ok = false;
    bool permanent = true;
    QString error;
    std::optional<ScoreResult> score;
    QString reportPath;
    QString reportSha256;
    QJsonObject durations;
};

namespace {

struct CpuInput
{
    ClaimedTask task;
    Questionnaire questionnaire;
    bool reportEnabled = true;
    QString reportPath;
    QString generatedAt;
    std::shared_ptr<std::atomic<int>> stage;
};

constexpr int StageValidate = 0;
constexpr int StageScore = 1;
constexpr int StageReport = 2;
constexpr int StageExternal = 3;
constexpr int StageAnalysis = 4;

} // namespace

ProcessingAttempt::ProcessingAttempt(ClaimedTask task, Questionnaire questionnaire, const AttemptSettings &settings,
                                     QThreadPool *pool, QNetworkAccessManager *network, std::shared_ptr<Clock> clock,
                                     Finished finished, QObject *parent)
    : QObject(parent)
    , m_task(std::move(task))
    , m_questionnaire(std::move(questionnaire))
    , m_settings(settings)
    , m_pool(pool)
    , m_network(network)
    , m_clock(std::move(clock))
    , m_finished(std::move(finished))
    , m_stage(std::make_shared<std::atomic<int>>(StageValidate))
    , m_deadline(this)
    , m_stageTimer(this)
{
    m_deadline.setSingleShot(true);
    m_stageTimer.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        finish(AttemptResult::Kind::TimedOut,
               u"the attempt exceeded its deadline of %1 ms during %2"_s.arg(m_settings.attemptDeadlineMs)
                   .arg(stageName()));
    });
    connect(&m_stageTimer, &QTimer::timeout, this, [this] {
        const int limit = m_stage->load() == StageAnalysis ? m_settings.analysisTimeoutMs : m_settings.stageTimeoutMs;
        finish(AttemptResult::Kind::TimedOut, u"stage %1 exceeded its timeout of %2 ms"_s.arg(stageName()).arg(limit));
    });
}

ProcessingAttempt::~ProcessingAttempt()
{
    abortWork();
    if (m_gate)
        m_gate->release(this);
}

QString ProcessingAttempt::stageName() const
{
    switch (m_stage->load()) {
    case StageValidate:
        return u"validate"_s;
    case StageScore:
        return u"score"_s;
    case StageReport:
        return u"report"_s;
    case StageExternal:
        return u"external"_s;
    default:
        return u"analysis"_s;
    }
}

void ProcessingAttempt::start()
{
    m_startedAt = toIsoUtc(m_clock->nowUtc());
    m_deadline.start(m_settings.attemptDeadlineMs);
    m_stageTimer.start(m_settings.stageTimeoutMs);

    CpuInput input{m_task,
                   m_questionnaire,
                   m_settings.reportEnabled,
                   ReportRenderer::reportPath(m_settings.dataDir, m_task.submissionId, m_task.receivedAt),
                   m_startedAt,
                   m_stage};
    auto output = std::make_shared<CpuOutput>();
    // The pool task owns copies of everything it reads; it shares only the promise (for
    // cancellation), the stage counter and the output slot, never this object.
    QFuture<void> future = QtConcurrent::run(m_pool, [input = std::move(input), output](QPromise<void> &promise) {
        QElapsedTimer clock;
        clock.start();
        const auto lap = [&clock, &output](const QString &stage) { output->durations.insert(stage, clock.restart()); };

        input.stage->store(StageValidate);
        if (auto valid = QuestionnaireScorer::validate(input.questionnaire, input.task.answers); !valid) {
            output->error = u"invalid answers: %1"_s.arg(valid.error().message);
            return;
        }
        lap(u"validate"_s);
        if (promise.isCanceled())
            return;

        input.stage->store(StageScore);
        auto score = QuestionnaireScorer::score(input.questionnaire, input.task.answers);
        if (!score) {
            output->error = u"scoring failed: %1"_s.arg(score.error().message);
            return;
        }
        output->score = *score;
        lap(u"score"_s);
        if (promise.isCanceled())
            return;

        if (input.reportEnabled) {
            input.stage->store(StageReport);
            ReportInput report;
            report.submissionId = input.task.submissionId;
            report.patientId = input.task.patientId;
            report.trialId = input.task.trialId;
            report.completedAt = input.task.completedAt;
            report.receivedAt = input.task.receivedAt;
            report.questionnaire = input.questionnaire;
            report.answers = input.task.answers;
            report.score = *score;
            report.generatedAt = input.generatedAt;
            auto rendered =
                ReportRenderer::render(report, input.reportPath, [&promise] { return promise.isCanceled(); });
            if (!rendered) {
                if (promise.isCanceled())
                    return;
                output->error = u"report: %1"_s.arg(rendered.error().message);
                // A disk that is full or read-only may recover; a rendering bug will not.
                output->permanent = rendered.error().code != ErrorCode::StorageUnavailable;
                return;
            }
            output->reportPath = rendered->path;
            output->reportSha256 = QString::fromLatin1(rendered->sha256Hex);
            lap(u"report"_s);
        }
        output->ok = true;
    });
    m_cpuFuture = future;
    whenFinished(future, this, [this, output] {
        if (m_done)
            return;
        for (auto it = output->durations.begin(); it != output->durations.end(); ++it)
            m_result.stageDurationsMs.insert(it.key(), it.value());
        if (!output->ok) {
            finish(output->permanent ? AttemptResult::Kind::Permanent : AttemptResult::Kind::Transient, output->error);
            return;
        }
        m_result.score = output->score;
        m_result.reportPath = output->reportPath;
        m_result.reportSha256 = output->reportSha256;
        startExternalCheck(output);
    });
}

namespace {

QJsonObject scoredPayload(const ClaimedTask &task, const std::optional<ScoreResult> &score)
{
    return QJsonObject{
        {u"submissionId"_s, task.submissionId}, {u"patientId"_s, task.patientId},
        {u"trialId"_s, task.trialId},           {u"questionnaireId"_s, task.questionnaireId},
        {u"completedAt"_s, task.completedAt},   {u"receivedAt"_s, task.receivedAt},
        {u"answers"_s, task.answers},           {u"score"_s, score ? score->toJson() : QJsonObject()},
    };
}

} // namespace

void ProcessingAttempt::startExternalCheck(const std::shared_ptr<CpuOutput> &cpu)
{
    if (m_settings.externalCommand.isEmpty()) {
        startAnalysis(cpu);
        return;
    }
    m_stage->store(StageExternal);
    m_stageTimer.start(m_settings.stageTimeoutMs);
    QStringList arguments = QProcess::splitCommand(m_settings.externalCommand);
    const QString program = arguments.isEmpty() ? QString() : arguments.takeFirst();
    m_process = new QProcess(this);
    auto clock = std::make_shared<QElapsedTimer>();
    clock->start();
    connect(m_process, &QProcess::finished, this, [this, cpu, clock](int exitCode, QProcess::ExitStatus status) {
        QProcess *process = std::exchange(m_process, nullptr);
        if (!process)
            return;
        process->deleteLater();
        m_result.stageDurationsMs.insert(u"external"_s, clock->elapsed());
        const QByteArray output = process->readAllStandardOutput();
        const QJsonDocument answer = QJsonDocument::fromJson(output);
        if (status != QProcess::NormalExit || exitCode != 0 || !answer.isObject()) {
            finish(AttemptResult::Kind::Permanent, u"external check failed (exit %1): %2"_s.arg(exitCode).arg(
                                                       QString::fromUtf8(process->readAllStandardError().left(300))));
            return;
        }
        m_result.analysis.insert(u"external"_s, answer.object());
        startAnalysis(cpu);
    });
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error != QProcess::FailedToStart || !m_process)
            return;
        QProcess *process = std::exchange(m_process, nullptr);
        process->deleteLater();
        finish(AttemptResult::Kind::Permanent, u"external check could not start: %1"_s.arg(process->errorString()));
    });
    m_process->start(program, arguments);
    m_process->write(QJsonDocument(scoredPayload(m_task, cpu->score)).toJson(QJsonDocument::Compact));
    m_process->closeWriteChannel();
}

void ProcessingAttempt::startAnalysis(const std::shared_ptr<CpuOutput> &cpu)
{
    m_stage->store(StageAnalysis);
    if (m_settings.analysisUrl.isEmpty() || !m_network) {
        m_result.analysis.insert(u"skipped"_s, true);
        m_result.analysis.insert(u"reason"_s, u"no analysis/url configured"_s);
        finish(AttemptResult::Kind::Processed, QString());
        return;
    }
    m_analysisPayload = QJsonDocument(scoredPayload(m_task, cpu->score)).toJson(QJsonDocument::Compact);
    // Waiting for a free slot is bounded by the attempt deadline; the stage timeout starts when
    // the call is sent.
    m_stageTimer.stop();
    if (m_gate)
        m_gate->acquire(this);
    else
        postAnalysis();
}

void ProcessingAttempt::postAnalysis()
{
    if (m_done)
        return;
    QNetworkRequest request(m_settings.analysisUrl);
    request.setHeader(QNetworkRequest::ContentTypeHeader, "application/json"_ba);
    if (!m_settings.analysisToken.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_settings.analysisToken);
    // The idempotency key lets the service recognise a retried call (processing is at-least-once).
    request.setRawHeader("Idempotency-Key", m_task.submissionId.toLatin1());
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    m_analysisClock.start();
    m_stageTimer.start(m_settings.analysisTimeoutMs);
    m_reply = m_network->post(request, m_analysisPayload);
    if (m_openRequests)
        ++*m_openRequests;
    connect(m_reply, &QNetworkReply::finished, this, &ProcessingAttempt::onAnalysisFinished);
}

void ProcessingAttempt::onAnalysisFinished()
{
    QNetworkReply *reply = std::exchange(m_reply, nullptr);
    if (!reply)
        return;
    if (m_openRequests)
        --*m_openRequests;
    reply->deleteLater();
    m_result.stageDurationsMs.insert(u"analysis"_s, m_analysisClock.elapsed());
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();
    if (status == 0 || (reply->error() != QNetworkReply::NoError && status < 400)) {
        finish(AttemptResult::Kind::Transient, u"analysis service unreachable: %1"_s.arg(reply->errorString()));
        return;
    }
    if (status >= 500 || status == 429 || status == 408) {
        finish(AttemptResult::Kind::Transient, u"analysis service answered %1"_s.arg(status));
        return;
    }
    if (status < 200 || status >= 300) {
        finish(AttemptResult::Kind::Permanent, u"analysis service refused the submission with %1: %2"_s.arg(status).arg(
                                                   QString::fromUtf8(body.left(300))));
        return;
    }
    QJsonParseError parseError;
    const QJsonDocument answer = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !answer.isObject()) {
        finish(AttemptResult::Kind::Transient, u"analysis service answered %1 without a JSON object"_s.arg(status));
        return;
    }
    const QJsonObject external = m_result.analysis.value("external"_L1).toObject();
    m_result.analysis = answer.object();
    if (!external.isEmpty())
        m_result.analysis.insert(u"external"_s, external);
    finish(AttemptResult::Kind::Processed, QString());
}

void ProcessingAttempt::cancel(AttemptResult::Kind why, const QString &actor)
{
    finish(why,
           why == AttemptResult::Kind::Shutdown ? u"interrupted: SiteRelay was shutting down"_s
                                                : u"cancelled by %1 during %2"_s.arg(actor, stageName()),
           actor);
}

void ProcessingAttempt::abortWork()
{
    m_deadline.stop();
    m_stageTimer.stop();
    // Only a task that is still queued or running needs to hear of it.
    if (!m_cpuFuture.isFinished())
        m_cpuFuture.cancel();
    if (QProcess *process = std::exchange(m_process, nullptr)) {
        // A foreign program cannot be asked to stop between steps: it is killed.
        process->disconnect(this);
        // Reaped asynchronously: no wait here, and it outlives this attempt until it is gone.
        process->setParent(nullptr);
        connect(process, &QProcess::finished, process, &QObject::deleteLater);
        process->kill();
    }
    if (QNetworkReply *reply = std::exchange(m_reply, nullptr)) {
        if (m_openRequests)
            --*m_openRequests;
        reply->disconnect(this);
        reply->abort(); // closes the connection now; the service sees the client go away
        reply->deleteLater();
    }
}

void ProcessingAttempt::finish(AttemptResult::Kind kind, const QString &error, const QString &actor)
{
    if (m_done)
        return;
    m_done = true;
    abortWork();
    if (m_gate)
        m_gate->release(this); // lets the next waiting attempt send its call
    m_result.kind = kind;
    m_result.error = error;
    m_result.actor = actor;
    m_result.stageReached = stageName();
    m_result.startedAt = m_startedAt;
    m_result.endedAt = toIsoUtc(m_clock->nowUtc());
    if (kind != AttemptResult::Kind::Processed)
        qCInfo(lcEngine).noquote() << "attempt" << m_task.attempt << "ended" << int(kind) << "at"
                                   << m_result.stageReached << "-" << error;
    if (m_finished)
        m_finished(this, std::move(m_result));
}

} // namespace SiteRelay
