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
    query.prepare(u"SELECT id, sequence, created_at, site_id, trial_filter, since_filter, submission_count, state, "
                  u"file_checksums FROM batches WHERE id = ?"_s);
    query.addBindValue(batchId);
    if (!query.exec())
        return Database::storageError(u"reading an export batch"_s, query.lastError());
    if (!query.next())
        return Error{ErrorCode::NotFound, u"no export batch \"%1\"; see the batches table"_s.arg(batchId),
                     u"--batch"_s};
    ExportBatch batch;
    batch.id = query.value(0).toString();
    batch.sequence = query.value(1).toLongLong();
    batch.createdAt = query.value(2).toString();
    batch.siteId = query.value(3).toString();
    batch.trialFilter = query.value(4).toString();
    batch.sinceFilter = query.value(5).toString();
    batch.submissionCount = query.value(6).toLongLong();
    batch.state = query.value(7).toString();
    batch.fileChecksums = parseObject(query.value(8));
    return batch;
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
    query.prepare(u"SELECT submission_id, device_id, patient_id, trial_id, questionnaire_id, completed_at, "
                  u"received_at, processed_at, answers, score FROM submissions WHERE export_batch_id = ? "
                  u"ORDER BY trial_id, patient_id, questionnaire_id, completed_at, id"_s);
    query.addBindValue(batchId);
    if (!query.exec())
        return Database::storageError(u"reading an export batch's submissions"_s, query.lastError());
    while (query.next()) {
        ExportRow row;
        row.submissionId = query.value(0).toString();
        row.deviceId = query.value(1).toLongLong();
        row.patientId = query.value(2).toString();
        row.trialId = query.value(3).toString();
        row.questionnaireId = query.value(4).toString();
        row.completedAt = query.value(5).toString();
        row.receivedAt = query.value(6).toString();
        row.processedAt = query.value(7).toString();
        row.answers = parseObject(query.value(8));
        row.score = parseObject(query.value(9));
        if (auto done = visit(row); !done)
            return done;
    }
    if (query.lastError().isValid())
        return Database::storageError(u"reading an export batch's submissions"_s, query.lastError());
    return Done{};
}

} // namespace SiteRelay
