#include "dashboardreader.h"

#include "clock.h"
#include "database.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QPromise>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QTimeZone>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// Most severe first; the alert column shows the worst one.
const char *const severitySql =
    "CASE severity WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 WHEN 'info' THEN 1 ELSE 0 END";

QString sortExpression(TaskColumn column)
{
    switch (column) {
    case TaskColumn::Received:
        return u"s.id"_s;
    case TaskColumn::Patient:
        return u"s.patient_id"_s;
    case TaskColumn::Trial:
        return u"s.trial_id"_s;
    case TaskColumn::Questionnaire:
        return u"s.questionnaire_id"_s;
    case TaskColumn::Device:
        return u"COALESCE(d.name, '')"_s;
    case TaskColumn::State:
        return u"s.state"_s;
    case TaskColumn::Attempts:
        return u"s.attempt_count"_s;
    case TaskColumn::Score:
        // NULL would break the keyset comparison; unscored rows sort below every score.
        return u"COALESCE(s.score_total, -1)"_s;
    case TaskColumn::Alert:
        // Unacknowledged alerts first, then by severity.
        return u"(SELECT COALESCE(MAX((acknowledged_at IS NULL) * 10 + "_s + QLatin1StringView(severitySql) +
               u"), 0) FROM alerts a WHERE a.submission_id = s.submission_id)"_s;
    case TaskColumn::ExportBatch:
        return u"COALESCE(s.export_batch_id, '')"_s;
    }
    return u"s.id"_s;
}

QString likePattern(const QString &search)
{
    QString escaped = search;
    escaped.replace(u'\\', u"\\\\"_s).replace(u'%', u"\\%"_s).replace(u'_', u"\\_"_s);
    return u'%' + escaped + u'%';
}

QString severityName(int rank)
{
    switch (rank) {
    case 3:
        return u"critical"_s;
    case 2:
        return u"warning"_s;
    case 1:
        return u"info"_s;
    default:
        return {};
    }
}

const QString rowColumns =
    u"s.id, s.submission_id, s.received_at, s.patient_id, s.trial_id, s.questionnaire_id, s.device_id, "
    u"COALESCE(d.name, ''), s.state, s.attempt_count, s.score_total, s.score_band, s.export_batch_id, "
    u"s.review_state, s.last_error, s.next_attempt_at, "
    u"(SELECT COUNT(*) FROM alerts a WHERE a.submission_id = s.submission_id), "
    u"(SELECT COUNT(*) FROM alerts a WHERE a.submission_id = s.submission_id AND a.acknowledged_at IS NULL), "
    u"(SELECT COALESCE(MAX("_s +
    QLatin1StringView(severitySql) + u"), 0) FROM alerts a WHERE a.submission_id = s.submission_id)"_s;
constexpr int rowColumnCount = 19;

TaskRow readRow(const QSqlQuery &query)
{
    TaskRow row;
    row.rowId = query.value(0).toLongLong();
    row.submissionId = query.value(1).toString();
    row.receivedAt = query.value(2).toString();
    row.patientId = query.value(3).toString();
    row.trialId = query.value(4).toString();
    row.questionnaireId = query.value(5).toString();
    row.deviceId = query.value(6).toLongLong();
    row.deviceName = query.value(7).toString();
    row.state = query.value(8).toString();
    row.attemptCount = query.value(9).toInt();
    if (!query.value(10).isNull())
        row.scoreTotal = query.value(10).toInt();
    row.scoreBand = query.value(11).toString();
    row.exportBatchId = query.value(12).toString();
    row.reviewState = query.value(13).toString();
    row.lastError = query.value(14).toString();
    row.nextAttemptAt = query.value(15).toString();
    row.alerts = query.value(16).toInt();
    row.unacknowledgedAlerts = query.value(17).toInt();
    row.alertSeverity = severityName(query.value(18).toInt());
    return row;
}

QDateTime parseUtc(const QString &iso)
{
    QDateTime time = QDateTime::fromString(iso, Qt::ISODateWithMs);
    return time.isValid() ? time.toUTC() : time;
}

} // namespace

bool TaskRow::operator==(const TaskRow &o) const
{
    return rowId == o.rowId && submissionId == o.submissionId && receivedAt == o.receivedAt &&
           patientId == o.patientId && trialId == o.trialId && questionnaireId == o.questionnaireId &&
           deviceId == o.deviceId && deviceName == o.deviceName && state == o.state && attemptCount == o.attemptCount &&
           scoreTotal == o.scoreTotal && scoreBand == o.scoreBand && alerts == o.alerts &&
           unacknowledgedAlerts == o.unacknowledgedAlerts && alertSeverity == o.alertSeverity &&
           exportBatchId == o.exportBatchId && reviewState == o.reviewState && lastError == o.lastError &&
           nextAttemptAt == o.nextAttemptAt;
}

/// Lives on the reader thread; owns the connection, opened on first use.
class DashboardReader::Worker final : public QObject
{
public:
    explicit Worker(QString databasePath)
        : m_databasePath(std::move(databasePath))
    {}
    ~Worker() override
    {
        if (m_open)
            Database::close(m_connectionName);
    }

    Expected<QSqlDatabase> database()
    {
        if (m_open)
            return QSqlDatabase::database(m_connectionName, false);
        Database::Options options;
        options.path = m_databasePath;
        options.connectionName = u"siterelay-dashboard-%1"_s.arg(QUuid::createUuid().toString(QUuid::Id128));
        options.readOnly = true;
        auto db = Database::open(options);
        if (!db)
            return db.error();
        m_connectionName = options.connectionName;
        m_open = true;
        return *db;
    }

    Expected<TaskPage> tasks(const TaskQuery &request);
    Expected<DashboardSummary> summary(const QDateTime &nowUtc);
    Expected<QList<HourActivity>> activity(const QDateTime &fromUtc, const QDateTime &toUtc);
    Expected<SubmissionDetails> details(const QString &submissionId);

private:
    QString m_databasePath;
    QString m_connectionName;
    bool m_open = false;
};

Expected<TaskPage> DashboardReader::Worker::tasks(const TaskQuery &request)
{
    auto db = database();
    if (!db)
        return db.error();
    const QString sortKey = sortExpression(request.sortColumn);
    const bool byId = request.sortColumn == TaskColumn::Received;
    QStringList where;
    QVariantList binds;
    if (!request.state.isEmpty()) {
        where.append(u"s.state = ?"_s);
        binds.append(request.state);
    }
    const QString search = request.search.trimmed();
    if (!search.isEmpty()) {
        where.append(u"(s.patient_id LIKE ? ESCAPE '\\' OR s.submission_id LIKE ? ESCAPE '\\' OR "
                     u"s.device_id IN (SELECT id FROM devices WHERE name LIKE ? ESCAPE '\\'))"_s);
        const QString pattern = likePattern(search);
        binds << pattern << pattern << pattern;
    }
    const QString comparison = request.descending ? u"<"_s : u">"_s;
    if (request.after) {
        if (byId) {
            // The primary key alone: SQLite walks the table (or the state index) from the key.
            where.append(u"s.id "_s + comparison + u" ?"_s);
            binds.append(request.after->rowId);
        } else {
            where.append(u"("_s + sortKey + u", s.id) "_s + comparison + u" (?, ?)"_s);
            binds << request.after->value << request.after->rowId;
        }
    }
    const QString direction = request.descending ? u" DESC"_s : u" ASC"_s;
    QString sql = u"SELECT "_s + rowColumns + u", "_s + sortKey +
                  u" FROM submissions s LEFT JOIN devices d ON d.id = s.device_id"_s;
    if (!where.isEmpty())
        sql += u" WHERE "_s + where.join(u" AND "_s);
    if (byId)
        sql += u" ORDER BY s.id"_s + direction;
    else
        sql += u" ORDER BY 20"_s + direction + u", s.id"_s + direction;
    sql += u" LIMIT ?"_s;
    binds.append(request.limit + 1); // one more than asked tells whether there is more

    QSqlQuery query(*db);
    query.setForwardOnly(true);
    if (!query.prepare(sql))
        return Database::storageError(u"listing tasks"_s, query.lastError());
    for (const QVariant &value : std::as_const(binds))
        query.addBindValue(value);
    if (!query.exec())
        return Database::storageError(u"listing tasks"_s, query.lastError());
    TaskPage page;
    while (query.next()) {
        if (page.rows.size() == request.limit) {
            page.hasMore = true;
            break;
        }
        TaskRow row = readRow(query);
        row.key = TaskKey{query.value(rowColumnCount), row.rowId};
        page.rows.append(std::move(row));
    }
    return page;
}

Expected<DashboardSummary> DashboardReader::Worker::summary(const QDateTime &nowUtc)
{
    auto db = database();
    if (!db)
        return db.error();
    DashboardSummary summary;
    QSqlQuery query(*db);
    query.setForwardOnly(true);
    if (!query.exec(u"SELECT state, count FROM state_counts"_s))
        return Database::storageError(u"counting submissions"_s, query.lastError());
    while (query.next()) {
        summary.stateCounts.insert(query.value(0).toString(), query.value(1).toLongLong());
        summary.total += query.value(1).toLongLong();
    }
    query.finish();
    query.prepare(u"SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL AND last_seen_at >= ?"_s);
    query.addBindValue(toIsoUtc(nowUtc.addSecs(-5 * 60)));
    if (!query.exec() || !query.next())
        return Database::storageError(u"counting devices"_s, query.lastError());
    summary.devicesSeenRecently = query.value(0).toInt();
    query.finish();
    query.prepare(u"SELECT COUNT(*) FROM submissions WHERE received_at >= ?"_s);
    query.addBindValue(toIsoUtc(nowUtc.addSecs(-60)));
    if (!query.exec() || !query.next())
        return Database::storageError(u"counting recent submissions"_s, query.lastError());
    summary.receivedLastMinute = query.value(0).toLongLong();
    query.finish();
    if (!query.exec(u"SELECT COUNT(*) FROM alerts WHERE acknowledged_at IS NULL"_s) || !query.next())
        return Database::storageError(u"counting alerts"_s, query.lastError());
    summary.unacknowledgedAlerts = query.value(0).toLongLong();
    query.finish();
    summary.databaseBytes = QFileInfo(m_databasePath).size() + QFileInfo(m_databasePath + u"-wal"_s).size();
    return summary;
}

Expected<QList<HourActivity>> DashboardReader::Worker::activity(const QDateTime &fromUtc, const QDateTime &toUtc)
{
    auto db = database();
    if (!db)
        return db.error();
    QSqlQuery query(*db);
    query.setForwardOnly(true);
    query.prepare(u"SELECT substr(received_at, 1, 13), state, COUNT(*) FROM submissions "
                  u"WHERE received_at >= ? AND received_at < ? GROUP BY 1, 2 ORDER BY 1"_s);
    query.addBindValue(toIsoUtc(fromUtc));
    query.addBindValue(toIsoUtc(toUtc));
    if (!query.exec())
        return Database::storageError(u"counting today's submissions"_s, query.lastError());
    QList<HourActivity> hours;
    while (query.next()) {
        const QDateTime hour = QDateTime::fromString(query.value(0).toString() + u":00:00Z"_s, Qt::ISODate);
        if (hours.isEmpty() || hours.last().hourStartUtc != hour)
            hours.append(HourActivity{hour.toUTC(), {}});
        hours.last().byState.insert(query.value(1).toString(), query.value(2).toLongLong());
    }
    return hours;
}

Expected<SubmissionDetails> DashboardReader::Worker::details(const QString &submissionId)
{
    auto db = database();
    if (!db)
        return db.error();
    SubmissionDetails details;
    QSqlQuery query(*db);
    query.setForwardOnly(true);
    query.prepare(u"SELECT "_s + rowColumns +
                  u", s.completed_at, s.updated_at, s.processed_at, s.answers, s.score, s.report_path, "
                  u"s.reviewed_at, s.reviewed_by, s.review_note "
                  u"FROM submissions s LEFT JOIN devices d ON d.id = s.device_id WHERE s.submission_id = ?"_s);
    query.addBindValue(submissionId);
    if (!query.exec())
        return Database::storageError(u"reading a submission"_s, query.lastError());
    if (!query.next())
        return Error{ErrorCode::NotFound, u"no submission %1"_s.arg(submissionId), QString(), u"not_found"_s};
    details.row = readRow(query);
    int c = rowColumnCount;
    details.completedAt = query.value(c++).toString();
    details.updatedAt = query.value(c++).toString();
    details.processedAt = query.value(c++).toString();
    details.answers = QJsonDocument::fromJson(query.value(c++).toByteArray()).object();
    details.score = QJsonDocument::fromJson(query.value(c++).toByteArray()).object();
    details.reportPath = query.value(c++).toString();
    details.reviewedAt = query.value(c++).toString();
    details.reviewedBy = query.value(c++).toString();
    details.reviewNote = query.value(c++).toString();
    query.finish();

    auto attempts = readAttempts(*db, submissionId);
    if (!attempts)
        return attempts.error();
    details.attempts = std::move(attempts).value();

    query.prepare(u"SELECT id, rule_id, severity, message, item_id, item_value, raised_at, acknowledged_at, "
                  u"acknowledged_by, acknowledge_note FROM alerts WHERE submission_id = ? ORDER BY id"_s);
    query.addBindValue(submissionId);
    if (!query.exec())
        return Database::storageError(u"reading alerts"_s, query.lastError());
    while (query.next()) {
        AlertEntry alert;
        alert.id = query.value(0).toLongLong();
        alert.ruleId = query.value(1).toString();
        alert.severity = query.value(2).toString();
        alert.message = query.value(3).toString();
        alert.itemId = query.value(4).toString();
        if (!query.value(5).isNull())
            alert.itemValue = query.value(5).toInt();
        alert.raisedAt = query.value(6).toString();
        alert.acknowledgedAt = query.value(7).toString();
        alert.acknowledgedBy = query.value(8).toString();
        alert.acknowledgeNote = query.value(9).toString();
        details.alerts.append(alert);
    }
    query.finish();

    query.prepare(u"SELECT at, actor, action, old_state, new_state, detail FROM audit_log "
                  u"WHERE entity = 'submission' AND entity_id = ? ORDER BY id"_s);
    query.addBindValue(submissionId);
    if (!query.exec())
        return Database::storageError(u"reading the audit trail"_s, query.lastError());
    while (query.next()) {
        details.audit.append(AuditEntry{query.value(0).toString(), query.value(1).toString(), query.value(2).toString(),
                                        query.value(3).toString(), query.value(4).toString(),
                                        query.value(5).toString()});
    }
    query.finish();

    // Uses the (patient_id, id) index; a patient has tens of submissions, not thousands.
    query.prepare(u"SELECT submission_id, questionnaire_id, completed_at, score_total, score_band FROM submissions "
                  u"WHERE patient_id = ? AND score_total IS NOT NULL ORDER BY completed_at, id"_s);
    query.addBindValue(details.row.patientId);
    if (!query.exec())
        return Database::storageError(u"reading the patient's scores"_s, query.lastError());
    while (query.next()) {
        details.patientHistory.append(ScorePoint{query.value(0).toString(), query.value(1).toString(),
                                                 parseUtc(query.value(2).toString()), query.value(3).toInt(),
                                                 query.value(4).toString()});
    }
    return details;
}

DashboardReader::DashboardReader(const QString &databasePath)
    : m_databasePath(databasePath)
    , m_thread(std::make_unique<QThread>())
{
    m_thread->setObjectName(u"dashboard-reader"_s);
    m_worker = new Worker(databasePath);
    m_worker->moveToThread(m_thread.get());
    // The connection must be closed on the thread that opened it: delete the worker there.
    QObject::connect(m_thread.get(), &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread->start();
}

DashboardReader::~DashboardReader()
{
    m_thread->quit();
    m_thread->wait();
}

template <typename T, typename Work>
QFuture<Expected<T>> DashboardReader::run(Work work)
{
    auto promise = std::make_shared<QPromise<Expected<T>>>();
    QFuture<Expected<T>> future = promise->future();
    promise->start();
    QMetaObject::invokeMethod(
        m_worker,
        [worker = m_worker, promise, work = std::move(work)]() mutable {
            promise->addResult(work(*worker));
            promise->finish();
        },
        Qt::QueuedConnection);
    return future;
}

QFuture<Expected<TaskPage>> DashboardReader::tasks(const TaskQuery &query)
{
    return run<TaskPage>([query](Worker &worker) { return worker.tasks(query); });
}

QFuture<Expected<DashboardSummary>> DashboardReader::summary(const QDateTime &nowUtc)
{
    return run<DashboardSummary>([nowUtc](Worker &worker) { return worker.summary(nowUtc); });
}

QFuture<Expected<QList<HourActivity>>> DashboardReader::activity(const QDateTime &fromUtc, const QDateTime &toUtc)
{
    return run<QList<HourActivity>>([fromUtc, toUtc](Worker &worker) { return worker.activity(fromUtc, toUtc); });
}

QFuture<Expected<SubmissionDetails>> DashboardReader::details(const QString &submissionId)
{
    return run<SubmissionDetails>([submissionId](Worker &worker) { return worker.details(submissionId); });
}

} // namespace SiteRelay
