#include "redcaprecords.h"

#include "exportreader.h"
#include "questionnairecatalog.h"
#include "uploadconfig.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

QString redcapName(const QString &text)
{
    static const QRegularExpression notAllowed(u"[^a-z0-9_]"_s);
    return text.toLower().replace(notAllowed, u"_"_s);
}

} // namespace

RedcapRecords::RedcapRecords(const QuestionnaireCatalog &catalog, const UploadConfig &config)
    : m_catalog(catalog)
    , m_recordIdField(config.redcapRecordIdField)
    , m_event(config.redcapEvent)
{}

QString RedcapRecords::itemField(const QString &questionnaireId, const QString &itemId)
{
    const QString prefix = redcapName(questionnaireId) + u'_';
    const QString item = redcapName(itemId);
    return item.startsWith(prefix) ? item : prefix + item;
}

QString RedcapRecords::questionnaireField(const QString &questionnaireId, const QString &name)
{
    return redcapName(questionnaireId) + u'_' + name;
}

QString RedcapRecords::redcapDateTime(const QString &isoUtc)
{
    // "2026-11-20T08:30:00.123Z" → "2026-11-20 08:30:00"; the milliseconds do not fit REDCap's format.
    return isoUtc.left(19).replace(u'T', u' ');
}

Expected<QJsonObject> RedcapRecords::record(const ExportRow &row, const ExportBatch &batch) const
{
    const Questionnaire *q = m_catalog.find(row.questionnaireId);
    if (!q)
        return Error{ErrorCode::Internal, u"unknown questionnaire \"%1\""_s.arg(row.questionnaireId)};
    QJsonObject record{
        {m_recordIdField, row.submissionId},
        {u"site_id"_s, batch.siteId},
        {u"trial_id"_s, row.trialId},
        {u"patient_id"_s, row.patientId},
        {u"questionnaire_id"_s, row.questionnaireId},
    };
    if (!m_event.isEmpty())
        record.insert(u"redcap_event_name"_s, m_event);
    for (const QuestionnaireItem &item : q->items) {
        const QJsonValue answer = row.answers.value(item.id);
        if (answer.isDouble())
            record.insert(itemField(q->id, item.id), QString::number(answer.toInteger()));
    }
    record.insert(questionnaireField(q->id, u"total"_s), QString::number(row.score.value("total"_L1).toInteger()));
    record.insert(questionnaireField(q->id, u"band"_s),
                  row.score.value("band"_L1).toObject().value("id"_L1).toString());
    record.insert(questionnaireField(q->id, u"alert"_s),
                  row.score.value("alerts"_L1).toArray().isEmpty() ? u"0"_s : u"1"_s);
    record.insert(questionnaireField(q->id, u"completed_at"_s), redcapDateTime(row.completedAt));
    record.insert(questionnaireField(q->id, u"received_at"_s), redcapDateTime(row.receivedAt));
    return record;
}

Expected<QByteArray> RedcapRecords::recordJson(const ExportRow &row, const ExportBatch &batch) const
{
    auto object = record(row, batch);
    if (!object)
        return object.error();
    // QJsonObject keeps its keys sorted: the bytes depend on the data only.
    return QJsonDocument(*object).toJson(QJsonDocument::Compact);
}

} // namespace SiteRelay
