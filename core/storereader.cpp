#include "storereader.h"

#include "database.h"
#include "devicetoken.h"
#include "preparedstatements.h"

#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

Error unauthenticated(const QString &message)
{
    return Error{ErrorCode::Unauthenticated, message, QString(), u"unauthenticated"_s};
}

} // namespace

StoreReader::StoreReader(QString connectionName)
    : m_connectionName(std::move(connectionName))
{}

Expected<std::unique_ptr<StoreReader>> StoreReader::open(const QString &databasePath)
{
    Database::Options options;
    options.path = databasePath;
    options.connectionName = u"siterelay-reader-%1"_s.arg(QUuid::createUuid().toString(QUuid::Id128));
    options.readOnly = true;
    auto db = Database::open(options);
    if (!db)
        return db.error();
    return std::unique_ptr<StoreReader>(new StoreReader(options.connectionName));
}

StoreReader::~StoreReader()
{
    Database::close(m_connectionName);
}

QSqlDatabase StoreReader::database() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

Expected<AuthenticatedDevice> StoreReader::authenticate(QByteArrayView token)
{
    const auto parsed = DeviceToken::parse(token);
    if (!parsed)
        return unauthenticated(u"the bearer token is malformed; use the token printed by `siterelay device add`"_s);
    QSqlDatabase db = database();
    QSqlQuery &query =
        PreparedStatements::get(db, u"SELECT role, token_salt, token_hash, revoked_at FROM devices WHERE id = ?"_s);
    const StatementReset queryReset(query);
    query.addBindValue(parsed->deviceId);
    if (!query.exec())
        return Database::storageError(u"checking a token"_s, query.lastError());
    if (!query.next() ||
        !DeviceToken::verify(query.value(1).toByteArray(), query.value(2).toByteArray(), parsed->secret))
        return unauthenticated(u"the bearer token is not known to this site"_s);
    if (!query.value(3).isNull())
        return unauthenticated(u"this device's token was revoked; enroll the device again"_s);
    AuthenticatedDevice device;
    device.id = parsed->deviceId;
    device.role = deviceRoleFromString(query.value(0).toString()).value_or(DeviceRole::Device);
    return device;
}

Expected<SubmissionStatus> StoreReader::submissionStatus(const QString &submissionId)
{
    QSqlQuery query(database());
    query.setForwardOnly(true);
    query.prepare(u"SELECT submission_id, device_id, patient_id, trial_id, questionnaire_id, state, completed_at, "
                  u"received_at, updated_at, attempt_count, last_error, next_attempt_at, score_total, score_band "
                  u"FROM submissions WHERE submission_id = ?"_s);
    query.addBindValue(submissionId);
    if (!query.exec())
        return Database::storageError(u"reading a submission"_s, query.lastError());
    if (!query.next())
        return Error{ErrorCode::NotFound, u"no submission %1 is visible to this token"_s.arg(submissionId), QString(),
                     u"not_found"_s};
    SubmissionStatus status;
    status.submissionId = query.value(0).toString();
    status.deviceId = query.value(1).toLongLong();
    status.patientId = query.value(2).toString();
    status.trialId = query.value(3).toString();
    status.questionnaireId = query.value(4).toString();
    status.state = query.value(5).toString();
    status.completedAt = query.value(6).toString();
    status.receivedAt = query.value(7).toString();
    status.updatedAt = query.value(8).toString();
    status.attemptCount = query.value(9).toInt();
    status.lastError = query.value(10).toString();
    status.nextAttemptAt = query.value(11).toString();
    if (!query.value(12).isNull())
        status.scoreTotal = query.value(12).toInt();
    status.scoreBand = query.value(13).toString();
    return status;
}

Expected<QHash<QString, qint64>> StoreReader::stateCounts()
{
    QSqlQuery query(database());
    query.setForwardOnly(true);
    if (!query.exec(u"SELECT state, count FROM state_counts"_s))
        return Database::storageError(u"counting submissions"_s, query.lastError());
    QHash<QString, qint64> counts;
    while (query.next())
        counts.insert(query.value(0).toString(), query.value(1).toLongLong());
    return counts;
}

Expected<QList<DeviceRecord>> StoreReader::devices()
{
    QSqlQuery query(database());
    query.setForwardOnly(true);
    if (!query.exec(u"SELECT id, name, role, created_at, last_seen_at, revoked_at FROM devices ORDER BY id"_s))
        return Database::storageError(u"listing devices"_s, query.lastError());
    QList<DeviceRecord> records;
    while (query.next()) {
        DeviceRecord record;
        record.id = query.value(0).toLongLong();
        record.name = query.value(1).toString();
        record.role = deviceRoleFromString(query.value(2).toString()).value_or(DeviceRole::Device);
        record.createdAt = query.value(3).toString();
        record.lastSeenAt = query.value(4).toString();
        record.revokedAt = query.value(5).toString();
        records.append(record);
    }
    return records;
}

Expected<QList<AttemptInfo>> StoreReader::attempts(const QString &submissionId)
{
    return readAttempts(database(), submissionId);
}

Expected<qint64> StoreReader::dueRetries(const QString &nowIso)
{
    QSqlDatabase db = database();
    QSqlQuery &query = PreparedStatements::get(
        db, u"SELECT count(*) FROM submissions WHERE state = 'retrying' AND next_attempt_at <= ?"_s);
    const StatementReset queryReset(query);
    query.addBindValue(nowIso);
    if (!query.exec() || !query.next())
        return Database::storageError(u"counting due retries"_s, query.lastError());
    return query.value(0).toLongLong();
}

Expected<QString> StoreReader::nextRetryDueAt()
{
    QSqlQuery query(database());
    query.setForwardOnly(true);
    if (!query.exec(u"SELECT min(next_attempt_at) FROM submissions WHERE state = 'retrying'"_s))
        return Database::storageError(u"finding the next retry"_s, query.lastError());
    return query.next() ? query.value(0).toString() : QString();
}

} // namespace SiteRelay
