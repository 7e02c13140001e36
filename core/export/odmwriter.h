#pragma once

#include "expected.h"
#include "exportbatch.h"

#include <functional>

class QIODevice;

namespace SiteRelay {

class ExportReader;
class QuestionnaireCatalog;
struct BatchSummary;

/**
 * Writes one batch as a CDISC ODM 1.3.2 Snapshot (clinical.odm.xml): a Study per trial with a
 * MetaDataVersion generated from the questionnaire definitions, AdminData with the users and the
 * site, then ClinicalData streamed row by row. Every time in the file is data or the batch's
 * created_at, so the same batch always gives the same bytes. The OID scheme is in docs/EXPORT.md.
 */
class OdmWriter
{
public:
    /// Called every few thousand rows and at the end with the rows written so far.
    /// Returns false to stop: write() then fails with BatchExporter::cancelledError().
    using Progress = std::function<bool(qint64 rowsWritten)>;

    static Expected<Done> write(QIODevice &device, ExportReader &reader, const ExportBatch &batch,
                                const BatchSummary &summary, const QuestionnaireCatalog &catalog,
                                const Progress &progress = {});

    static QString studyOid(const QString &trialId);
    static QString formOid(const QString &questionnaireId);
    static QString itemGroupOid(const QString &questionnaireId);
    static QString itemOid(const QString &questionnaireId, const QString &itemId);
    static QString codeListOid(const QString &questionnaireId, const QString &itemId);
};

} // namespace SiteRelay
