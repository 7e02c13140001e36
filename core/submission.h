#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace SiteRelay {

/// Where a submission came in.
enum class SubmissionSource {
    ApiV1,        ///< POST /api/v1/submissions
    LegacySubmit, ///< POST /data/submit, the original service's API
};

/**
 * A submission as accepted at ingest, before it is stored: the envelope is valid, the answers are
 * an object (checked against the questionnaire later, by the engine).
 */
struct NewSubmission
{
    QString submissionId; ///< lower-case canonical UUID, the client's idempotency key
    qint64 deviceId = 0;  ///< the authenticated device that sent it
    QString patientId;
    QString trialId;
    QString questionnaireId;
    QString completedAt; ///< RFC 3339 as sent, normalised to UTC ISO 8601 with milliseconds
    QJsonObject answers;
    SubmissionSource source = SubmissionSource::ApiV1;

    /// The answers as stored: compact JSON with sorted keys (QJsonObject keeps keys sorted).
    QByteArray answersJson() const;
    /// SHA-256 over the device and every field, in a canonical form: equal content ⇔ equal hash.
    QByteArray contentHash() const { return contentHash(answersJson()); }
    /// The same, reusing answers already serialised by answersJson().
    QByteArray contentHash(const QByteArray &answersJson) const;
};

/// What a submitter is told once its submission is stored (or found stored already).
struct SubmissionReceipt
{
    QString submissionId;
    QString status;         ///< the submission's current state, "pending" when just stored
    QString receivedAt;     ///< UTC ISO 8601 with milliseconds, from the first time it was stored
    bool duplicate = false; ///< true when it had been stored before with the same content
};

} // namespace SiteRelay
