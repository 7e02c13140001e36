#include "uploadstore.h"

#include "auditlog.h"
#include "database.h"
#include "submissionstore.h"

#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// The audit trail is for who/what/when; a platform's error page can be long, the part keeps it whole.
constexpr qsizetype kAuditDetailChars = 2000;

QString shortened(const QString &text)
{
    return text.size() <= kAuditDetailChars ? text : text.left(kAuditDetailChars) + u" …"_s;
}

Expected<QString> currentUploadState(QSqlDatabase &db, const QString &batchId)
{
    QSqlQuery select(db);
    select.prepare(u"SELECT state FROM batch_uploads WHERE batch_id = ?"_s);
    select.addBindValue(batchId);
    if (!select.exec())
        return Database::storageError(u"reading an upload"_s, select.lastError());
    return select.next() ? select.value(0).toString() : QString();
}

Expected<Done> run(QSqlQuery &query, const QString &what)
{
    if (!query.exec())
        return Database::storageError(what, query.lastError());
    return Done{};
}

} // namespace

QFuture<Expected<Done>> UploadStore::savePlan(SubmissionStore &store, const UploadPlan &plan, const QString &actor)
{
    const QString now = toIsoUtc(store.clock().nowUtc());
    return store.submit<Done>([plan, actor, now](QSqlDatabase &db) -> Expected<Done> {
        auto old = currentUploadState(db, plan.batchId);
        if (!old)
            return old.error();
        QSqlQuery confirmed(db);
        confirmed.prepare(u"SELECT COUNT(*) FROM upload_parts WHERE batch_id = ? AND state = 'confirmed'"_s);
        confirmed.addBindValue(plan.batchId);
        if (!confirmed.exec() || !confirmed.next())
            return Database::storageError(u"checking an upload plan"_s, confirmed.lastError());
        if (confirmed.value(0).toInt() > 0)
            return Error{ErrorCode::Conflict,
                         u"batch %1 is partly uploaded: its plan cannot change"_s.arg(plan.batchId)};
        for (const QString &sql :
             {u"DELETE FROM upload_parts WHERE batch_id = ?"_s, u"DELETE FROM batch_uploads WHERE batch_id = ?"_s}) {
            QSqlQuery remove(db);
            remove.prepare(sql);
            remove.addBindValue(plan.batchId);
            if (auto done = run(remove, u"replacing an upload plan"_s); !done)
                return done;
        }
        QSqlQuery head(db);
        head.prepare(u"INSERT INTO batch_uploads (batch_id, kind, target_url, max_records, max_bytes, part_count, "
                     u"state, planned_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'planned', ?, ?)"_s);
        for (const QVariant &value :
             {QVariant(plan.batchId), QVariant(plan.kind), QVariant(plan.targetUrl), QVariant(plan.maxRecords),
              QVariant(plan.maxBytes), QVariant(int(plan.parts.size())), QVariant(now), QVariant(now)})
            head.addBindValue(value);
        if (auto done = run(head, u"recording an upload plan"_s); !done)
            return done;
        QSqlQuery part(db);
        part.prepare(u"INSERT INTO upload_parts (batch_id, part_no, first_row_id, last_row_id, record_count, "
                     u"byte_count, payload_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)"_s);
        for (const UploadPart &p : plan.parts) {
            part.bindValue(0, plan.batchId);
            part.bindValue(1, p.partNo);
            part.bindValue(2, p.firstRowId);
            part.bindValue(3, p.lastRowId);
            part.bindValue(4, p.recordCount);
            part.bindValue(5, p.byteCount);
            part.bindValue(6, p.payloadSha256);
            if (auto done = run(part, u"recording an upload part"_s); !done)
                return done;
        }
        qint64 records = 0;
        for (const UploadPart &p : plan.parts)
            records += p.recordCount;
        return AuditLog::append(db, {now, actor, u"batch"_s, plan.batchId, u"upload_planned"_s, *old, u"planned"_s,
                                     u"%1 to %2: %3 parts, %4 records (at most %5 records / %6 bytes a part)"_s
                                         .arg(plan.kind, plan.targetUrl)
                                         .arg(plan.parts.size())
                                         .arg(records)
                                         .arg(plan.maxRecords)
                                         .arg(plan.maxBytes)});
    });
}

QFuture<Expected<Done>> UploadStore::setState(SubmissionStore &store, const QString &batchId, const QString &state,
                                              const QString &error, const QString &actor, const QString &detail)
{
    const QString now = toIsoUtc(store.clock().nowUtc());
    return store.submit<Done>([=](QSqlDatabase &db) -> Expected<Done> {
        auto old = currentUploadState(db, batchId);
        if (!old)
            return old.error();
        QSqlQuery update(db);
        update.prepare(u"UPDATE batch_uploads SET state = ?, last_error = ?, updated_at = ? WHERE batch_id = ?"_s);
        update.addBindValue(state);
        update.addBindValue(Database::nullIfEmpty(error));
        update.addBindValue(now);
        update.addBindValue(batchId);
        if (auto done = run(update, u"recording an upload's state"_s); !done)
            return done;
        return AuditLog::append(db, {now, actor, u"batch"_s, batchId, u"upload_"_s + state, *old, state,
                                     shortened(error.isEmpty() ? detail : detail + u": "_s + error)});
    });
}

QFuture<Expected<Done>> UploadStore::recordSending(SubmissionStore &store, const QString &batchId, int partNo,
                                                   const QString &actor, const QString &detail)
{
    const QString now = toIsoUtc(store.clock().nowUtc());
    return store.submit<Done>([=](QSqlDatabase &db) -> Expected<Done> {
        QSqlQuery update(db);
        update.prepare(u"UPDATE upload_parts SET attempts = attempts + 1 WHERE batch_id = ? AND part_no = ?"_s);
        update.addBindValue(batchId);
        update.addBindValue(partNo);
        if (auto done = run(update, u"counting an upload attempt"_s); !done)
            return done;
        QSqlQuery state(db);
        state.prepare(u"UPDATE batch_uploads SET state = 'uploading', updated_at = ? WHERE batch_id = ?"_s);
        state.addBindValue(now);
        state.addBindValue(batchId);
        if (auto done = run(state, u"recording an upload's state"_s); !done)
            return done;
        return AuditLog::append(db, {now, actor, u"batch"_s, batchId, u"upload_attempt"_s, QString(), u"sending"_s,
                                     u"part %1: %2"_s.arg(partNo).arg(detail)});
    });
}

QFuture<Expected<Done>> UploadStore::recordOutcome(SubmissionStore &store, const QString &batchId, int partNo,
                                                   const QString &partState, const QString &error, const QString &actor,
                                                   const QString &detail)
{
    const QString now = toIsoUtc(store.clock().nowUtc());
    return store.submit<Done>([=](QSqlDatabase &db) -> Expected<Done> {
        QSqlQuery update(db);
        update.prepare(u"UPDATE upload_parts SET state = ?, last_error = ?, confirmed_at = ? "
                       u"WHERE batch_id = ? AND part_no = ?"_s);
        update.addBindValue(partState);
        update.addBindValue(Database::nullIfEmpty(error));
        update.addBindValue(partState == "confirmed"_L1 ? QVariant(now) : QVariant());
        update.addBindValue(batchId);
        update.addBindValue(partNo);
        if (auto done = run(update, u"recording an upload attempt"_s); !done)
            return done;
        return AuditLog::append(
            db,
            {now, actor, u"batch"_s, batchId, u"upload_attempt_result"_s, u"sending"_s, partState,
             shortened(u"part %1: %2"_s.arg(partNo).arg(detail) + (error.isEmpty() ? QString() : u": "_s + error))});
    });
}

QFuture<Expected<Done>> UploadStore::markUploaded(SubmissionStore &store, const QString &batchId, const QString &actor,
                                                  const QString &detail)
{
    const QString now = toIsoUtc(store.clock().nowUtc());
    return store.submit<Done>([=](QSqlDatabase &db) -> Expected<Done> {
        auto old = currentUploadState(db, batchId);
        if (!old)
            return old.error();
        QSqlQuery unconfirmed(db);
        unconfirmed.prepare(u"SELECT COUNT(*) FROM upload_parts WHERE batch_id = ? AND state <> 'confirmed'"_s);
        unconfirmed.addBindValue(batchId);
        if (!unconfirmed.exec() || !unconfirmed.next())
            return Database::storageError(u"checking an upload"_s, unconfirmed.lastError());
        if (unconfirmed.value(0).toInt() != 0)
            return Error{ErrorCode::Internal, u"batch %1 has unconfirmed parts"_s.arg(batchId)};
        QSqlQuery upload(db);
        upload.prepare(u"UPDATE batch_uploads SET state = 'confirmed', last_error = NULL, updated_at = ? "
                       u"WHERE batch_id = ?"_s);
        upload.addBindValue(now);
        upload.addBindValue(batchId);
        if (auto done = run(upload, u"recording an upload's state"_s); !done)
            return done;
        QSqlQuery batchState(db);
        batchState.prepare(u"SELECT state FROM batches WHERE id = ?"_s);
        batchState.addBindValue(batchId);
        if (!batchState.exec() || !batchState.next())
            return Database::storageError(u"reading an export batch"_s, batchState.lastError());
        const QString oldBatchState = batchState.value(0).toString();
        QSqlQuery batch(db);
        batch.prepare(u"UPDATE batches SET state = 'uploaded' WHERE id = ?"_s);
        batch.addBindValue(batchId);
        if (auto done = run(batch, u"marking an export batch uploaded"_s); !done)
            return done;
        if (auto audited = AuditLog::append(
                db, {now, actor, u"batch"_s, batchId, u"upload_confirmed"_s, *old, u"confirmed"_s, detail});
            !audited)
            return audited;
        return AuditLog::append(db,
                                {now, actor, u"batch"_s, batchId, u"uploaded"_s, oldBatchState, u"uploaded"_s, detail});
    });
}

} // namespace SiteRelay
