#include "questionnairecatalog.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;

namespace {

QJsonObject option(int value, const QString &label)
{
    return {{u"value"_s, value}, {u"label"_s, label}};
}

/// A small valid definition that each rejection case breaks in exactly one place.
/// Two scored items 0..2 (totals 0..4, bands low 0-1, high 2-4), one optional unscored item.
QJsonObject tinyDefinition()
{
    const QJsonArray scale{option(0, u"Never"_s), option(1, u"Sometimes"_s), option(2, u"Often"_s)};
    return {
        {u"id"_s, u"tiny"_s},
        {u"version"_s, u"1.0"_s},
        {u"title"_s, u"Tiny questionnaire"_s},
        {u"shortTitle"_s, u"Tiny"_s},
        {u"instructions"_s, u"How often?"_s},
        {u"copyright"_s, u"Test data, no rights reserved."_s},
        {u"items"_s,
         QJsonArray{
             QJsonObject{{u"id"_s, u"q1"_s},
                         {u"text"_s, u"First"_s},
                         {u"required"_s, true},
                         {u"scored"_s, true},
                         {u"options"_s, scale}},
             QJsonObject{{u"id"_s, u"q2"_s},
                         {u"text"_s, u"Second"_s},
                         {u"required"_s, true},
                         {u"scored"_s, true},
                         {u"options"_s, scale}},
             QJsonObject{{u"id"_s, u"q3"_s},
                         {u"text"_s, u"Comment"_s},
                         {u"required"_s, false},
                         {u"scored"_s, false},
                         {u"options"_s, QJsonArray{option(0, u"No"_s), option(1, u"Yes"_s)}}},
         }},
        {u"scoring"_s,
         QJsonObject{
             {u"method"_s, u"sum"_s},
             {u"min"_s, 0},
             {u"max"_s, 4},
             {u"bands"_s,
              QJsonArray{QJsonObject{{u"id"_s, u"low"_s}, {u"label"_s, u"Low"_s}, {u"min"_s, 0}, {u"max"_s, 1}},
                         QJsonObject{{u"id"_s, u"high"_s}, {u"label"_s, u"High"_s}, {u"min"_s, 2}, {u"max"_s, 4}}}}}},
        {u"alerts"_s, QJsonArray{QJsonObject{{u"id"_s, u"q1_often"_s},
                                             {u"itemId"_s, u"q1"_s},
                                             {u"operator"_s, u">="_s},
                                             {u"value"_s, 2},
                                             {u"severity"_s, u"warning"_s},
                                             {u"message"_s, u"Review q1."_s}}}},
    };
}

// Sets (or, with an undefined value, removes) the value at a "/"-separated path such as
// "items/1/id"; a numeric segment indexes an array, one past the end appends.
QJsonValue setAt(const QJsonValue &node, QStringList path, const QJsonValue &value)
{
    if (path.isEmpty())
        return value;
    const QString head = path.takeFirst();
    const bool remove = path.isEmpty() && value.isUndefined();
    if (node.isArray()) {
        QJsonArray array = node.toArray();
        const qsizetype index = head.toInt();
        if (remove)
            array.removeAt(index);
        else if (index == array.size())
            array.append(setAt(QJsonValue(), path, value));
        else
            array[index] = setAt(array.at(index), path, value);
        return array;
    }
    QJsonObject object = node.toObject();
    if (remove)
        object.remove(head);
    else
        object.insert(head, setAt(object.value(head), path, value));
    return object;
}

QJsonObject tinyWith(const QString &path, const QJsonValue &value = QJsonValue(QJsonValue::Undefined))
{
    return setAt(tinyDefinition(), path.split(u'/'), value).toObject();
}

QJsonObject tinyWith(std::initializer_list<std::pair<QString, QJsonValue>> changes)
{
    QJsonValue definition = tinyDefinition();
    for (const auto &[path, value] : changes)
        definition = setAt(definition, path.split(u'/'), value);
    return definition.toObject();
}

/// The value at a "/"-separated path in the tiny definition.
QJsonValue tinyAt(const QString &path)
{
    QJsonValue node = tinyDefinition();
    for (const QString &segment : path.split(u'/'))
        node = node.isArray() ? node.toArray().at(segment.toInt()) : node.toObject().value(segment);
    return node;
}

QJsonObject readResource(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

} // namespace

class TstQuestionnaireCatalog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void loadsBothBuiltIns();
    void builtInShape_data();
    void builtInShape();
    void phq9Wording();
    void gad7Wording();
    void phq9SelfHarmRule();
    void findUnknown_data();
    void findUnknown();
    void toJsonRoundTrips();
    void toJsonServesFullDefinitions();

    void acceptsValidVariants_data();
    void acceptsValidVariants();
    void rejectsBrokenDefinitions_data();
    void rejectsBrokenDefinitions();

    void loadsFromDirectory();
    void rejectsBrokenDirectory_data();
    void rejectsBrokenDirectory();
    void rejectsMissingOrEmptyDirectory();

private:
    static QuestionnaireCatalog builtIn();
};

QuestionnaireCatalog TstQuestionnaireCatalog::builtIn()
{
    auto catalog = QuestionnaireCatalog::loadBuiltIn();
    if (!catalog)
        qFatal("built-in catalog does not load: %s", qPrintable(catalog.error().message));
    return std::move(catalog).value();
}

void TstQuestionnaireCatalog::loadsBothBuiltIns()
{
    const auto catalog = QuestionnaireCatalog::loadBuiltIn();
    QVERIFY2(catalog, qPrintable(catalog ? QString() : catalog.error().message));
    QCOMPARE(catalog->ids(), (QStringList{u"gad7"_s, u"phq9"_s}));
}

void TstQuestionnaireCatalog::builtInShape_data()
{
    QTest::addColumn<QString>("id");
    QTest::addColumn<QString>("shortTitle");
    QTest::addColumn<int>("itemCount");
    QTest::addColumn<QStringList>("scoredItems");
    QTest::addColumn<QString>("optionalItem");
    QTest::addColumn<int>("maxTotal");
    QTest::addColumn<QStringList>("bandIds");
    QTest::addColumn<QList<int>>("bandBounds");
    QTest::addColumn<QStringList>("alertIds");

    QStringList phq9Scored;
    for (int i = 1; i <= 9; ++i)
        phq9Scored << u"phq9_q"_s + QString::number(i);
    QTest::addRow("phq9") << u"phq9"_s << u"PHQ-9"_s << 10 << phq9Scored << u"phq9_q10"_s << 27
                          << QStringList{u"minimal"_s, u"mild"_s, u"moderate"_s, u"moderately_severe"_s, u"severe"_s}
                          << QList<int>{0, 4, 5, 9, 10, 14, 15, 19, 20, 27} << QStringList{u"phq9_item9_self_harm"_s};

    QStringList gad7Scored;
    for (int i = 1; i <= 7; ++i)
        gad7Scored << u"gad7_q"_s + QString::number(i);
    QTest::addRow("gad7") << u"gad7"_s << u"GAD-7"_s << 8 << gad7Scored << u"gad7_q8"_s << 21
                          << QStringList{u"minimal"_s, u"mild"_s, u"moderate"_s, u"severe"_s}
                          << QList<int>{0, 4, 5, 9, 10, 14, 15, 21} << QStringList();
}

void TstQuestionnaireCatalog::builtInShape()
{
    QFETCH(QString, id);
    QFETCH(QString, shortTitle);
    QFETCH(int, itemCount);
    QFETCH(QStringList, scoredItems);
    QFETCH(QString, optionalItem);
    QFETCH(int, maxTotal);
    QFETCH(QStringList, bandIds);
    QFETCH(QList<int>, bandBounds);
    QFETCH(QStringList, alertIds);

    const QuestionnaireCatalog catalog = builtIn();
    const Questionnaire *q = catalog.find(id);
    QVERIFY(q);
    QCOMPARE(q->id, id);
    QCOMPARE(q->version, u"1.0"_s);
    QCOMPARE(q->shortTitle, shortTitle);
    QVERIFY(q->copyright.contains(u"No permission required to reproduce, translate, display or distribute"_s));
    QCOMPARE(q->items.size(), itemCount);

    QStringList scored;
    for (const QuestionnaireItem &item : q->items) {
        if (item.scored) {
            QVERIFY2(item.required, qPrintable(item.id));
            scored << item.id;
        }
    }
    QCOMPARE(scored, scoredItems);
    const QuestionnaireItem *optional = q->item(optionalItem);
    QVERIFY(optional);
    QVERIFY(!optional->required);
    QVERIFY(!optional->scored);

    QCOMPARE(q->scoring.method, u"sum"_s);
    QCOMPARE(q->scoring.min, 0);
    QCOMPARE(q->scoring.max, maxTotal);
    QStringList ids;
    QList<int> bounds;
    for (const ScoreBand &band : q->scoring.bands) {
        ids << band.id;
        bounds << band.min << band.max;
    }
    QCOMPARE(ids, bandIds);
    QCOMPARE(bounds, bandBounds);

    QStringList alerts;
    for (const AlertRule &rule : q->alerts)
        alerts << rule.id;
    QCOMPARE(alerts, alertIds);
}

void TstQuestionnaireCatalog::phq9Wording()
{
    const QuestionnaireCatalog catalog = builtIn();
    const Questionnaire *q = catalog.find(u"phq9"_s);
    QVERIFY(q);
    QCOMPARE(q->instructions,
             u"Over the last 2 weeks, how often have you been bothered by any of the following problems?"_s);
    const QStringList texts{
        u"Little interest or pleasure in doing things"_s,
        u"Feeling down, depressed, or hopeless"_s,
        u"Trouble falling or staying asleep, or sleeping too much"_s,
        u"Feeling tired or having little energy"_s,
        u"Poor appetite or overeating"_s,
        u"Feeling bad about yourself — or that you are a failure or have let yourself or your family down"_s,
        u"Trouble concentrating on things, such as reading the newspaper or watching television"_s,
        u"Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety "
        u"or restless that you have been moving around a lot more than usual"_s,
        u"Thoughts that you would be better off dead, or of hurting yourself in some way"_s,
        u"If you checked off any problems, how difficult have these problems made it for you to do your work, "
        u"take care of things at home, or get along with other people?"_s,
    };
    QCOMPARE(q->items.size(), texts.size());
    for (qsizetype i = 0; i < texts.size(); ++i)
        QCOMPARE(q->items.at(i).text, texts.at(i));

    const QuestionnaireItem &first = q->items.constFirst();
    QCOMPARE(first.options.size(), 4);
    const QStringList frequency{u"Not at all"_s, u"Several days"_s, u"More than half the days"_s,
                                u"Nearly every day"_s};
    const QStringList difficulty{u"Not difficult at all"_s, u"Somewhat difficult"_s, u"Very difficult"_s,
                                 u"Extremely difficult"_s};
    for (int value = 0; value < 4; ++value) {
        QVERIFY(first.option(value));
        QCOMPARE(first.option(value)->label, frequency.at(value));
        QVERIFY(q->items.constLast().option(value));
        QCOMPARE(q->items.constLast().option(value)->label, difficulty.at(value));
    }
    QVERIFY(!first.option(4));
}

void TstQuestionnaireCatalog::gad7Wording()
{
    const QuestionnaireCatalog catalog = builtIn();
    const Questionnaire *q = catalog.find(u"gad7"_s);
    QVERIFY(q);
    // The published GAD-7 preamble says "the following problems" (PHQ-9: "any of the following").
    QCOMPARE(q->instructions, u"Over the last 2 weeks, how often have you been bothered by the following problems?"_s);
    const QStringList texts{
        u"Feeling nervous, anxious, or on edge"_s,
        u"Not being able to stop or control worrying"_s,
        u"Worrying too much about different things"_s,
        u"Trouble relaxing"_s,
        u"Being so restless that it is hard to sit still"_s,
        u"Becoming easily annoyed or irritable"_s,
        u"Feeling afraid, as if something awful might happen"_s,
        u"If you checked off any problems, how difficult have these problems made it for you to do your work, "
        u"take care of things at home, or get along with other people?"_s,
    };
    QCOMPARE(q->items.size(), texts.size());
    for (qsizetype i = 0; i < texts.size(); ++i)
        QCOMPARE(q->items.at(i).text, texts.at(i));
    QCOMPARE(q->items.at(6).option(2)->label, u"More than half the days"_s);
    QCOMPARE(q->items.at(7).option(3)->label, u"Extremely difficult"_s);
}

void TstQuestionnaireCatalog::phq9SelfHarmRule()
{
    const QuestionnaireCatalog catalog = builtIn();
    const Questionnaire *q = catalog.find(u"phq9"_s);
    QVERIFY(q);
    QCOMPARE(q->alerts.size(), 1);
    const AlertRule &rule = q->alerts.constFirst();
    QCOMPARE(rule.id, u"phq9_item9_self_harm"_s);
    QCOMPARE(rule.itemId, u"phq9_q9"_s);
    QCOMPARE(rule.op, AlertRule::Operator::Greater);
    QCOMPARE(rule.value, 0);
    QCOMPARE(rule.severity, u"critical"_s);
    QVERIFY(rule.message.contains(u"suicide-risk protocol"_s));
    QVERIFY(!rule.firesFor(0));
    QVERIFY(rule.firesFor(1));
}

void TstQuestionnaireCatalog::findUnknown_data()
{
    QTest::addColumn<QString>("id");

    QTest::addRow("unknown") << u"phq2"_s;
    QTest::addRow("other case") << u"PHQ9"_s;
    QTest::addRow("empty") << QString();
    QTest::addRow("file name") << u"phq9.json"_s;
}

void TstQuestionnaireCatalog::findUnknown()
{
    QFETCH(QString, id);
    QVERIFY(!builtIn().find(id));
}

void TstQuestionnaireCatalog::toJsonRoundTrips()
{
    const QuestionnaireCatalog catalog = builtIn();
    const QJsonArray served = catalog.toJson();
    QCOMPARE(served.size(), 2);
    for (qsizetype i = 0; i < served.size(); ++i) {
        const QJsonObject definition = served.at(i).toObject();
        const QString id = catalog.ids().at(i);
        QCOMPARE(definition.value("id"_L1).toString(), id);

        const auto reparsed = Questionnaire::fromJson(definition);
        QVERIFY2(reparsed, qPrintable(reparsed ? QString() : reparsed.error().message));
        QCOMPARE(reparsed->toJson(), definition);
        // Nothing in the file is dropped on the way to the API.
        QCOMPARE(definition, readResource(u":/questionnaires/"_s + id + u".json"_s));
    }
}

void TstQuestionnaireCatalog::toJsonServesFullDefinitions()
{
    const QuestionnaireCatalog catalog = builtIn();
    const QJsonObject phq9 = catalog.toJson().at(catalog.ids().indexOf(u"phq9"_s)).toObject();
    QCOMPARE(phq9.keys(), (QStringList{u"alerts"_s, u"copyright"_s, u"id"_s, u"instructions"_s, u"items"_s,
                                       u"scoring"_s, u"shortTitle"_s, u"title"_s, u"version"_s}));
    const QJsonObject item9 = phq9.value("items"_L1).toArray().at(8).toObject();
    QCOMPARE(item9.value("id"_L1).toString(), u"phq9_q9"_s);
    QVERIFY(item9.value("text"_L1).toString().startsWith(u"Thoughts that you would be better off dead"_s));
    QCOMPARE(item9.value("required"_L1), QJsonValue(true));
    QCOMPARE(item9.value("scored"_L1), QJsonValue(true));
    QCOMPARE(item9.value("options"_L1).toArray().at(3).toObject(),
             (QJsonObject{{u"value"_s, 3}, {u"label"_s, u"Nearly every day"_s}}));

    const QJsonObject scoring = phq9.value("scoring"_L1).toObject();
    QCOMPARE(scoring.value("method"_L1).toString(), u"sum"_s);
    QCOMPARE(scoring.value("max"_L1).toInt(), 27);
    QCOMPARE(scoring.value("bands"_L1).toArray().at(3).toObject(),
             (QJsonObject{{u"id"_s, u"moderately_severe"_s},
                          {u"label"_s, u"Moderately severe depression"_s},
                          {u"min"_s, 15},
                          {u"max"_s, 19}}));
    const QJsonObject alert = phq9.value("alerts"_L1).toArray().at(0).toObject();
    QCOMPARE(alert.value("operator"_L1).toString(), u">"_s);
    QCOMPARE(alert.value("value"_L1).toInt(), 0);
}

void TstQuestionnaireCatalog::acceptsValidVariants_data()
{
    QTest::addColumn<QJsonObject>("definition");

    QTest::addRow("as is") << tinyDefinition();
    QTest::addRow("no alerts") << tinyWith(u"alerts"_s, QJsonArray());
    QTest::addRow("bands listed high to low") << tinyWith(
        {{u"scoring/bands/0"_s, tinyAt(u"scoring/bands/1"_s)}, {u"scoring/bands/1"_s, tinyAt(u"scoring/bands/0"_s)}});
    QTest::addRow("alert on optional item")
        << tinyWith({{u"alerts/0/itemId"_s, u"q3"_s}, {u"alerts/0/operator"_s, u">"_s}, {u"alerts/0/value"_s, 0}});
    QTest::addRow("one band for everything")
        << tinyWith({{u"scoring/bands/1"_s, QJsonValue::Undefined}, {u"scoring/bands/0/max"_s, 4}});
}

void TstQuestionnaireCatalog::acceptsValidVariants()
{
    QFETCH(QJsonObject, definition);
    const auto q = Questionnaire::fromJson(definition);
    QVERIFY2(q, qPrintable(q ? QString() : q.error().message));
    QCOMPARE(q->toJson(), definition);
}

void TstQuestionnaireCatalog::rejectsBrokenDefinitions_data()
{
    QTest::addColumn<QJsonObject>("definition");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("fragment");

    // Top level.
    QTest::addRow("missing id") << tinyWith(u"id"_s) << u"id"_s << u"id: is missing"_s;
    QTest::addRow("id not a string") << tinyWith(u"id"_s, 9) << u"id"_s << u"must be a string, not 9"_s;
    QTest::addRow("id with upper case") << tinyWith(u"id"_s, u"Tiny"_s) << u"id"_s << u"'Tiny' is not a valid id"_s;
    QTest::addRow("misspelt key") << tinyWith(u"titel"_s, u"Tiny"_s) << u"titel"_s << u"titel: unknown key"_s;
    QTest::addRow("missing version") << tinyWith(u"version"_s) << u"version"_s << u"version: is missing"_s;
    QTest::addRow("version not MAJOR.MINOR")
        << tinyWith(u"version"_s, u"v1"_s) << u"version"_s << u"'v1' is not MAJOR.MINOR"_s;
    QTest::addRow("blank title") << tinyWith(u"title"_s, u"  "_s) << u"title"_s << u"must not be empty"_s;
    QTest::addRow("missing copyright") << tinyWith(u"copyright"_s) << u"copyright"_s << u"is missing"_s;

    // Items and options.
    QTest::addRow("no items") << tinyWith(u"items"_s, QJsonArray()) << u"items"_s << u"items: must not be empty"_s;
    QTest::addRow("item not an object") << tinyWith(u"items/0"_s, 5) << u"items[0]"_s << u"must be an object, not 5"_s;
    QTest::addRow("duplicate item ids") << tinyWith(u"items/1/id"_s, u"q1"_s) << u"items[1].id"_s
                                        << u"duplicate item id 'q1'"_s;
    QTest::addRow("misspelt item key") << tinyWith(u"items/0/requried"_s, true) << u"items[0].requried"_s
                                       << u"unknown key"_s;
    QTest::addRow("required not a boolean")
        << tinyWith(u"items/0/required"_s, u"yes"_s) << u"items[0].required"_s << u"must be true or false"_s;
    QTest::addRow("scored item optional")
        << tinyWith(u"items/0/required"_s, false) << u"items[0].required"_s << u"a scored item must be required"_s;
    QTest::addRow("no options") << tinyWith(u"items/1/options"_s, QJsonArray()) << u"items[1].options"_s
                                << u"must not be empty"_s;
    QTest::addRow("duplicate option values")
        << tinyWith(u"items/0/options/1/value"_s, 0) << u"items[0].options[1].value"_s << u"duplicate option value 0"_s;
    QTest::addRow("fractional option value") << tinyWith(u"items/0/options/1/value"_s, 1.5)
                                             << u"items[0].options[1].value"_s << u"must be an integer, not 1.5"_s;
    QTest::addRow("option value as a string")
        << tinyWith(u"items/0/options/1/value"_s, u"1"_s) << u"items[0].options[1].value"_s
        << u"must be an integer, not a string"_s;
    QTest::addRow("duplicate option labels") << tinyWith(u"items/2/options/1/label"_s, u"No"_s)
                                             << u"items[2].options[1].label"_s << u"duplicate option label 'No'"_s;

    // Scoring and bands.
    QTest::addRow("missing scoring") << tinyWith(u"scoring"_s) << u"scoring"_s << u"scoring: is missing"_s;
    QTest::addRow("unknown method") << tinyWith(u"scoring/method"_s, u"mean"_s) << u"scoring.method"_s
                                    << u"unknown method 'mean'"_s;
    QTest::addRow("max not what the items add up to")
        << tinyWith(u"scoring/max"_s, 5) << u"scoring.max"_s << u"is 5 but the scored items add up to at most 4"_s;
    QTest::addRow("min not what the items add up to")
        << tinyWith(u"scoring/min"_s, 1) << u"scoring.min"_s << u"add up to at least 0"_s;
    QTest::addRow("nothing scored") << tinyWith({{u"items/0/scored"_s, false}, {u"items/1/scored"_s, false}})
                                    << u"scoring"_s << u"no item is scored"_s;
    QTest::addRow("gapped bands") << tinyWith(u"scoring/bands/1/min"_s, 3) << u"scoring.bands[1]"_s
                                  << u"gap before band 'high': no band covers totals 2"_s;
    QTest::addRow("overlapping bands") << tinyWith(u"scoring/bands/1/min"_s, 1) << u"scoring.bands[1]"_s
                                       << u"band 'high' overlaps band 'low' at totals 1"_s;
    QTest::addRow("bands start above min")
        << tinyWith(u"scoring/bands/0/min"_s, 1) << u"scoring.bands[0]"_s << u"no band covers totals 0"_s;
    QTest::addRow("bands stop below max")
        << tinyWith(u"scoring/bands/1/max"_s, 3) << u"scoring.bands"_s << u"no band covers totals 4"_s;
    QTest::addRow("band beyond max") << tinyWith(u"scoring/bands/1/max"_s, 5) << u"scoring.bands[1]"_s
                                     << u"reaches outside the possible totals 0..4"_s;
    QTest::addRow("band min above max") << tinyWith(u"scoring/bands/0/min"_s, 2) << u"scoring.bands[0]"_s
                                        << u"min 2 is above max 1"_s;
    QTest::addRow("duplicate band ids") << tinyWith(u"scoring/bands/1/id"_s, u"low"_s) << u"scoring.bands[1].id"_s
                                        << u"duplicate band id 'low'"_s;
    QTest::addRow("no bands") << tinyWith(u"scoring/bands"_s, QJsonArray()) << u"scoring.bands"_s
                              << u"must not be empty"_s;

    // Alerts.
    QTest::addRow("missing alerts") << tinyWith(u"alerts"_s) << u"alerts"_s << u"alerts: is missing"_s;
    QTest::addRow("alert on unknown item")
        << tinyWith(u"alerts/0/itemId"_s, u"q9"_s) << u"alerts[0].itemId"_s << u"unknown item 'q9'"_s;
    QTest::addRow("unknown operator") << tinyWith(u"alerts/0/operator"_s, u"<"_s) << u"alerts[0].operator"_s
                                      << u"unknown operator '<'"_s;
    QTest::addRow("unknown severity") << tinyWith(u"alerts/0/severity"_s, u"urgent"_s) << u"alerts[0].severity"_s
                                      << u"unknown severity 'urgent'"_s;
    QTest::addRow("alert that can never fire") << tinyWith(u"alerts/0/operator"_s, u">"_s) << u"alerts[0]"_s
                                               << u"can never fire: no option of item 'q1' is > 2"_s;
    QTest::addRow("duplicate alert ids") << tinyWith(u"alerts/1"_s, tinyAt(u"alerts/0"_s)) << u"alerts[1].id"_s
                                         << u"duplicate alert id 'q1_often'"_s;
    QTest::addRow("alert without message")
        << tinyWith(u"alerts/0/message"_s) << u"alerts[0].message"_s << u"is missing"_s;
}

void TstQuestionnaireCatalog::rejectsBrokenDefinitions()
{
    QFETCH(QJsonObject, definition);
    QFETCH(QString, field);
    QFETCH(QString, fragment);

    const auto q = Questionnaire::fromJson(definition);
    QVERIFY(!q);
    QCOMPARE(q.error().code, ErrorCode::InvalidArgument);
    QCOMPARE(q.error().field, field);
    QVERIFY2(q.error().message.contains(fragment), qPrintable(q.error().message));
    // The message stands alone (printed by the command line): it names the path too.
    QVERIFY2(q.error().message.startsWith(field + u": "_s), qPrintable(q.error().message));
}

void TstQuestionnaireCatalog::loadsFromDirectory()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(writeFile(dir.filePath(u"tiny.json"_s), QJsonDocument(tinyDefinition()).toJson()));
    QVERIFY(QFile::copy(u":/questionnaires/phq9.json"_s, dir.filePath(u"phq9.json"_s)));
    QVERIFY(writeFile(dir.filePath(u"README.txt"_s), "not a definition"));

    const auto catalog = QuestionnaireCatalog::loadFromDirectory(dir.path());
    QVERIFY2(catalog, qPrintable(catalog ? QString() : catalog.error().message));
    QCOMPARE(catalog->ids(), (QStringList{u"phq9"_s, u"tiny"_s}));
    QVERIFY(catalog->find(u"tiny"_s));
    QCOMPARE(catalog->toJson().at(1).toObject(), tinyDefinition());
}

void TstQuestionnaireCatalog::rejectsBrokenDirectory_data()
{
    QTest::addColumn<QString>("fileName");
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("fragment");

    QTest::addRow("invalid JSON") << u"tiny.json"_s << QByteArray("{\"id\": \"tiny\",") << QString()
                                  << u"tiny.json: invalid JSON at byte"_s;
    QTest::addRow("not an object") << u"tiny.json"_s << QByteArray("[]") << QString()
                                   << u"tiny.json: the definition must be a JSON object"_s;
    QTest::addRow("id not the file name") << u"other.json"_s << QJsonDocument(tinyDefinition()).toJson() << u"id"_s
                                          << u"other.json: id 'tiny' does not match the file name"_s;
    QTest::addRow("broken definition") << u"tiny.json"_s
                                       << QJsonDocument(tinyWith(u"scoring/bands/1/min"_s, 3)).toJson()
                                       << u"scoring.bands[1]"_s
                                       << u"tiny.json: scoring.bands[1]: gap before band 'high'"_s;
}

void TstQuestionnaireCatalog::rejectsBrokenDirectory()
{
    QFETCH(QString, fileName);
    QFETCH(QByteArray, content);
    QFETCH(QString, field);
    QFETCH(QString, fragment);

    // One good file beside the bad one: a broken definition fails the load, it is not skipped.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(QFile::copy(u":/questionnaires/gad7.json"_s, dir.filePath(u"gad7.json"_s)));
    QVERIFY(writeFile(dir.filePath(fileName), content));

    const auto catalog = QuestionnaireCatalog::loadFromDirectory(dir.path());
    QVERIFY(!catalog);
    QCOMPARE(catalog.error().code, ErrorCode::InvalidArgument);
    QCOMPARE(catalog.error().field, field);
    QVERIFY2(catalog.error().message.contains(fragment), qPrintable(catalog.error().message));
}

void TstQuestionnaireCatalog::rejectsMissingOrEmptyDirectory()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());

    const auto empty = QuestionnaireCatalog::loadFromDirectory(dir.path());
    QVERIFY(!empty);
    QVERIFY2(empty.error().message.contains(u"no questionnaire definitions"_s), qPrintable(empty.error().message));

    const auto missing = QuestionnaireCatalog::loadFromDirectory(dir.filePath(u"absent"_s));
    QVERIFY(!missing);
    QVERIFY2(missing.error().message.contains(u"no such directory"_s), qPrintable(missing.error().message));
}

QTEST_GUILESS_MAIN(TstQuestionnaireCatalog)
#include "tst_questionnairecatalog.moc"
