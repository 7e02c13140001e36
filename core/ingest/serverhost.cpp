#include "serverhost.h"

#include "ingestserver.h"
#include "logging.h"
#include "questionnairecatalog.h"
#include "submissionstore.h"

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

    host->m_serverThread = std::make_unique<QThread>();
    host->m_serverThread->setObjectName(u"ingest-server"_s);
    host->m_serverThread->start();

    IngestServer::Dependencies dependencies{host->m_store.get(), host->m_catalog.get(), options.clock,
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
    connect(host->m_server, &IngestServer::drained, host.get(), &ServerHost::finishStop, Qt::QueuedConnection);
    qCInfo(lcApp).noquote() << "listening on" << host->url();
    return host;
}

ServerHost::~ServerHost()
{
    if (!m_stopped) {
        stop(0);
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
        QTimer::singleShot(graceMs, this, &ServerHost::finishStop);
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
    m_store.reset(); // commits what is queued, closes the write connection
    qCInfo(lcApp) << "stopped";
    Q_EMIT stopped();
}

} // namespace SiteRelay
