#include "exportreader.h"

#include "database.h"

#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

QJsonObject parseObject(const QVariant &value)
{
    return QJsonDocument::fromJson(value.toString().toUtf8()).object();
}

QString batchSelect()
{
    return u"SELECT b.id, b.sequence, b.created_at, b.site_id, b.trial_filter, b.since_filter, b.until_filter, "
           u"b.submission_count, b.state, b.file_checksums, u.state, u.kind, u.part_count, u.last_error, "
           u"(SELECT COUNT(*) FROM upload_parts p WHERE p.batch_id = b.id AND p.state = 'confirmed') "
           u"FROM batches b LEFT JOIN batch_uploads u ON u.batch_id = b.id"_s;
}

ExportBatch batchFrom(const QSqlQuery &query)
{
    ExportBatch batch;
    batch.id = query.value(0).toString();
    batch.sequence = query.value(1).toLongLong();
    batch.createdAt = query.value(2).toString();
    batch.siteId = query.value(3).toString();
    batch.trialFilter = query.value(4).toString();
    batch.sinceFilter = query.value(5).toString();
    batch.untilFilter = query.value(6).toString();
    batch.submissionCount = query.value(7).toLongLong();
    batch.state = query.value(8).toString();
    batch.fileChecksums = parseObject(query.value(9));
    batch.uploadState = query.value(10).toString();
    batch.uploadKind = query.value(11).toString();
    batch.uploadParts = query.value(12).toInt();
    batch.uploadError = query.value(13).toString();
    batch.uploadPartsConfirmed = query.value(14).toInt();
    return batch;
}

ExportRow rowFrom(const QSqlQuery &query)
{
    ExportRow row;
    row.rowId = query.value(0).toLongLong();
    row.submissionId = query.value(1).toString();
    row.deviceId = query.value(2).toLongLong();
    row.patientId = query.value(3).toString();
    row.trialId = query.value(4).toString();
    row.questionnaireId = query.value(5).toString();
    row.completedAt = query.value(6).toString();
    row.receivedAt = query.value(7).toString();
    row.processedAt = query.value(8).toString();
    row.answers = parseObject(query.value(9));
    row.score = parseObject(query.value(10));
    return row;
}

const QString kRowColumns = u"SELECT id, submission_id, device_id, patient_id, trial_id, questionnaire_id, "
                            u"completed_at, received_at, processed_at, answers, score FROM submissions "_s;

} // namespace

Expected<std::unique_ptr<ExportReader>> ExportReader::open(const QString &databasePath)
{
    const QString name = u"export-reader-"_s + QUuid::createUuid().toString(QUuid::WithoutBraces);
    Database::Options options;
    options.path = databasePath;
    options.connectionName = name;
    options.readOnly = true;
    auto db = Database::open(options);
    if (!db)
        return db.error();
    return std::unique_ptr<ExportReader>(new ExportReader(name));
}

ExportReader::ExportReader(QString connectionName)
    : m_connectionName(std::move(connectionName))
{}

ExportReader::~ExportReader()
{
    Database::close(m_connectionName);
}

Expected<ExportBatch> ExportReader::batch(const QString &batchId)
{
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.prepare(batchSelect() + u" WHERE b.id = ?"_s);
    query.addBindValue(batchId);
    if (!query.exec())
        return Database::storageError(u"reading an export batch"_s, query.lastError());
    if (!query.next())
        return Error{ErrorCode::NotFound, u"no export batch \"%1\"; see the batches table"_s.arg(batchId),
                     u"--batch"_s};
    return batchFrom(query);
}

Expected<QList<ExportBatch>> ExportReader::batches()
{
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    if (!query.exec(batchSelect() + u" ORDER BY b.sequence DESC"_s))
        return Database::storageError(u"listing export batches"_s, query.lastError());
    QList<ExportBatch> list;
    while (query.next())
        list.append(batchFrom(query));
    return list;
}

Expected<std::optional<UploadPlan>> ExportReader::uploadPlan(const QString &batchId)
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    QSqlQuery head(db);
    head.prepare(u"SELECT kind, target_url, max_records, max_bytes, state, last_error FROM batch_uploads "
                 u"WHERE batch_id = ?"_s);
    head.addBindValue(batchId);
    if (!head.exec())
        return Database::storageError(u"reading an upload plan"_s, head.lastError());
    if (!head.next())
        return std::optional<UploadPlan>();
    UploadPlan plan;
    plan.batchId = batchId;
    plan.kind = head.value(0).toString();
    plan.targetUrl = head.value(1).toString();
    plan.maxRecords = head.value(2).toInt();
    plan.maxBytes = head.value(3).toInt();
    plan.state = head.value(4).toString();
    plan.lastError = head.value(5).toString();
    QSqlQuery parts(db);
    parts.setForwardOnly(true);
    parts.prepare(u"SELECT part_no, first_row_id, last_row_id, record_count, byte_count, payload_sha256, state, "
                  u"attempts, last_error FROM upload_parts WHERE batch_id = ? ORDER BY part_no"_s);
    parts.addBindValue(batchId);
    if (!parts.exec())
        return Database::storageError(u"reading an upload plan"_s, parts.lastError());
    while (parts.next()) {
        UploadPart part;
        part.partNo = parts.value(0).toInt();
        part.firstRowId = parts.value(1).toLongLong();
        part.lastRowId = parts.value(2).toLongLong();
        part.recordCount = parts.value(3).toLongLong();
        part.byteCount = parts.value(4).toLongLong();
        part.payloadSha256 = parts.value(5).toString();
        part.state = parts.value(6).toString();
        part.attempts = parts.value(7).toInt();
        part.lastError = parts.value(8).toString();
        plan.parts.append(part);
    }
    return std::optional<UploadPlan>(plan);
}

Expected<BatchSummary> ExportReader::summary(const QString &batchId)
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    BatchSummary summary;
    QSqlQuery totals(db);
    totals.prepare(u"SELECT COUNT(*), COUNT(DISTINCT patient_id), MIN(completed_at), MAX(completed_at) "
                   u"FROM submissions WHERE export_batch_id = ?"_s);
    totals.addBindValue(batchId);
    if (!totals.exec() || !totals.next())
        return Database::storageError(u"summarising an export batch"_s, totals.lastError());
    summary.submissions = totals.value(0).toLongLong();
    summary.subjects = totals.value(1).toLongLong();
    summary.firstCompletedAt = totals.value(2).toString();
    summary.lastCompletedAt = totals.value(3).toString();

    const auto distinct = [&](const QString &column, const std::function<void(const QSqlQuery &)> &take) {
        QSqlQuery query(db);
        query.setForwardOnly(true);
        query.prepare(
            u"SELECT %1, COUNT(*) FROM submissions WHERE export_batch_id = ? GROUP BY %1 ORDER BY %1"_s.arg(column));
        query.addBindValue(batchId);
        if (!query.exec())
            return false;
        while (query.next())
            take(query);
        return true;
    };
    const bool ok =
        distinct(u"trial_id"_s, [&](const QSqlQuery &q) { summary.trialIds.append(q.value(0).toString()); }) &&
        distinct(u"questionnaire_id"_s,
                 [&](const QSqlQuery &q) {
                     summary.questionnaireIds.append(q.value(0).toString());
                     summary.byQuestionnaire.insert(q.value(0).toString(), q.value(1).toLongLong());
                 }) &&
        distinct(u"device_id"_s, [&](const QSqlQuery &q) { summary.deviceIds.append(q.value(0).toLongLong()); });
    if (!ok)
        return Database::storageError(u"summarising an export batch"_s, db.lastError());
    return summary;
}

Expected<Done> ExportReader::forEachRow(const QString &batchId,
                                        const std::function<Expected<Done>(const ExportRow &)> &visit)
{
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    query.prepare(kRowColumns + u"WHERE export_batch_id = ? "
                                u"ORDER BY trial_id, patient_id, questionnaire_id, completed_at, id"_s);
    query.addBindValue(batchId);
    if (!query.exec())
        return Database::storageError(u"reading an export batch's submissions"_s, query.lastError());
    while (query.next()) {
        if (auto done = visit(rowFrom(query)); !done)
            return done;
    }
    if (query.lastError().isValid())
        return Database::storageError(u"reading an export batch's submissions"_s, query.lastError());
    return Done{};
}

Expected<Done> ExportReader::forEachRowById(const QString &batchId, qint64 firstRowId, qint64 lastRowId,
                                            const std::function<Expected<Done>(const ExportRow &)> &visit)
{
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    query.prepare(kRowColumns + u"WHERE export_batch_id = ? AND id BETWEEN ? AND ? ORDER BY id"_s);
    query.addBindValue(batchId);
    query.addBindValue(firstRowId);
    query.addBindValue(lastRowId);
    if (!query.exec())
        return Database::storageError(u"reading an export batch's submissions"_s, query.lastError());
    while (query.next()) {
        if (auto done = visit(rowFrom(query)); !done)
            return done;
    }
    if (query.lastError().isValid())
        return Database::storageError(u"reading an export batch's submissions"_s, query.lastError());
    return Done{};
}

} // namespace SiteRelay
