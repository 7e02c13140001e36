#include "stubanalysisserver.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutex>
#include <QMutexLocker>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>
#include <QUuid>

#include <atomic>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

/// What the server thread and the callers' threads share: counters are atomic, the rest is under the mutex.
struct StubAnalysisState
{
    std::atomic<int> requests{0};
    std::atomic<int> answered{0};
    std::atomic<int> rejected{0};
    std::atomic<int> accepted{0};
    std::atomic<int> open{0};
    std::atomic<quint16> port{0};

    mutable QMutex mutex;
    StubAnalysisServer::Mode mode = StubAnalysisServer::Mode::Fast;
    int delayMs = 0;
    QByteArray expectedToken;
    QList<QByteArray> authorizations;
    QJsonObject lastBody;
};

namespace {

// Far above anything the engine sends; they only keep a misbehaving client from growing memory without bound.
constexpr qsizetype maxHeadBytes = 64 * 1024;
constexpr qint64 maxBodyBytes = 16 * 1024 * 1024;
// QTcpServer's default listen backlog (50) would make a burst of a few hundred connects wait for SYN retries.
constexpr int listenBacklog = 1024;

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK"_ba;
    case 400:
        return "Bad Request"_ba;
    case 401:
        return "Unauthorized"_ba;
    case 404:
        return "Not Found"_ba;
    case 411:
        return "Length Required"_ba;
    case 413:
        return "Payload Too Large"_ba;
    case 431:
        return "Request Header Fields Too Large"_ba;
    case 500:
        return "Internal Server Error"_ba;
    }
    return "Unknown"_ba;
}

QByteArray errorBody(const QString &code, const QString &message)
{
    const QJsonObject error{{u"code"_s, code}, {u"message"_s, message}};
    return QJsonDocument(QJsonObject{{u"error"_s, error}}).toJson(QJsonDocument::Compact);
}

QByteArray acceptedBody(qint64 receivedBytes)
{
    const QJsonObject body{{u"analysisId"_s, QUuid::createUuid().toString(QUuid::WithoutBraces)},
                           {u"status"_s, u"accepted"_s},
                           {u"riskFlags"_s, QJsonArray()},
                           {u"receivedBytes"_s, receivedBytes}};
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

struct ParsedRequest
{
    QByteArray method;
    QByteArray target;
    QList<QPair<QByteArray, QByteArray>> headers; // names in lower case
    QByteArray body;
    bool keepAlive = true;

    QByteArray header(const QByteArray &lowerName) const
    {
        for (const auto &[name, value] : headers) {
            if (name == lowerName)
                return value;
        }
        return {};
    }
    bool hasHeader(const QByteArray &lowerName) const
    {
        for (const auto &entry : headers) {
            if (entry.first == lowerName)
                return true;
        }
        return false;
    }
};

/// One accepted connection on the server thread. It deletes itself once the socket is closed.
class StubConnection final : public QObject
{
public:
    StubConnection(QTcpSocket *socket, StubAnalysisState &state, QObject *parent)
        : QObject(parent)
        , m_socket(socket)
        , m_state(state)
    {
        m_socket->setParent(this);
        ++m_state.accepted;
        ++m_state.open;
        // A precise timer so a Slow answer never comes before the delay a test measures against.
        m_delay.setSingleShot(true);
        m_delay.setTimerType(Qt::PreciseTimer);
        connect(&m_delay, &QTimer::timeout, this, [this] { answerHeld(); });
        connect(m_socket, &QTcpSocket::readyRead, this, [this] { onReadyRead(); });
        // Also emitted when the peer closes or resets a connection whose request is held (Never): QTcpSocket keeps
        // reading while we do not answer, sees the end of the stream and disconnects.
        connect(m_socket, &QTcpSocket::disconnected, this, [this] {
            markClosed();
            deleteLater();
        });
        onReadyRead(); // bytes that arrived before the signal was connected
    }

    ~StubConnection() override { markClosed(); }

private:
    void markClosed()
    {
        if (!m_closed) {
            m_closed = true;
            --m_state.open;
        }
    }

    void onReadyRead()
    {
        m_buffer.append(m_socket->readAll());
        processBuffer();
    }

    void processBuffer()
    {
        while (!m_held && !m_closing && !m_closed) {
            if (!takeRequest())
                return;
        }
    }

    /// Frames, validates and handles one request from the buffer; false if it is not complete yet.
    bool takeRequest()
    {
        const qsizetype headEnd = m_buffer.indexOf("\r\n\r\n");
        if (headEnd < 0) {
            if (m_buffer.size() > maxHeadBytes)
                rejectFraming(431, u"headerTooLarge"_s, u"The request head exceeds 64 KiB."_s);
            return false;
        }

        const QList<QByteArray> lines = m_buffer.left(headEnd).split('\n');
        const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
        if (requestLine.size() != 3 || !requestLine[2].startsWith("HTTP/1.")) {
            rejectFraming(400, u"badRequestLine"_s, u"The request line is not METHOD TARGET HTTP/1.x."_s);
            return false;
        }
        ParsedRequest request;
        request.method = requestLine[0];
        request.target = requestLine[1];
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines[i].trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0) {
                rejectFraming(400, u"badHeader"_s, u"A header line has no name."_s);
                return false;
            }
            request.headers.append({line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed()});
        }
        if (request.hasHeader("transfer-encoding"_ba)) {
            rejectFraming(411, u"lengthRequired"_s, u"Send the body with a Content-Length, not chunked."_s);
            return false;
        }
        qint64 contentLength = 0;
        if (request.hasHeader("content-length"_ba)) {
            bool ok = false;
            contentLength = request.header("content-length"_ba).toLongLong(&ok);
            if (!ok || contentLength < 0) {
                rejectFraming(400, u"badContentLength"_s, u"Content-Length is not a number."_s);
                return false;
            }
        }
        if (contentLength > maxBodyBytes) {
            rejectFraming(413, u"bodyTooLarge"_s, u"The body exceeds 16 MiB."_s);
            return false;
        }
        const qsizetype bodyStart = headEnd + 4;
        if (m_buffer.size() - bodyStart < contentLength)
            return false;

        request.body = m_buffer.mid(bodyStart, contentLength);
        m_buffer.remove(0, bodyStart + contentLength);
        const QByteArray connection = request.header("connection"_ba).toLower();
        request.keepAlive =
            requestLine[2] == "HTTP/1.0" ? connection.contains("keep-alive") : !connection.contains("close");
        handle(request);
        return true;
    }

    void handle(const ParsedRequest &request)
    {
        ++m_state.requests;
        const QByteArray authorization = request.header("authorization"_ba);
        QByteArray expectedToken;
        {
            QMutexLocker locker(&m_state.mutex);
            m_state.authorizations.append(authorization);
            expectedToken = m_state.expectedToken;
        }

        if (request.target != "/analyse") {
            reject(request, 404, u"notFound"_s, u"Only /analyse is served."_s);
            return;
        }
        if (request.method != "POST") {
            reject(request, 400, u"methodNotAllowed"_s, u"Use POST."_s);
            return;
        }
        const QByteArray mediaType = request.header("content-type"_ba).split(';').first().trimmed().toLower();
        if (mediaType != "application/json") {
            reject(request, 400, u"unsupportedMediaType"_s, u"Send Content-Type: application/json."_s);
            return;
        }
        const QByteArray scheme = authorization.left(7);
        const QByteArray token = authorization.mid(7).trimmed();
        if (scheme.compare("Bearer ", Qt::CaseInsensitive) != 0 || token.isEmpty() ||
            (!expectedToken.isEmpty() && token != expectedToken)) {
            reject(request, 401, u"unauthorized"_s, u"Send Authorization: Bearer with the configured token."_s);
            return;
        }
        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(request.body, &parseError);
        if (parseError.error != QJsonParseError::NoError || !document.isObject()) {
            reject(request, 400, u"malformedJson"_s, u"The body must be a JSON object."_s);
            return;
        }

        StubAnalysisServer::Mode mode;
        int delayMs;
        {
            QMutexLocker locker(&m_state.mutex);
            m_state.lastBody = document.object();
            mode = m_state.mode;
            delayMs = m_state.delayMs;
        }

        switch (mode) {
        case StubAnalysisServer::Mode::Fast:
            respond(200, acceptedBody(request.body.size()), request.keepAlive);
            return;
        case StubAnalysisServer::Mode::Slow:
            m_held = true;
            m_heldBytes = request.body.size();
            m_heldKeepAlive = request.keepAlive;
            m_delay.start(qMax(0, delayMs));
            return;
        case StubAnalysisServer::Mode::Never:
            // Held for good; requests pipelined behind it stay in the buffer unanswered too.
            m_held = true;
            return;
        case StubAnalysisServer::Mode::Error500:
            respond(500, errorBody(u"analysisFailed"_s, u"The stub analysis service failed as configured."_s),
                    request.keepAlive);
            return;
        case StubAnalysisServer::Mode::Drop:
            m_closing = true;
            m_socket->abort(); // emits disconnected(), which schedules this object's deletion
            return;
        case StubAnalysisServer::Mode::Invalid:
            respond(200, "not json"_ba, request.keepAlive);
            return;
        }
    }

    void answerHeld()
    {
        if (m_closed)
            return;
        m_held = false;
        respond(200, acceptedBody(m_heldBytes), m_heldKeepAlive);
        processBuffer();
    }

    void reject(const ParsedRequest &request, int status, const QString &code, const QString &message)
    {
        ++m_state.rejected;
        respond(status, errorBody(code, message), request.keepAlive);
    }

    /// For a request whose framing cannot be trusted: answered, then the connection is closed.
    void rejectFraming(int status, const QString &code, const QString &message)
    {
        ++m_state.requests;
        ++m_state.rejected;
        respond(status, errorBody(code, message), false);
    }

    void respond(int status, const QByteArray &body, bool keepAlive)
    {
        QByteArray response = "HTTP/1.1 "_ba + QByteArray::number(status) + ' ' + reasonPhrase(status) +
                              "\r\nContent-Type: application/json\r\nContent-Length: "_ba +
                              QByteArray::number(body.size()) + "\r\nConnection: "_ba +
                              (keepAlive ? "keep-alive"_ba : "close"_ba) + "\r\n"_ba;
        if (status == 401)
            response += "WWW-Authenticate: Bearer\r\n"_ba;
        response += "\r\n"_ba + body;
        m_socket->write(response);
        ++m_state.answered;
        if (!keepAlive) {
            m_closing = true;
            m_socket->disconnectFromHost(); // after the answer is written
        }
    }

    QTcpSocket *m_socket;
    StubAnalysisState &m_state;
    QTimer m_delay;
    QByteArray m_buffer;
    qint64 m_heldBytes = 0;
    bool m_heldKeepAlive = true;
    bool m_held = false;    // a request is waiting for its answer (Slow) or will never get one (Never)
    bool m_closing = false; // the stub is closing this connection; read nothing more
    bool m_closed = false;  // counted out of StubAnalysisState::open
};

} // namespace

/// Owns the listening socket and the connections; lives on the server thread.
class StubAnalysisWorker final : public QObject
{
public:
    explicit StubAnalysisWorker(StubAnalysisState &state)
        : m_state(state)
    {}

    bool listen(quint16 port)
    {
        if (!m_server) {
            m_server = new QTcpServer(this);
            m_server->setListenBacklogSize(listenBacklog);
            connect(m_server, &QTcpServer::newConnection, this, [this] {
                while (QTcpSocket *socket = m_server->nextPendingConnection())
                    new StubConnection(socket, m_state, this);
            });
        }
        m_server->close();
        if (!m_server->listen(QHostAddress::LocalHost, port))
            return false;
        m_state.port = m_server->serverPort();
        return true;
    }

    /// Closes the listening socket and every connection (they are the only other children).
    void shutdown()
    {
        delete m_server;
        m_server = nullptr;
        const QObjectList connections = children(); // a copy: each delete removes itself from children()
        qDeleteAll(connections);
    }

private:
    StubAnalysisState &m_state;
    QTcpServer *m_server = nullptr;
};

StubAnalysisServer::StubAnalysisServer(Mode mode, int delayMs, QObject *parent)
    : QObject(parent)
    , m_state(std::make_unique<StubAnalysisState>())
    , m_thread(std::make_unique<QThread>())
{
    m_state->mode = mode;
    m_state->delayMs = delayMs;
    m_thread->setObjectName(u"stub-analysis"_s);
    m_worker = new StubAnalysisWorker(*m_state);
    m_worker->moveToThread(m_thread.get());
    // The documented way to delete an object on its own thread: deferred deletes run after finished().
    connect(m_thread.get(), &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread->start();
}

StubAnalysisServer::~StubAnalysisServer()
{
    StubAnalysisWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker] { worker->shutdown(); }, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    m_worker = nullptr;
}

bool StubAnalysisServer::listen(quint16 port)
{
    bool listening = false;
    StubAnalysisWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker, port, &listening] { listening = worker->listen(port); }, Qt::BlockingQueuedConnection);
    return listening;
}

quint16 StubAnalysisServer::port() const
{
    return m_state->port;
}

QUrl StubAnalysisServer::url() const
{
    QUrl url;
    url.setScheme(u"http"_s);
    url.setHost(u"127.0.0.1"_s);
    url.setPort(port());
    url.setPath(u"/analyse"_s);
    return url;
}

void StubAnalysisServer::setMode(Mode mode, int delayMs)
{
    QMutexLocker locker(&m_state->mutex);
    m_state->mode = mode;
    m_state->delayMs = delayMs;
}

StubAnalysisServer::Mode StubAnalysisServer::mode() const
{
    QMutexLocker locker(&m_state->mutex);
    return m_state->mode;
}

void StubAnalysisServer::setExpectedToken(const QByteArray &token)
{
    QMutexLocker locker(&m_state->mutex);
    m_state->expectedToken = token;
}

int StubAnalysisServer::requestsReceived() const
{
    return m_state->requests;
}

int StubAnalysisServer::answered() const
{
    return m_state->answered;
}

int StubAnalysisServer::rejected() const
{
    return m_state->rejected;
}

int StubAnalysisServer::connectionsAccepted() const
{
    return m_state->accepted;
}

int StubAnalysisServer::openConnections() const
{
    return m_state->open;
}

QList<QByteArray> StubAnalysisServer::authorizationHeaders() const
{
    QMutexLocker locker(&m_state->mutex);
    return m_state->authorizations;
}

QJsonObject StubAnalysisServer::lastBody() const
{
    QMutexLocker locker(&m_state->mutex);
    return m_state->lastBody;
}

std::optional<StubAnalysisServer::Mode> StubAnalysisServer::modeFromString(QStringView name)
{
    static const QList<QPair<QString, Mode>> names{
        {u"fast"_s, Mode::Fast},         {u"slow"_s, Mode::Slow}, {u"never"_s, Mode::Never},
        {u"error500"_s, Mode::Error500}, {u"drop"_s, Mode::Drop}, {u"invalid"_s, Mode::Invalid},
    };
    for (const auto &[text, mode] : names) {
        if (name.compare(text, Qt::CaseInsensitive) == 0)
            return mode;
    }
    return std::nullopt;
}

} // namespace SiteRelay
