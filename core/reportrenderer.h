#pragma once

#include "expected.h"
#include "questionnaire.h"
#include "questionnairescorer.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <functional>

namespace SiteRelay {

/// Everything the one-page summary shows. Plain data, copied into the pool task.
struct ReportInput
{
    // UTC ISO 8601 strings, as stored. A string that does not parse is printed as it is.
    QString submissionId, patientId, trialId, deviceName /*may be empty*/, completedAt, receivedAt;
    Questionnaire questionnaire; ///< the definition the answers were scored against (texts, options)
    QJsonObject answers;         ///< {itemId: value}, as submitted
    ScoreResult score;           ///< total, maxTotal, band, alerts
    QString siteName;            ///< may be empty
    /// When the report was generated (UTC ISO 8601), printed in the footer. Empty: now, from
    /// Clock::system(); the engine passes its own clock's time so tests can pin it.
    QString generatedAt;
};

/// What render() wrote.
struct RenderedReport
{
    QString path;
    QByteArray sha256Hex; ///< of exactly the bytes committed to path
    qint64 bytes = 0;
};

/**
 * Renders the one-page PDF summary of a processed submission (A4 portrait): questionnaire title,
 * identifiers, score and severity band, any safety alerts, every item with its answer, the
 * instructions, and a footer with the generation time and the questionnaire's copyright note.
 * Long content is shrunk until it fits one page.
 *
 * Needs a QGuiApplication (fonts); headless, use the "offscreen" platform. No shared state: any
 * number of threads may render at once.
 */
class ReportRenderer
{
public:
    /**
     * Renders to @p path atomically: the PDF is laid out in memory, then written through a
     * QSaveFile, so a crash leaves the old file or none, never a torn one. Creates the parent
     * folder.
     *
     * @p isCanceled is polled between steps (before layout, after each block of items, before
     * the file is opened and before commit); when it returns true the render stops, nothing is
     * written (no file, no temporary file) and the result is
     * Error{ErrorCode::Internal, ..., reason "cancelled"}.
     *
     * Other failures: ErrorCode::Internal (reason "no_gui_application") without a
     * QGuiApplication, or when painting fails (reason "render_failed"); ErrorCode::StorageUnavailable
     * (reason "write_failed") when the folder cannot be created or the file cannot be written or
     * committed (disk full, read-only): worth retrying later. The old file, if any, is untouched.
     *
     * Safe to call from any thread, concurrently. Blocks for the render and the write (tens of
     * milliseconds), so call it from a pool thread, not the GUI, server or writer thread.
     */
    static Expected<RenderedReport> render(const ReportInput &input, const QString &path,
                                           const std::function<bool()> &isCanceled = {});

    /**
     * Where the engine stores a submission's report under the data folder:
     * DATA/reports/YYYY/MM/<submissionId>.pdf, year and month of @p receivedAt in UTC. A
     * receivedAt that does not parse goes to DATA/reports/undated/. Characters of
     * @p submissionId outside [A-Za-z0-9._-] become '_' (ids are UUIDs; this only keeps a bad
     * one from leaving the folder). Pure: safe from any thread.
     */
    static QString reportPath(const QString &dataDir, const QString &submissionId, const QString &receivedAt);
};

} // namespace SiteRelay
