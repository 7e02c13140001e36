#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>
#include <QString>

namespace SiteRelay {

/// One complete, strictly valid HTTP/1.x request, cut out of a connection's byte stream.
struct FramedRequest
{
    QByteArray raw;    ///< exactly the bytes of this request (head and body)
    QByteArray method; ///< e.g. "POST"
    QByteArray target; ///< origin-form request target, e.g. "/api/v1/submissions?x=1"
    int httpMinorVersion = 1;
    qint64 contentLength = 0;
    bool keepAlive = true; ///< false for "Connection: close", or HTTP/1.0 without keep-alive
};

/// Why a byte stream is not acceptable HTTP; the connection answers with this and closes.
struct FramingError
{
    int status = 400; ///< 400, 408, 411, 413, 431, 501 or 505
    QByteArray code;  ///< machine-readable, e.g. "conflicting_framing", "body_too_large"
    QString message;  ///< for a human: what was wrong and what to do
};

/**
 * Cuts a connection's byte stream into requests, strictly (RFC 9112), before QtHttpServer's
 * permissive parser sees them. Bytes are appended as they arrive; next() frames one request at a
 * time, so pipelined requests come out one by one, in order.
 *
 * Rejected (status): a malformed request line, a method that is not a token, a target that is
 * not origin-form (400); HTTP versions other than 1.0/1.1 (505); bare LF or bare CR line endings,
 * obsolete line folding, a header name that is not a token, control characters in a header value
 * (400); a missing Host header in HTTP/1.1 or more than one (400); both Content-Length and
 * Transfer-Encoding, several Content-Length headers, or a Content-Length that is not plain decimal
 * digits (400); Transfer-Encoding alone (411: we take only Content-Length bodies); POST, PUT or
 * PATCH without Content-Length (411); a head longer than maxHeaderBytes (431, detected without
 * waiting for the rest); a Content-Length above maxBodyBytes (413, as soon as the head is read,
 * without reading the body).
 *
 * Not thread-safe; one instance per connection, used on that connection's thread.
 */
class HttpRequestFramer
{
public:
    struct Limits
    {
        qint64 maxHeaderBytes = 16 * 1024;
        qint64 maxBodyBytes = 256 * 1024;
    };

    enum class Result {
        NeedMore, ///< no complete request buffered yet
        Ready,    ///< takeRequest() returns the next request
        Failed,   ///< error() says why; the stream cannot be resynchronised, close the connection
    };

    explicit HttpRequestFramer(Limits limits);

    /// Adds bytes received from the peer.
    void append(QByteArrayView bytes);

    /// Tries to frame the next request from the buffered bytes. After Failed, stays Failed.
    Result next();

    /// The request framed by the last next() that returned Ready; removes it from the buffer.
    FramedRequest takeRequest();

    /// Valid after next() returned Failed.
    const FramingError &error() const;

    /// True once the head of the request being received is complete and valid, says
    /// "Expect: 100-continue", and its body has not fully arrived: the caller should send
    /// "100 Continue" and then call continueSent().
    bool wantsContinue() const;
    void continueSent();

    /// True while bytes of a not yet complete request are buffered (for the request deadline).
    bool hasPartialRequest() const;

    /// Bytes held, for memory accounting.
    qint64 bufferedBytes() const;

private:
    // Per-head facts that only matter until the head is complete.
    struct Head
    {
        int hostCount = 0;
        int contentLengthCount = 0;
        bool transferEncoding = false;
        bool connectionClose = false;
        bool connectionKeepAlive = false;
    };
    enum class LineOutcome { Continue, HeadComplete, Failed };

    bool scanHead();
    LineOutcome processLine(QByteArrayView line);
    bool parseRequestLine(QByteArrayView line);
    bool parseHeaderLine(QByteArrayView line);
    bool finishHead();
    bool fail(int status, QByteArray code, QString message);
    void startNextRequest();
    void compact();

    Limits m_limits;
    QByteArray m_buffer;
    qsizetype m_readPos = 0; ///< start of the current request in m_buffer; bytes before it are consumed
    qsizetype m_scanPos = 0; ///< next head byte to examine, so appends never rescan the head
    qsizetype m_lineStart = 0;
    Result m_state = Result::NeedMore;
    FramingError m_error;
    FramedRequest m_ready;
    qint64 m_headLength = -1; ///< bytes of the parsed head of the current request, -1 if not yet parsed
    FramedRequest m_current;  ///< parsed head of the current request
    Head m_head;
    bool m_sawRequestLine = false;
    bool m_skippedEmptyLine = false;
    bool m_expectContinue = false;
    bool m_continueSent = false;
};

} // namespace SiteRelay
