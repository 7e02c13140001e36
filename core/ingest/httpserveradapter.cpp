#include "httpserveradapter.h"

#include "guardedconnection.h"

#include <QtHttpServer/QHttpServerRequest>

namespace SiteRelay {
namespace {

QByteArray methodName(QHttpServerRequest::Method method)
{
    switch (method) {
    case QHttpServerRequest::Method::Get:
        return "GET";
    case QHttpServerRequest::Method::Put:
        return "PUT";
    case QHttpServerRequest::Method::Delete:
        return "DELETE";
    case QHttpServerRequest::Method::Post:
        return "POST";
    case QHttpServerRequest::Method::Head:
        return "HEAD";
    case QHttpServerRequest::Method::Options:
        return "OPTIONS";
    case QHttpServerRequest::Method::Patch:
        return "PATCH";
    default:
        return "UNKNOWN";
    }
}

} // namespace

HttpServerAdapter::HttpServerAdapter(Handler handler, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_handler(std::move(handler))
{}

bool HttpServerAdapter::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    HttpRequest value;
    value.method = methodName(request.method());
    const QUrl url = request.url();
    value.path = url.path();
    value.query = QUrlQuery(url);
    value.headers = request.headers();
    value.body = request.body();
    value.peer = request.remoteAddress();

    auto d = std::unique_ptr<ResponseSlot::Private>(
        new ResponseSlot::Private{makeResponder(request, socket), socket, GuardedConnection::of(socket),
                                  QThread::currentThread(), false, value.method == "HEAD"});
    m_handler(value, ResponseSlot(std::move(d)));
    return true;
}

void HttpServerAdapter::missingHandler(const QHttpServerRequest &, QTcpSocket *)
{
    // handleRequest() takes every request; nothing is ever missing a handler.
}

} // namespace SiteRelay
