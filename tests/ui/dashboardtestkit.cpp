#include "dashboardtestkit.h"

#include "rawhttpclient.h"

#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay::Test {
namespace {

QJsonObject phq9Answers(int firstAnswer, int item9)
{
    QJsonObject answers;
    for (int i = 1; i <= 9; ++i)
        answers.insert(u"phq9_q%1"_s.arg(i), i == 1 ? firstAnswer : i == 9 ? item9 : 0);
    return answers;
}

} // namespace

NewSubmission phq9Submission(qint64 deviceId, const QString &patientId, int firstAnswer, int item9,
                             const QString &completedAt)
{
    NewSubmission submission;
    submission.submissionId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    submission.deviceId = deviceId;
    submission.patientId = patientId;
    submission.trialId = u"TRIAL-7"_s;
    submission.questionnaireId = u"phq9"_s;
    submission.completedAt = completedAt;
    submission.answers = phq9Answers(firstAnswer, item9);
    return submission;
}

QByteArray phq9Body(const QString &patientId, int firstAnswer, int item9, const QString &completedAt)
{
    const QJsonObject body{
        {u"submissionId"_s, QUuid::createUuid().toString(QUuid::WithoutBraces)},
        {u"patientId"_s, patientId},
        {u"trialId"_s, u"TRIAL-7"_s},
        {u"questionnaireId"_s, u"phq9"_s},
        {u"completedAt"_s, completedAt},
        {u"answers"_s, phq9Answers(firstAnswer, item9)},
    };
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QFuture<Expected<SubmissionReceipt>> appendAll(SubmissionStore &store, const QList<NewSubmission> &submissions)
{
    QFuture<Expected<SubmissionReceipt>> last;
    for (const NewSubmission &submission : submissions)
        last = store.append(submission);
    return last;
}

QFuture<Expected<Done>> setState(SubmissionStore &store, const QString &submissionId, const QString &state)
{
    return store.submit<Done>([submissionId, state](QSqlDatabase &db) -> Expected<Done> {
        QSqlQuery query(db);
        query.prepare(u"UPDATE submissions SET state = ? WHERE submission_id = ?"_s);
        query.addBindValue(state);
        query.addBindValue(submissionId);
        if (!query.exec())
            return Error{ErrorCode::StorageUnavailable, query.lastError().text()};
        return Done{};
    });
}

int postSubmission(quint16 port, const QByteArray &token, const QByteArray &body)
{
    const RawResponse response =
        RawHttpClient::exchange(port, "POST", "/api/v1/submissions", body,
                                {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
    return response.status;
}

} // namespace SiteRelay::Test
