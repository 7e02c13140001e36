#pragma once

#include "httprequest.h"
#include "responseslot.h"

#include <QtHttpServer/QAbstractHttpServer>
#include <QtHttpServer/QHttpServerResponder>

#include <QPointer>
#include <QTcpSocket>
#include <QThread>

#include <functional>

namespace SiteRelay {

class GuardedConnection;

/// What a ResponseSlot holds: the QtHttpServer responder and weak links to its connection.
struct ResponseSlot::Private
{
    QHttpServerResponder responder;
    QPointer<QTcpSocket> socket;
    QPointer<GuardedConnection> guard;
    QThread *ownerThread = nullptr;
    bool sent = false;
    bool headOnly = false; ///< a HEAD request: headers as for GET, no body
};

/**
 * Our one adapter over QtHttpServer 6.4 (a technical preview whose API changed in 6.5 and 6.8):
 * the only class that touches its request and responder types. It subclasses QAbstractHttpServer,
 * the module's extension point, rather than using QHttpServer's router, because routes returning
 * QFuture are unsafe in 6.4 (QTBUG-105202) and its router cannot tell 404 from 405. Every request
 * becomes an HttpRequest value and a ResponseSlot handed to one handler. Lives on the server thread.
 */
class HttpServerAdapter final : public QAbstractHttpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpServerAdapter)
public:
    using Handler = std::function<void(const HttpRequest &, ResponseSlot)>;
    explicit HttpServerAdapter(Handler handler, QObject *parent = nullptr);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    Handler m_handler;
};

} // namespace SiteRelay
