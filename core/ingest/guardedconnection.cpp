#include "guardedconnection.h"

#include "guardedtcpserver.h"
#include "logging.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// A client that stops reading must not hold a closing socket open forever.
constexpr int CloseGraceMs = 5000;

bool isKnownMethod(const QByteArray &method)
{
    // The methods QtHttpServer's parser knows; any other token would make it drop the socket's
    // signal connections and leak the connection, so it never gets that far.
    static const QByteArray known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    return std::find(std::begin(known), std::end(known), method) != std::end(known);
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

// QtHttpServer 6.4 takes any request with an Upgrade header down its WebSocket path (and drops the
// connection when there is no WebSocket handler). We upgrade to nothing, and a server may ignore
// Upgrade (RFC 9110 §7.8), so those header lines are removed before it sees the request.
QByteArray withoutUpgradeHeaders(const QByteArray &raw)
{
    const qsizetype headEnd = raw.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return raw;
    QByteArray result;
    bool removed = false;
    qsizetype lineStart = 0;
    while (lineStart <= headEnd) {
        const qsizetype lineEnd = raw.indexOf("\r\n", lineStart);
        const QByteArrayView line = QByteArrayView(raw).sliced(lineStart, lineEnd - lineStart);
        if (lineStart > 0 && line.size() >= 8 && line.first(8).compare("upgrade:", Qt::CaseInsensitive) == 0) {
            if (!removed)
                result = raw.first(lineStart);
            removed = true;
        } else if (removed) {
            result += line;
            result += "\r\n";
        }
        lineStart = lineEnd + 2;
    }
    if (!removed)
        return raw;
    result += "\r\n";
    result += QByteArrayView(raw).sliced(headEnd + 4);
    return result;
}

} // namespace

GuardedConnection::GuardedConnection(QTcpSocket *socket, const ConnectionLimits &limits, GuardedTcpServer *server)
    : QObject(socket)
    , m_socket(socket)
    , m_limits(limits)
    , m_server(server)
    , m_framer({limits.maxHeaderBytes, limits.maxBodyBytes})
    , m_idleTimer(this)
    , m_requestDeadline(this)
{
    m_idleTimer.setSingleShot(true);
    m_idleTimer.setInterval(limits.idleTimeoutMs);
    connect(&m_idleTimer, &QTimer::timeout, this, [this] {
        if (m_framer.hasPartialRequest())
            reject(408, "request_timeout",
                   u"No data arrived for %1 ms in the middle of a request."_s.arg(m_limits.idleTimeoutMs));
        else
            closeConnection();
    });
    m_requestDeadline.setSingleShot(true);
    m_requestDeadline.setInterval(limits.requestDeadlineMs);
    connect(&m_requestDeadline, &QTimer::timeout, this, [this] {
        reject(408, "request_timeout",
               u"The request did not arrive in full within %1 ms; send it again."_s.arg(m_limits.requestDeadlineMs));
    });

    // Connected before QtHttpServer connects its own slot, so this one sees every byte first.
    connect(socket, &QTcpSocket::readyRead, this, &GuardedConnection::onReadyRead);
    // QtHttpServer deletes a socket on disconnect only if its own connections are intact.
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    m_idleTimer.start();
}

GuardedConnection::~GuardedConnection()
{
    if (m_server)
        m_server->reserveBufferedBytes(-m_accountedBytes);
}

GuardedConnection *GuardedConnection::of(QTcpSocket *socket)
{
    return socket ? socket->findChild<GuardedConnection *>(QString(), Qt::FindDirectChildrenOnly) : nullptr;
}

void GuardedConnection::onReadyRead()
{
    if (m_feeding)
        return; // our own re-emission for QtHttpServer
    // Take every byte, always: what is left in the socket would reach QtHttpServer unchecked.
    const QByteArray bytes = m_socket->readAll();
    consumeOpenTransaction();
    if (m_closing)
        return;
    m_framer.append(bytes);
    if (!m_awaitingResponse)
        restartIdleTimer();
    updateBufferedBytes();
    if (m_closing)
        return;
    processBuffered();
}

void GuardedConnection::processBuffered()
{
    if (m_awaitingResponse || m_closing)
        return;
    switch (m_framer.next()) {
    case HttpRequestFramer::Result::Ready:
        dispatch(m_framer.takeRequest());
        break;
    case HttpRequestFramer::Result::NeedMore:
        if (m_framer.wantsContinue()) {
            m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
            m_framer.continueSent();
        }
        if (!m_framer.hasPartialRequest())
            m_requestDeadline.stop();
        else if (!m_requestDeadline.isActive())
            m_requestDeadline.start();
        break;
    case HttpRequestFramer::Result::Failed: {
        const FramingError &error = m_framer.error();
        reject(error.status, error.code, error.message);
        return;
    }
    }
    updateBufferedBytes();
}

void GuardedConnection::dispatch(FramedRequest request)
{
    m_requestDeadline.stop();
    if (m_draining) {
        reject(503, "shutting_down", u"SiteRelay is shutting down; nothing was stored. Retry in a moment."_s);
        return;
    }
    if (!isKnownMethod(request.method)) {
        reject(501, "method_not_implemented",
               u"The method %1 is not supported by this server."_s.arg(QString::fromLatin1(request.method)));
        return;
    }
    m_idleTimer.stop();
    m_awaitingResponse = true;
    m_keepAlive = request.keepAlive;

    // Hand the one request to QtHttpServer: push its bytes back into the socket's read buffer
    // (in reverse, since ungetChar prepends) and let its readyRead slot parse them.
    m_feeding = true;
    consumeOpenTransaction();
    const QByteArray raw = withoutUpgradeHeaders(request.raw);
    for (qsizetype i = raw.size(); i-- > 0;)
        m_socket->ungetChar(raw.at(i));
    Q_EMIT m_socket->readyRead();
    m_feeding = false;

    if (m_socket->isTransactionStarted()) {
        // QtHttpServer did not see a complete request in bytes we framed as one: never expected,
        // but if it happens the stream can no longer be trusted.
        m_socket->rollbackTransaction();
        m_socket->readAll();
        qCWarning(lcIngest) << "QtHttpServer did not take a framed request; closing the connection";
        m_awaitingResponse = false;
        reject(400, "unparseable_request", u"The request could not be parsed."_s);
    }
}

void GuardedConnection::consumeOpenTransaction()
{
    // QtHttpServer's own readyRead slot runs after ours, finds nothing to read and leaves a read
    // transaction open; reads inside it do not consume. Committing ends it, so bytes we read are
    // gone from the socket and ungetChar() really pushes bytes back.
    if (m_socket->isTransactionStarted())
        m_socket->commitTransaction();
}

void GuardedConnection::responseWritten()
{
    m_awaitingResponse = false;
    if (closesAfterResponse()) {
        closeConnection();
        return;
    }
    restartIdleTimer();
    if (m_framer.bufferedBytes() > 0)
        QMetaObject::invokeMethod(this, &GuardedConnection::processBuffered, Qt::QueuedConnection);
}

void GuardedConnection::drain()
{
    m_draining = true;
    if (m_awaitingResponse || m_closing)
        return;
    // Bytes that arrived but were not read yet may hold a whole request: it deserves a 503 to
    // retry on, not a silent close.
    if (m_socket->bytesAvailable() > 0) {
        m_framer.append(m_socket->readAll());
        consumeOpenTransaction();
    }
    if (m_framer.hasPartialRequest() || m_framer.bufferedBytes() > 0)
        reject(503, "shutting_down", u"SiteRelay is shutting down; nothing was stored. Retry in a moment."_s);
    else
        closeConnection();
}

void GuardedConnection::reject(int status, const QByteArray &code, const QString &message)
{
    if (m_closing)
        return;
    if (m_awaitingResponse) {
        // A response is still owed for an earlier request; writing this one first would break the
        // order, so the connection just ends.
        closeConnection();
        return;
    }
    qCInfo(lcIngest).noquote() << "rejected a request from" << m_socket->peerAddress().toString() << "with" << status
                               << QString::fromLatin1(code);
    const QByteArray body =
        QJsonDocument(
            QJsonObject{{u"error"_s, QJsonObject{{u"code"_s, QString::fromLatin1(code)}, {u"message"_s, message}}}})
            .toJson(QJsonDocument::Compact);
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) +
                          "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
                          "\r\nConnection: close\r\n";
    if (status == 503)
        response += "Retry-After: 5\r\n";
    response += "\r\n" + body;
    m_socket->write(response);
    closeConnection();
}

void GuardedConnection::closeConnection()
{
    if (m_closing)
        return;
    m_closing = true;
    m_idleTimer.stop();
    m_requestDeadline.stop();
    QTimer::singleShot(CloseGraceMs, m_socket, &QTcpSocket::abort);
    m_socket->disconnectFromHost();
}

void GuardedConnection::updateBufferedBytes()
{
    const qint64 now = m_framer.bufferedBytes();
    const qint64 delta = now - m_accountedBytes;
    if (delta == 0 || !m_server)
        return;
    if (!m_server->reserveBufferedBytes(delta)) {
        qCWarning(lcIngest) << "buffered-bytes budget exhausted; closing a connection holding" << now << "bytes";
        reject(503, "server_busy", u"The server is holding too much unfinished upload data; retry shortly."_s);
        return;
    }
    m_accountedBytes = now;
}

void GuardedConnection::restartIdleTimer()
{
    if (!m_closing)
        m_idleTimer.start();
}

} // namespace SiteRelay
