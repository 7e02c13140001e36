#include "taskqueue.h"

#include "auditlog.h"
#include "database.h"
#include "logging.h"
#include "preparedstatements.h"
#include "submissionstore.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

QString compactJson(const QJsonObject &object)
{
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

TaskState stateAfter(AttemptOutcome outcome)
{
    switch (outcome) {
    case AttemptOutcome::Processed:
        return TaskState::Processed;
    case AttemptOutcome::Retry:
        return TaskState::Retrying;
    case AttemptOutcome::Failed:
        return TaskState::Failed;
    case AttemptOutcome::TimedOut:
        return TaskState::TimedOut;
    case AttemptOutcome::Cancelled:
        return TaskState::Cancelled;
    }
    return TaskState::Failed;
}

struct CurrentState
{
    TaskState state = TaskState::Pending;
    int attemptCount = 0;
};

Expected<CurrentState> currentState(QSqlDatabase &db, const QString &submissionId)
{
    QSqlQuery &query =
        PreparedStatements::get(db, u"SELECT state, attempt_count FROM submissions WHERE submission_id = ?"_s);
    const StatementReset queryReset(query);
    query.addBindValue(submissionId);
    if (!query.exec())
        return Database::storageError(u"reading a task"_s, query.lastError());
    if (!query.next())
        return Error{ErrorCode::NotFound, u"there is no submission %1"_s.arg(submissionId), QString(), u"not_found"_s};
    return CurrentState{taskStateFromString(query.value(0).toString()).value_or(TaskState::Failed),
                        query.value(1).toInt()};
}

Expected<Done> setState(QSqlDatabase &db, const QString &submissionId, TaskState state, const QString &now)
{
    QSqlQuery &update =
        PreparedStatements::get(db, u"UPDATE submissions SET state = ?, updated_at = ? WHERE submission_id = ?"_s);
    const StatementReset updateReset(update);
    update.addBindValue(toString(state));
    update.addBindValue(now);
    update.addBindValue(submissionId);
    if (!update.exec())
        return Database::storageError(u"changing a task's state"_s, update.lastError());
    return Done{};
}

} // namespace

TaskQueue::TaskQueue(SubmissionStore &store)
    : m_store(store)
{}

QFuture<Expected<QList<ClaimedTask>>> TaskQueue::claimDue(int limit)
{
    const QString now = toIsoUtc(m_store.clock().nowUtc());
    return m_store.submit<QList<ClaimedTask>>([limit, now](QSqlDatabase &db) -> Expected<QList<ClaimedTask>> {
        // Two index range scans (pending by id; retrying by due time) instead of one OR, which
        // would walk every processed row in id order.
        static const QString columns = u"id, submission_id, device_id, patient_id, trial_id, questionnaire_id, "
                                       u"completed_at, received_at, answers, attempt_count, retry_base, state"_s;
        struct Row
        {
            qint64 rowId;
            ClaimedTask task;
            QString oldState;
        };
        std::vector<Row> rows;
        const auto collect = [&rows](QSqlQuery &query) {
            while (query.next()) {
                Row row;
                row.rowId = query.value(0).toLongLong();
                row.task.submissionId = query.value(1).toString();
                row.task.deviceId = query.value(2).toLongLong();
                row.task.patientId = query.value(3).toString();
                row.task.trialId = query.value(4).toString();
                row.task.questionnaireId = query.value(5).toString();
                row.task.completedAt = query.value(6).toString();
                row.task.receivedAt = query.value(7).toString();
                row.task.answers = QJsonDocument::fromJson(query.value(8).toString().toUtf8()).object();
                row.task.attempt = query.value(9).toInt() + 1;
                row.task.attemptInRun = row.task.attempt - query.value(10).toInt();
                row.oldState = query.value(11).toString();
                rows.push_back(std::move(row));
            }
        };
        QSqlQuery pending(db);
        pending.prepare(u"SELECT %1 FROM submissions WHERE state = 'pending' ORDER BY id LIMIT ?"_s.arg(columns));
        pending.addBindValue(limit);
        if (!pending.exec())
            return Database::storageError(u"finding pending tasks"_s, pending.lastError());
        collect(pending);
        QSqlQuery retrying(db);
        retrying.prepare(u"SELECT %1 FROM submissions WHERE state = 'retrying' AND next_attempt_at <= ? "
                         u"ORDER BY next_attempt_at LIMIT ?"_s.arg(columns));
        retrying.addBindValue(now);
        retrying.addBindValue(limit);
        if (!retrying.exec())
            return Database::storageError(u"finding due retries"_s, retrying.lastError());
        collect(retrying);
        std::sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) { return a.rowId < b.rowId; });
        if (int(rows.size()) > limit)
            rows.resize(size_t(limit));

        QList<ClaimedTask> claimed;
        for (const Row &row : rows) {
            QSqlQuery &update = PreparedStatements::get(
                db, u"UPDATE submissions SET state = 'processing', attempt_count = ?, next_attempt_at = NULL, "
                    u"updated_at = ? WHERE id = ?"_s);
            const StatementReset updateReset(update);
            update.addBindValue(row.task.attempt);
            update.addBindValue(now);
            update.addBindValue(row.rowId);
            if (!update.exec())
                return Database::storageError(u"claiming a task"_s, update.lastError());
            QSqlQuery &attempt = PreparedStatements::get(
                db, u"INSERT INTO attempts (submission_id, number, started_at, stage_reached) VALUES (?, ?, ?, ?)"_s);
            const StatementReset attemptReset(attempt);
            attempt.addBindValue(row.task.submissionId);
            attempt.addBindValue(row.task.attempt);
            attempt.addBindValue(now);
            attempt.addBindValue(u"queued"_s);
            if (!attempt.exec())
                return Database::storageError(u"recording an attempt"_s, attempt.lastError());
            if (auto audited = AuditLog::append(db, {now, u"engine"_s, u"submission"_s, row.task.submissionId,
                                                     u"attempt_started"_s, row.oldState, u"processing"_s,
                                                     u"attempt %1"_s.arg(row.task.attempt)});
                !audited)
                return audited.error();
            claimed.append(row.task);
        }
        return claimed;
    });
}

QFuture<Expected<bool>> TaskQueue::record(const AttemptRecord &record)
{
    const QString now = toIsoUtc(m_store.clock().nowUtc());
    return m_store.submit<bool>([record, now](QSqlDatabase &db) -> Expected<bool> {
        auto current = currentState(db, record.submissionId);
        if (!current)
            return current.error();
        if (current->state != TaskState::Processing || current->attemptCount != record.attempt) {
            qCInfo(lcEngine) << "ignoring the result of a superseded attempt" << record.attempt;
            return false;
        }
        QSqlQuery &attempt =
            PreparedStatements::get(db, u"UPDATE attempts SET ended_at = ?, stage_reached = ?, outcome = ?, error = ?, "
                                        u"stage_durations = ? WHERE submission_id = ? AND number = ?"_s);
        const StatementReset attemptReset(attempt);
        attempt.addBindValue(record.endedAt.isEmpty() ? now : record.endedAt);
        attempt.addBindValue(record.stageReached);
        attempt.addBindValue(toString(record.outcome));
        attempt.addBindValue(Database::nullIfEmpty(record.error));
        attempt.addBindValue(compactJson(record.stageDurationsMs));
        attempt.addBindValue(record.submissionId);
        attempt.addBindValue(record.attempt);
        if (!attempt.exec())
            return Database::storageError(u"ending an attempt"_s, attempt.lastError());

        const TaskState newState = stateAfter(record.outcome);
        static const QString processedSql =
            u"UPDATE submissions SET state = 'processed', updated_at = ?, processed_at = ?, "
            u"last_error = NULL, score_total = ?, score_band = ?, score = ?, report_path = ?, "
            u"report_sha256 = ?, analysis = ? WHERE submission_id = ?"_s;
        static const QString otherSql = u"UPDATE submissions SET state = ?, updated_at = ?, next_attempt_at = ?, "
                                        u"last_error = ? WHERE submission_id = ?"_s;
        QSqlQuery &update =
            PreparedStatements::get(db, record.outcome == AttemptOutcome::Processed ? processedSql : otherSql);
        const StatementReset updateReset(update);
        if (record.outcome == AttemptOutcome::Processed) {
            const ScoreResult score = record.score.value_or(ScoreResult{});
            update.addBindValue(now);
            update.addBindValue(now);
            update.addBindValue(score.total);
            update.addBindValue(score.bandId);
            update.addBindValue(compactJson(score.toJson()));
            update.addBindValue(Database::nullIfEmpty(record.reportPath));
            update.addBindValue(Database::nullIfEmpty(record.reportSha256));
            update.addBindValue(compactJson(record.analysis));
            update.addBindValue(record.submissionId);
        } else {
            update.addBindValue(toString(newState));
            update.addBindValue(now);
            update.addBindValue(
                Database::nullIfEmpty(record.outcome == AttemptOutcome::Retry ? record.nextAttemptAt : QString()));
            update.addBindValue(Database::nullIfEmpty(record.error));
            update.addBindValue(record.submissionId);
        }
        if (!update.exec())
            return Database::storageError(u"recording a task's outcome"_s, update.lastError());
        QString detail = u"attempt %1"_s.arg(record.attempt);
        if (!record.error.isEmpty())
            detail += u": "_s + record.error;
        if (record.outcome == AttemptOutcome::Retry)
            detail += u"; next attempt at "_s + record.nextAttemptAt;
        if (auto audited = AuditLog::append(db, {now, record.actor, u"submission"_s, record.submissionId,
                                                 u"attempt_"_s + toString(record.outcome), u"processing"_s,
                                                 toString(newState), detail});
            !audited)
            return audited.error();

        if (record.score) {
            for (const TriggeredAlert &alert : record.score->alerts) {
                QSqlQuery &insert = PreparedStatements::get(
                    db, u"INSERT INTO alerts (submission_id, rule_id, severity, message, item_id, item_value, "
                        u"raised_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (submission_id, rule_id) DO NOTHING"_s);
                const StatementReset insertReset(insert);
                insert.addBindValue(record.submissionId);
                insert.addBindValue(alert.ruleId);
                insert.addBindValue(alert.severity);
                insert.addBindValue(alert.message);
                insert.addBindValue(alert.itemId);
                insert.addBindValue(alert.value);
                insert.addBindValue(now);
                if (!insert.exec())
                    return Database::storageError(u"raising an alert"_s, insert.lastError());
                if (insert.numRowsAffected() > 0) {
                    if (auto audited = AuditLog::append(db, {now, record.actor, u"alert"_s, record.submissionId,
                                                             u"alert_raised"_s, QString(), u"unacknowledged"_s,
                                                             alert.ruleId + u" ("_s + alert.severity + u')'});
                        !audited)
                        return audited.error();
                }
            }
        }
        return true;
    });
}

QFuture<Expected<int>> TaskQueue::recoverInterrupted()
{
    const QString now = toIsoUtc(m_store.clock().nowUtc());
    return m_store.submit<int>(
        [now](QSqlDatabase &db) -> Expected<int> {
            QSqlQuery select(db);
            if (!select.exec(u"SELECT submission_id, attempt_count FROM submissions WHERE state = 'processing'"_s))
                return Database::storageError(u"finding interrupted tasks"_s, select.lastError());
            QList<QPair<QString, int>> interrupted;
            while (select.next())
                interrupted.append({select.value(0).toString(), select.value(1).toInt()});
            for (const auto &[submissionId, attemptNumber] : std::as_const(interrupted)) {
                QSqlQuery &attempt =
                    PreparedStatements::get(db, u"UPDATE attempts SET ended_at = ?, outcome = 'interrupted', "
                                                u"error = 'SiteRelay stopped during this attempt' "
                                                u"WHERE submission_id = ? AND number = ? AND outcome IS NULL"_s);
                const StatementReset attemptReset(attempt);
                attempt.addBindValue(now);
                attempt.addBindValue(submissionId);
                attempt.addBindValue(attemptNumber);
                if (!attempt.exec())
                    return Database::storageError(u"recording an interrupted attempt"_s, attempt.lastError());
                QSqlQuery &update = PreparedStatements::get(
                    db, u"UPDATE submissions SET state = 'retrying', next_attempt_at = ?, updated_at = ?, "
                        u"last_error = 'interrupted: SiteRelay stopped during an attempt' WHERE submission_id = ?"_s);
                const StatementReset updateReset(update);
                update.addBindValue(now);
                update.addBindValue(now);
                update.addBindValue(submissionId);
                if (!update.exec())
                    return Database::storageError(u"recovering a task"_s, update.lastError());
                if (auto audited = AuditLog::append(
                        db, {now, u"engine"_s, u"submission"_s, submissionId, u"attempt_interrupted"_s, u"processing"_s,
                             u"retrying"_s, u"attempt %1 interrupted; due again now"_s.arg(attemptNumber)});
                    !audited)
                    return audited.error();
            }
            return int(interrupted.size());
        },
        true);
}

QFuture<Expected<TaskState>> TaskQueue::cancelWaiting(const QString &submissionId, const QString &actor)
{
    const QString now = toIsoUtc(m_store.clock().nowUtc());
    return m_store.submit<TaskState>([submissionId, actor, now](QSqlDatabase &db) -> Expected<TaskState> {
        auto current = currentState(db, submissionId);
        if (!current)
            return current.error();
        if (current->state != TaskState::Pending && current->state != TaskState::Retrying)
            return Error{ErrorCode::Conflict,
                         u"submission %1 is %2 and cannot be cancelled"_s.arg(submissionId, toString(current->state)),
                         QString(), u"invalid_state"_s};
        if (auto set = setState(db, submissionId, TaskState::Cancelled, now); !set)
            return set.error();
        if (auto audited = AuditLog::append(db, {now, actor, u"submission"_s, submissionId, u"cancelled"_s,
                                                 toString(current->state), u"cancelled"_s, QString()});
            !audited)
            return audited.error();
        return TaskState::Cancelled;
    });
}

QFuture<Expected<Done>> TaskQueue::requeue(const QString &submissionId, const QString &actor)
{
    const QString now = toIsoUtc(m_store.clock().nowUtc());
    return m_store.submit<Done>(
        [submissionId, actor, now](QSqlDatabase &db) -> Expected<Done> {
            auto current = currentState(db, submissionId);
            if (!current)
                return current.error();
            const TaskState state = current->state;
            if (state != TaskState::Failed && state != TaskState::TimedOut && state != TaskState::Cancelled &&
                state != TaskState::Retrying)
                return Error{
                    ErrorCode::Conflict,
                    u"submission %1 is %2; only failed, timed-out, cancelled or retrying ones can be requeued"_s.arg(
                        submissionId, toString(state)),
                    QString(), u"invalid_state"_s};
            QSqlQuery &update = PreparedStatements::get(
                db, u"UPDATE submissions SET state = 'pending', retry_base = attempt_count, next_attempt_at = NULL, "
                    u"updated_at = ? WHERE submission_id = ?"_s);
            const StatementReset updateReset(update);
            update.addBindValue(now);
            update.addBindValue(submissionId);
            if (!update.exec())
                return Database::storageError(u"requeueing a task"_s, update.lastError());
            if (auto audited = AuditLog::append(db, {now, actor, u"submission"_s, submissionId, u"requeued"_s,
                                                     toString(state), u"pending"_s, QString()});
                !audited)
                return audited.error();
            return Done{};
        },
        true);
}

} // namespace SiteRelay
