#include "siterelayprocess.h"

#include "testpaths.h"

#include <QDeadlineTimer>
#include <QRegularExpression>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay::Test {

SiteRelayProcess::SiteRelayProcess(QString dataDir)
    : m_dataDir(std::move(dataDir))
{
    m_process.setProcessChannelMode(QProcess::MergedChannels);
}

SiteRelayProcess::~SiteRelayProcess()
{
    if (m_process.state() != QProcess::NotRunning)
        kill();
}

bool SiteRelayProcess::start(const QStringList &extraArguments, const QStringList &wrapper, int timeoutMs)
{
    m_output.clear();
    m_port = 0;
    QStringList arguments = {u"--headless"_s, u"--bind"_s,     u"127.0.0.1"_s, u"--port"_s,
                             u"0"_s,          u"--data-dir"_s, m_dataDir};
    arguments += extraArguments;
    if (wrapper.isEmpty()) {
        m_process.start(siterelayBinary(), arguments);
    } else {
        m_process.start(wrapper.first(), wrapper.mid(1) + QStringList{siterelayBinary()} + arguments);
    }
    if (!m_process.waitForStarted(5000))
        return false;
    static const QRegularExpression listening(u"listening on http://[^\\s:]+:(\\d+)"_s);
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired() && m_process.state() == QProcess::Running) {
        m_process.waitForReadyRead(100);
        m_output += m_process.readAll();
        const auto match = listening.match(QString::fromUtf8(m_output));
        if (match.hasMatch()) {
            m_port = quint16(match.captured(1).toUInt());
            return true;
        }
    }
    m_output += m_process.readAll();
    return false;
}

void SiteRelayProcess::kill()
{
    m_process.kill();
    m_process.waitForFinished(10000);
    m_output += m_process.readAll();
}

bool SiteRelayProcess::terminate(int timeoutMs)
{
    m_process.terminate();
    const bool finished = m_process.waitForFinished(timeoutMs);
    m_output += m_process.readAll();
    return finished;
}

int SiteRelayProcess::exitCode() const
{
    return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
}

int SiteRelayProcess::runCommand(const QString &dataDir, const QStringList &arguments, QByteArray *standardOutput,
                                 QByteArray *standardError)
{
    QProcess process;
    process.start(siterelayBinary(), arguments + QStringList{u"--data-dir"_s, dataDir});
    if (!process.waitForFinished(30000)) {
        process.kill();
        process.waitForFinished();
        return -1;
    }
    if (standardOutput)
        *standardOutput = process.readAllStandardOutput();
    if (standardError)
        *standardError = process.readAllStandardError();
    return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
}

QByteArray SiteRelayProcess::addDevice(const QString &dataDir, const QString &name, bool coordinator)
{
    QByteArray out;
    QStringList arguments = {u"device"_s, u"add"_s, name};
    if (coordinator)
        arguments += {u"--role"_s, u"coordinator"_s};
    if (runCommand(dataDir, arguments, &out) != 0)
        return {};
    return out.trimmed().split('\n').last().trimmed();
}

} // namespace SiteRelay::Test
