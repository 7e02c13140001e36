#pragma once

#include "expected.h"
#include "exportbatch.h"

#include <QJsonObject>
#include <QString>

namespace SiteRelay {

class QuestionnaireCatalog;
struct ExportRow;
struct UploadConfig;

/**
 * Maps exported submissions to REDCap "flat" JSON records (docs/EXPORT.md, "REDCap mapping"): one
 * record per submission, keyed by its submission id in the configured record id field, with field
 * names derived from the questionnaire definitions (phq9_q1 … phq9_q9, phq9_total, phq9_band,
 * phq9_alert, phq9_completed_at, phq9_received_at). Every value is a string, as REDCap's flat
 * format expects. Pure and deterministic: the same row always gives the same bytes.
 */
class RedcapRecords
{
public:
    RedcapRecords(const QuestionnaireCatalog &catalog, const UploadConfig &config);

    /// One record; Internal error for a questionnaire the catalog does not define.
    Expected<QJsonObject> record(const ExportRow &row, const ExportBatch &batch) const;
    /// The record as compact JSON with sorted keys (what goes into the data field).
    Expected<QByteArray> recordJson(const ExportRow &row, const ExportBatch &batch) const;

    /// The REDCap field of a questionnaire item: lower case, [a-z0-9_], prefixed with the
    /// questionnaire id unless the item id already is (phq9 + phq9_q1 → phq9_q1; x + q1 → x_q1).
    static QString itemField(const QString &questionnaireId, const QString &itemId);
    /// A per-questionnaire field such as "total", "band", "alert", "completed_at".
    static QString questionnaireField(const QString &questionnaireId, const QString &name);
    /// UTC ISO 8601 as REDCap's datetime_seconds_ymd wants it: "2026-11-20 08:30:00".
    static QString redcapDateTime(const QString &isoUtc);

private:
    const QuestionnaireCatalog &m_catalog;
    QString m_recordIdField;
    QString m_event;
};

} // namespace SiteRelay
