#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QUrl>

#include <memory>
#include <optional>

class QThread;

namespace SiteRelay {

struct StubAnalysisState;
class StubAnalysisWorker;

/**
 * A stand-in for the external analysis service, for engine tests and benchmarks: a real HTTP/1.1
 * server on 127.0.0.1 that answers POST /analyse fast, slowly, never, with a 500, with a body that
 * is not JSON, or drops the connection.
 *
 * Its sockets live on an internal thread, so a test thread that blocks (waitForReadyRead, a busy
 * loop) does not stall it. Create, listen() and destroy it on any one thread other than that
 * internal one; the getters and setMode() may be called from any thread.
 *
 * Requests are framed by Content-Length (no chunked bodies) and connections are kept alive as
 * HTTP/1.1 says. Pipelined requests on one connection are answered in order: a request held by
 * Slow or Never mode holds the ones behind it.
 *
 * Every request is checked before the mode applies: path /analyse (else 404), method POST and
 * Content-Type application/json and a body that is a JSON object (else 400), and an
 * "Authorization: Bearer TOKEN" header with the expected token if one was set (else 401). Those
 * answers count as rejected().
 */
class StubAnalysisServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StubAnalysisServer)

public:
    enum class Mode {
        Fast,     ///< 200 {"analysisId","status":"accepted","riskFlags":[],"receivedBytes"} at once
        Slow,     ///< the same answer after delayMs, timed by a timer (the connection stays served)
        Never,    ///< reads the request and never answers; the socket stays open until the peer closes it
        Error500, ///< 500 {"error":{"code":"analysisFailed","message"}}
        Drop,     ///< closes the connection without answering
        Invalid,  ///< 200 with Content-Type application/json and the body "not json"
    };
    Q_ENUM(Mode)

    explicit StubAnalysisServer(Mode mode = Mode::Fast, int delayMs = 0, QObject *parent = nullptr);
    /// Closes every connection and the listening socket, and stops the internal thread.
    ~StubAnalysisServer() override;

    /// Listens on 127.0.0.1:@p port (0: a free port). False if the port cannot be bound.
    bool listen(quint16 port = 0);
    /// The port listened on, 0 before a successful listen().
    quint16 port() const;
    /// http://127.0.0.1:PORT/analyse
    QUrl url() const;

    /// Applies to requests that are complete from now on; ones already held keep their mode.
    void setMode(Mode mode, int delayMs = 0);
    Mode mode() const;
    /// Empty (the default): any non-empty Bearer token is accepted.
    void setExpectedToken(const QByteArray &token);

    /// Complete requests read, valid or not.
    int requestsReceived() const;
    /// Responses written, of any status (Never and Drop requests are not answered).
    int answered() const;
    /// Requests answered 400, 401, 404, 411, 413 or 431 by the validation above.
    int rejected() const;
    /// Connections accepted since listen().
    int connectionsAccepted() const;
    /// Connections open now: one is counted until the peer closes or aborts it, or the stub closes it.
    int openConnections() const;

    /// The Authorization header of every complete request in arrival order; empty for one without.
    QList<QByteArray> authorizationHeaders() const;
    /// The body of the last request that passed validation.
    QJsonObject lastBody() const;

    /// "fast", "slow", "never", "error500", "drop", "invalid" (case-insensitive).
    static std::optional<Mode> modeFromString(QStringView name);

private:
    std::unique_ptr<StubAnalysisState> m_state;
    std::unique_ptr<QThread> m_thread;
    StubAnalysisWorker *m_worker = nullptr; // lives on m_thread; deleted in the destructor
};

} // namespace SiteRelay
