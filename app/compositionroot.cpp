#include "compositionroot.h"

#include "dashboard.h"
#include "enrollmentaddresses.h"
#include "logging.h"
#include "serverhost.h"
#include "settings.h"
#include "submissionstore.h"
#include "taskengine.h"
#include "unixsignalwatcher.h"

#include <QApplication>
#include <QDir>
#include <QTextStream>
#include <QUrl>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// Where tablets reach this server: the configured site URL, else every LAN address it listens on.
QStringList enrollmentSiteUrls(const Settings &settings, const QString &listenUrl)
{
    const QString configured = settings.text(SettingKey::TabletSiteUrl);
    if (!configured.isEmpty())
        return {configured};
    const QUrl url(listenUrl);
    return EnrollmentAddresses::siteUrls(QHostAddress(settings.text(SettingKey::ServerBind)), quint16(url.port()));
}

} // namespace

CompositionRoot::CompositionRoot(const CommandLine &commandLine, QObject *parent)
    : QObject(parent)
    , m_commandLine(commandLine)
{}

CompositionRoot::~CompositionRoot()
{
    m_dashboard.reset();
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
        Dashboard::Context context;
        context.store = &m_host->store();
        context.engine = m_host->engine();
        context.catalog = &m_host->catalog();
        context.settings = *settings;
        context.dataDir = QDir(m_commandLine.dataDir).absolutePath();
        context.listenUrls = {m_host->url()};
        context.enrollmentSiteUrls = enrollmentSiteUrls(*settings, m_host->url());
        // Read on the GUI thread at each refresh: atomics only. The engine is gone once the host stopped.
        context.workerLoad = [host = m_host.get()] {
            WorkerLoad load;
            if (TaskEngine *engine = host->engine()) {
                const EngineSnapshot snapshot = engine->snapshot();
                load = WorkerLoad{true, snapshot.workersActive, snapshot.workersMax};
            }
            return load;
        };
        m_dashboard = std::make_unique<Dashboard>(std::move(context));
        connect(&m_host->store(), &SubmissionStore::committed, m_dashboard.get(), &Dashboard::storeChanged,
                Qt::QueuedConnection);
        if (TaskEngine *engine = m_host->engine())
            connect(engine, &TaskEngine::taskChanged, m_dashboard.get(), &Dashboard::storeChanged,
                    Qt::QueuedConnection);
        qApp->setQuitOnLastWindowClosed(false);
        connect(qApp, &QGuiApplication::lastWindowClosed, this, &CompositionRoot::requestShutdown);
        m_dashboard->window()->show();
    }
    const int code = QCoreApplication::exec();
    m_dashboard.reset();
    m_host.reset();
    return code;
}

void CompositionRoot::requestShutdown()
{
    if (m_host)
        m_host->stop();
}

} // namespace SiteRelay
