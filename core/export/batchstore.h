#pragma once

#include "expected.h"
#include "exportbatch.h"

#include <QFuture>

namespace SiteRelay {

class SubmissionStore;

/**
 * Writes export batches through SubmissionStore's writer thread, each change with its audit row
 * (entity "batch") in the same transaction. Callable from any thread; the futures resolve after
 * COMMIT.
 */
class BatchStore
{
public:
    /**
     * Creates the next batch: takes every submission in state "processed" that no batch has taken
     * (narrowed by the request's filters), gives the batch the next sequence number and a new id,
     * and marks the submissions with it — all in one transaction, so a submission is in at most one
     * batch. Fails with NotFound ("nothing to export") and writes nothing when no row qualifies.
     */
    static QFuture<Expected<ExportBatch>> create(SubmissionStore &store, const BatchRequest &request);

    /**
     * Records that the batch's files were written to @p folder with these checksums: state
     * "created" becomes "written" (a later state is kept) and an audit row names the folder.
     * NotFound for an unknown batch.
     */
    static QFuture<Expected<Done>> recordWritten(SubmissionStore &store, const QString &batchId,
                                                 const QJsonObject &checksums, const QString &folder,
                                                 const QString &actor);
};

} // namespace SiteRelay
