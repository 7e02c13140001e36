#include "alertreader.h"

#include "database.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

const QString SelectAlerts =
    u"SELECT a.id, a.submission_id, s.patient_id, s.trial_id, s.questionnaire_id, a.rule_id, a.severity, a.message, "
    u"a.item_id, a.item_value, a.raised_at, a.acknowledged_at, a.acknowledged_by, a.acknowledge_note "
    u"FROM alerts a JOIN submissions s ON s.submission_id = a.submission_id "_s;

AlertRecord alertFromRow(const QSqlQuery &query)
{
    AlertRecord alert;
    alert.id = query.value(0).toLongLong();
    alert.submissionId = query.value(1).toString();
    alert.patientId = query.value(2).toString();
    alert.trialId = query.value(3).toString();
    alert.questionnaireId = query.value(4).toString();
    alert.ruleId = query.value(5).toString();
    alert.severity = query.value(6).toString();
    alert.message = query.value(7).toString();
    alert.itemId = query.value(8).toString();
    if (!query.value(9).isNull())
        alert.itemValue = query.value(9).toInt();
    alert.raisedAt = query.value(10).toString();
    alert.acknowledgedAt = query.value(11).toString();
    alert.acknowledgedBy = query.value(12).toString();
    alert.acknowledgeNote = query.value(13).toString();
    return alert;
}

QJsonValue orNull(const QString &text)
{
    return text.isEmpty() ? QJsonValue() : QJsonValue(text);
}

} // namespace

QJsonObject AlertRecord::toJson() const
{
    return QJsonObject{{u"id"_s, id},
                       {u"submissionId"_s, submissionId},
                       {u"patientId"_s, patientId},
                       {u"trialId"_s, trialId},
                       {u"questionnaireId"_s, questionnaireId},
                       {u"ruleId"_s, ruleId},
                       {u"severity"_s, severity},
                       {u"message"_s, message},
                       {u"itemId"_s, orNull(itemId)},
                       {u"itemValue"_s, itemValue ? QJsonValue(*itemValue) : QJsonValue()},
                       {u"raisedAt"_s, raisedAt},
                       {u"acknowledged"_s, isAcknowledged()},
                       {u"acknowledgedAt"_s, orNull(acknowledgedAt)},
                       {u"acknowledgedBy"_s, orNull(acknowledgedBy)},
                       {u"acknowledgeNote"_s, orNull(acknowledgeNote)}};
}

AlertReader::AlertReader(QString connectionName)
    : m_connectionName(std::move(connectionName))
{}

Expected<std::unique_ptr<AlertReader>> AlertReader::open(const QString &databasePath)
{
    Database::Options options;
    options.path = databasePath;
    options.connectionName = u"siterelay-alerts-%1"_s.arg(QUuid::createUuid().toString(QUuid::Id128));
    options.readOnly = true;
    auto db = Database::open(options);
    if (!db)
        return db.error();
    return std::unique_ptr<AlertReader>(new AlertReader(options.connectionName));
}

AlertReader::~AlertReader()
{
    Database::close(m_connectionName);
}

Expected<QList<AlertRecord>> AlertReader::alerts(Filter filter, int limit)
{
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    query.prepare(SelectAlerts +
                  (filter == Filter::Unacknowledged ? u"WHERE a.acknowledged_at IS NULL "_s : QString()) +
                  u"ORDER BY a.id DESC LIMIT ?"_s);
    query.addBindValue(qBound(1, limit, MaxLimit));
    if (!query.exec())
        return Database::storageError(u"listing alerts"_s, query.lastError());
    QList<AlertRecord> alerts;
    while (query.next())
        alerts.append(alertFromRow(query));
    return alerts;
}

Expected<qint64> AlertReader::unacknowledgedCount()
{
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    if (!query.exec(u"SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL"_s) || !query.next())
        return Database::storageError(u"counting unacknowledged alerts"_s, query.lastError());
    return query.value(0).toLongLong();
}

Expected<AlertRecord> AlertReader::readAlert(QSqlDatabase &db, qint64 alertId)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(SelectAlerts + u"WHERE a.id = ?"_s);
    query.addBindValue(alertId);
    if (!query.exec())
        return Database::storageError(u"reading an alert"_s, query.lastError());
    if (!query.next())
        return Error{ErrorCode::NotFound, u"there is no alert with id %1"_s.arg(alertId), u"id"_s, u"not_found"_s};
    return alertFromRow(query);
}

} // namespace SiteRelay
