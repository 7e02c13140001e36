#pragma once

#include "connectionlimits.h"
#include "httprequestframer.h"

#include <QObject>
#include <QPointer>
#include <QTimer>

class QTcpSocket;

namespace SiteRelay {

class GuardedTcpServer;

/**
 * Stands between one client socket and QtHttpServer 6.4, whose parser is permissive and which
 * mishandles pipelined requests and clients that vanish. It is connected to the socket's
 * readyRead before QtHttpServer is, takes every byte itself into an HttpRequestFramer, and hands
 * QtHttpServer exactly one strictly valid request at a time (by pushing its bytes back into the
 * socket and re-emitting readyRead). The next request is released only after the previous one's
 * response has been written, so answers go out in request order.
 *
 * It also enforces the connection's limits: head and body size (431/413 answered at once, without
 * reading the rest), an idle timeout, a deadline for a request to arrive in full (408), and the
 * server-wide budget of buffered bytes. A child of its socket; lives and dies on the server thread.
 */
class GuardedConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GuardedConnection)
public:
    GuardedConnection(QTcpSocket *socket, const ConnectionLimits &limits, GuardedTcpServer *server);
    ~GuardedConnection() override;

    /// The guard of a socket accepted by GuardedTcpServer, or null.
    static GuardedConnection *of(QTcpSocket *socket);

    /// Whether the connection closes after the response now being prepared.
    bool closesAfterResponse() const { return !m_keepAlive || m_draining; }
    /// Called by ResponseSlot once the response to the current request has been written.
    void responseWritten();
    /// Stop taking requests: close now if idle, else after the response in progress.
    void drain();

private:
    void onReadyRead();
    void processBuffered();
    void dispatch(FramedRequest request);
    void reject(int status, const QByteArray &code, const QString &message);
    void closeConnection();
    void consumeOpenTransaction();
    void updateBufferedBytes();
    void restartIdleTimer();

    QTcpSocket *m_socket;
    ConnectionLimits m_limits;
    QPointer<GuardedTcpServer> m_server;
    HttpRequestFramer m_framer;
    QTimer m_idleTimer;
    QTimer m_requestDeadline;
    qint64 m_accountedBytes = 0;
    bool m_feeding = false;
    bool m_awaitingResponse = false;
    bool m_keepAlive = true;
    bool m_draining = false;
    bool m_closing = false;
};

} // namespace SiteRelay
