#pragma once

#include "questionnairescorer.h"

#include <QJsonObject>
#include <QString>

#include <optional>

namespace SiteRelay {

/// A submission's processing state, as stored in submissions.state.
enum class TaskState { Pending, Processing, Processed, Retrying, TimedOut, Failed, Cancelled };

QString toString(TaskState state);
std::optional<TaskState> taskStateFromString(QStringView text);

/// A submission claimed for one attempt: everything the pipeline needs, copied out of the row.
struct ClaimedTask
{
    QString submissionId;
    qint64 deviceId = 0;
    QString patientId;
    QString trialId;
    QString questionnaireId;
    QString completedAt;
    QString receivedAt;
    QJsonObject answers;
    int attempt = 1;      ///< this attempt's number, from 1 (never reused)
    int attemptInRun = 1; ///< counted from the last manual requeue: what the retry limit applies to
};

/// How an attempt ended.
enum class AttemptOutcome {
    Processed, ///< every stage done
    Retry,     ///< a transient failure; due again at nextAttemptAt
    Failed,    ///< a permanent failure, or the last attempt failed
    TimedOut,  ///< the last attempt timed out
    Cancelled, ///< a coordinator cancelled it
};

QString toString(AttemptOutcome outcome);

/// What an attempt produced, written in one transaction with the state change and its audit row.
struct AttemptRecord
{
    QString submissionId;
    int attempt = 1;
    AttemptOutcome outcome = AttemptOutcome::Failed;
    QString stageReached; ///< the last stage started: validate, score, report, analysis
    QString error;        ///< readable; empty when processed
    QJsonObject stageDurationsMs;
    QString startedAt;
    QString endedAt;
    QString nextAttemptAt; ///< with Retry
    QString actor = QStringLiteral("engine");
    // With Processed:
    std::optional<ScoreResult> score;
    QString reportPath;
    QString reportSha256;
    QJsonObject analysis; ///< the service's answer, or {"skipped": true}
};

} // namespace SiteRelay
