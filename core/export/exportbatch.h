#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace SiteRelay {

/// What a new batch takes: processed submissions no batch has taken yet, optionally narrowed.
struct BatchRequest
{
    QString siteId;      ///< [A-Za-z0-9._-]{1,64}; recorded with the batch and written into every file
    QString trialFilter; ///< empty: every trial
    QString sinceFilter; ///< empty, or UTC ISO 8601 with milliseconds: completedAt >= this
    QString untilFilter; ///< empty, or UTC ISO 8601 with milliseconds: completedAt < this (exclusive)
    /// Empty: every qualifying submission; else only these (the dashboard's "Export selected"),
    /// still only those processed, not rejected and in no batch yet.
    QStringList submissionIds;
    QString actor = QStringLiteral("cli");
};

/// One row of the batches table.
struct ExportBatch
{
    QString id; ///< a UUID; also the name of its folder under DATA_DIR/exports
    qint64 sequence = 0;
    QString createdAt; ///< UTC ISO 8601; the only time the files contain besides the data's own
    QString siteId;
    QString trialFilter;
    QString sinceFilter;
    QString untilFilter; ///< empty for batches made before migration 008
    qint64 submissionCount = 0;
    QString state;             ///< "created", "written" or "uploaded"
    QJsonObject fileChecksums; ///< file name → SHA-256 hex of the files last written

    // The upload (batch_uploads, migration 005); uploadState is empty while none was planned.
    QString uploadState; ///< "planned", "uploading", "failed" or "confirmed"
    QString uploadKind;  ///< "redcap" or "generic"
    int uploadParts = 0;
    int uploadPartsConfirmed = 0;
    QString uploadError; ///< the last failure in full (e.g. REDCap's per-field errors)
};

/// One request of a batch's upload plan (upload_parts).
struct UploadPart
{
    int partNo = 0;        ///< from 1
    qint64 firstRowId = 0; ///< submissions.id range (REDCap); 0 for the generic upload's file
    qint64 lastRowId = 0;
    qint64 recordCount = 0;
    qint64 byteCount = 0;
    QString payloadSha256; ///< of the exact bytes planned (REDCap: the data field; generic: the ODM file)
    QString state;         ///< "pending", "confirmed" or "failed"
    int attempts = 0;      ///< over every run
    QString lastError;
};

/// A batch's upload plan, fixed when it is first uploaded, so a resumed upload sends the same parts.
struct UploadPlan
{
    QString batchId;
    QString kind; ///< "redcap" or "generic"
    QString targetUrl;
    int maxRecords = 0;
    int maxBytes = 0;
    QString state;
    QString lastError;
    QList<UploadPart> parts;

    int confirmedParts() const
    {
        int confirmed = 0;
        for (const UploadPart &part : parts)
            confirmed += part.state == QLatin1StringView("confirmed") ? 1 : 0;
        return confirmed;
    }
};

} // namespace SiteRelay
