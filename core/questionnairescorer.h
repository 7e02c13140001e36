#pragma once

#include "expected.h"
#include "questionnaire.h"

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QString>

namespace SiteRelay {

/// An alert rule that an answer set triggered, copied from the rule so it stands alone as data.
struct TriggeredAlert
{
    QString ruleId;
    QString severity;
    QString message;
    QString itemId;
    int value = 0; ///< the answer that triggered the rule
};

/// The outcome of scoring one answer set against one questionnaire version.
struct ScoreResult
{
    QString questionnaireId;
    QString questionnaireVersion; ///< scores are only comparable within one definition version
    int total = 0;
    int maxTotal = 0;
    QString bandId;
    QString bandLabel;
    QList<TriggeredAlert> alerts; ///< in the definition's rule order; empty when none fired
    QMap<QString, int> values;    ///< every answered item (scored or not) → its value

    /**
     * The result as stored: {"questionnaireId", "questionnaireVersion", "total", "maxTotal",
     * "band": {"id", "label"}, "alerts": [{"ruleId", "severity", "message", "itemId", "value"}],
     * "values": {itemId: value}}.
     */
    QJsonObject toJson() const;
};

/**
 * Validates and scores a patient's answers to a Questionnaire.
 *
 * Answers are a JSON object {itemId: integer option value}, e.g. {"phq9_q1": 2, ...}; optional
 * items may be left out, required ones may not. Stateless and pure: safe from any thread.
 * The questionnaire must come from Questionnaire::fromJson(), whose checks the scorer relies on.
 */
class QuestionnaireScorer
{
public:
    /**
     * Checks @p answers against @p q. Fails with ErrorCode::InvalidArgument on the first problem,
     * with field "answers.<itemId>" and a readable message: an unknown item, a value that is not
     * an integer (a string such as "2", 1.5, null, true, ...), a value that is not one of the
     * item's options, or an unanswered required item. Field "answers" when the object is empty.
     * Answer keys are checked in key order, then required items in definition order, so the
     * same input always reports the same problem.
     */
    static Expected<Done> validate(const Questionnaire &q, const QJsonObject &answers);

    /**
     * Validates (failing exactly as validate() does), then sums the scored items, finds the
     * band and evaluates every alert rule. Fails with ErrorCode::Internal only if @p q was not
     * validated and its bands do not cover the total.
     */
    static Expected<ScoreResult> score(const Questionnaire &q, const QJsonObject &answers);
};

} // namespace SiteRelay
