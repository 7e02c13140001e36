#include "submissionparser.h"

#include "clock.h"
#include "questionnairecatalog.h"
#include "strictjsonvalidator.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// A completion time further ahead than this is a wrong tablet clock, not a real answer time.
constexpr qint64 MaxFutureSkewSeconds = 24 * 3600;

Expected<QJsonObject> parseObject(QByteArrayView body)
{
    if (auto valid = StrictJsonValidator::validate(body); !valid) {
        Error error = valid.error();
        error.reason = u"malformed_json"_s;
        return error;
    }
    // Valid JSON that is not an object (a number, a string, ...) is the caller's mistake of shape,
    // not of syntax; QJsonDocument would call a top-level scalar malformed, so decide it here.
    const QByteArrayView trimmed = body.trimmed();
    if (trimmed.isEmpty() || trimmed.front() != '{')
        return Error::invalid(QString(), u"the body must be a JSON object"_s, u"not_an_object"_s);
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return Error::invalid(QString(), u"invalid JSON: %1"_s.arg(parseError.errorString()), u"malformed_json"_s);
    if (!document.isObject())
        return Error::invalid(QString(), u"the body must be a JSON object"_s, u"not_an_object"_s);
    return document.object();
}

Expected<Done> rejectUnknownFields(const QJsonObject &object, std::initializer_list<QLatin1StringView> known)
{
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
            QStringList names;
            for (const auto &name : known)
                names.append(name);
            return Error::invalid(it.key(),
                                  u"unknown field \"%1\"; the fields are %2"_s.arg(it.key(), names.join(u", "_s)),
                                  u"unknown_field"_s);
        }
    }
    return Done{};
}

Expected<QString> requireString(const QJsonObject &object, QLatin1StringView name)
{
    const QJsonValue value = object.value(name);
    if (value.isUndefined())
        return Error::invalid(name, u"%1 is required"_s.arg(name), u"missing_field"_s);
    if (!value.isString())
        return Error::invalid(name, u"%1 must be a string"_s.arg(name), u"invalid_field"_s);
    return value.toString();
}

Expected<QString> requireIdentifier(const QJsonObject &object, QLatin1StringView name)
{
    auto text = requireString(object, name);
    if (!text)
        return text;
    if (!SubmissionParser::isValidIdentifier(*text))
        return Error::invalid(name,
                              u"%1 must be 1 to 64 characters, each a letter, a digit, '.', '_' or '-'"_s.arg(name),
                              u"invalid_field"_s);
    return text;
}

Expected<QString> requireCompletedAt(const QJsonObject &object, const QDateTime &nowUtc)
{
    constexpr auto name = "completedAt"_L1;
    auto text = requireString(object, name);
    if (!text)
        return text;
    const QDateTime completed = SubmissionParser::parseRfc3339(*text);
    if (!completed.isValid())
        return Error::invalid(
            name, u"completedAt must be an RFC 3339 date-time with an offset, e.g. 2026-11-26T09:30:00+01:00"_s,
            u"invalid_field"_s);
    if (completed.secsTo(nowUtc) < -MaxFutureSkewSeconds)
        return Error::invalid(name, u"completedAt is more than a day in the future; check the tablet's clock"_s,
                              u"invalid_field"_s);
    return toIsoUtc(completed);
}

Expected<QString> requireQuestionnaire(const QJsonObject &object, const QuestionnaireCatalog &catalog,
                                       QLatin1StringView name)
{
    auto id = requireString(object, name);
    if (!id)
        return id;
    if (!catalog.find(*id))
        return Error::invalid(
            name, u"unknown questionnaire \"%1\"; this site knows %2"_s.arg(*id, catalog.ids().join(u", "_s)),
            u"unknown_questionnaire"_s);
    return id;
}

} // namespace

SubmissionParser::SubmissionParser(const QuestionnaireCatalog &catalog)
    : m_catalog(catalog)
{}

bool SubmissionParser::isValidIdentifier(QStringView id)
{
    if (id.isEmpty() || id.size() > 64)
        return false;
    for (const QChar c : id) {
        const char16_t u = c.unicode();
        const bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '.' ||
                        u == '_' || u == '-';
        if (!ok)
            return false;
    }
    return true;
}

QDateTime SubmissionParser::parseRfc3339(QStringView text)
{
    static const QRegularExpression pattern(
        u"^(\\d{4})-(\\d{2})-(\\d{2})[Tt](\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,9}))?(?:([Zz])|([+-])(\\d{2}):(\\d{2}))$"_s);
    const auto match = pattern.match(text);
    if (!match.hasMatch())
        return {};
    const auto number = [&match](int group) { return match.capturedView(group).toInt(); };
    const QDate date(number(1), number(2), number(3));
    const int seconds = number(6);
    // 60 is a leap second in RFC 3339; QTime cannot hold it, so it counts as the next second's start.
    const QTime time(number(4), number(5), qMin(seconds, 59));
    if (!date.isValid() || !time.isValid() || seconds > 60)
        return {};
    const int millis = match.capturedView(7).isEmpty() ? 0 : match.captured(7).left(3).leftJustified(3, u'0').toInt();
    int offsetSeconds = 0;
    if (match.capturedView(8).isEmpty()) {
        const int hours = number(10);
        const int minutes = number(11);
        if (hours > 23 || minutes > 59)
            return {};
        offsetSeconds = (hours * 3600 + minutes * 60) * (match.capturedView(9) == u"-"_s ? -1 : 1);
    }
    QDateTime result(date, time.addMSecs(millis), Qt::OffsetFromUTC, offsetSeconds);
    if (seconds == 60)
        result = result.addSecs(1);
    return result.toUTC();
}

Expected<NewSubmission> SubmissionParser::parseApiV1(QByteArrayView body, qint64 deviceId,
                                                     const QDateTime &nowUtc) const
{
    auto object = parseObject(body);
    if (!object)
        return object.error();
    if (auto known = rejectUnknownFields(*object, {"submissionId"_L1, "patientId"_L1, "trialId"_L1,
                                                   "questionnaireId"_L1, "completedAt"_L1, "answers"_L1});
        !known)
        return known.error();

    NewSubmission submission;
    submission.deviceId = deviceId;
    submission.source = SubmissionSource::ApiV1;

    auto id = requireString(*object, "submissionId"_L1);
    if (!id)
        return id.error();
    const QUuid uuid = QUuid::fromString(*id);
    if (id->size() != 36 || uuid.isNull())
        return Error::invalid(u"submissionId"_s,
                              u"submissionId must be a UUID like 3f2b8c1e-9d4a-4e7b-a1c2-5d6e7f809a1b"_s,
                              u"invalid_field"_s);
    submission.submissionId = uuid.toString(QUuid::WithoutBraces);

    auto patient = requireIdentifier(*object, "patientId"_L1);
    if (!patient)
        return patient.error();
    submission.patientId = *patient;
    auto trial = requireIdentifier(*object, "trialId"_L1);
    if (!trial)
        return trial.error();
    submission.trialId = *trial;
    auto questionnaire = requireQuestionnaire(*object, m_catalog, "questionnaireId"_L1);
    if (!questionnaire)
        return questionnaire.error();
    submission.questionnaireId = *questionnaire;
    auto completed = requireCompletedAt(*object, nowUtc);
    if (!completed)
        return completed.error();
    submission.completedAt = *completed;

    const QJsonValue answers = object->value("answers"_L1);
    if (answers.isUndefined())
        return Error::invalid(u"answers"_s, u"answers is required"_s, u"missing_field"_s);
    if (!answers.isObject())
        return Error::invalid(u"answers"_s, u"answers must be an object of item id to value"_s, u"invalid_field"_s);
    submission.answers = answers.toObject();
    return submission;
}

Expected<NewSubmission> SubmissionParser::parseLegacy(QByteArrayView body, qint64 deviceId,
                                                      const QDateTime &nowUtc) const
{
    auto object = parseObject(body);
    if (!object)
        return object.error();
    if (auto known = rejectUnknownFields(*object, {"patientId"_L1, "trialId"_L1, "reportData"_L1}); !known)
        return known.error();

    NewSubmission submission;
    submission.deviceId = deviceId;
    submission.source = SubmissionSource::LegacySubmit;
    auto patient = requireIdentifier(*object, "patientId"_L1);
    if (!patient)
        return patient.error();
    submission.patientId = *patient;
    auto trial = requireIdentifier(*object, "trialId"_L1);
    if (!trial)
        return trial.error();
    submission.trialId = *trial;

    auto reportText = requireString(*object, "reportData"_L1);
    if (!reportText)
        return reportText.error();
    const QByteArray reportBytes = reportText->toUtf8();
    auto report = parseObject(reportBytes);
    if (!report) {
        Error error = report.error();
        error.field = u"reportData"_s;
        error.message = u"reportData must be a string holding a JSON object: "_s + error.message;
        return error;
    }
    if (report->contains("questionnaireId"_L1)) {
        auto questionnaire = requireQuestionnaire(*report, m_catalog, "questionnaireId"_L1);
        if (!questionnaire) {
            Error error = questionnaire.error();
            error.field = u"reportData.questionnaireId"_s;
            return error;
        }
        submission.questionnaireId = *questionnaire;
    }
    if (report->contains("completedAt"_L1)) {
        auto completed = requireCompletedAt(*report, nowUtc);
        if (!completed) {
            Error error = completed.error();
            error.field = u"reportData.completedAt"_s;
            return error;
        }
        submission.completedAt = *completed;
    }
    // Without a completedAt the store records the receipt time, the closest fact there is; it is
    // left empty here so that a resend hashes the same.
    const QJsonValue answers = report->value("answers"_L1);
    submission.answers = answers.isObject() ? answers.toObject() : *report;

    // Derive the idempotency key from what the device sent (not from receipt time), so a resend
    // of the same report maps to the same submissionId.
    static const QUuid legacyNamespace(u"6f1c4a52-3b1e-4c55-9a5e-2a7d2d1f0c11"_s);
    const QByteArray identity = QByteArray::number(deviceId) + '\n' + submission.patientId.toUtf8() + '\n' +
                                submission.trialId.toUtf8() + '\n' + reportBytes;
    submission.submissionId = QUuid::createUuidV5(legacyNamespace, identity).toString(QUuid::WithoutBraces);
    return submission;
}

} // namespace SiteRelay
