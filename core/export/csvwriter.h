#pragma once

#include "expected.h"
#include "exportbatch.h"

#include <QStringList>

#include <functional>

class QIODevice;

namespace SiteRelay {

class ExportReader;
class QuestionnaireCatalog;
struct BatchSummary;

/**
 * Writes one batch as submissions.csv: RFC 4180 (CRLF line ends, fields with a comma, quote, CR
 * or LF quoted, quotes doubled), UTF-8 without a byte order mark, one header line, then one line
 * per submission streamed in the same order as the ODM file. The columns are in docs/EXPORT.md.
 */
class CsvWriter
{
public:
    /// Returns false to stop: write() then fails with BatchExporter::cancelledError().
    using Progress = std::function<bool(qint64 rowsWritten)>;

    static Expected<Done> write(QIODevice &device, ExportReader &reader, const ExportBatch &batch,
                                const BatchSummary &summary, const QuestionnaireCatalog &catalog,
                                const Progress &progress = {});

    /// The header for a batch with these questionnaires (ids as in the catalog).
    static Expected<QStringList> columns(const QStringList &questionnaireIds, const QuestionnaireCatalog &catalog);

    /// One field, quoted when RFC 4180 requires it.
    static QString quoted(const QString &field);
};

} // namespace SiteRelay
