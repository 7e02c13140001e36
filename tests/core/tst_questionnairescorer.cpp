#include "questionnairecatalog.h"
#include "questionnairescorer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <numeric>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;

namespace {

/// {"<prefix>_q1": values[0], "<prefix>_q2": values[1], ...}
QJsonObject answersFor(const QString &questionnaireId, const QList<int> &values)
{
    QJsonObject answers;
    for (qsizetype i = 0; i < values.size(); ++i)
        answers.insert(questionnaireId + u"_q"_s + QString::number(i + 1), values.at(i));
    return answers;
}

QJsonObject with(QJsonObject answers, const QString &itemId, const QJsonValue &value)
{
    answers.insert(itemId, value);
    return answers;
}

QJsonObject without(QJsonObject answers, const QString &itemId)
{
    answers.remove(itemId);
    return answers;
}

} // namespace

class TstQuestionnaireScorer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void scoresPublishedBands_data();
    void scoresPublishedBands();
    void phq9Item9Alert_data();
    void phq9Item9Alert();
    void greaterOrEqualRule_data();
    void greaterOrEqualRule();
    void optionalItemIsValidatedButNotScored_data();
    void optionalItemIsValidatedButNotScored();
    void rejectsInvalidAnswers_data();
    void rejectsInvalidAnswers();
    void integralNumberCountsAsInteger();
    void resultJson();

private:
    const Questionnaire &questionnaire(const QString &id) const;

    QuestionnaireCatalog m_catalog;
};

void TstQuestionnaireScorer::initTestCase()
{
    auto catalog = QuestionnaireCatalog::loadBuiltIn();
    QVERIFY2(catalog, qPrintable(catalog ? QString() : catalog.error().message));
    m_catalog = std::move(catalog).value();
    QVERIFY(m_catalog.find(u"phq9"_s));
    QVERIFY(m_catalog.find(u"gad7"_s));
}

const Questionnaire &TstQuestionnaireScorer::questionnaire(const QString &id) const
{
    // initTestCase() has checked both built-ins exist.
    return *m_catalog.find(id);
}

void TstQuestionnaireScorer::scoresPublishedBands_data()
{
    QTest::addColumn<QString>("questionnaireId");
    QTest::addColumn<QList<int>>("values");
    QTest::addColumn<int>("total");
    QTest::addColumn<QString>("bandId");
    QTest::addColumn<QString>("bandLabel");
    QTest::addColumn<bool>("alert");

    // PHQ-9 (Kroenke 2001): 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe.
    const QString phq9 = u"phq9"_s;
    QTest::addRow("phq9 total 0") << phq9 << QList<int>{0, 0, 0, 0, 0, 0, 0, 0, 0} << 0 << u"minimal"_s
                                  << u"Minimal depression"_s << false;
    QTest::addRow("phq9 total 4") << phq9 << QList<int>{1, 1, 1, 1, 0, 0, 0, 0, 0} << 4 << u"minimal"_s
                                  << u"Minimal depression"_s << false;
    QTest::addRow("phq9 total 5") << phq9 << QList<int>{1, 1, 1, 1, 1, 0, 0, 0, 0} << 5 << u"mild"_s
                                  << u"Mild depression"_s << false;
    QTest::addRow("phq9 total 5 with item 9")
        << phq9 << QList<int>{1, 1, 1, 1, 0, 0, 0, 0, 1} << 5 << u"mild"_s << u"Mild depression"_s << true;
    QTest::addRow("phq9 total 9") << phq9 << QList<int>{3, 3, 3, 0, 0, 0, 0, 0, 0} << 9 << u"mild"_s
                                  << u"Mild depression"_s << false;
    QTest::addRow("phq9 total 10") << phq9 << QList<int>{2, 2, 2, 2, 2, 0, 0, 0, 0} << 10 << u"moderate"_s
                                   << u"Moderate depression"_s << false;
    QTest::addRow("phq9 total 14") << phq9 << QList<int>{2, 2, 2, 2, 2, 2, 2, 0, 0} << 14 << u"moderate"_s
                                   << u"Moderate depression"_s << false;
    QTest::addRow("phq9 total 15") << phq9 << QList<int>{3, 3, 3, 3, 3, 0, 0, 0, 0} << 15 << u"moderately_severe"_s
                                   << u"Moderately severe depression"_s << false;
    QTest::addRow("phq9 total 19") << phq9 << QList<int>{3, 3, 3, 3, 3, 2, 2, 0, 0} << 19 << u"moderately_severe"_s
                                   << u"Moderately severe depression"_s << false;
    QTest::addRow("phq9 total 20") << phq9 << QList<int>{3, 3, 3, 3, 3, 3, 2, 0, 0} << 20 << u"severe"_s
                                   << u"Severe depression"_s << false;
    QTest::addRow("phq9 total 27") << phq9 << QList<int>{3, 3, 3, 3, 3, 3, 3, 3, 3} << 27 << u"severe"_s
                                   << u"Severe depression"_s << true;

    // GAD-7 (Spitzer 2006): 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe. No alert rules.
    const QString gad7 = u"gad7"_s;
    QTest::addRow("gad7 total 0") << gad7 << QList<int>{0, 0, 0, 0, 0, 0, 0} << 0 << u"minimal"_s
                                  << u"Minimal anxiety"_s << false;
    QTest::addRow("gad7 total 4") << gad7 << QList<int>{1, 1, 1, 1, 0, 0, 0} << 4 << u"minimal"_s
                                  << u"Minimal anxiety"_s << false;
    QTest::addRow("gad7 total 5") << gad7 << QList<int>{1, 1, 1, 1, 1, 0, 0} << 5 << u"mild"_s << u"Mild anxiety"_s
                                  << false;
    QTest::addRow("gad7 total 9") << gad7 << QList<int>{3, 3, 3, 0, 0, 0, 0} << 9 << u"mild"_s << u"Mild anxiety"_s
                                  << false;
    QTest::addRow("gad7 total 10") << gad7 << QList<int>{2, 2, 2, 2, 2, 0, 0} << 10 << u"moderate"_s
                                   << u"Moderate anxiety"_s << false;
    QTest::addRow("gad7 total 14") << gad7 << QList<int>{2, 2, 2, 2, 2, 2, 2} << 14 << u"moderate"_s
                                   << u"Moderate anxiety"_s << false;
    QTest::addRow("gad7 total 15") << gad7 << QList<int>{3, 3, 3, 3, 3, 0, 0} << 15 << u"severe"_s
                                   << u"Severe anxiety"_s << false;
    QTest::addRow("gad7 total 21") << gad7 << QList<int>{3, 3, 3, 3, 3, 3, 3} << 21 << u"severe"_s
                                   << u"Severe anxiety"_s << false;
}

void TstQuestionnaireScorer::scoresPublishedBands()
{
    QFETCH(QString, questionnaireId);
    QFETCH(QList<int>, values);
    QFETCH(int, total);
    QFETCH(QString, bandId);
    QFETCH(QString, bandLabel);
    QFETCH(bool, alert);

    // Guards the table itself: the answer set must add up to the total it claims.
    QCOMPARE(std::accumulate(values.begin(), values.end(), 0), total);

    const Questionnaire &q = questionnaire(questionnaireId);
    const QJsonObject answers = answersFor(questionnaireId, values);
    QVERIFY(QuestionnaireScorer::validate(q, answers));

    const auto result = QuestionnaireScorer::score(q, answers);
    QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
    QCOMPARE(result->questionnaireId, questionnaireId);
    QCOMPARE(result->questionnaireVersion, u"1.0"_s);
    QCOMPARE(result->total, total);
    QCOMPARE(result->maxTotal, questionnaireId == u"phq9"_s ? 27 : 21);
    QCOMPARE(result->bandId, bandId);
    QCOMPARE(result->bandLabel, bandLabel);
    QCOMPARE(result->alerts.isEmpty(), !alert);
    QCOMPARE(result->values.size(), values.size());
}

void TstQuestionnaireScorer::phq9Item9Alert_data()
{
    QTest::addColumn<int>("item9");
    QTest::addColumn<bool>("fires");

    QTest::addRow("not at all") << 0 << false;
    QTest::addRow("several days") << 1 << true;
    QTest::addRow("more than half the days") << 2 << true;
    QTest::addRow("nearly every day") << 3 << true;
}

void TstQuestionnaireScorer::phq9Item9Alert()
{
    QFETCH(int, item9);
    QFETCH(bool, fires);

    const auto result =
        QuestionnaireScorer::score(questionnaire(u"phq9"_s), answersFor(u"phq9"_s, {0, 0, 0, 0, 0, 0, 0, 0, item9}));
    QVERIFY(result);
    QCOMPARE(result->total, item9);
    // The self-harm item raises the alert even when the total is in the minimal band.
    QCOMPARE(result->bandId, u"minimal"_s);
    if (!fires) {
        QVERIFY(result->alerts.isEmpty());
        return;
    }
    QCOMPARE(result->alerts.size(), 1);
    const TriggeredAlert &alert = result->alerts.constFirst();
    QCOMPARE(alert.ruleId, u"phq9_item9_self_harm"_s);
    QCOMPARE(alert.severity, u"critical"_s);
    QCOMPARE(alert.itemId, u"phq9_q9"_s);
    QCOMPARE(alert.value, item9);
    QVERIFY2(alert.message.contains(u"suicide-risk protocol"_s), qPrintable(alert.message));
    QVERIFY2(alert.message.contains(u"before they leave"_s), qPrintable(alert.message));
}

void TstQuestionnaireScorer::greaterOrEqualRule_data()
{
    QTest::addColumn<int>("answer");
    QTest::addColumn<bool>("fires");

    QTest::addRow("below") << 1 << false;
    QTest::addRow("equal") << 2 << true;
    QTest::addRow("above") << 3 << true;
}

void TstQuestionnaireScorer::greaterOrEqualRule()
{
    QFETCH(int, answer);
    QFETCH(bool, fires);

    // PHQ-9 with its rule switched to ">= 2" exercises the other operator on real wording.
    QJsonObject definition = questionnaire(u"phq9"_s).toJson();
    QJsonArray alerts = definition.value("alerts"_L1).toArray();
    QJsonObject rule = alerts.at(0).toObject();
    rule.insert(u"operator"_s, u">="_s);
    rule.insert(u"value"_s, 2);
    alerts[0] = rule;
    definition.insert(u"alerts"_s, alerts);
    const auto q = Questionnaire::fromJson(definition);
    QVERIFY2(q, qPrintable(q ? QString() : q.error().message));

    const auto result = QuestionnaireScorer::score(*q, answersFor(u"phq9"_s, {0, 0, 0, 0, 0, 0, 0, 0, answer}));
    QVERIFY(result);
    QCOMPARE(result->alerts.size(), fires ? 1 : 0);
}

void TstQuestionnaireScorer::optionalItemIsValidatedButNotScored_data()
{
    QTest::addColumn<QString>("questionnaireId");
    QTest::addColumn<QList<int>>("values");
    QTest::addColumn<QString>("optionalItem");

    QTest::addRow("phq9") << u"phq9"_s << QList<int>{1, 2, 0, 1, 0, 3, 0, 1, 0} << u"phq9_q10"_s;
    QTest::addRow("gad7") << u"gad7"_s << QList<int>{1, 2, 0, 1, 0, 3, 1} << u"gad7_q8"_s;
}

void TstQuestionnaireScorer::optionalItemIsValidatedButNotScored()
{
    QFETCH(QString, questionnaireId);
    QFETCH(QList<int>, values);
    QFETCH(QString, optionalItem);

    const Questionnaire &q = questionnaire(questionnaireId);
    const QJsonObject answers = answersFor(questionnaireId, values);
    const int total = std::accumulate(values.begin(), values.end(), 0);

    const auto withoutOptional = QuestionnaireScorer::score(q, answers);
    QVERIFY(withoutOptional);
    QCOMPARE(withoutOptional->total, total);
    QVERIFY(!withoutOptional->values.contains(optionalItem));

    for (int difficulty = 0; difficulty <= 3; ++difficulty) {
        const auto withOptional = QuestionnaireScorer::score(q, with(answers, optionalItem, difficulty));
        QVERIFY(withOptional);
        QCOMPARE(withOptional->total, total);
        QCOMPARE(withOptional->values.value(optionalItem, -1), difficulty);
    }

    const auto outOfRange = QuestionnaireScorer::validate(q, with(answers, optionalItem, 4));
    QVERIFY(!outOfRange);
    QCOMPARE(outOfRange.error().field, u"answers."_s + optionalItem);
}

void TstQuestionnaireScorer::rejectsInvalidAnswers_data()
{
    QTest::addColumn<QString>("questionnaireId");
    QTest::addColumn<QJsonObject>("answers");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("fragment");

    const QString phq9 = u"phq9"_s;
    const QJsonObject valid = answersFor(phq9, {1, 1, 1, 1, 1, 1, 1, 1, 0});

    QTest::addRow("unknown item") << phq9 << with(valid, u"phq9_q11"_s, 1) << u"answers.phq9_q11"_s
                                  << u"unknown item 'phq9_q11'"_s;
    QTest::addRow("item of another questionnaire")
        << phq9 << with(valid, u"gad7_q1"_s, 0) << u"answers.gad7_q1"_s << u"has no such item"_s;
    QTest::addRow("missing required item")
        << phq9 << without(valid, u"phq9_q3"_s) << u"answers.phq9_q3"_s << u"required item 'phq9_q3' is not answered"_s;
    QTest::addRow("value 4") << phq9 << with(valid, u"phq9_q9"_s, 4) << u"answers.phq9_q9"_s
                             << u"4 is not an option of item 'phq9_q9' (allowed: 0, 1, 2, 3)"_s;
    QTest::addRow("value -1") << phq9 << with(valid, u"phq9_q1"_s, -1) << u"answers.phq9_q1"_s
                              << u"-1 is not an option"_s;
    QTest::addRow("value \"2\" as a string") << phq9 << with(valid, u"phq9_q2"_s, u"2"_s) << u"answers.phq9_q2"_s
                                             << u"must be an integer (0, 1, 2, 3), not the string \"2\""_s;
    QTest::addRow("value 1.5") << phq9 << with(valid, u"phq9_q2"_s, 1.5) << u"answers.phq9_q2"_s
                               << u"must be an integer (0, 1, 2, 3), not 1.5"_s;
    QTest::addRow("value null") << phq9 << with(valid, u"phq9_q2"_s, QJsonValue::Null) << u"answers.phq9_q2"_s
                                << u"must be an integer (0, 1, 2, 3), not null"_s;
    QTest::addRow("value true") << phq9 << with(valid, u"phq9_q2"_s, true) << u"answers.phq9_q2"_s << u"not true"_s;
    QTest::addRow("value array") << phq9 << with(valid, u"phq9_q2"_s, QJsonArray{2}) << u"answers.phq9_q2"_s
                                 << u"not an array"_s;
    QTest::addRow("value object") << phq9 << with(valid, u"phq9_q2"_s, QJsonObject{{u"value"_s, 2}})
                                  << u"answers.phq9_q2"_s << u"not an object"_s;
    QTest::addRow("value beyond int") << phq9 << with(valid, u"phq9_q2"_s, 1e10) << u"answers.phq9_q2"_s
                                      << u"must be an integer"_s;
    QTest::addRow("optional item out of range")
        << phq9 << with(valid, u"phq9_q10"_s, 7) << u"answers.phq9_q10"_s << u"7 is not an option of item 'phq9_q10'"_s;
    QTest::addRow("no answers") << phq9 << QJsonObject() << u"answers"_s << u"no answers given"_s;
    QTest::addRow("gad7 missing required item") << u"gad7"_s << answersFor(u"gad7"_s, {0, 0, 0, 0, 0, 0})
                                                << u"answers.gad7_q7"_s << u"required item 'gad7_q7' is not answered"_s;
}

void TstQuestionnaireScorer::rejectsInvalidAnswers()
{
    QFETCH(QString, questionnaireId);
    QFETCH(QJsonObject, answers);
    QFETCH(QString, field);
    QFETCH(QString, fragment);

    const Questionnaire &q = questionnaire(questionnaireId);
    const auto validated = QuestionnaireScorer::validate(q, answers);
    QVERIFY(!validated);
    QCOMPARE(validated.error().code, ErrorCode::InvalidArgument);
    QCOMPARE(validated.error().field, field);
    QVERIFY2(validated.error().message.contains(fragment), qPrintable(validated.error().message));

    // score() validates first and fails the same way.
    const auto scored = QuestionnaireScorer::score(q, answers);
    QVERIFY(!scored);
    QCOMPARE(scored.error().code, ErrorCode::InvalidArgument);
    QCOMPARE(scored.error().field, field);
    QCOMPARE(scored.error().message, validated.error().message);
}

void TstQuestionnaireScorer::integralNumberCountsAsInteger()
{
    // After parsing, 2.0 and 2 are the same double; both are the answer 2.
    const QJsonObject answers = QJsonDocument::fromJson(R"({"gad7_q1": 2.0, "gad7_q2": 0, "gad7_q3": 0, "gad7_q4": 0,
                                    "gad7_q5": 0, "gad7_q6": 0, "gad7_q7": 1})")
                                    .object();
    const auto result = QuestionnaireScorer::score(questionnaire(u"gad7"_s), answers);
    QVERIFY(result);
    QCOMPARE(result->total, 3);
}

void TstQuestionnaireScorer::resultJson()
{
    const auto result = QuestionnaireScorer::score(
        questionnaire(u"phq9"_s), with(answersFor(u"phq9"_s, {3, 3, 2, 2, 1, 1, 0, 0, 2}), u"phq9_q10"_s, 1));
    QVERIFY(result);

    const QJsonObject json = result->toJson();
    QCOMPARE(json.value("questionnaireId"_L1).toString(), u"phq9"_s);
    QCOMPARE(json.value("questionnaireVersion"_L1).toString(), u"1.0"_s);
    QCOMPARE(json.value("total"_L1).toInt(), 14);
    QCOMPARE(json.value("maxTotal"_L1).toInt(), 27);
    QCOMPARE(json.value("band"_L1).toObject(),
             (QJsonObject{{u"id"_s, u"moderate"_s}, {u"label"_s, u"Moderate depression"_s}}));

    const QJsonArray alerts = json.value("alerts"_L1).toArray();
    QCOMPARE(alerts.size(), 1);
    const QJsonObject alert = alerts.at(0).toObject();
    QCOMPARE(alert.keys(), (QStringList{u"itemId"_s, u"message"_s, u"ruleId"_s, u"severity"_s, u"value"_s}));
    QCOMPARE(alert.value("ruleId"_L1).toString(), u"phq9_item9_self_harm"_s);
    QCOMPARE(alert.value("severity"_L1).toString(), u"critical"_s);
    QCOMPARE(alert.value("itemId"_L1).toString(), u"phq9_q9"_s);
    QCOMPARE(alert.value("value"_L1).toInt(), 2);
    QVERIFY(!alert.value("message"_L1).toString().isEmpty());

    // Every answered item is kept, including the unscored difficulty item.
    QCOMPARE(json.value("values"_L1).toObject(),
             with(answersFor(u"phq9"_s, {3, 3, 2, 2, 1, 1, 0, 0, 2}), u"phq9_q10"_s, 1));
}

QTEST_GUILESS_MAIN(TstQuestionnaireScorer)
#include "tst_questionnairescorer.moc"
