#include "csvwriter.h"

#include "batchexporter.h"
#include "exportreader.h"
#include "questionnairecatalog.h"

#include <QIODevice>
#include <QJsonArray>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// Often enough for a progress bar and for a cancel to take effect within milliseconds.
constexpr qint64 kProgressEvery = 1000;

const QStringList &fixedColumns()
{
    static const QStringList columns = {
        u"batch_id"_s,
        u"batch_sequence"_s,
        u"site_id"_s,
        u"trial_id"_s,
        u"patient_id"_s,
        u"questionnaire_id"_s,
        u"questionnaire_version"_s,
        u"submission_id"_s,
        u"device_id"_s,
        u"completed_at"_s,
        u"received_at"_s,
        u"processed_at"_s,
        u"score_total"_s,
        u"score_max"_s,
        u"score_band"_s,
        u"alert"_s,
        u"alert_rules"_s,
    };
    return columns;
}

bool writeLine(QIODevice &device, const QStringList &fields)
{
    QString line;
    for (qsizetype i = 0; i < fields.size(); ++i) {
        if (i > 0)
            line += u',';
        line += CsvWriter::quoted(fields[i]);
    }
    line += u"\r\n"_s;
    const QByteArray bytes = line.toUtf8();
    return device.write(bytes) == bytes.size();
}

} // namespace

QString CsvWriter::quoted(const QString &field)
{
    const bool needsQuotes =
        field.contains(u',') || field.contains(u'"') || field.contains(u'\r') || field.contains(u'\n');
    if (!needsQuotes)
        return field;
    QString escaped = field;
    escaped.replace(u"\""_s, u"\"\""_s);
    return u'"' + escaped + u'"';
}

Expected<QStringList> CsvWriter::columns(const QStringList &questionnaireIds, const QuestionnaireCatalog &catalog)
{
    QStringList header = fixedColumns();
    for (const QString &id : questionnaireIds) {
        const Questionnaire *q = catalog.find(id);
        if (!q)
            return Error{ErrorCode::Internal,
                         u"the batch holds questionnaire \"%1\", which this SiteRelay does not define"_s.arg(id)};
        for (const QuestionnaireItem &item : q->items)
            header.append(id + u'.' + item.id);
    }
    return header;
}

Expected<Done> CsvWriter::write(QIODevice &device, ExportReader &reader, const ExportBatch &batch,
                                const BatchSummary &summary, const QuestionnaireCatalog &catalog,
                                const Progress &progress)
{
    const auto header = columns(summary.questionnaireIds, catalog);
    if (!header)
        return header.error();
    const Error diskError{ErrorCode::StorageUnavailable, u"cannot write the CSV file (disk full?)"_s};
    if (!writeLine(device, *header))
        return diskError;

    // Where each questionnaire's item columns start, so a row fills only its own.
    QHash<QString, qsizetype> firstItemColumn;
    qsizetype column = fixedColumns().size();
    for (const QString &id : summary.questionnaireIds) {
        firstItemColumn.insert(id, column);
        column += catalog.find(id)->items.size();
    }

    qint64 rows = 0;
    auto written = reader.forEachRow(batch.id, [&](const ExportRow &row) -> Expected<Done> {
        const Questionnaire *q = catalog.find(row.questionnaireId);
        if (!q || !firstItemColumn.contains(row.questionnaireId))
            return Error{ErrorCode::Internal, u"unknown questionnaire \"%1\""_s.arg(row.questionnaireId)};
        QStringList ruleIds;
        const QJsonArray alerts = row.score.value("alerts"_L1).toArray();
        for (const QJsonValue &alert : alerts)
            ruleIds.append(alert.toObject().value("ruleId"_L1).toString());
        QStringList fields = {
            batch.id,
            QString::number(batch.sequence),
            batch.siteId,
            row.trialId,
            row.patientId,
            row.questionnaireId,
            row.score.value("questionnaireVersion"_L1).toString(),
            row.submissionId,
            QString::number(row.deviceId),
            row.completedAt,
            row.receivedAt,
            row.processedAt,
            QString::number(row.score.value("total"_L1).toInteger()),
            QString::number(row.score.value("maxTotal"_L1).toInteger()),
            row.score.value("band"_L1).toObject().value("id"_L1).toString(),
            alerts.isEmpty() ? u"0"_s : u"1"_s,
            ruleIds.join(u';'),
        };
        fields.resize(header->size());
        const qsizetype first = firstItemColumn.value(row.questionnaireId);
        for (qsizetype i = 0; i < q->items.size(); ++i) {
            const QJsonValue answer = row.answers.value(q->items[i].id);
            if (answer.isDouble())
                fields[first + i] = QString::number(answer.toInteger());
        }
        if (!writeLine(device, fields))
            return diskError;
        if (++rows % kProgressEvery == 0 && progress && !progress(rows))
            return BatchExporter::cancelledError();
        return Done{};
    });
    if (!written)
        return written.error();
    if (progress)
        progress(rows);
    return Done{};
}

} // namespace SiteRelay
