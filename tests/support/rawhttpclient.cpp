#include "rawhttpclient.h"

#include <QDeadlineTimer>
#include <QJsonDocument>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay::Test {

QByteArray RawResponse::header(const QByteArray &name) const
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

QJsonObject RawResponse::json() const
{
    return QJsonDocument::fromJson(body).object();
}

QString RawResponse::errorCode() const
{
    return json().value("error"_L1).toObject().value("code"_L1).toString();
}

RawHttpClient::RawHttpClient()
    : m_socket(std::make_unique<QTcpSocket>())
{}

RawHttpClient::~RawHttpClient() = default;

bool RawHttpClient::connectTo(quint16 port, int timeoutMs)
{
    m_socket->connectToHost(QHostAddress::LocalHost, port);
    return m_socket->waitForConnected(timeoutMs);
}

void RawHttpClient::send(const QByteArray &bytes)
{
    // The answer to a HEAD carries the GET's Content-Length but no body (RFC 9110 9.3.2).
    m_answerHasNoBody = bytes.startsWith("HEAD ");
    m_socket->write(bytes);
    m_socket->waitForBytesWritten(5000);
}

RawResponse RawHttpClient::readResponse(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    RawResponse response;
    qsizetype headEnd = -1;
    qint64 contentLength = -1;
    for (;;) {
        m_pending.append(m_socket->readAll());
        if (headEnd < 0) {
            headEnd = m_pending.indexOf("\r\n\r\n");
            if (headEnd >= 0) {
                const QList<QByteArray> lines = m_pending.left(headEnd).split('\n');
                const QList<QByteArray> statusLine = lines.value(0).trimmed().split(' ');
                response.status = statusLine.value(1).toInt();
                for (qsizetype i = 1; i < lines.size(); ++i) {
                    const QByteArray line = lines[i].trimmed();
                    const qsizetype colon = line.indexOf(':');
                    if (colon > 0)
                        response.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
                }
                contentLength = m_answerHasNoBody ? 0 : response.header("Content-Length").toLongLong();
                if (response.status == 100) { // interim response: skip it and read the real one
                    m_pending.remove(0, headEnd + 4);
                    headEnd = -1;
                    response = {};
                    continue;
                }
            }
        }
        if (headEnd >= 0 && m_pending.size() >= headEnd + 4 + contentLength) {
            response.body = m_pending.mid(headEnd + 4, contentLength);
            m_pending.remove(0, headEnd + 4 + contentLength);
            return response;
        }
        if (deadline.hasExpired() || m_socket->state() != QAbstractSocket::ConnectedState) {
            if (m_socket->bytesAvailable() > 0)
                continue;
            return {};
        }
        m_socket->waitForReadyRead(int(qMax<qint64>(1, qMin<qint64>(deadline.remainingTime(), 100))));
    }
}

bool RawHttpClient::waitForClose(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        if (m_socket->state() == QAbstractSocket::UnconnectedState)
            return true;
        m_socket->readAll();
        m_socket->waitForReadyRead(50);
    }
    return m_socket->state() == QAbstractSocket::UnconnectedState;
}

void RawHttpClient::abort()
{
    m_socket->abort();
}

QByteArray RawHttpClient::request(const QByteArray &method, const QByteArray &path, const QByteArray &body,
                                  const QList<QPair<QByteArray, QByteArray>> &headers)
{
    QByteArray out = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto &[key, value] : headers)
        out += key + ": " + value + "\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT")
        out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += "\r\n" + body;
    return out;
}

RawResponse RawHttpClient::exchange(quint16 port, const QByteArray &method, const QByteArray &path,
                                    const QByteArray &body, const QList<QPair<QByteArray, QByteArray>> &headers)
{
    RawHttpClient client;
    if (!client.connectTo(port))
        return {};
    client.send(request(method, path, body, headers));
    return client.readResponse();
}

} // namespace SiteRelay::Test
