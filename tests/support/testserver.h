#pragma once

#include "serverhost.h"

#include <QHash>
#include <QTemporaryDir>

#include <memory>

namespace SiteRelay::Test {

/**
 * A real SiteRelay service in this process for a test: store (writer thread) and ingest server
 * (server thread) on 127.0.0.1 and a free port, with a database in a fresh temporary folder, and
 * one device token and one coordinator token. Create it on the test's main thread.
 */
class TestServer
{
public:
    /// @p overrides are settings as for --set ("ingest/idleTimeoutMs" → "500").
    explicit TestServer(const QHash<QString, QString> &overrides = {}, const QString &dataDir = {});
    ~TestServer();

    bool isRunning() const { return m_host != nullptr; }
    QString errorMessage() const { return m_error; }
    quint16 port() const;
    QString dataDir() const { return m_dataDir; }
    QString databasePath() const;
    ServerHost &host() { return *m_host; }

    QByteArray deviceToken() const { return m_deviceToken; }
    QByteArray coordinatorToken() const { return m_coordinatorToken; }
    /// Adds another device (or coordinator) and returns its token and id.
    QPair<qint64, QByteArray> addDevice(const QString &name, bool coordinator = false);

    /// Stops the server (as on SIGTERM) and waits until it has stopped.
    void stop();

    /// Rows in a table of the database, counted through a separate connection.
    qint64 countRows(const QString &table, const QString &where = {}) const;

    /// A valid API v1 submission body; @p submissionId empty → a new UUID.
    static QByteArray submissionBody(const QString &submissionId = {},
                                     const QString &patientId = QStringLiteral("P-001"), int firstAnswer = 1);

private:
    std::unique_ptr<QTemporaryDir> m_tempDir;
    QString m_dataDir;
    std::unique_ptr<ServerHost> m_host;
    QString m_error;
    QByteArray m_deviceToken;
    QByteArray m_coordinatorToken;
};

} // namespace SiteRelay::Test
