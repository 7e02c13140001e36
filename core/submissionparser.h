#pragma once

#include "expected.h"
#include "submission.h"

#include <QByteArrayView>
#include <QDateTime>

namespace SiteRelay {

class QuestionnaireCatalog;

/**
 * Turns a request body into a NewSubmission, strictly: the body must be RFC 8259 JSON (checked by
 * StrictJsonValidator before QJsonDocument sees it), an object with exactly the documented fields,
 * each of the documented type and form. Fails with InvalidArgument naming the field, with reason
 * "malformed_json", "not_an_object", "missing_field", "unknown_field", "invalid_field" or
 * "unknown_questionnaire".
 *
 * Holds a reference to the catalog, which must outlive it. Const and thread-safe.
 */
class SubmissionParser
{
public:
    explicit SubmissionParser(const QuestionnaireCatalog &catalog);

    /// POST /api/v1/submissions: {submissionId, patientId, trialId, questionnaireId, completedAt, answers}.
    Expected<NewSubmission> parseApiV1(QByteArrayView body, qint64 deviceId, const QDateTime &nowUtc) const;

    /**
     * POST /data/submit (the original service's API): {patientId, trialId, reportData: "<JSON string>"}.
     * reportData must hold a JSON object; its "questionnaireId", "completedAt" and "answers" are used
     * when present. Legacy clients send no idempotency key, so the submissionId is derived from the
     * device and the content (UUID v5): a resent identical report is recognised as a duplicate.
     */
    Expected<NewSubmission> parseLegacy(QByteArrayView body, qint64 deviceId, const QDateTime &nowUtc) const;

    /// 1–64 of [A-Za-z0-9._-]: the rule for patient and trial ids.
    static bool isValidIdentifier(QStringView id);
    /// RFC 3339 date-time with an offset ("Z" or ±hh:mm); returns it in UTC, or an invalid QDateTime.
    static QDateTime parseRfc3339(QStringView text);

private:
    const QuestionnaireCatalog &m_catalog;
};

} // namespace SiteRelay
