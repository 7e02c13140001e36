#include "guardedtcpserver.h"

#include "guardedconnection.h"
#include "logging.h"

#include <QTcpSocket>
#include <QTimer>

namespace SiteRelay {
namespace {

// Large enough for any request head and a typical submission in one read, small enough that one
// read never holds much memory.
constexpr qint64 SocketReadBufferBytes = 64 * 1024;

} // namespace

GuardedTcpServer::GuardedTcpServer(const ConnectionLimits &limits, QObject *parent)
    : QTcpServer(parent)
    , m_limits(limits)
{}

bool GuardedTcpServer::reserveBufferedBytes(qint64 delta)
{
    if (delta > 0 && m_bufferedBytes + delta > m_limits.maxBufferedBytes)
        return false;
    m_bufferedBytes += delta;
    return true;
}

void GuardedTcpServer::incomingConnection(qintptr socketDescriptor)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(socketDescriptor)) {
        delete socket;
        return;
    }
    if (m_draining || m_openConnections >= m_limits.maxConnections) {
        static const QByteArray busy =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 5\r\n"
            "Connection: close\r\nContent-Length: 95\r\n\r\n"
            "{\"error\":{\"code\":\"too_many_connections\",\"message\":\"Too many open connections; retry shortly.\"}}";
        socket->write(busy);
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        QTimer::singleShot(2000, socket, &QObject::deleteLater);
        socket->disconnectFromHost();
        Q_EMIT connectionRejected();
        return;
    }
    socket->setReadBufferSize(SocketReadBufferBytes);
    ++m_openConnections;
    connect(socket, &QObject::destroyed, this, [this] { --m_openConnections; });
    new GuardedConnection(socket, m_limits, this);
    addPendingConnection(socket);
}

void GuardedTcpServer::drainConnections()
{
    m_draining = true;
    close();
    const auto sockets = findChildren<QTcpSocket *>(QString(), Qt::FindDirectChildrenOnly);
    for (QTcpSocket *socket : sockets) {
        if (auto *guard = GuardedConnection::of(socket))
            guard->drain();
    }
}

} // namespace SiteRelay
