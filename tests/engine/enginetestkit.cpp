#include "enginetestkit.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay::Test::EngineKit {
namespace {

QList<QPair<QByteArray, QByteArray>> headers(const QByteArray &token)
{
    QList<QPair<QByteArray, QByteArray>> list = {{"Content-Type", "application/json"}};
    if (!token.isEmpty())
        list.append({"Authorization", "Bearer " + token});
    return list;
}

} // namespace

QJsonObject uniformAnswers(const QString &questionnaireId, int value)
{
    const int items = questionnaireId == "gad7"_L1 ? 7 : 9;
    QJsonObject answers;
    for (int i = 1; i <= items; ++i)
        answers.insert(u"%1_q%2"_s.arg(questionnaireId).arg(i), value);
    return answers;
}

QByteArray submissionBody(const QString &submissionId, const QString &questionnaireId, const QJsonObject &answers,
                          const QString &patientId)
{
    const QJsonObject body{
        {u"submissionId"_s, submissionId},
        {u"patientId"_s, patientId},
        {u"trialId"_s, u"TRIAL-ENG"_s},
        {u"questionnaireId"_s, questionnaireId},
        {u"completedAt"_s, QString::fromLatin1(CompletedAt)},
        {u"answers"_s, answers},
    };
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QString newSubmissionId()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

RawResponse post(quint16 port, const QByteArray &path, const QByteArray &token, const QByteArray &body, int timeoutMs)
{
    RawHttpClient client;
    if (!client.connectTo(port))
        return {};
    client.send(RawHttpClient::request("POST", path, body, headers(token)));
    return client.readResponse(timeoutMs);
}

RawResponse postSubmission(quint16 port, const QByteArray &token, const QByteArray &body)
{
    return post(port, "/api/v1/submissions", token, body);
}

QString submit(quint16 port, const QByteArray &token, const QString &questionnaireId, const QJsonObject &answers)
{
    const QString id = newSubmissionId();
    const RawResponse response = postSubmission(port, token, submissionBody(id, questionnaireId, answers));
    if (response.status != 202) {
        qWarning("submit answered %d: %s", response.status, response.body.constData());
        return {};
    }
    return id;
}

QJsonObject status(quint16 port, const QByteArray &token, const QString &submissionId)
{
    const RawResponse response = RawHttpClient::exchange(port, "GET", "/api/v1/submissions/" + submissionId.toLatin1(),
                                                         {}, {{"Authorization", "Bearer " + token}});
    return response.status == 200 ? response.json() : QJsonObject();
}

QString stateOf(quint16 port, const QByteArray &token, const QString &submissionId)
{
    const QJsonObject object = status(port, token, submissionId);
    return object.isEmpty() ? u"<no answer>"_s : object.value("status"_L1).toString();
}

QJsonObject stats(quint16 port)
{
    const RawResponse response = RawHttpClient::exchange(port, "GET", "/api/v1/stats");
    return response.status == 200 ? response.json() : QJsonObject();
}

QJsonObject engineStats(quint16 port)
{
    return stats(port).value("engine"_L1).toObject();
}

qint64 submissionsIn(quint16 port, const QString &state)
{
    return stats(port).value("submissions"_L1).toObject().value(state).toInteger(-1);
}

QStringList attemptOutcomes(const QJsonObject &status)
{
    QStringList outcomes;
    const QJsonArray attempts = status.value("attempts"_L1).toArray();
    for (const QJsonValue &attempt : attempts)
        outcomes.append(attempt.toObject().value("outcome"_L1).toString(u"<open>"_s));
    return outcomes;
}

QList<QVariantList> query(const QString &databasePath, const QString &sql, const QVariantList &binds, QString *error)
{
    const QString name = u"engine-test-"_s + QUuid::createUuid().toString(QUuid::Id128);
    QList<QVariantList> rows;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
        db.setDatabaseName(databasePath);
        db.setConnectOptions(u"QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=5000"_s);
        if (!db.open()) {
            if (error)
                *error = db.lastError().text();
        } else {
            QSqlQuery statement(db);
            statement.prepare(sql);
            for (const QVariant &bind : binds)
                statement.addBindValue(bind);
            if (!statement.exec()) {
                if (error)
                    *error = statement.lastError().text();
                else
                    qWarning("query failed: %s: %s", qPrintable(sql), qPrintable(statement.lastError().text()));
            }
            while (statement.next()) {
                QVariantList row;
                for (int i = 0; i < statement.record().count(); ++i)
                    row.append(statement.value(i));
                rows.append(row);
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return rows;
}

QVariant scalar(const QString &databasePath, const QString &sql, const QVariantList &binds)
{
    const QList<QVariantList> rows = query(databasePath, sql, binds);
    return rows.isEmpty() || rows.first().isEmpty() ? QVariant() : rows.first().first();
}

qint64 tokenDeviceId(const QByteArray &token)
{
    return token.split('_').value(1).toLongLong();
}

QString fileSha256(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file))
        return {};
    return QString::fromLatin1(hash.result().toHex());
}

} // namespace SiteRelay::Test::EngineKit
