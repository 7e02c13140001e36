#include "submissionstore.h"

#include "auditlog.h"
#include "devicetoken.h"
#include "logging.h"
#include "preparedstatements.h"
#include "storewriter.h"

#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

QString sourceName(SubmissionSource source)
{
    return source == SubmissionSource::LegacySubmit ? u"legacy_data_submit"_s : u"api_v1"_s;
}

Expected<DeviceRecord> readDevice(QSqlDatabase &db, qint64 id)
{
    QSqlQuery &query = PreparedStatements::get(
        db, u"SELECT id, name, role, created_at, last_seen_at, revoked_at FROM devices WHERE id = ?"_s);
    const StatementReset queryReset(query);
    query.addBindValue(id);
    if (!query.exec())
        return Database::storageError(u"reading a device"_s, query.lastError());
    if (!query.next())
        return Error{ErrorCode::NotFound, u"there is no device with id %1"_s.arg(id), u"id"_s, u"not_found"_s};
    DeviceRecord record;
    record.id = query.value(0).toLongLong();
    record.name = query.value(1).toString();
    record.role = deviceRoleFromString(query.value(2).toString()).value_or(DeviceRole::Device);
    record.createdAt = query.value(3).toString();
    record.lastSeenAt = query.value(4).toString();
    record.revokedAt = query.value(5).toString();
    return record;
}

} // namespace

SubmissionStore::SubmissionStore(const Options &options)
    : m_options(options)
{}

Expected<std::unique_ptr<SubmissionStore>> SubmissionStore::open(const Options &options)
{
    std::unique_ptr<SubmissionStore> store(new SubmissionStore(options));
    store->m_thread = std::make_unique<QThread>();
    store->m_thread->setObjectName(u"store-writer"_s);

    Database::Options dbOptions;
    dbOptions.path = options.databasePath;
    dbOptions.connectionName = u"siterelay-writer-%1"_s.arg(QUuid::createUuid().toString(QUuid::Id128));
    dbOptions.synchronous = options.synchronous;
    dbOptions.busyTimeoutMs = options.busyTimeoutMs;
    auto *writer = new StoreWriter(dbOptions, options.maxBatch);
    writer->moveToThread(store->m_thread.get());
    QObject::connect(store->m_thread.get(), &QThread::finished, writer, &QObject::deleteLater);
    QObject::connect(writer, &StoreWriter::batchCommitted, store.get(), &SubmissionStore::committed,
                     Qt::DirectConnection);
    QObject::connect(writer, &StoreWriter::workQueued, store.get(), &SubmissionStore::workQueued, Qt::DirectConnection);
    store->m_writer = writer;
    store->m_thread->start();

    // The connection must be opened on the thread that will use it.
    Expected<Done> opened = Done{};
    QMetaObject::invokeMethod(
        writer, [writer, &opened] { opened = writer->openDatabase(); }, Qt::BlockingQueuedConnection);
    if (!opened)
        return opened.error();
    return store;
}

SubmissionStore::~SubmissionStore()
{
    if (m_writer) {
        QMetaObject::invokeMethod(
            m_writer, [writer = m_writer.data()] { writer->closeDatabase(); }, Qt::BlockingQueuedConnection);
    }
    m_thread->quit();
    m_thread->wait();
}

void SubmissionStore::post(std::shared_ptr<WriteJob> job)
{
    StoreWriter *writer = m_writer.data();
    if (!writer) {
        job->failed(
            Error{ErrorCode::StorageUnavailable, u"the store is shut down"_s, QString(), u"storage_unavailable"_s});
        return;
    }
    QMetaObject::invokeMethod(
        writer, [writer, job = std::move(job)]() mutable { writer->enqueue(std::move(job)); }, Qt::QueuedConnection);
}

void SubmissionStore::drain()
{
    if (m_writer)
        QMetaObject::invokeMethod(
            m_writer, [writer = m_writer.data()] { writer->flush(); }, Qt::BlockingQueuedConnection);
}

QFuture<Expected<SubmissionReceipt>> SubmissionStore::append(const NewSubmission &submission)
{
    const QString receivedAt = toIsoUtc(m_options.clock->nowUtc());
    // Hashing and serialising happen here, on the caller's thread: the writer thread is the one
    // every submission has to pass through, so it only does what must be done there.
    const QByteArray answers = submission.answersJson();
    const QByteArray hash = submission.contentHash(answers);
    const QString answersJson = QString::fromUtf8(answers);
    return submit<SubmissionReceipt>(
        [submission, receivedAt, hash, answersJson](QSqlDatabase &db) -> Expected<SubmissionReceipt> {
            QSqlQuery &existing = PreparedStatements::get(
                db, u"SELECT content_hash, state, received_at FROM submissions WHERE submission_id = ?"_s);
            const StatementReset existingReset(existing);
            existing.addBindValue(submission.submissionId);
            if (!existing.exec())
                return Database::storageError(u"looking up a submission"_s, existing.lastError());
            if (existing.next()) {
                if (existing.value(0).toByteArray() != hash)
                    return Error{ErrorCode::Conflict,
                                 u"submission %1 was already received with different content; a new submission "
                                 u"needs a new submissionId"_s.arg(submission.submissionId),
                                 u"submissionId"_s, u"submission_conflict"_s};
                return SubmissionReceipt{submission.submissionId, existing.value(1).toString(),
                                         existing.value(2).toString(), true};
            }

            QSqlQuery &insert = PreparedStatements::get(
                db, u"INSERT INTO submissions (submission_id, device_id, source, patient_id, trial_id, "
                    u"questionnaire_id, completed_at, answers, content_hash, state, received_at, updated_at) "
                    u"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)"_s);

            const StatementReset insertReset(insert);
            insert.addBindValue(submission.submissionId);
            insert.addBindValue(submission.deviceId);
            insert.addBindValue(sourceName(submission.source));
            insert.addBindValue(submission.patientId);
            insert.addBindValue(submission.trialId);
            insert.addBindValue(submission.questionnaireId);
            insert.addBindValue(submission.completedAt.isEmpty() ? receivedAt : submission.completedAt);
            insert.addBindValue(answersJson);
            insert.addBindValue(hash);
            insert.addBindValue(receivedAt);
            insert.addBindValue(receivedAt);
            if (!insert.exec())
                return Database::storageError(u"storing a submission"_s, insert.lastError());
            if (auto audited = AuditLog::append(db, {receivedAt, u"device:%1"_s.arg(submission.deviceId),
                                                     u"submission"_s, submission.submissionId, u"received"_s, QString(),
                                                     u"pending"_s, sourceName(submission.source)});
                !audited)
                return audited.error();
            return SubmissionReceipt{submission.submissionId, u"pending"_s, receivedAt, false};
        },
        true);
}

QFuture<Expected<NewDevice>> SubmissionStore::addDevice(const QString &name, DeviceRole role, const QString &actor)
{
    const QString now = toIsoUtc(m_options.clock->nowUtc());
    return submit<NewDevice>([name, role, actor, now](QSqlDatabase &db) -> Expected<NewDevice> {
        auto device = insertDevice(db, name, role, now);
        if (!device)
            return device;
        if (auto audited = AuditLog::append(db, {now, actor, u"device"_s, QString::number(device->record.id),
                                                 u"created"_s, QString(), u"active"_s, toString(role)});
            !audited)
            return audited.error();
        return device;
    });
}

Expected<NewDevice> SubmissionStore::insertDevice(QSqlDatabase &db, const QString &name, DeviceRole role,
                                                  const QString &nowIso)
{
    const QByteArray salt = DeviceToken::newSalt();
    const QByteArray secret = DeviceToken::newSecret();
    QSqlQuery insert(db);
    insert.prepare(u"INSERT INTO devices (name, role, token_salt, token_hash, created_at) VALUES (?, ?, ?, ?, ?)"_s);
    insert.addBindValue(name);
    insert.addBindValue(toString(role));
    insert.addBindValue(salt);
    insert.addBindValue(DeviceToken::hash(salt, secret));
    insert.addBindValue(nowIso);
    if (!insert.exec())
        return Database::storageError(u"adding a device"_s, insert.lastError());
    const qint64 id = insert.lastInsertId().toLongLong();
    auto record = readDevice(db, id);
    if (!record)
        return record.error();
    return NewDevice{*record, DeviceToken::format(id, secret)};
}

QFuture<Expected<DeviceRecord>> SubmissionStore::revokeDevice(qint64 deviceId, const QString &actor)
{
    const QString now = toIsoUtc(m_options.clock->nowUtc());
    return submit<DeviceRecord>([deviceId, actor, now](QSqlDatabase &db) -> Expected<DeviceRecord> {
        auto before = readDevice(db, deviceId);
        if (!before || !before->revokedAt.isEmpty())
            return before;
        QSqlQuery &update = PreparedStatements::get(db, u"UPDATE devices SET revoked_at = ? WHERE id = ?"_s);
        const StatementReset updateReset(update);
        update.addBindValue(now);
        update.addBindValue(deviceId);
        if (!update.exec())
            return Database::storageError(u"revoking a device"_s, update.lastError());
        if (auto audited = AuditLog::append(
                db, {now, actor, u"device"_s, QString::number(deviceId), u"revoked"_s, u"active"_s, u"revoked"_s});
            !audited)
            return audited.error();
        return readDevice(db, deviceId);
    });
}

void SubmissionStore::recordDeviceSeen(qint64 deviceId)
{
    const QString now = toIsoUtc(m_options.clock->nowUtc());
    // Nobody waits on this; a failure only leaves last_seen_at older.
    submit<Done>([deviceId, now](QSqlDatabase &db) -> Expected<Done> {
        QSqlQuery &update = PreparedStatements::get(db, u"UPDATE devices SET last_seen_at = ? WHERE id = ?"_s);
        const StatementReset updateReset(update);
        update.addBindValue(now);
        update.addBindValue(deviceId);
        if (!update.exec())
            return Database::storageError(u"recording a device as seen"_s, update.lastError());
        return Done{};
    });
}

QFuture<Expected<Done>> SubmissionStore::probeWritable()
{
    const QString now = toIsoUtc(m_options.clock->nowUtc());
    return submit<Done>([now](QSqlDatabase &db) -> Expected<Done> {
        QSqlQuery &upsert =
            PreparedStatements::get(db, u"INSERT INTO health_probe (id, checked_at) VALUES (1, ?) "
                                        u"ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at"_s);
        const StatementReset upsertReset(upsert);
        upsert.addBindValue(now);
        if (!upsert.exec())
            return Database::storageError(u"probing the database"_s, upsert.lastError());
        return Done{};
    });
}

} // namespace SiteRelay
