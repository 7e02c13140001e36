#pragma once

#include "connectionlimits.h"

#include <QTcpServer>

namespace SiteRelay {

/**
 * The listening socket given to QtHttpServer (via bind()). Every accepted socket gets a
 * GuardedConnection before QtHttpServer sees it; beyond maxConnections a client is answered 503
 * and closed at once. Lives on the server thread.
 */
class GuardedTcpServer final : public QTcpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GuardedTcpServer)
public:
    explicit GuardedTcpServer(const ConnectionLimits &limits, QObject *parent = nullptr);

    int openConnections() const { return m_openConnections; }
    qint64 bufferedBytes() const { return m_bufferedBytes; }
    /// Changes the server-wide count of buffered request bytes; false if it would exceed the budget.
    bool reserveBufferedBytes(qint64 delta);

    /// Stops listening and asks every connection to finish its current response and close.
    void drainConnections();

Q_SIGNALS:
    void connectionRejected();

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    ConnectionLimits m_limits;
    int m_openConnections = 0;
    qint64 m_bufferedBytes = 0;
    bool m_draining = false;
};

} // namespace SiteRelay
