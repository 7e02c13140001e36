#pragma once

#include <QJsonObject>
#include <QString>

namespace SiteRelay {

/// What a new batch takes: processed submissions no batch has taken yet, optionally narrowed.
struct BatchRequest
{
    QString siteId;      ///< [A-Za-z0-9._-]{1,64}; recorded with the batch and written into every file
    QString trialFilter; ///< empty: every trial
    QString sinceFilter; ///< empty, or UTC ISO 8601 with milliseconds: completedAt >= this
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
    qint64 submissionCount = 0;
    QString state;             ///< "created", "written" or "uploaded"
    QJsonObject fileChecksums; ///< file name → SHA-256 hex of the files last written
};

} // namespace SiteRelay
