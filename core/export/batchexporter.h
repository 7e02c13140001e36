#pragma once

#include "expected.h"
#include "exportbatch.h"
#include "exportreader.h"

#include <QJsonObject>

#include <functional>

namespace SiteRelay {

class Settings;
class SubmissionStore;

/// What to export: a new batch, or (batchId set) the files of an existing one again.
struct ExportRequest
{
    QString batchId;      ///< empty: create a new batch from `batch`
    BatchRequest batch;   ///< filters and site of a new batch
    QString outputFolder; ///< empty: DATA_DIR/exports/<batch id>

    /// Asked every thousand rows; true stops the writing with cancelledError() (files unchanged).
    std::function<bool()> canceled;
    /// Rows written of the batch's total, per file ("clinical.odm.xml", "submissions.csv").
    std::function<void(const QString &file, qint64 done, qint64 total)> rowProgress;
};

struct ExportResult
{
    ExportBatch batch;
    BatchSummary summary;
    QString folder;
    bool created = false;  ///< a new batch (false: re-export)
    QJsonObject checksums; ///< file name → SHA-256 hex, including manifest.json
};

/**
 * Creates (or looks up) a batch, writes clinical.odm.xml, submissions.csv and manifest.json
 * atomically (each a QSaveFile; the manifest last, so a folder with a manifest is complete) and
 * records the checksums. Blocks until done: call it from a thread that may wait (the command
 * line), not from the server's threads. Opens its own read-only connection on the calling thread.
 *
 * If writing fails after a new batch was created, the batch stays in state "created" with its
 * submissions; the error says so, and exporting with its id writes the files.
 */
class BatchExporter
{
public:
    static constexpr auto kOdmFileName = "clinical.odm.xml";
    static constexpr auto kCsvFileName = "submissions.csv";
    static constexpr auto kManifestFileName = "manifest.json";

    using Progress = std::function<void(const QString &message)>;

    static Expected<ExportResult> run(SubmissionStore &store, const QString &dataDir, const ExportRequest &request,
                                      const Progress &progress = {});

    static QString defaultFolder(const QString &dataDir, const QString &batchId);

    /// A --since value: YYYY-MM-DD (midnight UTC) or an RFC 3339 date-time with offset, as UTC ISO
    /// 8601 with milliseconds. InvalidArgument (field "--since") for anything else.
    static Expected<QString> normalizeSince(const QString &text);
    /// A --until value, read as normalizeSince() reads --since; the error names "--until".
    static Expected<QString> normalizeUntil(const QString &text);
    /// Normalized since and until (either may be empty): InvalidArgument (field "--until") unless
    /// since < until, as the range [since, until) would hold nothing.
    static Expected<Done> checkRange(const QString &since, const QString &until);

    /// Site and trial ids: 1-64 of [A-Za-z0-9._-], so they fit OIDs and folder names unchanged.
    static bool isValidId(const QString &id);

    /// The site id of a new batch: @p override, else the site/id setting, else the host name made
    /// to fit isValidId().
    static QString siteIdFor(const Settings &settings, const QString &override = {});

    /// The error of a run stopped through ExportRequest::canceled (reason "cancelled").
    static Error cancelledError();
    static bool isCancelled(const Error &error) { return error.reason == QLatin1StringView("cancelled"); }
};

} // namespace SiteRelay
