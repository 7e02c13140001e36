#include "odmwriter.h"

#include "batchexporter.h"
#include "exportreader.h"
#include "questionnairecatalog.h"

#include <QDateTime>
#include <QJsonArray>
#include <QXmlStreamWriter>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// One study event holds every questionnaire; forms repeat inside it (one FormData per submission).
const QString kStudyEventOid = u"SE.EPRO"_s;
const QString kMetaDataVersionOid = u"MDV.1"_s;
const QString kSiteRelayUserOid = u"USR.SITERELAY"_s;
const QString kNoYesCodeListOid = u"CL.NOYES"_s;
// Pseudo-items after a questionnaire's own items; upper case cannot clash with definition item ids,
// which are lower case.
const QString kTotalItem = u"TOTAL"_s;
const QString kBandItem = u"BAND"_s;
const QString kAlertItem = u"ALERT"_s;
// Often enough for a progress bar and for a cancel to take effect within milliseconds.
constexpr qint64 kProgressEvery = 1000;

QString deviceUserOid(qint64 deviceId)
{
    return u"USR.DEVICE.%1"_s.arg(deviceId);
}

QString locationOid(const QString &siteId)
{
    return u"LOC."_s + siteId;
}

void writeTranslatedText(QXmlStreamWriter &xml, const QString &element, const QString &text)
{
    xml.writeStartElement(element);
    xml.writeStartElement(u"TranslatedText"_s);
    xml.writeAttribute(u"xml:lang"_s, u"en"_s);
    xml.writeCharacters(text);
    xml.writeEndElement();
    xml.writeEndElement();
}

void writeCodeListItem(QXmlStreamWriter &xml, const QString &value, const QString &label)
{
    xml.writeStartElement(u"CodeListItem"_s);
    xml.writeAttribute(u"CodedValue"_s, value);
    writeTranslatedText(xml, u"Decode"_s, label);
    xml.writeEndElement();
}

void writeItemDef(QXmlStreamWriter &xml, const QString &oid, const QString &name, const QString &dataType,
                  const QString &question, const QString &codeListOid)
{
    xml.writeStartElement(u"ItemDef"_s);
    xml.writeAttribute(u"OID"_s, oid);
    xml.writeAttribute(u"Name"_s, name);
    xml.writeAttribute(u"DataType"_s, dataType);
    writeTranslatedText(xml, u"Question"_s, question);
    if (!codeListOid.isEmpty()) {
        xml.writeStartElement(u"CodeListRef"_s);
        xml.writeAttribute(u"CodeListOID"_s, codeListOid);
        xml.writeEndElement();
    }
    xml.writeEndElement();
}

void writeMetaDataVersion(QXmlStreamWriter &xml, const QList<const Questionnaire *> &questionnaires)
{
    QStringList versions;
    for (const Questionnaire *q : questionnaires)
        versions.append(q->id + u' ' + q->version);
    xml.writeStartElement(u"MetaDataVersion"_s);
    xml.writeAttribute(u"OID"_s, kMetaDataVersionOid);
    xml.writeAttribute(u"Name"_s, u"SiteRelay ePRO ("_s + versions.join(u", "_s) + u')');

    xml.writeStartElement(u"Protocol"_s);
    xml.writeStartElement(u"StudyEventRef"_s);
    xml.writeAttribute(u"StudyEventOID"_s, kStudyEventOid);
    xml.writeAttribute(u"OrderNumber"_s, u"1"_s);
    xml.writeAttribute(u"Mandatory"_s, u"No"_s);
    xml.writeEndElement();
    xml.writeEndElement();

    xml.writeStartElement(u"StudyEventDef"_s);
    xml.writeAttribute(u"OID"_s, kStudyEventOid);
    xml.writeAttribute(u"Name"_s, u"ePRO questionnaires"_s);
    xml.writeAttribute(u"Repeating"_s, u"No"_s);
    xml.writeAttribute(u"Type"_s, u"Unscheduled"_s);
    int order = 0;
    for (const Questionnaire *q : questionnaires) {
        xml.writeStartElement(u"FormRef"_s);
        xml.writeAttribute(u"FormOID"_s, OdmWriter::formOid(q->id));
        xml.writeAttribute(u"OrderNumber"_s, QString::number(++order));
        xml.writeAttribute(u"Mandatory"_s, u"No"_s);
        xml.writeEndElement();
    }
    xml.writeEndElement();

    for (const Questionnaire *q : questionnaires) {
        xml.writeStartElement(u"FormDef"_s);
        xml.writeAttribute(u"OID"_s, OdmWriter::formOid(q->id));
        xml.writeAttribute(u"Name"_s, q->shortTitle);
        xml.writeAttribute(u"Repeating"_s, u"Yes"_s);
        writeTranslatedText(xml, u"Description"_s, u"%1, definition version %2"_s.arg(q->title, q->version));
        xml.writeStartElement(u"ItemGroupRef"_s);
        xml.writeAttribute(u"ItemGroupOID"_s, OdmWriter::itemGroupOid(q->id));
        xml.writeAttribute(u"Mandatory"_s, u"Yes"_s);
        xml.writeEndElement();
        xml.writeEndElement();
    }

    for (const Questionnaire *q : questionnaires) {
        xml.writeStartElement(u"ItemGroupDef"_s);
        xml.writeAttribute(u"OID"_s, OdmWriter::itemGroupOid(q->id));
        xml.writeAttribute(u"Name"_s, q->shortTitle);
        xml.writeAttribute(u"Repeating"_s, u"No"_s);
        int itemOrder = 0;
        const auto itemRef = [&](const QString &itemId, bool mandatory) {
            xml.writeStartElement(u"ItemRef"_s);
            xml.writeAttribute(u"ItemOID"_s, OdmWriter::itemOid(q->id, itemId));
            xml.writeAttribute(u"OrderNumber"_s, QString::number(++itemOrder));
            xml.writeAttribute(u"Mandatory"_s, mandatory ? u"Yes"_s : u"No"_s);
            xml.writeEndElement();
        };
        for (const QuestionnaireItem &item : q->items)
            itemRef(item.id, item.required);
        itemRef(kTotalItem, true);
        itemRef(kBandItem, true);
        itemRef(kAlertItem, true);
        xml.writeEndElement();
    }

    for (const Questionnaire *q : questionnaires) {
        for (const QuestionnaireItem &item : q->items)
            writeItemDef(xml, OdmWriter::itemOid(q->id, item.id), item.id, u"integer"_s, item.text,
                         OdmWriter::codeListOid(q->id, item.id));
        writeItemDef(xml, OdmWriter::itemOid(q->id, kTotalItem), q->id + u"_total"_s, u"integer"_s,
                     u"%1 total score (%2 to %3)"_s.arg(q->shortTitle).arg(q->scoring.min).arg(q->scoring.max),
                     QString());
        writeItemDef(xml, OdmWriter::itemOid(q->id, kBandItem), q->id + u"_band"_s, u"text"_s,
                     u"%1 severity band"_s.arg(q->shortTitle), OdmWriter::codeListOid(q->id, kBandItem));
        writeItemDef(xml, OdmWriter::itemOid(q->id, kAlertItem), q->id + u"_alert"_s, u"integer"_s,
                     u"%1 safety alert raised"_s.arg(q->shortTitle), kNoYesCodeListOid);
    }

    for (const Questionnaire *q : questionnaires) {
        for (const QuestionnaireItem &item : q->items) {
            xml.writeStartElement(u"CodeList"_s);
            xml.writeAttribute(u"OID"_s, OdmWriter::codeListOid(q->id, item.id));
            xml.writeAttribute(u"Name"_s, item.id);
            xml.writeAttribute(u"DataType"_s, u"integer"_s);
            for (const ResponseOption &option : item.options)
                writeCodeListItem(xml, QString::number(option.value), option.label);
            xml.writeEndElement();
        }
        xml.writeStartElement(u"CodeList"_s);
        xml.writeAttribute(u"OID"_s, OdmWriter::codeListOid(q->id, kBandItem));
        xml.writeAttribute(u"Name"_s, q->id + u"_band"_s);
        xml.writeAttribute(u"DataType"_s, u"text"_s);
        for (const ScoreBand &band : q->scoring.bands)
            writeCodeListItem(xml, band.id, u"%1 (%2 to %3)"_s.arg(band.label).arg(band.min).arg(band.max));
        xml.writeEndElement();
    }
    xml.writeStartElement(u"CodeList"_s);
    xml.writeAttribute(u"OID"_s, kNoYesCodeListOid);
    xml.writeAttribute(u"Name"_s, u"No/Yes"_s);
    xml.writeAttribute(u"DataType"_s, u"integer"_s);
    writeCodeListItem(xml, u"0"_s, u"No"_s);
    writeCodeListItem(xml, u"1"_s, u"Yes"_s);
    xml.writeEndElement();

    xml.writeEndElement(); // MetaDataVersion
}

void writeAuditRecord(QXmlStreamWriter &xml, const QString &userOid, const QString &location, const QString &at,
                      const QString &reason, const QString &sourceId)
{
    xml.writeStartElement(u"AuditRecord"_s);
    xml.writeStartElement(u"UserRef"_s);
    xml.writeAttribute(u"UserOID"_s, userOid);
    xml.writeEndElement();
    xml.writeStartElement(u"LocationRef"_s);
    xml.writeAttribute(u"LocationOID"_s, location);
    xml.writeEndElement();
    xml.writeTextElement(u"DateTimeStamp"_s, at);
    xml.writeTextElement(u"ReasonForChange"_s, reason);
    xml.writeTextElement(u"SourceID"_s, sourceId);
    xml.writeEndElement();
}

void writeItemData(QXmlStreamWriter &xml, const QString &oid, const QString &value)
{
    xml.writeStartElement(u"ItemData"_s);
    xml.writeAttribute(u"ItemOID"_s, oid);
    xml.writeAttribute(u"Value"_s, value);
    xml.writeEndElement();
}

} // namespace

QString OdmWriter::studyOid(const QString &trialId)
{
    return u"ST."_s + trialId;
}

QString OdmWriter::formOid(const QString &questionnaireId)
{
    return u"F."_s + questionnaireId;
}

QString OdmWriter::itemGroupOid(const QString &questionnaireId)
{
    return u"IG."_s + questionnaireId;
}

QString OdmWriter::itemOid(const QString &questionnaireId, const QString &itemId)
{
    return u"I."_s + questionnaireId + u'.' + itemId;
}

QString OdmWriter::codeListOid(const QString &questionnaireId, const QString &itemId)
{
    return u"CL."_s + questionnaireId + u'.' + itemId;
}

Expected<Done> OdmWriter::write(QIODevice &device, ExportReader &reader, const ExportBatch &batch,
                                const BatchSummary &summary, const QuestionnaireCatalog &catalog,
                                const Progress &progress)
{
    QList<const Questionnaire *> questionnaires;
    for (const QString &id : summary.questionnaireIds) {
        const Questionnaire *q = catalog.find(id);
        if (!q)
            return Error{ErrorCode::Internal,
                         u"the batch holds questionnaire \"%1\", which this SiteRelay does not define"_s.arg(id)};
        questionnaires.append(q);
    }
    const QString location = locationOid(batch.siteId);

    QXmlStreamWriter xml(&device);
    xml.setAutoFormatting(true);
    xml.setAutoFormattingIndent(1);
    xml.writeStartDocument();
    xml.writeDefaultNamespace(u"http://www.cdisc.org/ns/odm/v1.3"_s);
    xml.writeStartElement(u"ODM"_s);
    xml.writeAttribute(u"Description"_s,
                       u"SiteRelay export batch %1 of site %2"_s.arg(batch.sequence).arg(batch.siteId));
    xml.writeAttribute(u"FileType"_s, u"Snapshot"_s);
    xml.writeAttribute(u"Granularity"_s, u"All"_s);
    xml.writeAttribute(u"FileOID"_s, u"SiteRelay.%1.%2"_s.arg(batch.siteId, batch.id));
    xml.writeAttribute(u"CreationDateTime"_s, batch.createdAt);
    xml.writeAttribute(u"AsOfDateTime"_s, batch.createdAt);
    xml.writeAttribute(u"ODMVersion"_s, u"1.3.2"_s);
    xml.writeAttribute(u"Originator"_s, batch.siteId);
    xml.writeAttribute(u"SourceSystem"_s, u"SiteRelay"_s);
    xml.writeAttribute(u"SourceSystemVersion"_s, QStringLiteral(SITERELAY_VERSION));

    for (const QString &trialId : summary.trialIds) {
        xml.writeStartElement(u"Study"_s);
        xml.writeAttribute(u"OID"_s, studyOid(trialId));
        xml.writeStartElement(u"GlobalVariables"_s);
        xml.writeTextElement(u"StudyName"_s, trialId);
        xml.writeTextElement(u"StudyDescription"_s, u"ePRO data of trial %1 from site %2"_s.arg(trialId, batch.siteId));
        xml.writeTextElement(u"ProtocolName"_s, trialId);
        xml.writeEndElement();
        writeMetaDataVersion(xml, questionnaires);
        xml.writeEndElement();
    }

    xml.writeStartElement(u"AdminData"_s);
    xml.writeStartElement(u"User"_s);
    xml.writeAttribute(u"OID"_s, kSiteRelayUserOid);
    xml.writeAttribute(u"UserType"_s, u"Other"_s);
    xml.writeTextElement(u"LoginName"_s, u"siterelay"_s);
    xml.writeEndElement();
    for (const qint64 deviceId : summary.deviceIds) {
        xml.writeStartElement(u"User"_s);
        xml.writeAttribute(u"OID"_s, deviceUserOid(deviceId));
        xml.writeAttribute(u"UserType"_s, u"Other"_s);
        xml.writeTextElement(u"LoginName"_s, u"device:%1"_s.arg(deviceId));
        xml.writeEndElement();
    }
    xml.writeStartElement(u"Location"_s);
    xml.writeAttribute(u"OID"_s, location);
    xml.writeAttribute(u"Name"_s, batch.siteId);
    xml.writeAttribute(u"LocationType"_s, u"Site"_s);
    const QString effectiveDate = batch.createdAt.left(10);
    for (const QString &trialId : summary.trialIds) {
        xml.writeStartElement(u"MetaDataVersionRef"_s);
        xml.writeAttribute(u"StudyOID"_s, studyOid(trialId));
        xml.writeAttribute(u"MetaDataVersionOID"_s, kMetaDataVersionOid);
        xml.writeAttribute(u"EffectiveDate"_s, effectiveDate);
        xml.writeEndElement();
    }
    xml.writeEndElement(); // Location
    xml.writeEndElement(); // AdminData

    // Rows come ordered by trial, then patient: open and close ClinicalData and SubjectData on change.
    QString currentTrial;
    QString currentPatient;
    bool inTrial = false;
    bool inSubject = false;
    qint64 rows = 0;
    auto written = reader.forEachRow(batch.id, [&](const ExportRow &row) -> Expected<Done> {
        const Questionnaire *q = catalog.find(row.questionnaireId);
        if (!q)
            return Error{ErrorCode::Internal, u"unknown questionnaire \"%1\""_s.arg(row.questionnaireId)};
        if (inSubject && (row.trialId != currentTrial || row.patientId != currentPatient)) {
            xml.writeEndElement(); // StudyEventData
            xml.writeEndElement(); // SubjectData
            inSubject = false;
        }
        if (inTrial && row.trialId != currentTrial) {
            xml.writeEndElement(); // ClinicalData
            inTrial = false;
        }
        if (!inTrial) {
            xml.writeStartElement(u"ClinicalData"_s);
            xml.writeAttribute(u"StudyOID"_s, studyOid(row.trialId));
            xml.writeAttribute(u"MetaDataVersionOID"_s, kMetaDataVersionOid);
            currentTrial = row.trialId;
            inTrial = true;
        }
        if (!inSubject) {
            xml.writeStartElement(u"SubjectData"_s);
            xml.writeAttribute(u"SubjectKey"_s, row.patientId);
            xml.writeStartElement(u"SiteRef"_s);
            xml.writeAttribute(u"LocationOID"_s, location);
            xml.writeEndElement();
            xml.writeStartElement(u"StudyEventData"_s);
            xml.writeAttribute(u"StudyEventOID"_s, kStudyEventOid);
            currentPatient = row.patientId;
            inSubject = true;
        }

        xml.writeStartElement(u"FormData"_s);
        xml.writeAttribute(u"FormOID"_s, formOid(q->id));
        // The submission id, not a counter: it names the same form instance in every batch.
        xml.writeAttribute(u"FormRepeatKey"_s, row.submissionId);
        writeAuditRecord(xml, deviceUserOid(row.deviceId), location, row.completedAt,
                         u"completed by the patient on the tablet"_s, row.submissionId);
        xml.writeStartElement(u"ItemGroupData"_s);
        xml.writeAttribute(u"ItemGroupOID"_s, itemGroupOid(q->id));
        writeAuditRecord(xml, kSiteRelayUserOid, location, row.receivedAt, u"received and scored by SiteRelay"_s,
                         row.submissionId);
        for (const QuestionnaireItem &item : q->items) {
            const QJsonValue answer = row.answers.value(item.id);
            if (answer.isDouble())
                writeItemData(xml, itemOid(q->id, item.id), QString::number(answer.toInteger()));
        }
        writeItemData(xml, itemOid(q->id, kTotalItem), QString::number(row.score.value("total"_L1).toInteger()));
        writeItemData(xml, itemOid(q->id, kBandItem), row.score.value("band"_L1).toObject().value("id"_L1).toString());
        writeItemData(xml, itemOid(q->id, kAlertItem),
                      row.score.value("alerts"_L1).toArray().isEmpty() ? u"0"_s : u"1"_s);
        xml.writeEndElement(); // ItemGroupData
        xml.writeEndElement(); // FormData

        if (++rows % kProgressEvery == 0 && progress && !progress(rows))
            return BatchExporter::cancelledError();
        if (xml.hasError())
            return Error{ErrorCode::StorageUnavailable, u"cannot write the ODM file (disk full?)"_s};
        return Done{};
    });
    if (!written)
        return written.error();
    if (inSubject) {
        xml.writeEndElement();
        xml.writeEndElement();
    }
    if (inTrial)
        xml.writeEndElement();
    xml.writeEndElement(); // ODM
    xml.writeEndDocument();
    if (xml.hasError())
        return Error{ErrorCode::StorageUnavailable, u"cannot write the ODM file (disk full?)"_s};
    if (progress)
        progress(rows);
    return Done{};
}

} // namespace SiteRelay
