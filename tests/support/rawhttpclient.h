#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QTcpSocket>

#include <memory>

namespace SiteRelay::Test {

/// One HTTP response as read off the wire.
struct RawResponse
{
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;

    QByteArray header(const QByteArray &name) const;
    QJsonObject json() const;
    /// The "code" of a {"error":{"code",...}} body, or empty.
    QString errorCode() const;
};

/**
 * A deliberately simple blocking HTTP/1.1 client over a raw socket, for tests that need control
 * QNetworkAccessManager does not give: pipelining, malformed framing, half-sent bodies, abrupt
 * disconnects. Use it from the test thread while the server runs on its own threads.
 */
class RawHttpClient
{
public:
    RawHttpClient();
    ~RawHttpClient();

    bool connectTo(quint16 port, int timeoutMs = 5000);
    void send(const QByteArray &bytes);
    /// Reads one complete response (Content-Length framed); status 0 on timeout or close.
    RawResponse readResponse(int timeoutMs = 10000);
    /// True if the server closed the connection within the timeout.
    bool waitForClose(int timeoutMs = 5000);
    void abort();
    QTcpSocket &socket() { return *m_socket; }

    /// Builds a request with Host and Content-Length.
    static QByteArray request(const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
                              const QList<QPair<QByteArray, QByteArray>> &headers = {});

    /// Connects, sends one request, reads its response and closes.
    static RawResponse exchange(quint16 port, const QByteArray &method, const QByteArray &path,
                                const QByteArray &body = {}, const QList<QPair<QByteArray, QByteArray>> &headers = {});

private:
    std::unique_ptr<QTcpSocket> m_socket;
    QByteArray m_pending;
    bool m_answerHasNoBody = false; ///< the last request sent was a HEAD
};

} // namespace SiteRelay::Test
