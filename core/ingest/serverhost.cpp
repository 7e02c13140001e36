#include "serverhost.h"

#include "ingestserver.h"
#include "logging.h"
#include "questionnairecatalog.h"
#include "submissionstore.h"
#include "taskengine.h"

#include <QDir>
#include <QTimer>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

QString ServerHost::databasePath(const QString &dataDir)
{
    return QDir(dataDir).filePath(u"siterelay.sqlite"_s);
}

Expected<std::unique_ptr<ServerHost>> ServerHost::start(const Options &options)
{
    std::unique_ptr<ServerHost> host(new ServerHost);
    host->m_options = options;

    auto catalog = QuestionnaireCatalog::loadBuiltIn();
    if (!catalog)
        return catalog.error();
    host->m_catalog = std::make_unique<QuestionnaireCatalog>(std::move(catalog).value());

    SubmissionStore::Options storeOptions;
    storeOptions.databasePath = databasePath(options.dataDir);
    storeOptions.synchronous = options.settings.text(SettingKey::StorageSynchronous);
    storeOptions.busyTimeoutMs = options.settings.integer(SettingKey::StorageBusyTimeoutMs);
    storeOptions.maxBatch = options.settings.integer(SettingKey::StorageMaxBatch);
    storeOptions.clock = options.clock;
    auto store = SubmissionStore::open(storeOptions);
    if (!store)
        return store.error();
    host->m_store = std::move(store).value();

    QHostAddress address;
    const QString bind = options.settings.text(SettingKey::ServerBind);
    if (!address.setAddress(bind))
        return Error::invalid(u"server/bind"_s, u"server/bind is not an IP address: \"%1\""_s.arg(bind));

    if (options.settings.flag(SettingKey::EngineEnabled)) {
        const Settings &settings = options.settings;
        TaskEngine::Options engineOptions;
        engineOptions.workers = settings.integer(SettingKey::EngineWorkers);
        engineOptions.maxInFlight = settings.integer(SettingKey::EngineMaxInFlight);
        engineOptions.maxConcurrentAnalysis = settings.integer(SettingKey::AnalysisMaxConcurrent);
        engineOptions.retry = {settings.integer(SettingKey::RetryBaseMs), settings.integer(SettingKey::RetryCapMs),
                               settings.integer(SettingKey::RetryMaxAttempts)};
        engineOptions.attempt.attemptDeadlineMs = settings.integer(SettingKey::EngineAttemptDeadlineMs);
        engineOptions.attempt.stageTimeoutMs = settings.integer(SettingKey::EngineStageTimeoutMs);
        engineOptions.attempt.reportEnabled = settings.flag(SettingKey::ReportEnabled);
        engineOptions.attempt.dataDir = options.dataDir;
        engineOptions.attempt.analysisUrl = QUrl(settings.text(SettingKey::AnalysisUrl));
        engineOptions.attempt.analysisToken = settings.text(SettingKey::AnalysisToken).toUtf8();
        engineOptions.attempt.analysisTimeoutMs = settings.integer(SettingKey::AnalysisTimeoutMs);
        engineOptions.attempt.externalCommand = settings.text(SettingKey::EngineExternalCheck);
        engineOptions.clock = options.clock;
        const QUrl url = engineOptions.attempt.analysisUrl;
        if (!url.isEmpty() && (!url.isValid() || (url.scheme() != "http"_L1 && url.scheme() != "https"_L1)))
            return Error::invalid(u"analysis/url"_s, u"analysis/url must be an http or https URL"_s);

        host->m_engineThread = std::make_unique<QThread>();
        host->m_engineThread->setObjectName(u"engine"_s);
        host->m_engineThread->start();
        auto *engineContext = new QObject;
        engineContext->moveToThread(host->m_engineThread.get());
        SubmissionStore *store = host->m_store.get();
        const QuestionnaireCatalog *catalogPointer = host->m_catalog.get();
        TaskEngine *engine = nullptr;
        // The engine, its network manager and timers belong to the engine thread.
        QMetaObject::invokeMethod(
            engineContext,
            [&engine, store, catalogPointer, engineOptions] {
                engine = new TaskEngine(*store, *catalogPointer, engineOptions);
            },
            Qt::BlockingQueuedConnection);
        engineContext->deleteLater();
        host->m_engine = engine;
        connect(store, &SubmissionStore::workQueued, engine, &TaskEngine::wake, Qt::QueuedConnection);
        QMetaObject::invokeMethod(engine, &TaskEngine::start, Qt::QueuedConnection);
    }

    host->m_serverThread = std::make_unique<QThread>();
    host->m_serverThread->setObjectName(u"ingest-server"_s);
    host->m_serverThread->start();

    IngestServer::Dependencies dependencies{host->m_store.get(), host->m_catalog.get(), host->m_engine, options.clock,
                                            options.settings};
    Expected<quint16> listened = Error{ErrorCode::Internal, u"the server thread did not start"_s};
    auto *context = new QObject;
    context->moveToThread(host->m_serverThread.get());
    ServerHost *raw = host.get();
    // The server and its sockets must be created on the thread that runs them.
    QMetaObject::invokeMethod(
        context,
        [raw, dependencies, address, &listened, port = quint16(options.settings.integer(SettingKey::ServerPort))] {
            auto *server = new IngestServer(dependencies);
            listened = server->listen(address, port);
            if (listened)
                raw->m_server = server;
            else
                delete server;
        },
        Qt::BlockingQueuedConnection);
    context->deleteLater();
    if (!listened) {
        host->m_serverThread->quit();
        host->m_serverThread->wait();
        return listened.error();
    }
    host->m_address = address;
    host->m_port = *listened;
    connect(host->m_server, &IngestServer::drained, host.get(), &ServerHost::stopEngine, Qt::QueuedConnection);
    if (host->m_engine)
        connect(host->m_engine, &TaskEngine::stopped, host.get(), &ServerHost::finishStop, Qt::QueuedConnection);
    qCInfo(lcApp).noquote() << "listening on" << host->url();
    return host;
}

ServerHost::~ServerHost()
{
    if (!m_stopped) {
        stop(0);
        if (m_engine)
            QMetaObject::invokeMethod(m_engine, &TaskEngine::stop, Qt::BlockingQueuedConnection);
        finishStop();
    }
}

QString ServerHost::url() const
{
    const QString host = m_address.protocol() == QAbstractSocket::IPv6Protocol ? u"[%1]"_s.arg(m_address.toString())
                                                                               : m_address.toString();
    return u"http://%1:%2"_s.arg(host).arg(m_port);
}

void ServerHost::stop(int graceMs)
{
    if (m_stopping || !m_server)
        return;
    m_stopping = true;
    qCInfo(lcApp) << "stopping: no new requests; finishing the ones being stored";
    IngestServer *server = m_server;
    QMetaObject::invokeMethod(
        server, [server] { server->drain(); }, Qt::QueuedConnection);
    if (graceMs > 0)
        QTimer::singleShot(graceMs, this, &ServerHost::stopEngine);
}

void ServerHost::stopEngine()
{
    if (m_engineStopping || m_stopped)
        return;
    m_engineStopping = true;
    if (!m_engine) {
        finishStop();
        return;
    }
    // In-flight attempts are cancelled and recorded as due again; then finishStop() runs on stopped().
    QMetaObject::invokeMethod(m_engine, &TaskEngine::stop, Qt::QueuedConnection);
    QTimer::singleShot(5000, this, &ServerHost::finishStop);
}

void ServerHost::finishStop()
{
    if (m_stopped)
        return;
    m_stopped = true;
    if (m_server) {
        IngestServer *server = m_server;
        m_server = nullptr;
        // Deleted on its own thread, where its sockets and read connection live.
        QMetaObject::invokeMethod(
            server, [server] { delete server; }, Qt::BlockingQueuedConnection);
    }
    if (m_serverThread) {
        m_serverThread->quit();
        m_serverThread->wait();
    }
    if (m_engine) {
        TaskEngine *engine = std::exchange(m_engine, nullptr);
        QMetaObject::invokeMethod(
            engine, [engine] { delete engine; }, Qt::BlockingQueuedConnection);
    }
    if (m_engineThread) {
        m_engineThread->quit();
        m_engineThread->wait();
    }
    m_store.reset(); // commits what is queued, closes the write connection
    qCInfo(lcApp) << "stopped";
    Q_EMIT stopped();
}

} // namespace SiteRelay
