#include "exporttestkit.h"

#include "questionnairecatalog.h"
#include "rawhttpclient.h"
#include "testserver.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QUuid>
#include <QtTest>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay::Test::ExportKit {
namespace {

/// How long the engine may take to process what postSubmissions() posted, on a loaded CI machine.
constexpr int SettleMs = 30000;

QString databasePath(const QString &dataDir)
{
    return QDir(dataDir).filePath(u"siterelay.sqlite"_s);
}

} // namespace

QByteArray bodyFor(const QuestionnaireCatalog &catalog, const Posted &posted)
{
    const Questionnaire *q = catalog.find(posted.questionnaireId);
    QJsonObject answers;
    for (const QuestionnaireItem &item : q->items)
        answers.insert(item.id, qMin(posted.value, item.options.constLast().value));
    return QJsonDocument(QJsonObject{{u"submissionId"_s, QUuid::createUuid().toString(QUuid::WithoutBraces)},
                                     {u"patientId"_s, posted.patientId},
                                     {u"trialId"_s, posted.trialId},
                                     {u"questionnaireId"_s, posted.questionnaireId},
                                     {u"completedAt"_s, posted.completedAt},
                                     {u"answers"_s, answers}})
        .toJson(QJsonDocument::Compact);
}

void postSubmissions(const QString &dataDir, const QList<Posted> &submissions, bool process)
{
    const auto catalog = QuestionnaireCatalog::loadBuiltIn();
    QVERIFY(catalog);
    QHash<QString, QString> overrides;
    if (process) {
        // No analysis url and no PDF: processing is validate and score only, fast and local.
        overrides = {{u"engine/enabled"_s, u"true"_s}, {u"report/enabled"_s, u"false"_s}};
    }
    TestServer server(overrides, dataDir);
    QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));
    for (const Posted &posted : submissions) {
        const RawResponse response = RawHttpClient::exchange(
            server.port(), "POST", "/api/v1/submissions", bodyFor(*catalog, posted),
            {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + server.deviceToken()}});
        QCOMPARE(response.status, 202);
    }
    if (process)
        QTRY_COMPARE_WITH_TIMEOUT(server.countRows(u"submissions"_s, u"state <> 'processed'"_s), 0, SettleMs);
}

QVariant scalarValue(const QString &dataDir, const QString &sql)
{
    QVariant value;
    const QString connection = u"exporttestkit_scalar"_s;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, connection);
        db.setDatabaseName(databasePath(dataDir));
        if (db.open()) {
            QSqlQuery query(db);
            if (query.exec(sql) && query.next())
                value = query.value(0);
        }
    }
    QSqlDatabase::removeDatabase(connection);
    return value;
}

qint64 scalar(const QString &dataDir, const QString &sql)
{
    const QVariant value = scalarValue(dataDir, sql);
    return value.isValid() ? value.toLongLong() : -1;
}

bool execute(const QString &dataDir, const QString &sql)
{
    bool ok = false;
    const QString connection = u"exporttestkit_execute"_s;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, connection);
        db.setDatabaseName(databasePath(dataDir));
        ok = db.open() && QSqlQuery(db).exec(sql);
    }
    QSqlDatabase::removeDatabase(connection);
    return ok;
}

std::unique_ptr<QTemporaryDir> freshDataDir(const QString &templateDir)
{
    auto dir = std::make_unique<QTemporaryDir>();
    // The template server closed cleanly, so the database is whole in its main file (WAL checkpointed);
    // copy any WAL too in case it was left.
    const QDir source(templateDir);
    for (const char *suffix : {"", "-wal", "-shm"}) {
        const QString name = u"siterelay.sqlite"_s + QLatin1StringView(suffix);
        if (QFile::exists(source.filePath(name)))
            QFile::copy(source.filePath(name), dir->filePath(name));
    }
    return dir;
}

bool writeTokenFile(const QString &path, const QByteArray &token)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    const QByteArray line = token + '\n';
    return file.write(line) == line.size() && file.flush();
}

} // namespace SiteRelay::Test::ExportKit
