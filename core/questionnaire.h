#pragma once

#include "expected.h"

#include <QJsonObject>
#include <QList>
#include <QString>

namespace SiteRelay {

/// One answer a patient may pick, e.g. {0, "Not at all"}. The value is what is stored and scored.
struct ResponseOption
{
    int value = 0;
    QString label;
};

/// One question of a questionnaire.
struct QuestionnaireItem
{
    QString id;   ///< unique within the questionnaire; the key of its answer ("phq9_q9")
    QString text; ///< the published wording, shown to the patient verbatim
    bool required = true;
    bool scored = true; ///< counts towards the total; a scored item is always required
    QList<ResponseOption> options;

    /// The option with @p value, or nullptr when the item has none.
    const ResponseOption *option(int value) const;
};

/// A named range of totals, e.g. "moderate" 10–14. Bounds are inclusive.
struct ScoreBand
{
    QString id;
    QString label;
    int min = 0;
    int max = 0;
};

/// How answers become a total and which band that total falls in.
struct QuestionnaireScoring
{
    QString method = QStringLiteral("sum"); ///< only "sum" (of the scored items' values) exists
    int min = 0;                            ///< lowest possible total
    int max = 0;                            ///< highest possible total
    QList<ScoreBand> bands;                 ///< cover min..max exactly, without gaps or overlaps

    /// The band containing @p total, or nullptr when none does.
    const ScoreBand *bandFor(int total) const;
};

/// A safety rule on one item's answer, e.g. PHQ-9 item 9 > 0 → critical alert.
struct AlertRule
{
    enum class Operator { Greater, GreaterOrEqual };

    QString id;
    QString itemId;
    Operator op = Operator::Greater;
    int value = 0;
    QString severity; ///< "critical", "warning" or "info"
    QString message;  ///< what the site coordinator must do

    /// Whether an answer of @p answer to itemId triggers this rule.
    bool firesFor(int answer) const;
};

/**
 * An ePRO questionnaire definition (PHQ-9, GAD-7, ...): the item wording and response options a
 * tablet renders, and the scoring and alert rules SiteRelay applies to the answers.
 *
 * JSON form (exactly these keys; anything else is rejected so that a typo cannot silently change
 * scoring):
 * ```
 * { "id", "version", "title", "shortTitle", "instructions", "copyright",
 *   "items":   [{ "id", "text", "required", "scored", "options": [{ "value", "label" }] }],
 *   "scoring": { "method": "sum", "min", "max", "bands": [{ "id", "label", "min", "max" }] },
 *   "alerts":  [{ "id", "itemId", "operator": ">" | ">=", "value", "severity", "message" }] }
 * ```
 *
 * A plain value: copyable, and safe to read from any number of threads once built. Only
 * fromJson() establishes the invariants the scorer relies on; a hand-built instance is unchecked.
 */
struct Questionnaire
{
    QString id;      ///< lower-case identifier used in URLs and submissions ("phq9")
    QString version; ///< "MAJOR.MINOR" of this definition; stored with every score
    QString title;
    QString shortTitle;
    QString instructions; ///< the preamble shown above the items
    QString copyright;    ///< copyright or licence note shown with the questionnaire
    QList<QuestionnaireItem> items;
    QuestionnaireScoring scoring;
    QList<AlertRule> alerts;

    /// The item with @p itemId, or nullptr.
    const QuestionnaireItem *item(const QString &itemId) const;

    /// The full definition in the JSON form above; fromJson(toJson()) reproduces it.
    QJsonObject toJson() const;

    /**
     * Parses and strictly validates a definition. Fails with InvalidArgument whose field is the
     * JSON path at fault (e.g. "items[3].options[1].value", "scoring.bands[2]") and whose message
     * starts with that path and says what is wrong: a missing, mistyped, empty or unknown key;
     * a malformed id or version; duplicate item, option value, option label, band or alert ids;
     * a scored item that is optional; scoring.min/max not matching what the scored items can
     * add up to; bands that leave a gap, overlap or reach outside min..max; an alert on an
     * unknown item, with an unknown operator or severity, or one that no option can trigger.
     */
    static Expected<Questionnaire> fromJson(const QJsonObject &object);
};

} // namespace SiteRelay
