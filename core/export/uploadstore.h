#pragma once

#include "expected.h"
#include "exportbatch.h"

#include <QFuture>

namespace SiteRelay {

class SubmissionStore;

/**
 * Writes the upload state of export batches (batch_uploads, upload_parts; migration 005) through
 * SubmissionStore's writer thread, each change with its audit row (entity "batch") in the same
 * transaction. Callable from any thread; the futures resolve after COMMIT. Details never hold the
 * token.
 */
class UploadStore
{
public:
    /// Records a new plan (replacing a previous one none of whose parts was confirmed).
    static QFuture<Expected<Done>> savePlan(SubmissionStore &store, const UploadPlan &plan, const QString &actor);

    /// Changes batch_uploads.state (e.g. planned → uploading, → failed with @p error in full).
    static QFuture<Expected<Done>> setState(SubmissionStore &store, const QString &batchId, const QString &state,
                                            const QString &error, const QString &actor, const QString &detail);

    /// One attempt at a part is about to be sent: counts it and audits it (before sending, so an
    /// attempt cut short by a kill is in the trail too).
    static QFuture<Expected<Done>> recordSending(SubmissionStore &store, const QString &batchId, int partNo,
                                                 const QString &actor, const QString &detail);

    /// The outcome of an attempt: @p partState "confirmed", "pending" (transient, will retry) or
    /// "failed" (permanent); @p error in full for the part (the audit row gets a shortened copy).
    static QFuture<Expected<Done>> recordOutcome(SubmissionStore &store, const QString &batchId, int partNo,
                                                 const QString &partState, const QString &error, const QString &actor,
                                                 const QString &detail);

    /// Every part is confirmed: the upload becomes "confirmed" and the batch "uploaded".
    static QFuture<Expected<Done>> markUploaded(SubmissionStore &store, const QString &batchId, const QString &actor,
                                                const QString &detail);
};

} // namespace SiteRelay
