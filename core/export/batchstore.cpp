#include "batchstore.h"

#include "auditlog.h"
#include "database.h"
#include "logging.h"
#include "submissionstore.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {} // namespace

QFuture<Expected<ExportBatch>> BatchStore::create(SubmissionStore &store, const BatchRequest &request)
{
    const QString now = toIsoUtc(store.clock().nowUtc());
    return store.submit<ExportBatch>([request, now](QSqlDatabase &db) -> Expected<ExportBatch> {
        QSqlQuery next(db);
        if (!next.exec(u"SELECT COALESCE(MAX(sequence), 0) + 1 FROM batches"_s) || !next.next())
            return Database::storageError(u"numbering an export batch"_s, next.lastError());

        ExportBatch batch;
        batch.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
        batch.sequence = next.value(0).toLongLong();
        batch.createdAt = now;
        batch.siteId = request.siteId;
        batch.trialFilter = request.trialFilter;
        batch.sinceFilter = request.sinceFilter;
        batch.untilFilter = request.untilFilter;
        batch.state = u"created"_s;

        // The batch row first: the submissions' foreign key points at it.
        QSqlQuery insert(db);
        insert.prepare(u"INSERT INTO batches (id, sequence, created_at, site_id, trial_filter, since_filter, "
                       u"until_filter, submission_count, state) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'created')"_s);
        insert.addBindValue(batch.id);
        insert.addBindValue(batch.sequence);
        insert.addBindValue(batch.createdAt);
        insert.addBindValue(batch.siteId);
        insert.addBindValue(Database::nullIfEmpty(batch.trialFilter));
        insert.addBindValue(Database::nullIfEmpty(batch.sinceFilter));
        insert.addBindValue(Database::nullIfEmpty(batch.untilFilter));
        if (!insert.exec())
            return Database::storageError(u"recording an export batch"_s, insert.lastError());

        QString sql = u"UPDATE submissions SET export_batch_id = ? "
                      u"WHERE state = 'processed' AND export_batch_id IS NULL "
                      // A coordinator's rejection keeps a submission away from the central platform.
                      u"AND (review_state IS NULL OR review_state <> 'rejected')"_s;
        if (!request.trialFilter.isEmpty())
            sql += u" AND trial_id = ?"_s;
        if (!request.sinceFilter.isEmpty())
            sql += u" AND completed_at >= ?"_s; // both UTC ISO 8601 with milliseconds: text order is time order
        if (!request.untilFilter.isEmpty())
            sql += u" AND completed_at < ?"_s; // exclusive, so consecutive ranges never share a submission
        // One bound JSON array rather than one placeholder per id: a selection can be thousands long.
        if (!request.submissionIds.isEmpty())
            sql += u" AND submission_id IN (SELECT value FROM json_each(?))"_s;
        QSqlQuery mark(db);
        mark.prepare(sql);
        mark.addBindValue(batch.id);
        if (!request.trialFilter.isEmpty())
            mark.addBindValue(request.trialFilter);
        if (!request.sinceFilter.isEmpty())
            mark.addBindValue(request.sinceFilter);
        if (!request.untilFilter.isEmpty())
            mark.addBindValue(request.untilFilter);
        if (!request.submissionIds.isEmpty())
            mark.addBindValue(QString::fromUtf8(
                QJsonDocument(QJsonArray::fromStringList(request.submissionIds)).toJson(QJsonDocument::Compact)));
        if (!mark.exec())
            return Database::storageError(u"marking submissions for export"_s, mark.lastError());
        batch.submissionCount = mark.numRowsAffected();

        if (batch.submissionCount == 0) {
            // Undo our own insert only: the group transaction may hold other writers' work.
            QSqlQuery undo(db);
            undo.prepare(u"DELETE FROM batches WHERE id = ?"_s);
            undo.addBindValue(batch.id);
            if (!undo.exec())
                return Database::storageError(u"discarding an empty export batch"_s, undo.lastError());
            return Error{ErrorCode::NotFound,
                         u"nothing to export: no processed submission awaits export"_s +
                             (request.trialFilter.isEmpty() && request.sinceFilter.isEmpty() &&
                                      request.untilFilter.isEmpty() && request.submissionIds.isEmpty()
                                  ? QString()
                                  : u" with these filters"_s),
                         QString(), u"nothing_to_export"_s};
        }

        QSqlQuery count(db);
        count.prepare(u"UPDATE batches SET submission_count = ? WHERE id = ?"_s);
        count.addBindValue(batch.submissionCount);
        count.addBindValue(batch.id);
        if (!count.exec())
            return Database::storageError(u"counting an export batch"_s, count.lastError());

        QString detail = u"sequence %1, %2 submissions"_s.arg(batch.sequence).arg(batch.submissionCount);
        if (!request.trialFilter.isEmpty())
            detail += u", trial "_s + request.trialFilter;
        if (!request.sinceFilter.isEmpty())
            detail += u", since "_s + request.sinceFilter;
        if (!request.untilFilter.isEmpty())
            detail += u", until "_s + request.untilFilter;
        if (!request.submissionIds.isEmpty())
            detail += u", from a selection of %1"_s.arg(request.submissionIds.size());
        if (auto audited = AuditLog::append(
                db, {now, request.actor, u"batch"_s, batch.id, u"created"_s, QString(), u"created"_s, detail});
            !audited)
            return audited.error();
        qCInfo(lcExport) << "created export batch" << batch.sequence << "with" << batch.submissionCount
                         << "submissions";
        return batch;
    });
}

QFuture<Expected<Done>> BatchStore::recordWritten(SubmissionStore &store, const QString &batchId,
                                                  const QJsonObject &checksums, const QString &folder,
                                                  const QString &actor)
{
    const QString now = toIsoUtc(store.clock().nowUtc());
    return store.submit<Done>([batchId, checksums, folder, actor, now](QSqlDatabase &db) -> Expected<Done> {
        QSqlQuery select(db);
        select.prepare(u"SELECT state FROM batches WHERE id = ?"_s);
        select.addBindValue(batchId);
        if (!select.exec())
            return Database::storageError(u"reading an export batch"_s, select.lastError());
        if (!select.next())
            return Error{ErrorCode::NotFound, u"no export batch %1"_s.arg(batchId)};
        const QString oldState = select.value(0).toString();
        const QString newState = oldState == "created"_L1 ? u"written"_s : oldState;

        QSqlQuery update(db);
        update.prepare(u"UPDATE batches SET state = ?, file_checksums = ? WHERE id = ?"_s);
        update.addBindValue(newState);
        update.addBindValue(QString::fromUtf8(QJsonDocument(checksums).toJson(QJsonDocument::Compact)));
        update.addBindValue(batchId);
        if (!update.exec())
            return Database::storageError(u"recording an export batch's files"_s, update.lastError());
        if (auto audited = AuditLog::append(db, {now, actor, u"batch"_s, batchId,
                                                 oldState == "created"_L1 ? u"files_written"_s : u"files_rewritten"_s,
                                                 oldState, newState, u"to "_s + folder});
            !audited)
            return audited.error();
        return Done{};
    });
}

} // namespace SiteRelay
