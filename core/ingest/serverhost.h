#pragma once

#include "clock.h"
#include "expected.h"
#include "settings.h"

#include <QFuture>
#include <QHostAddress>
#include <QObject>
#include <QThread>

#include <memory>

namespace SiteRelay {

class IngestServer;
class QuestionnaireCatalog;
class SubmissionStore;
class TaskEngine;

/**
 * The headless service: the store (writer thread) and the ingest server (its own thread), built,
 * wired and shut down in the right order. The composition root (app/) and the tests use it.
 * Create and destroy it on one thread (the main thread).
 */
class ServerHost final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerHost)
public:
    struct Options
    {
        Settings settings;
        QString dataDir;
        std::shared_ptr<Clock> clock = Clock::system();
    };

    /// Opens the database in dataDir, starts the server thread and listens. Blocks until listening.
    static Expected<std::unique_ptr<ServerHost>> start(const Options &options);
    /// Shuts down if stop() was not awaited (blocking).
    ~ServerHost() override;

    quint16 port() const { return m_port; }
    QHostAddress address() const { return m_address; }
    /// "http://ADDR:PORT" as printed at start.
    QString url() const;
    SubmissionStore &store() { return *m_store; }
    /// The processing engine (thread-safe calls only: cancel, requeue, snapshot), or null.
    TaskEngine *engine() { return m_engine; }
    const QuestionnaireCatalog &catalog() const { return *m_catalog; }
    static QString databasePath(const QString &dataDir);

    /**
     * Stops accepting, lets every request already handed to the store get its answer (up to
     * @p graceMs), closes connections, stops the server thread and closes the store. Emits
     * stopped() when done. Safe to call twice.
     */
    void stop(int graceMs = 5000);

Q_SIGNALS:
    void stopped();

private:
    ServerHost() = default;
    void stopEngine();
    void finishStop();

    Options m_options;
    std::unique_ptr<QuestionnaireCatalog> m_catalog;
    std::unique_ptr<SubmissionStore> m_store;
    std::unique_ptr<QThread> m_serverThread;
    IngestServer *m_server = nullptr; ///< lives on m_serverThread
    std::unique_ptr<QThread> m_engineThread;
    TaskEngine *m_engine = nullptr; ///< lives on m_engineThread; null when engine/enabled is false
    bool m_engineStopping = false;
    QHostAddress m_address;
    quint16 m_port = 0;
    bool m_stopping = false;
    bool m_stopped = false;
};

} // namespace SiteRelay
