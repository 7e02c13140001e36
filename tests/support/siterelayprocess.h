#pragma once

#include <QProcess>
#include <QStringList>

namespace SiteRelay::Test {

/**
 * The real siterelay binary as a child process, for tests that kill and restart it. start() waits
 * for the "listening on http://ADDR:PORT" line and reads the port from it.
 */
class SiteRelayProcess
{
public:
    explicit SiteRelayProcess(QString dataDir);
    ~SiteRelayProcess();

    /// Starts `siterelay --headless --bind 127.0.0.1 --port 0 --data-dir DIR` plus @p extraArguments.
    /// @p wrapper (e.g. {"valgrind", "--error-exitcode=99"}) runs the binary under another program.
    bool start(const QStringList &extraArguments = {}, const QStringList &wrapper = {}, int timeoutMs = 20000);
    quint16 port() const { return m_port; }
    void kill();                           ///< SIGKILL, and wait for the process to be gone
    bool terminate(int timeoutMs = 20000); ///< SIGTERM; true if it exited by itself in time
    int exitCode() const;
    QByteArray output() const { return m_output; } ///< everything it printed (stdout and stderr)
    QProcess &process() { return m_process; }

    /// Runs `siterelay ARGS --data-dir DIR` to completion; returns exit code, fills stdout/stderr.
    static int runCommand(const QString &dataDir, const QStringList &arguments, QByteArray *standardOutput = nullptr,
                          QByteArray *standardError = nullptr);
    /// `siterelay device add NAME` and the token from the last line of its output.
    static QByteArray addDevice(const QString &dataDir, const QString &name, bool coordinator = false);

private:
    QString m_dataDir;
    QProcess m_process;
    QByteArray m_output;
    quint16 m_port = 0;
};

} // namespace SiteRelay::Test
