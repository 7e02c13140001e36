#include "compositionroot.h"

#include "logging.h"
#include "serverhost.h"
#include "settings.h"
#include "statuswindow.h"
#include "submissionstore.h"
#include "unixsignalwatcher.h"

#include <QApplication>
#include <QDir>
#include <QTextStream>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

CompositionRoot::CompositionRoot(const CommandLine &commandLine, QObject *parent)
    : QObject(parent)
    , m_commandLine(commandLine)
{}

CompositionRoot::~CompositionRoot()
{
    m_window.reset();
    m_host.reset();
}

int CompositionRoot::run(bool withWindow)
{
    QTextStream err(stderr);
    QTextStream out(stdout);
    auto settings = Settings::load(m_commandLine.configFile, m_commandLine.overrides);
    if (!settings) {
        err << "siterelay: " << settings.error().message << Qt::endl;
        return 2;
    }
    if (!QDir().mkpath(m_commandLine.dataDir)) {
        err << "siterelay: cannot create the data folder " << m_commandLine.dataDir << Qt::endl;
        return 1;
    }

    ServerHost::Options options;
    options.settings = *settings;
    options.dataDir = m_commandLine.dataDir;
    auto host = ServerHost::start(options);
    if (!host) {
        err << "siterelay: " << host.error().message << Qt::endl;
        return 1;
    }
    m_host = std::move(host).value();
    out << "SiteRelay " << QCoreApplication::applicationVersion() << " listening on " << m_host->url() << Qt::endl;
    out << "Data folder: " << QDir(m_commandLine.dataDir).absolutePath() << Qt::endl;

    m_signals = std::make_unique<UnixSignalWatcher>();
    connect(m_signals.get(), &UnixSignalWatcher::terminationRequested, this, [this](int signalNumber) {
        qCInfo(lcApp) << "received signal" << signalNumber;
        requestShutdown();
    });
    connect(m_host.get(), &ServerHost::stopped, QCoreApplication::instance(), &QCoreApplication::quit,
            Qt::QueuedConnection);

    if (withWindow) {
        m_window = std::make_unique<StatusWindow>(m_host->url(), QDir(m_commandLine.dataDir).absolutePath());
        connect(&m_host->store(), &SubmissionStore::committed, m_window.get(), &StatusWindow::addCommittedWrites,
                Qt::QueuedConnection);
        qApp->setQuitOnLastWindowClosed(false);
        connect(qApp, &QGuiApplication::lastWindowClosed, this, &CompositionRoot::requestShutdown);
        m_window->show();
    }
    const int code = QCoreApplication::exec();
    m_window.reset();
    m_host.reset();
    return code;
}

void CompositionRoot::requestShutdown()
{
    if (m_host)
        m_host->stop();
}

} // namespace SiteRelay
