#include "responseslot.h"

#include "guardedconnection.h"
#include "httpserveradapter.h"

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

ResponseSlot::ResponseSlot() = default;
ResponseSlot::ResponseSlot(std::unique_ptr<Private> d)
    : d(std::move(d))
{}
ResponseSlot::ResponseSlot(ResponseSlot &&other) noexcept = default;
ResponseSlot &ResponseSlot::operator=(ResponseSlot &&other) noexcept = default;

ResponseSlot::~ResponseSlot()
{
    // Only on the server thread may the socket be looked at; elsewhere (a continuation dropped at
    // shutdown) the connection is being closed anyway.
    if (d && !d->sent && d->ownerThread == QThread::currentThread())
        send(ApiResponse::error(500, u"internal_error"_s, u"The request was dropped without an answer."_s));
}

bool ResponseSlot::isSent() const
{
    return !d || d->sent;
}

void ResponseSlot::send(const ApiResponse &response)
{
    if (!d || d->sent)
        return;
    Q_ASSERT(d->ownerThread == QThread::currentThread());
    d->sent = true;
    QTcpSocket *socket = d->socket.data();
    if (!socket || socket->state() != QAbstractSocket::ConnectedState)
        return; // the client went away; there is no one to answer

    GuardedConnection *guard = d->guard.data();
    QHttpServerResponder &responder = d->responder;
    responder.writeStatusLine(static_cast<QHttpServerResponder::StatusCode>(response.status));
    if (!response.contentType.isEmpty())
        responder.writeHeader("Content-Type", response.contentType);
    responder.writeHeader("Content-Length", QByteArray::number(response.body.size()));
    responder.writeHeader("Cache-Control", "no-store");
    responder.writeHeader("X-Content-Type-Options", "nosniff");
    for (const auto &[name, value] : response.headers)
        responder.writeHeader(name, value);
    if (guard && guard->closesAfterResponse())
        responder.writeHeader("Connection", "close");
    // A HEAD answer announces the body's length but carries none (RFC 9110 §9.3.2); writeBody()
    // still ends the header block.
    responder.writeBody(d->headOnly ? QByteArray() : response.body);
    if (guard)
        guard->responseWritten();
}

} // namespace SiteRelay
