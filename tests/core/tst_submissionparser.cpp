// SubmissionParser: the envelope rules, RFC 3339 times and the legacy idempotency key.
#include "questionnairecatalog.h"
#include "submissionparser.h"

#include <QJsonDocument>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;

class TstSubmissionParser : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void rfc3339_data();
    void rfc3339();
    void identifiers_data();
    void identifiers();
    void normalisesTheEnvelope();
    void legacyKeyDependsOnDeviceAndContentOnly();

private:
    std::unique_ptr<QuestionnaireCatalog> m_catalog;
};

void TstSubmissionParser::initTestCase()
{
    auto catalog = QuestionnaireCatalog::loadBuiltIn();
    QVERIFY(catalog);
    m_catalog = std::make_unique<QuestionnaireCatalog>(std::move(catalog).value());
}

void TstSubmissionParser::rfc3339_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("utc"); // empty: must be rejected
    QTest::addRow("Z") << u"2026-11-26T09:30:00Z"_s << u"2026-11-26T09:30:00.000Z"_s;
    QTest::addRow("lower-case t and z") << u"2026-11-26t09:30:00z"_s << u"2026-11-26T09:30:00.000Z"_s;
    QTest::addRow("positive offset") << u"2026-11-26T09:30:00+01:00"_s << u"2026-11-26T08:30:00.000Z"_s;
    QTest::addRow("negative offset") << u"2026-11-26T09:30:00-05:30"_s << u"2026-11-26T15:00:00.000Z"_s;
    QTest::addRow("milliseconds") << u"2026-11-26T09:30:00.123Z"_s << u"2026-11-26T09:30:00.123Z"_s;
    QTest::addRow("nanoseconds truncated") << u"2026-11-26T09:30:00.123456789Z"_s << u"2026-11-26T09:30:00.123Z"_s;
    QTest::addRow("one fraction digit") << u"2026-11-26T09:30:00.5Z"_s << u"2026-11-26T09:30:00.500Z"_s;
    QTest::addRow("crosses midnight") << u"2026-01-01T00:30:00+02:00"_s << u"2025-12-31T22:30:00.000Z"_s;
    QTest::addRow("leap day") << u"2028-02-29T12:00:00Z"_s << u"2028-02-29T12:00:00.000Z"_s;
    QTest::addRow("no offset") << u"2026-11-26T09:30:00"_s << QString();
    QTest::addRow("date only") << u"2026-11-26"_s << QString();
    QTest::addRow("space separator") << u"2026-11-26 09:30:00Z"_s << QString();
    QTest::addRow("Feb 30") << u"2026-02-30T09:30:00Z"_s << QString();
    QTest::addRow("hour 24") << u"2026-11-26T24:00:00Z"_s << QString();
    QTest::addRow("offset hour 24") << u"2026-11-26T09:30:00+24:00"_s << QString();
    QTest::addRow("offset without colon") << u"2026-11-26T09:30:00+0100"_s << QString();
    QTest::addRow("empty fraction") << u"2026-11-26T09:30:00.Z"_s << QString();
    QTest::addRow("trailing text") << u"2026-11-26T09:30:00Z "_s << QString();
}

void TstSubmissionParser::rfc3339()
{
    QFETCH(QString, text);
    QFETCH(QString, utc);
    const QDateTime parsed = SubmissionParser::parseRfc3339(text);
    if (utc.isEmpty()) {
        QVERIFY2(!parsed.isValid(), qPrintable(parsed.toString(Qt::ISODateWithMs)));
    } else {
        QVERIFY(parsed.isValid());
        QCOMPARE(parsed.toString(Qt::ISODateWithMs), utc);
    }
}

void TstSubmissionParser::identifiers_data()
{
    QTest::addColumn<QString>("id");
    QTest::addColumn<bool>("valid");
    QTest::addRow("plain") << u"P-0042"_s << true;
    QTest::addRow("dots and underscores") << u"site.3_patient-7"_s << true;
    QTest::addRow("64 characters") << QString(64, u'a') << true;
    QTest::addRow("65 characters") << QString(65, u'a') << false;
    QTest::addRow("empty") << QString() << false;
    QTest::addRow("space") << u"P 1"_s << false;
    QTest::addRow("slash") << u"P/1"_s << false;
    QTest::addRow("umlaut") << u"Pä1"_s << false;
    QTest::addRow("newline") << u"P1\n"_s << false;
}

void TstSubmissionParser::identifiers()
{
    QFETCH(QString, id);
    QFETCH(bool, valid);
    QCOMPARE(SubmissionParser::isValidIdentifier(id), valid);
}

void TstSubmissionParser::normalisesTheEnvelope()
{
    const SubmissionParser parser(*m_catalog);
    const QByteArray body =
        R"({"submissionId":"3F2B8C1E-9D4A-4E7B-A1C2-5D6E7F809A1B","patientId":"P-1","trialId":"T",)"
        R"("questionnaireId":"gad7","completedAt":"2026-11-26T09:30:00+01:00","answers":{"gad7_q1":3}})";
    const auto parsed = parser.parseApiV1(body, 7, QDateTime::currentDateTimeUtc());
    QVERIFY2(parsed, parsed ? "" : qPrintable(parsed.error().message));
    QCOMPARE(parsed->submissionId, u"3f2b8c1e-9d4a-4e7b-a1c2-5d6e7f809a1b"_s);
    QCOMPARE(parsed->completedAt, u"2026-11-26T08:30:00.000Z"_s);
    QCOMPARE(parsed->deviceId, 7);
    QCOMPARE(parsed->answers.value("gad7_q1"_L1).toInt(), 3);
    // The content hash ignores key order and whitespace but not values or the device.
    const QByteArray reordered =
        R"({ "answers" : {"gad7_q1":3}, "completedAt":"2026-11-26T08:30:00Z","trialId":"T",)"
        R"("questionnaireId":"gad7","patientId":"P-1","submissionId":"3f2b8c1e-9d4a-4e7b-a1c2-5d6e7f809a1b"})";
    const auto same = parser.parseApiV1(reordered, 7, QDateTime::currentDateTimeUtc());
    QVERIFY(same);
    QCOMPARE(same->contentHash(), parsed->contentHash());
    const auto otherDevice = parser.parseApiV1(reordered, 8, QDateTime::currentDateTimeUtc());
    QVERIFY(otherDevice);
    QVERIFY(otherDevice->contentHash() != parsed->contentHash());
}

void TstSubmissionParser::legacyKeyDependsOnDeviceAndContentOnly()
{
    const SubmissionParser parser(*m_catalog);
    const QByteArray body = R"({"patientId":"P-1","trialId":"T","reportData":"{\"answers\":{\"phq9_q1\":1}}"})";
    const auto first = parser.parseLegacy(body, 3, QDateTime::currentDateTimeUtc());
    const auto later = parser.parseLegacy(body, 3, QDateTime::currentDateTimeUtc().addSecs(3600));
    QVERIFY(first && later);
    QCOMPARE(later->submissionId, first->submissionId);
    QCOMPARE(later->contentHash(), first->contentHash());
    const auto otherDevice = parser.parseLegacy(body, 4, QDateTime::currentDateTimeUtc());
    QVERIFY(otherDevice);
    QVERIFY(otherDevice->submissionId != first->submissionId);
    const auto unknownQuestionnaire =
        parser.parseLegacy(R"({"patientId":"P-1","trialId":"T","reportData":"{\"questionnaireId\":\"x\"}"})", 3,
                           QDateTime::currentDateTimeUtc());
    QVERIFY(!unknownQuestionnaire);
    QCOMPARE(unknownQuestionnaire.error().field, u"reportData.questionnaireId"_s);
}

QTEST_GUILESS_MAIN(TstSubmissionParser)
#include "tst_submissionparser.moc"
