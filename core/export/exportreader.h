#pragma once

#include "expected.h"
#include "exportbatch.h"

#include <QJsonObject>
#include <QMap>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

namespace SiteRelay {

/// One exported submission as the files need it.
struct ExportRow
{
    qint64 rowId = 0; ///< submissions.id: the order of receipt, and the upload plan's key
    QString submissionId;
    qint64 deviceId = 0;
    QString patientId;
    QString trialId;
    QString questionnaireId;
    QString completedAt; ///< UTC ISO 8601 with milliseconds
    QString receivedAt;
    QString processedAt;
    QJsonObject answers; ///< item id → value
    QJsonObject score;   ///< ScoreResult::toJson() as stored by the engine
};

/// Aggregates over one batch's rows, computed by SQLite without loading the rows.
struct BatchSummary
{
    qint64 submissions = 0;
    qint64 subjects = 0;
    QString firstCompletedAt;
    QString lastCompletedAt;
    QStringList trialIds;                  ///< sorted
    QStringList questionnaireIds;          ///< sorted
    QList<qint64> deviceIds;               ///< sorted
    QMap<QString, qint64> byQuestionnaire; ///< questionnaire id → submissions
};

/**
 * A read-only connection to the database for writing export files. Open, use and destroy it on
 * one thread. Rows are streamed with a forward-only query: memory does not grow with the batch.
 */
class ExportReader
{
public:
    static Expected<std::unique_ptr<ExportReader>> open(const QString &databasePath);
    ~ExportReader();
    ExportReader(const ExportReader &) = delete;
    ExportReader &operator=(const ExportReader &) = delete;

    /// The batch with @p batchId; NotFound if there is none.
    Expected<ExportBatch> batch(const QString &batchId);
    Expected<BatchSummary> summary(const QString &batchId);

    /**
     * Calls @p visit for each row of the batch in file order: trial, patient, questionnaire,
     * completedAt, then order of receipt. Stops at the first error @p visit returns.
     */
    Expected<Done> forEachRow(const QString &batchId, const std::function<Expected<Done>(const ExportRow &)> &visit);

    /**
     * Calls @p visit for each row of the batch with @p firstRowId <= id <= @p lastRowId, in id
     * order (the upload's order: it uses the index on (export_batch_id, id), so a part is read
     * without sorting the batch).
     */
    Expected<Done> forEachRowById(const QString &batchId, qint64 firstRowId, qint64 lastRowId,
                                  const std::function<Expected<Done>(const ExportRow &)> &visit);

    /// Every batch, newest first, with its upload state.
    Expected<QList<ExportBatch>> batches();

    /// The batch's upload plan with its parts in order; nullopt when none was planned.
    Expected<std::optional<UploadPlan>> uploadPlan(const QString &batchId);

private:
    explicit ExportReader(QString connectionName);
    QString m_connectionName;
};

} // namespace SiteRelay
