#pragma once

#include "commandline.h"

#include <QObject>

#include <memory>

namespace SiteRelay {

class ServerHost;
class Dashboard;
class UnixSignalWatcher;

/**
 * Builds and wires the parts of a running SiteRelay and owns the shutdown order: stop accepting →
 * answer what is being stored → close connections → drain the writer → close the database.
 * Lives on the main (GUI) thread.
 */
class CompositionRoot final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CompositionRoot)
public:
    explicit CompositionRoot(const CommandLine &commandLine, QObject *parent = nullptr);
    ~CompositionRoot() override;

    /// Starts everything and runs the event loop until shut down; returns the exit code.
    int run(bool withWindow);

private:
    void requestShutdown();

    CommandLine m_commandLine;
    std::unique_ptr<ServerHost> m_host;
    std::unique_ptr<Dashboard> m_dashboard;
    std::unique_ptr<UnixSignalWatcher> m_signals;
};

} // namespace SiteRelay
