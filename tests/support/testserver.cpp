#include "testserver.h"

#include "settings.h"
#include "submissionstore.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay::Test {

TestServer::TestServer(const QHash<QString, QString> &overrides, const QString &dataDir)
{
    if (dataDir.isEmpty()) {
        m_tempDir = std::make_unique<QTemporaryDir>();
        m_dataDir = m_tempDir->path();
    } else {
        m_dataDir = dataDir;
    }
    // Ingest tests look at submissions as stored; the engine would move them on. Engine tests
    // switch it on with engine/enabled=true.
    QHash<QString, QString> all = {
        {u"server/bind"_s, u"127.0.0.1"_s}, {u"server/port"_s, u"0"_s}, {u"engine/enabled"_s, u"false"_s}};
    for (auto it = overrides.cbegin(); it != overrides.cend(); ++it)
        all.insert(it.key(), it.value());
    auto settings = Settings::load(QString(), all);
    if (!settings) {
        m_error = settings.error().message;
        return;
    }
    ServerHost::Options options;
    options.settings = *settings;
    options.dataDir = m_dataDir;
    auto host = ServerHost::start(options);
    if (!host) {
        m_error = host.error().message;
        return;
    }
    m_host = std::move(host).value();
    m_deviceToken = addDevice(u"tablet-1"_s).second;
    m_coordinatorToken = addDevice(u"coordinator"_s, true).second;
}

TestServer::~TestServer()
{
    stop();
}

quint16 TestServer::port() const
{
    return m_host ? m_host->port() : 0;
}

QString TestServer::databasePath() const
{
    return ServerHost::databasePath(m_dataDir);
}

QPair<qint64, QByteArray> TestServer::addDevice(const QString &name, bool coordinator)
{
    const auto added =
        m_host->store().addDevice(name, coordinator ? DeviceRole::Coordinator : DeviceRole::Device, u"test"_s).result();
    if (!added)
        return {0, {}};
    return {added->record.id, added->token.toLatin1()};
}

void TestServer::stop()
{
    if (!m_host)
        return;
    QSignalSpy stopped(m_host.get(), &ServerHost::stopped);
    m_host->stop();
    stopped.wait(10000);
    m_host.reset();
}

qint64 TestServer::countRows(const QString &table, const QString &where) const
{
    const QString name = u"test-count-"_s + QUuid::createUuid().toString(QUuid::Id128);
    qint64 count = -1;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
        db.setDatabaseName(databasePath());
        db.setConnectOptions(u"QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=5000"_s);
        if (db.open()) {
            QSqlQuery query(db);
            if (query.exec(
                    u"SELECT count(*) FROM %1%2"_s.arg(table, where.isEmpty() ? QString() : u" WHERE "_s + where)) &&
                query.next())
                count = query.value(0).toLongLong();
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return count;
}

QByteArray TestServer::submissionBody(const QString &submissionId, const QString &patientId, int firstAnswer)
{
    QJsonObject answers;
    for (int i = 1; i <= 9; ++i)
        answers.insert(u"phq9_q%1"_s.arg(i), i == 1 ? firstAnswer : 0);
    const QJsonObject body{
        {u"submissionId"_s, submissionId.isEmpty() ? QUuid::createUuid().toString(QUuid::WithoutBraces) : submissionId},
        {u"patientId"_s, patientId},
        {u"trialId"_s, u"TRIAL-7"_s},
        {u"questionnaireId"_s, u"phq9"_s},
        {u"completedAt"_s, u"2026-11-26T09:30:00+01:00"_s},
        {u"answers"_s, answers},
    };
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

} // namespace SiteRelay::Test
