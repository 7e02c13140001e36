#include "reviewservice.h"

#include "auditlog.h"
#include "database.h"
#include "submissionstore.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

/// Checks who acts and their note; the same rules for the API and the dashboard.
std::optional<Error> checkPerson(const QString &by, const QString &note)
{
    if (by.trimmed().isEmpty())
        return Error::invalid(u"by"_s, u"the coordinator's name is required (by)"_s, u"missing_field"_s);
    if (by.trimmed().size() > ReviewService::MaxNameLength)
        return Error::invalid(
            u"by"_s, u"the coordinator's name is longer than %1 characters"_s.arg(ReviewService::MaxNameLength),
            u"invalid_field"_s);
    if (note.trimmed().size() > ReviewService::MaxNoteLength)
        return Error::invalid(u"note"_s, u"the note is longer than %1 characters"_s.arg(ReviewService::MaxNoteLength),
                              u"invalid_field"_s);
    return std::nullopt;
}

template <typename T>
QFuture<Expected<T>> failedFuture(const Error &error)
{
    return QtFuture::makeReadyFuture(Expected<T>(error));
}

QString auditDetail(const QString &prefix, const QString &by, const QString &note)
{
    QString detail = prefix + u"by "_s + by;
    if (!note.isEmpty())
        detail += u"; note: "_s + note;
    return detail;
}

Expected<QJsonObject> parseObject(const QByteArray &body, const QStringList &fields)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return Error::invalid(QString(), u"invalid JSON: %1"_s.arg(parseError.errorString()), u"malformed_json"_s);
    if (!document.isObject())
        return Error::invalid(QString(), u"the body must be a JSON object"_s, u"not_an_object"_s);
    const QJsonObject object = document.object();
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!fields.contains(it.key()))
            return Error::invalid(it.key(),
                                  u"unknown field \"%1\"; the fields are %2"_s.arg(it.key(), fields.join(u", "_s)),
                                  u"unknown_field"_s);
    }
    for (const QString &field : fields) {
        const QJsonValue value = object.value(field);
        if (!value.isUndefined() && !value.isNull() && !value.isString())
            return Error::invalid(field, u"%1 must be a string"_s.arg(field), u"invalid_field"_s);
    }
    return object;
}

} // namespace

QString toString(ReviewDecision decision)
{
    switch (decision) {
    case ReviewDecision::Reviewed:
        return u"reviewed"_s;
    case ReviewDecision::Rejected:
        return u"rejected"_s;
    case ReviewDecision::None:
        break;
    }
    return u"none"_s;
}

std::optional<ReviewDecision> reviewDecisionFromString(QStringView text)
{
    if (text == u"none")
        return ReviewDecision::None;
    if (text == u"reviewed")
        return ReviewDecision::Reviewed;
    if (text == u"rejected")
        return ReviewDecision::Rejected;
    return std::nullopt;
}

QJsonObject ReviewOutcome::toJson() const
{
    const auto orNull = [](const QString &text) { return text.isEmpty() ? QJsonValue() : QJsonValue(text); };
    return QJsonObject{{u"submissionId"_s, submissionId},
                       {u"reviewState"_s, toString(decision)},
                       {u"previousReviewState"_s, toString(previous)},
                       {u"reviewedAt"_s, orNull(reviewedAt)},
                       {u"reviewedBy"_s, orNull(reviewedBy)},
                       {u"reviewNote"_s, orNull(note)}};
}

ReviewService::ReviewService(SubmissionStore &store)
    : m_store(store)
{}

QFuture<Expected<AlertRecord>> ReviewService::acknowledgeAlert(qint64 alertId, const QString &by, const QString &note,
                                                               const QString &actor)
{
    if (auto invalid = checkPerson(by, note))
        return failedFuture<AlertRecord>(*invalid);
    const QString now = toIsoUtc(m_store.clock().nowUtc());
    const QString name = by.trimmed();
    const QString text = note.trimmed();
    return m_store.submit<AlertRecord>([alertId, name, text, actor, now](QSqlDatabase &db) -> Expected<AlertRecord> {
        auto alert = AlertReader::readAlert(db, alertId);
        if (!alert)
            return alert.error();
        if (alert->isAcknowledged())
            return Error{ErrorCode::Conflict,
                         u"alert %1 was already acknowledged by %2 at %3"_s.arg(alertId).arg(alert->acknowledgedBy,
                                                                                             alert->acknowledgedAt),
                         QString(), u"already_acknowledged"_s};
        QSqlQuery update(db);
        update.prepare(u"UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?, acknowledge_note = ? "
                       u"WHERE id = ? AND acknowledged_at IS NULL"_s);
        update.addBindValue(now);
        update.addBindValue(name);
        update.addBindValue(Database::nullIfEmpty(text));
        update.addBindValue(alertId);
        if (!update.exec())
            return Database::storageError(u"acknowledging an alert"_s, update.lastError());
        // entity_id is the submission, as for "alert_raised": one submission's trail shows both.
        if (auto audited = AuditLog::append(
                db, {now, actor, u"alert"_s, alert->submissionId, u"alert_acknowledged"_s, u"unacknowledged"_s,
                     u"acknowledged"_s, auditDetail(u"alert %1 (%2); "_s.arg(alertId).arg(alert->ruleId), name, text)});
            !audited)
            return audited.error();
        alert->acknowledgedAt = now;
        alert->acknowledgedBy = name;
        alert->acknowledgeNote = text;
        return alert;
    });
}

QFuture<Expected<ReviewOutcome>> ReviewService::review(const QString &submissionId, ReviewDecision decision,
                                                       const QString &by, const QString &note, const QString &actor)
{
    if (auto invalid = checkPerson(by, note))
        return failedFuture<ReviewOutcome>(*invalid);
    const QString now = toIsoUtc(m_store.clock().nowUtc());
    const QString name = by.trimmed();
    const QString text = note.trimmed();
    return m_store.submit<ReviewOutcome>([submissionId, decision, name, text, actor,
                                          now](QSqlDatabase &db) -> Expected<ReviewOutcome> {
        QSqlQuery select(db);
        select.setForwardOnly(true);
        select.prepare(u"SELECT state, review_state, reviewed_by, reviewed_at, export_batch_id FROM submissions "
                       u"WHERE submission_id = ?"_s);
        select.addBindValue(submissionId);
        if (!select.exec())
            return Database::storageError(u"reading a submission"_s, select.lastError());
        if (!select.next())
            return Error{ErrorCode::NotFound, u"there is no submission %1"_s.arg(submissionId), QString(),
                         u"not_found"_s};
        const QString state = select.value(0).toString();
        const ReviewDecision previous =
            reviewDecisionFromString(select.value(1).toString()).value_or(ReviewDecision::None);
        const QString previousBy = select.value(2).toString();
        const QString previousAt = select.value(3).toString();
        const QString exportBatch = select.value(4).toString();
        select.finish();

        if (previous == decision) {
            return Error{ErrorCode::Conflict,
                         decision == ReviewDecision::None
                             ? u"submission %1 has no review decision to undo"_s.arg(submissionId)
                             : u"submission %1 is already %2 (by %3 at %4)"_s.arg(submissionId, toString(decision),
                                                                                  previousBy, previousAt),
                         QString(), u"review_unchanged"_s};
        }
        // A review confirms a result; a submission that has none yet has nothing to review.
        if (decision == ReviewDecision::Reviewed && state != "processed"_L1)
            return Error{
                ErrorCode::Conflict,
                u"submission %1 is %2; only processed submissions can be marked reviewed"_s.arg(submissionId, state),
                QString(), u"invalid_state"_s};
        // Rejection keeps a submission out of export; one already exported cannot be called back.
        if (decision == ReviewDecision::Rejected && !exportBatch.isEmpty())
            return Error{ErrorCode::Conflict,
                         u"submission %1 was already exported in batch %2; rejecting it now would not recall it"_s.arg(
                             submissionId, exportBatch),
                         QString(), u"already_exported"_s};

        QSqlQuery update(db);
        update.prepare(u"UPDATE submissions SET review_state = ?, reviewed_at = ?, reviewed_by = ?, review_note = ?, "
                       u"updated_at = ? WHERE submission_id = ?"_s);
        const bool clearing = decision == ReviewDecision::None;
        update.addBindValue(clearing ? QVariant(QMetaType(QMetaType::QString)) : QVariant(toString(decision)));
        update.addBindValue(Database::nullIfEmpty(clearing ? QString() : now));
        update.addBindValue(Database::nullIfEmpty(clearing ? QString() : name));
        update.addBindValue(Database::nullIfEmpty(clearing ? QString() : text));
        update.addBindValue(now);
        update.addBindValue(submissionId);
        if (!update.exec())
            return Database::storageError(u"recording a review decision"_s, update.lastError());

        const QString action = clearing ? u"review_undone"_s : toString(decision);
        const auto stateName = [](ReviewDecision value) {
            return value == ReviewDecision::None ? QString() : toString(value);
        };
        if (auto audited = AuditLog::append(db, {now, actor, u"submission"_s, submissionId, action, stateName(previous),
                                                 stateName(decision), auditDetail(QString(), name, text)});
            !audited)
            return audited.error();

        ReviewOutcome outcome;
        outcome.submissionId = submissionId;
        outcome.decision = decision;
        outcome.previous = previous;
        if (!clearing) {
            outcome.reviewedAt = now;
            outcome.reviewedBy = name;
            outcome.note = text;
        }
        return outcome;
    });
}

Expected<AcknowledgeRequest> ReviewService::parseAcknowledgeRequest(const QByteArray &body)
{
    auto object = parseObject(body, {u"by"_s, u"note"_s});
    if (!object)
        return object.error();
    AcknowledgeRequest request{object->value("by"_L1).toString(), object->value("note"_L1).toString()};
    if (auto invalid = checkPerson(request.by, request.note))
        return *invalid;
    return request;
}

Expected<ReviewRequest> ReviewService::parseReviewRequest(const QByteArray &body)
{
    auto object = parseObject(body, {u"decision"_s, u"by"_s, u"note"_s});
    if (!object)
        return object.error();
    const QJsonValue decisionValue = object->value("decision"_L1);
    if (decisionValue.isUndefined() || decisionValue.isNull())
        return Error::invalid(u"decision"_s, u"decision is required: \"reviewed\", \"rejected\" or \"none\""_s,
                              u"missing_field"_s);
    const auto decision = reviewDecisionFromString(decisionValue.toString());
    if (!decision)
        return Error::invalid(u"decision"_s, u"decision must be \"reviewed\", \"rejected\" or \"none\""_s,
                              u"invalid_field"_s);
    ReviewRequest request{*decision, object->value("by"_L1).toString(), object->value("note"_L1).toString()};
    if (auto invalid = checkPerson(request.by, request.note))
        return *invalid;
    return request;
}

} // namespace SiteRelay
