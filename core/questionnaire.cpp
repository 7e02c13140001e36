#include "questionnaire.h"

#include "jsonvalues.h"

#include <QJsonArray>
#include <QJsonValue>
#include <QLocale>
#include <QSet>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

namespace {

const QLatin1String kOperatorGreater = ">"_L1;
const QLatin1String kOperatorGreaterOrEqual = ">="_L1;

// Ids end up in URLs, file names and error fields such as "answers.phq9_q9"; a dot, space or
// upper-case letter there would make those ambiguous, so ids are kept to one simple alphabet.
bool isIdentifier(const QString &text)
{
    if (text.isEmpty() || text.size() > 64)
        return false;
    const auto isLower = [](char16_t c) { return c >= u'a' && c <= u'z'; };
    if (!isLower(text.front().unicode()))
        return false;
    return std::all_of(text.begin(), text.end(), [&](QChar c) {
        return isLower(c.unicode()) || (c.unicode() >= u'0' && c.unicode() <= u'9') || c.unicode() == u'_';
    });
}

// "MAJOR.MINOR": stored with every score, so it has to be comparable, not free text.
bool isVersion(const QString &text)
{
    const QStringList parts = text.split(u'.');
    if (parts.size() != 2)
        return false;
    return std::all_of(parts.begin(), parts.end(), [](const QString &part) {
        return !part.isEmpty() && part.size() <= 6 &&
               std::all_of(part.begin(), part.end(), [](QChar c) { return c.isDigit() && c.unicode() < 0x80; });
    });
}

QString operatorText(AlertRule::Operator op)
{
    return op == AlertRule::Operator::Greater ? QString(kOperatorGreater) : QString(kOperatorGreaterOrEqual);
}

/**
 * Reads typed values out of one JSON object and records the first problem with its JSON path.
 * Later reads after a failure return defaults and change nothing, so the parser below can read a
 * whole object and check once, instead of testing every single key.
 */
class DefinitionReader
{
public:
    DefinitionReader(const QJsonObject &object, QString path, std::optional<Error> &error)
        : m_object(object)
        , m_path(std::move(path))
        , m_error(error)
    {}

    QString pathOf(QLatin1String key) const { return m_path.isEmpty() ? QString(key) : QString(m_path + u'.' + key); }
    const QString &path() const { return m_path; }

    void fail(const QString &path, const QString &problem) const
    {
        if (!m_error)
            m_error = Error::invalid(path, path + u": "_s + problem);
    }

    /// Rejects keys outside @p allowed: a misspelt key would otherwise be ignored silently.
    void allowOnly(std::initializer_list<QLatin1String> allowed) const
    {
        for (auto it = m_object.begin(); it != m_object.end(); ++it) {
            const QString key = it.key();
            if (std::none_of(allowed.begin(), allowed.end(), [&](QLatin1String a) { return key == a; })) {
                fail(m_path.isEmpty() ? key : QString(m_path + u'.' + key), u"unknown key"_s);
                return;
            }
        }
    }

    QJsonValue require(QLatin1String key) const
    {
        const QJsonValue value = m_object.value(key);
        if (value.isUndefined())
            fail(pathOf(key), u"is missing"_s);
        return value;
    }

    QString text(QLatin1String key) const
    {
        const QJsonValue value = require(key);
        if (value.isUndefined())
            return {};
        if (!value.isString()) {
            fail(pathOf(key), u"must be a string, not "_s + JsonValues::describe(value, false));
            return {};
        }
        const QString result = value.toString();
        if (result.trimmed().isEmpty())
            fail(pathOf(key), u"must not be empty"_s);
        return result;
    }

    QString identifier(QLatin1String key) const
    {
        const QString result = text(key);
        if (!result.trimmed().isEmpty() && !isIdentifier(result))
            fail(pathOf(key),
                 u"'"_s + result + u"' is not a valid id (lower-case letter, then a-z, 0-9 or _; at most 64)"_s);
        return result;
    }

    int integer(QLatin1String key) const
    {
        const QJsonValue value = require(key);
        if (value.isUndefined())
            return 0;
        const std::optional<int> result = JsonValues::exactInt(value);
        if (!result)
            fail(pathOf(key), u"must be an integer, not "_s + JsonValues::describe(value, false));
        return result.value_or(0);
    }

    bool boolean(QLatin1String key) const
    {
        const QJsonValue value = require(key);
        if (value.isUndefined())
            return false;
        if (!value.isBool())
            fail(pathOf(key), u"must be true or false, not "_s + JsonValues::describe(value, false));
        return value.toBool();
    }

    QJsonObject object(QLatin1String key) const
    {
        const QJsonValue value = require(key);
        if (!value.isUndefined() && !value.isObject())
            fail(pathOf(key), u"must be an object, not "_s + JsonValues::describe(value, false));
        return value.toObject();
    }

    /// The array at @p key whose elements must all be objects.
    QList<QJsonObject> objects(QLatin1String key, bool mayBeEmpty) const
    {
        const QJsonValue value = require(key);
        if (value.isUndefined())
            return {};
        if (!value.isArray()) {
            fail(pathOf(key), u"must be an array, not "_s + JsonValues::describe(value, false));
            return {};
        }
        const QJsonArray array = value.toArray();
        if (array.isEmpty() && !mayBeEmpty)
            fail(pathOf(key), u"must not be empty"_s);
        QList<QJsonObject> result;
        for (qsizetype i = 0; i < array.size(); ++i) {
            if (!array.at(i).isObject()) {
                fail(elementPath(key, i), u"must be an object, not "_s + JsonValues::describe(array.at(i), false));
                return {};
            }
            result.append(array.at(i).toObject());
        }
        return result;
    }

    QString elementPath(QLatin1String key, qsizetype index) const
    {
        return pathOf(key) + u'[' + QString::number(index) + u']';
    }

private:
    const QJsonObject &m_object;
    QString m_path;
    std::optional<Error> &m_error;
};

ResponseOption parseOption(const DefinitionReader &reader)
{
    reader.allowOnly({"value"_L1, "label"_L1});
    return {reader.integer("value"_L1), reader.text("label"_L1)};
}

QuestionnaireItem parseItem(const DefinitionReader &reader, std::optional<Error> &error)
{
    reader.allowOnly({"id"_L1, "text"_L1, "required"_L1, "scored"_L1, "options"_L1});
    QuestionnaireItem item;
    item.id = reader.identifier("id"_L1);
    item.text = reader.text("text"_L1);
    item.required = reader.boolean("required"_L1);
    item.scored = reader.boolean("scored"_L1);
    // An unanswered scored item would make the total incomparable with the published bands.
    if (item.scored && !item.required)
        reader.fail(reader.pathOf("required"_L1), u"a scored item must be required"_s);

    const QList<QJsonObject> options = reader.objects("options"_L1, false);
    QSet<int> values;
    QSet<QString> labels;
    for (qsizetype i = 0; i < options.size(); ++i) {
        const QString path = reader.elementPath("options"_L1, i);
        const DefinitionReader optionReader(options.at(i), path, error);
        const ResponseOption option = parseOption(optionReader);
        if (error)
            break;
        if (values.contains(option.value))
            optionReader.fail(optionReader.pathOf("value"_L1),
                              u"duplicate option value "_s + QString::number(option.value));
        if (labels.contains(option.label))
            optionReader.fail(optionReader.pathOf("label"_L1), u"duplicate option label '"_s + option.label + u"'"_s);
        values.insert(option.value);
        labels.insert(option.label);
        item.options.append(option);
    }
    return item;
}

void parseBands(const DefinitionReader &reader, QuestionnaireScoring &scoring, std::optional<Error> &error)
{
    const QList<QJsonObject> bands = reader.objects("bands"_L1, false);
    QSet<QString> ids;
    for (qsizetype i = 0; i < bands.size() && !error; ++i) {
        const DefinitionReader bandReader(bands.at(i), reader.elementPath("bands"_L1, i), error);
        bandReader.allowOnly({"id"_L1, "label"_L1, "min"_L1, "max"_L1});
        ScoreBand band{bandReader.identifier("id"_L1), bandReader.text("label"_L1), bandReader.integer("min"_L1),
                       bandReader.integer("max"_L1)};
        if (error)
            break;
        if (ids.contains(band.id))
            bandReader.fail(bandReader.pathOf("id"_L1), u"duplicate band id '"_s + band.id + u"'"_s);
        if (band.min > band.max)
            bandReader.fail(bandReader.path(),
                            u"min "_s + QString::number(band.min) + u" is above max "_s + QString::number(band.max));
        ids.insert(band.id);
        scoring.bands.append(band);
    }
    if (error)
        return;

    // Every possible total must land in exactly one band. Bands are checked in score order (the
    // file may list them in any order) so the message can name the neighbours at fault.
    QList<qsizetype> order(scoring.bands.size());
    for (qsizetype i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](qsizetype a, qsizetype b) { return scoring.bands.at(a).min < scoring.bands.at(b).min; });
    const auto range = [](qint64 from, qint64 to) {
        return from == to ? QString::number(from) : QString(QString::number(from) + u".."_s + QString::number(to));
    };
    // 64-bit so that a band ending at INT_MAX cannot overflow the next start.
    qint64 nextUncovered = scoring.min;
    for (qsizetype k = 0; k < order.size(); ++k) {
        const ScoreBand &band = scoring.bands.at(order.at(k));
        const QString path = reader.elementPath("bands"_L1, order.at(k));
        if (band.min < scoring.min || band.max > scoring.max) {
            reader.fail(path, u"band '"_s + band.id + u"' ("_s + range(band.min, band.max) +
                                  u") reaches outside the possible totals "_s + range(scoring.min, scoring.max));
            return;
        }
        if (band.min > nextUncovered) {
            reader.fail(path, u"gap before band '"_s + band.id + u"': no band covers totals "_s +
                                  range(nextUncovered, band.min - 1));
            return;
        }
        if (band.min < nextUncovered) {
            const ScoreBand &previous = scoring.bands.at(order.at(k - 1));
            reader.fail(path, u"band '"_s + band.id + u"' overlaps band '"_s + previous.id + u"' at totals "_s +
                                  range(band.min, std::min<qint64>(band.max, nextUncovered - 1)));
            return;
        }
        nextUncovered = qint64(band.max) + 1;
    }
    if (nextUncovered <= scoring.max)
        reader.fail(reader.pathOf("bands"_L1), u"no band covers totals "_s + range(nextUncovered, scoring.max));
}

QuestionnaireScoring parseScoring(const DefinitionReader &reader, const QList<QuestionnaireItem> &items,
                                  std::optional<Error> &error)
{
    reader.allowOnly({"method"_L1, "min"_L1, "max"_L1, "bands"_L1});
    QuestionnaireScoring scoring;
    scoring.method = reader.text("method"_L1);
    if (!error && scoring.method != u"sum"_s)
        reader.fail(reader.pathOf("method"_L1), u"unknown method '"_s + scoring.method + u"' (only \"sum\" exists)"_s);
    scoring.min = reader.integer("min"_L1);
    scoring.max = reader.integer("max"_L1);
    if (error)
        return scoring;

    // The declared range is what a reader of the definition trusts; it must be what the scored
    // items can actually add up to, or bands would be checked against the wrong range.
    qint64 lowest = 0;
    qint64 highest = 0;
    int scoredCount = 0;
    for (const QuestionnaireItem &item : items) {
        if (!item.scored)
            continue;
        ++scoredCount;
        const auto [low, high] = std::minmax_element(item.options.begin(), item.options.end(),
                                                     [](const auto &a, const auto &b) { return a.value < b.value; });
        lowest += low->value;
        highest += high->value;
    }
    if (scoredCount == 0) {
        reader.fail(reader.path(), u"no item is scored"_s);
        return scoring;
    }
    if (scoring.min != lowest)
        reader.fail(reader.pathOf("min"_L1), u"is "_s + QString::number(scoring.min) +
                                                 u" but the scored items add up to at least "_s +
                                                 QString::number(lowest));
    if (scoring.max != highest)
        reader.fail(reader.pathOf("max"_L1), u"is "_s + QString::number(scoring.max) +
                                                 u" but the scored items add up to at most "_s +
                                                 QString::number(highest));
    if (!error)
        parseBands(reader, scoring, error);
    return scoring;
}

AlertRule parseAlert(const DefinitionReader &reader, const Questionnaire &questionnaire)
{
    reader.allowOnly({"id"_L1, "itemId"_L1, "operator"_L1, "value"_L1, "severity"_L1, "message"_L1});
    AlertRule rule;
    rule.id = reader.identifier("id"_L1);
    rule.itemId = reader.text("itemId"_L1);
    const QString op = reader.text("operator"_L1);
    rule.value = reader.integer("value"_L1);
    rule.severity = reader.text("severity"_L1);
    rule.message = reader.text("message"_L1);

    if (op == kOperatorGreaterOrEqual)
        rule.op = AlertRule::Operator::GreaterOrEqual;
    else if (op == kOperatorGreater)
        rule.op = AlertRule::Operator::Greater;
    else if (!op.trimmed().isEmpty())
        reader.fail(reader.pathOf("operator"_L1), u"unknown operator '"_s + op + u"' (use \">\" or \">=\")"_s);

    static const QStringList severities{u"critical"_s, u"warning"_s, u"info"_s};
    if (!rule.severity.trimmed().isEmpty() && !severities.contains(rule.severity))
        reader.fail(reader.pathOf("severity"_L1),
                    u"unknown severity '"_s + rule.severity + u"' (use one of "_s + severities.join(u", "_s) + u")"_s);

    const QuestionnaireItem *item = questionnaire.item(rule.itemId);
    if (!item) {
        if (!rule.itemId.trimmed().isEmpty())
            reader.fail(reader.pathOf("itemId"_L1), u"unknown item '"_s + rule.itemId + u"'"_s);
        return rule;
    }
    // A safety rule that no answer can trigger is a definition bug that would stay silent forever.
    if (std::none_of(item->options.begin(), item->options.end(),
                     [&](const ResponseOption &option) { return rule.firesFor(option.value); }))
        reader.fail(reader.path(), u"can never fire: no option of item '"_s + item->id + u"' is "_s +
                                       operatorText(rule.op) + u' ' + QString::number(rule.value));
    return rule;
}

} // namespace

const ResponseOption *QuestionnaireItem::option(int value) const
{
    const auto it =
        std::find_if(options.begin(), options.end(), [value](const ResponseOption &o) { return o.value == value; });
    return it == options.end() ? nullptr : &*it;
}

const ScoreBand *QuestionnaireScoring::bandFor(int total) const
{
    const auto it = std::find_if(bands.begin(), bands.end(),
                                 [total](const ScoreBand &band) { return band.min <= total && total <= band.max; });
    return it == bands.end() ? nullptr : &*it;
}

bool AlertRule::firesFor(int answer) const
{
    return op == Operator::Greater ? answer > value : answer >= value;
}

const QuestionnaireItem *Questionnaire::item(const QString &itemId) const
{
    const auto it =
        std::find_if(items.begin(), items.end(), [&itemId](const QuestionnaireItem &i) { return i.id == itemId; });
    return it == items.end() ? nullptr : &*it;
}

QJsonObject Questionnaire::toJson() const
{
    QJsonArray itemArray;
    for (const QuestionnaireItem &item : items) {
        QJsonArray optionArray;
        for (const ResponseOption &option : item.options)
            optionArray.append(QJsonObject{{u"value"_s, option.value}, {u"label"_s, option.label}});
        itemArray.append(QJsonObject{{u"id"_s, item.id},
                                     {u"text"_s, item.text},
                                     {u"required"_s, item.required},
                                     {u"scored"_s, item.scored},
                                     {u"options"_s, optionArray}});
    }
    QJsonArray bandArray;
    for (const ScoreBand &band : scoring.bands)
        bandArray.append(
            QJsonObject{{u"id"_s, band.id}, {u"label"_s, band.label}, {u"min"_s, band.min}, {u"max"_s, band.max}});
    QJsonArray alertArray;
    for (const AlertRule &rule : alerts)
        alertArray.append(QJsonObject{{u"id"_s, rule.id},
                                      {u"itemId"_s, rule.itemId},
                                      {u"operator"_s, operatorText(rule.op)},
                                      {u"value"_s, rule.value},
                                      {u"severity"_s, rule.severity},
                                      {u"message"_s, rule.message}});
    return QJsonObject{
        {u"id"_s, id},
        {u"version"_s, version},
        {u"title"_s, title},
        {u"shortTitle"_s, shortTitle},
        {u"instructions"_s, instructions},
        {u"copyright"_s, copyright},
        {u"items"_s, itemArray},
        {u"scoring"_s,
         QJsonObject{
             {u"method"_s, scoring.method}, {u"min"_s, scoring.min}, {u"max"_s, scoring.max}, {u"bands"_s, bandArray}}},
        {u"alerts"_s, alertArray},
    };
}

Expected<Questionnaire> Questionnaire::fromJson(const QJsonObject &object)
{
    std::optional<Error> error;
    const DefinitionReader reader(object, QString(), error);
    reader.allowOnly({"id"_L1, "version"_L1, "title"_L1, "shortTitle"_L1, "instructions"_L1, "copyright"_L1, "items"_L1,
                      "scoring"_L1, "alerts"_L1});

    Questionnaire questionnaire;
    questionnaire.id = reader.identifier("id"_L1);
    questionnaire.version = reader.text("version"_L1);
    if (!error && !isVersion(questionnaire.version))
        reader.fail(u"version"_s, u"'"_s + questionnaire.version + u"' is not MAJOR.MINOR, e.g. \"1.0\""_s);
    questionnaire.title = reader.text("title"_L1);
    questionnaire.shortTitle = reader.text("shortTitle"_L1);
    questionnaire.instructions = reader.text("instructions"_L1);
    questionnaire.copyright = reader.text("copyright"_L1);
    if (error)
        return *error;

    const QList<QJsonObject> items = reader.objects("items"_L1, false);
    QSet<QString> itemIds;
    for (qsizetype i = 0; i < items.size() && !error; ++i) {
        const DefinitionReader itemReader(items.at(i), reader.elementPath("items"_L1, i), error);
        QuestionnaireItem item = parseItem(itemReader, error);
        if (!error && itemIds.contains(item.id))
            itemReader.fail(itemReader.pathOf("id"_L1), u"duplicate item id '"_s + item.id + u"'"_s);
        itemIds.insert(item.id);
        questionnaire.items.append(std::move(item));
    }
    if (error)
        return *error;

    const QJsonObject scoring = reader.object("scoring"_L1);
    if (error)
        return *error;
    questionnaire.scoring =
        parseScoring(DefinitionReader(scoring, reader.pathOf("scoring"_L1), error), questionnaire.items, error);
    if (error)
        return *error;

    // Required even when empty, so that "no alerts" is a visible decision in the definition.
    const QList<QJsonObject> alerts = reader.objects("alerts"_L1, true);
    QSet<QString> alertIds;
    for (qsizetype i = 0; i < alerts.size() && !error; ++i) {
        const DefinitionReader alertReader(alerts.at(i), reader.elementPath("alerts"_L1, i), error);
        AlertRule rule = parseAlert(alertReader, questionnaire);
        if (!error && alertIds.contains(rule.id))
            alertReader.fail(alertReader.pathOf("id"_L1), u"duplicate alert id '"_s + rule.id + u"'"_s);
        alertIds.insert(rule.id);
        questionnaire.alerts.append(std::move(rule));
    }
    if (error)
        return *error;
    return questionnaire;
}

} // namespace SiteRelay
