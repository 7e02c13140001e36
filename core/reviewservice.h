#pragma once

#include "alertreader.h"
#include "expected.h"

#include <QByteArray>
#include <QFuture>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace SiteRelay {

class SubmissionStore;

/// A coordinator's decision on a submission (submissions.review_state). None undoes a decision.
enum class ReviewDecision { None, Reviewed, Rejected };

/// "none", "reviewed", "rejected".
QString toString(ReviewDecision decision);
std::optional<ReviewDecision> reviewDecisionFromString(QStringView text);

/// A review decision as stored.
struct ReviewOutcome
{
    QString submissionId;
    ReviewDecision decision = ReviewDecision::None;
    ReviewDecision previous = ReviewDecision::None;
    QString reviewedAt; ///< empty after an undo
    QString reviewedBy;
    QString note;

    /// {"submissionId", "reviewState", "previousReviewState", "reviewedAt", "reviewedBy", "reviewNote"}
    /// with null for what an undo cleared: what POST /api/v1/submissions/{id}/review answers.
    QJsonObject toJson() const;
};

/// The body of POST /api/v1/alerts/{id}/acknowledge.
struct AcknowledgeRequest
{
    QString by;
    QString note;
};

/// The body of POST /api/v1/submissions/{id}/review.
struct ReviewRequest
{
    ReviewDecision decision = ReviewDecision::None;
    QString by;
    QString note;
};

/**
 * A coordinator's acts on safety alerts and submissions: acknowledging an alert, marking a
 * submission reviewed or rejected (rejected ones are left out of export), and undoing a decision.
 * Each write goes through the store's writer thread and commits together with its audit row; the
 * future resolves after COMMIT. The API and the dashboard call the same functions.
 *
 * Errors: a blank or too long name → InvalidArgument (field "by"), a too long note →
 * InvalidArgument (field "note"); an unknown id → NotFound; an alert already acknowledged, a
 * decision that is already the current one, marking reviewed a submission that is not processed,
 * or rejecting one already exported → Conflict; StorageUnavailable when the commit fails.
 *
 * Thread-safe: call from any thread; attach continuations with a context object.
 */
class ReviewService
{
public:
    static constexpr int MaxNameLength = 128;
    static constexpr int MaxNoteLength = 2000;

    explicit ReviewService(SubmissionStore &store);

    /**
     * Marks an alert acknowledged by @p by (a person's name, required) with an optional @p note.
     * @p actor is who made the call in the audit trail ("coordinator:2" over the API, "dashboard").
     * Resolves to the alert as now stored.
     */
    QFuture<Expected<AlertRecord>> acknowledgeAlert(qint64 alertId, const QString &by, const QString &note,
                                                    const QString &actor);

    /// Sets (or with ReviewDecision::None clears) the review decision of a submission.
    QFuture<Expected<ReviewOutcome>> review(const QString &submissionId, ReviewDecision decision, const QString &by,
                                            const QString &note, const QString &actor);

    /// Parses and checks a JSON body {"by": "...", "note": "..."?}; InvalidArgument with the field at fault.
    static Expected<AcknowledgeRequest> parseAcknowledgeRequest(const QByteArray &body);
    /// Parses and checks {"decision": "reviewed"|"rejected"|"none", "by": "...", "note": "..."?}.
    static Expected<ReviewRequest> parseReviewRequest(const QByteArray &body);

private:
    SubmissionStore &m_store;
};

} // namespace SiteRelay
