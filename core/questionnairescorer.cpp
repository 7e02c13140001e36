#include "questionnairescorer.h"

#include "jsonvalues.h"

#include <QJsonArray>
#include <QJsonValue>
#include <QLocale>
#include <QStringList>

#include <cmath>
#include <limits>
#include <optional>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

namespace {

QString optionList(const QuestionnaireItem &item)
{
    QStringList values;
    for (const ResponseOption &option : item.options)
        values.append(QString::number(option.value));
    return values.join(u", "_s);
}

} // namespace

QJsonObject ScoreResult::toJson() const
{
    QJsonArray alertArray;
    for (const TriggeredAlert &alert : alerts)
        alertArray.append(QJsonObject{{u"ruleId"_s, alert.ruleId},
                                      {u"severity"_s, alert.severity},
                                      {u"message"_s, alert.message},
                                      {u"itemId"_s, alert.itemId},
                                      {u"value"_s, alert.value}});
    QJsonObject valueObject;
    for (auto it = values.begin(); it != values.end(); ++it)
        valueObject.insert(it.key(), it.value());
    return QJsonObject{
        {u"questionnaireId"_s, questionnaireId},
        {u"questionnaireVersion"_s, questionnaireVersion},
        {u"total"_s, total},
        {u"maxTotal"_s, maxTotal},
        {u"band"_s, QJsonObject{{u"id"_s, bandId}, {u"label"_s, bandLabel}}},
        {u"alerts"_s, alertArray},
        {u"values"_s, valueObject},
    };
}

Expected<Done> QuestionnaireScorer::validate(const Questionnaire &q, const QJsonObject &answers)
{
    if (answers.isEmpty())
        return Error::invalid(u"answers"_s, u"no answers given for questionnaire '"_s + q.id + u"'"_s);

    for (auto it = answers.begin(); it != answers.end(); ++it) {
        const QString field = u"answers."_s + JsonValues::elided(it.key());
        const QuestionnaireItem *item = q.item(it.key());
        if (!item)
            return Error::invalid(field, u"unknown item '"_s + JsonValues::elided(it.key()) + u"': questionnaire '"_s +
                                             q.id + u"' has no such item"_s);
        const std::optional<int> value = JsonValues::exactInt(it.value());
        if (!value)
            return Error::invalid(field, u"the answer to '"_s + item->id + u"' must be an integer ("_s +
                                             optionList(*item) + u"), not "_s + JsonValues::describe(it.value(), true));
        if (!item->option(*value))
            return Error::invalid(field, QString::number(*value) + u" is not an option of item '"_s + item->id +
                                             u"' (allowed: "_s + optionList(*item) + u")"_s);
    }
    for (const QuestionnaireItem &item : q.items) {
        if (item.required && !answers.contains(item.id))
            return Error::invalid(u"answers."_s + item.id, u"required item '"_s + item.id + u"' is not answered"_s);
    }
    return Done{};
}

Expected<ScoreResult> QuestionnaireScorer::score(const Questionnaire &q, const QJsonObject &answers)
{
    if (const Expected<Done> valid = validate(q, answers); !valid)
        return valid.error();

    ScoreResult result;
    result.questionnaireId = q.id;
    result.questionnaireVersion = q.version;
    result.maxTotal = q.scoring.max;
    // validate() guarantees every key is a known item with an integer option value.
    for (auto it = answers.begin(); it != answers.end(); ++it)
        result.values.insert(it.key(), it.value().toInt());
    for (const QuestionnaireItem &item : q.items) {
        if (item.scored)
            result.total += result.values.value(item.id);
    }

    const ScoreBand *band = q.scoring.bandFor(result.total);
    if (!band)
        return Error{ErrorCode::Internal,
                     u"questionnaire '"_s + q.id + u"' has no band for total "_s + QString::number(result.total),
                     QString()};
    result.bandId = band->id;
    result.bandLabel = band->label;

    for (const AlertRule &rule : q.alerts) {
        const auto answer = result.values.constFind(rule.itemId);
        if (answer != result.values.constEnd() && rule.firesFor(*answer))
            result.alerts.append({rule.id, rule.severity, rule.message, rule.itemId, *answer});
    }
    return result;
}

} // namespace SiteRelay
