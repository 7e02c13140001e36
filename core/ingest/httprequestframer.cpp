#include "httprequestframer.h"

#include <array>
#include <cstddef>
#include <cstring>
#include <utility>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

namespace {

using CharTable = std::array<bool, 256>;

constexpr void markRange(CharTable &table, char first, char last)
{
    for (int c = first; c <= last; ++c)
        table[static_cast<std::size_t>(c)] = true;
}

template <std::size_t N>
constexpr void markChars(CharTable &table, const char (&chars)[N])
{
    // N - 1: the literal's terminating NUL must not become a valid character.
    for (std::size_t i = 0; i + 1 < N; ++i)
        table[static_cast<unsigned char>(chars[i])] = true;
}

// RFC 9110 §5.6.2. Lookup tables because every head byte of every request goes through them.
constexpr CharTable makeTokenTable()
{
    CharTable table{};
    markRange(table, '0', '9');
    markRange(table, 'A', 'Z');
    markRange(table, 'a', 'z');
    markChars(table, "!#$%&'*+-.^_`|~");
    return table;
}

// uri-host [":" port] (RFC 3986): reg-name, IP literal or IPv4 characters only, so the Host value
// can safely become part of the URL QtHttpServer builds.
constexpr CharTable makeHostTable()
{
    CharTable table{};
    markRange(table, '0', '9');
    markRange(table, 'A', 'Z');
    markRange(table, 'a', 'z');
    markChars(table, "-._~!$&'()*+,;=:[]%");
    return table;
}

constexpr CharTable tokenChars = makeTokenTable();
constexpr CharTable hostChars = makeHostTable();

// Content-Length is capped at 18 digits so that head length + body length can never overflow qint64.
constexpr qsizetype maxContentLengthDigits = 18;

// Below this, moving the unread tail to the front costs more than the memory it frees.
constexpr qsizetype minCompactBytes = 4096;

bool isToken(QByteArrayView bytes)
{
    if (bytes.isEmpty())
        return false;
    for (const char c : bytes) {
        if (!tokenChars[static_cast<unsigned char>(c)])
            return false;
    }
    return true;
}

bool isOws(char c)
{
    return c == ' ' || c == '\t';
}

QByteArrayView trimOws(QByteArrayView bytes)
{
    while (!bytes.isEmpty() && isOws(bytes.front()))
        bytes = bytes.sliced(1);
    while (!bytes.isEmpty() && isOws(bytes.back()))
        bytes.chop(1);
    return bytes;
}

// ASCII only: header names and the tokens compared here are ASCII, and Latin-1 folding of
// obs-text bytes must never make a value match.
bool equalsIgnoringAsciiCase(QByteArrayView bytes, QByteArrayView lowerCase)
{
    if (bytes.size() != lowerCase.size())
        return false;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        char c = bytes[i];
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        if (c != lowerCase[i])
            return false;
    }
    return true;
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isValidTargetByte(char c)
{
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7F;
}

bool isValidFieldValueByte(char c)
{
    const auto byte = static_cast<unsigned char>(c);
    return (byte >= 0x20 && byte != 0x7F) || c == '\t';
}

} // namespace

HttpRequestFramer::HttpRequestFramer(Limits limits)
    : m_limits(limits)
{}

void HttpRequestFramer::append(QByteArrayView bytes)
{
    // The connection is closing after a failure; keeping the peer's further bytes would only cost memory.
    if (m_state == Result::Failed)
        return;
    m_buffer.append(bytes);
}

HttpRequestFramer::Result HttpRequestFramer::next()
{
    if (m_state != Result::NeedMore)
        return m_state;
    if (m_headLength < 0 && !scanHead())
        return m_state;

    const qint64 requestLength = m_headLength + m_current.contentLength;
    if (m_buffer.size() - m_readPos < requestLength)
        return Result::NeedMore;

    m_ready = std::exchange(m_current, {});
    m_ready.raw = m_buffer.mid(m_readPos, requestLength);
    m_state = Result::Ready;
    return m_state;
}

FramedRequest HttpRequestFramer::takeRequest()
{
    if (m_state != Result::Ready)
        return {};
    FramedRequest request = std::exchange(m_ready, {});
    m_readPos += request.raw.size();
    compact();
    startNextRequest();
    return request;
}

const FramingError &HttpRequestFramer::error() const
{
    return m_error;
}

bool HttpRequestFramer::wantsContinue() const
{
    return m_state == Result::NeedMore && m_headLength >= 0 && m_expectContinue && !m_continueSent &&
           m_current.contentLength > 0 && m_buffer.size() - m_readPos < m_headLength + m_current.contentLength;
}

void HttpRequestFramer::continueSent()
{
    m_continueSent = true;
}

bool HttpRequestFramer::hasPartialRequest() const
{
    switch (m_state) {
    case Result::NeedMore:
        return bufferedBytes() > 0;
    case Result::Ready:
        return bufferedBytes() > m_ready.raw.size();
    case Result::Failed:
        break;
    }
    return false;
}

qint64 HttpRequestFramer::bufferedBytes() const
{
    return m_buffer.size() - m_readPos;
}

bool HttpRequestFramer::scanHead()
{
    const char *data = m_buffer.constData();
    const qsizetype size = m_buffer.size();
    const QString bareCrMessage = u"The request head contains a CR that is not followed by LF; end every line with "
                                  u"CRLF and send no other CR."_s;
    while (m_scanPos < size) {
        // The first byte that would make the head too long; nothing at or beyond it is ever examined, so a head
        // that never ends fails as soon as it is too long rather than when it ends.
        const qsizetype limit = m_readPos + m_limits.maxHeaderBytes;
        if (m_scanPos >= limit) {
            const QString limitText = QString::number(m_limits.maxHeaderBytes);
            QString message = m_sawRequestLine ? u"The request head is longer than "_s + limitText +
                                                     u" bytes; send fewer or shorter header fields."_s
                                               : u"The request line is longer than "_s + limitText +
                                                     u" bytes; shorten the request target."_s;
            return fail(431, "headers_too_large"_ba, std::move(message));
        }
        // A CR that ended the previous append must be followed by LF.
        if (m_scanPos > m_lineStart && data[m_scanPos - 1] == '\r' && data[m_scanPos] != '\n')
            return fail(400, "bare_carriage_return"_ba, bareCrMessage);

        const qsizetype end = qMin(size, limit);
        const auto *lf = static_cast<const char *>(std::memchr(data + m_scanPos, '\n', end - m_scanPos));
        const qsizetype lineEnd = lf ? lf - data : end;
        // A CR is allowed only right before the LF, or as the last byte received so far.
        if (const auto *cr = static_cast<const char *>(std::memchr(data + m_scanPos, '\r', lineEnd - m_scanPos));
            cr && cr - data + 1 < lineEnd) {
            return fail(400, "bare_carriage_return"_ba, bareCrMessage);
        }
        if (!lf) {
            m_scanPos = end;
            continue;
        }
        if (lineEnd == m_lineStart || data[lineEnd - 1] != '\r') {
            return fail(400, "bare_line_feed"_ba,
                        u"A line of the request head ends with a bare LF; end every line with CRLF."_s);
        }
        const QByteArrayView line(data + m_lineStart, lineEnd - 1 - m_lineStart);
        m_scanPos = m_lineStart = lineEnd + 1;
        switch (processLine(line)) {
        case LineOutcome::Continue:
            break;
        case LineOutcome::HeadComplete:
            return true;
        case LineOutcome::Failed:
            return false;
        }
    }
    // Only a skipped empty line can have consumed everything; don't hold on to it.
    if (m_readPos == m_buffer.size())
        compact();
    return false;
}

HttpRequestFramer::LineOutcome HttpRequestFramer::processLine(QByteArrayView line)
{
    if (!m_sawRequestLine) {
        if (!line.isEmpty())
            return parseRequestLine(line) ? LineOutcome::Continue : LineOutcome::Failed;
        if (m_skippedEmptyLine) {
            fail(400, "malformed_request_line"_ba,
                 u"The request starts with more than one empty line; send the request line first."_s);
            return LineOutcome::Failed;
        }
        // RFC 9112 §2.2: some clients send an extra CRLF after a body; it belongs to no request.
        m_skippedEmptyLine = true;
        m_readPos = m_scanPos;
        return LineOutcome::Continue;
    }
    if (line.isEmpty()) {
        m_headLength = m_scanPos - m_readPos;
        return finishHead() ? LineOutcome::HeadComplete : LineOutcome::Failed;
    }
    return parseHeaderLine(line) ? LineOutcome::Continue : LineOutcome::Failed;
}

bool HttpRequestFramer::parseRequestLine(QByteArrayView line)
{
    const QString expectedShape =
        u"; send \"METHOD /path HTTP/1.1\" with single spaces between the parts, ending in CRLF."_s;
    const qsizetype firstSpace = line.indexOf(' ');
    if (firstSpace <= 0)
        return fail(400, "malformed_request_line"_ba, u"The request line is malformed"_s + expectedShape);
    const QByteArrayView method = line.first(firstSpace);
    const QByteArrayView rest = line.sliced(firstSpace + 1);
    const qsizetype secondSpace = rest.indexOf(' ');
    if (secondSpace <= 0) {
        return fail(400, "malformed_request_line"_ba,
                    u"The request line does not consist of exactly three parts"_s + expectedShape);
    }
    const QByteArrayView target = rest.first(secondSpace);
    const QByteArrayView version = rest.sliced(secondSpace + 1);

    if (!isToken(method)) {
        return fail(400, "invalid_method"_ba,
                    u"The request method is not a valid token; use a method such as GET or POST."_s);
    }

    if (version == "HTTP/1.1"_ba) {
        m_current.httpMinorVersion = 1;
    } else if (version == "HTTP/1.0"_ba) {
        m_current.httpMinorVersion = 0;
    } else if (version.size() == 8 && version.startsWith("HTTP/"_ba) && isDigit(version[5]) && version[6] == '.' &&
               isDigit(version[7])) {
        // Safe to echo: the pattern above admits only "HTTP/", digits and a dot.
        return fail(505, "unsupported_http_version"_ba,
                    QString::fromLatin1(version) + u" is not supported; send the request as HTTP/1.1."_s);
    } else {
        return fail(400, "malformed_request_line"_ba,
                    u"The request line does not end in a valid HTTP version"_s + expectedShape);
    }

    const bool asteriskForm = target == "*"_ba && method == "OPTIONS"_ba;
    if (!asteriskForm) {
        bool valid = target.front() == '/';
        for (qsizetype i = 0; valid && i < target.size(); ++i)
            valid = isValidTargetByte(target[i]);
        if (!valid) {
            return fail(400, "invalid_request_target"_ba,
                        u"The request target must be a path starting with \"/\" (or \"*\" for OPTIONS) without "
                        u"spaces, control characters or non-ASCII bytes; percent-encode such characters."_s);
        }
    }

    m_current.method = method.toByteArray();
    m_current.target = target.toByteArray();
    m_sawRequestLine = true;
    return true;
}

bool HttpRequestFramer::parseHeaderLine(QByteArrayView line)
{
    if (isOws(line.front())) {
        return fail(400, "obsolete_line_folding"_ba,
                    u"A header line starts with whitespace (obsolete line folding); put each header field on a "
                    u"single line that starts with its name."_s);
    }
    const qsizetype colon = line.indexOf(':');
    if (colon < 0) {
        return fail(400, "invalid_header"_ba,
                    u"A header line has no colon; send every header field as \"Name: value\"."_s);
    }
    const QByteArrayView name = line.first(colon);
    if (!name.isEmpty() && isOws(name.back())) {
        // RFC 9112 §5.1 requires rejecting this: proxies disagree on whether the space belongs to the name.
        return fail(400, "invalid_header"_ba,
                    u"A header field name is followed by whitespace before the colon; remove the whitespace."_s);
    }
    if (!isToken(name)) {
        return fail(400, "invalid_header"_ba,
                    u"A header field name is empty or contains characters that are not allowed in a token; use "
                    u"only letters, digits and !#$%&'*+-.^_`|~."_s);
    }
    const QByteArrayView value = trimOws(line.sliced(colon + 1));
    for (const char c : value) {
        if (!isValidFieldValueByte(c)) {
            return fail(400, "invalid_header"_ba,
                        u"A header field value contains a control character; remove it or encode the value."_s);
        }
    }

    if (equalsIgnoringAsciiCase(name, "host"_ba)) {
        if (++m_head.hostCount > 1)
            return fail(400, "duplicate_host"_ba, u"The request has more than one Host header; send exactly one."_s);
        bool valid = !value.isEmpty();
        for (qsizetype i = 0; valid && i < value.size(); ++i)
            valid = hostChars[static_cast<unsigned char>(value[i])];
        if (!valid) {
            return fail(400, "invalid_host"_ba,
                        u"The Host header is empty or is not a valid host name with an optional port; send "
                        u"\"Host: name:port\"."_s);
        }
    } else if (equalsIgnoringAsciiCase(name, "content-length"_ba)) {
        if (++m_head.contentLengthCount > 1) {
            return fail(400, "duplicate_content_length"_ba,
                        u"The request has more than one Content-Length header; send exactly one."_s);
        }
        bool valid = !value.isEmpty() && value.size() <= maxContentLengthDigits;
        qint64 length = 0;
        for (qsizetype i = 0; valid && i < value.size(); ++i) {
            valid = isDigit(value[i]);
            if (valid)
                length = length * 10 + (value[i] - '0');
        }
        if (!valid) {
            return fail(400, "invalid_content_length"_ba,
                        u"The Content-Length header is not a plain decimal number of at most 18 digits; send the "
                        u"body size in bytes, e.g. \"Content-Length: 512\"."_s);
        }
        m_current.contentLength = length;
    } else if (equalsIgnoringAsciiCase(name, "transfer-encoding"_ba)) {
        m_head.transferEncoding = true;
    } else if (equalsIgnoringAsciiCase(name, "connection"_ba)) {
        qsizetype start = 0;
        while (start <= value.size()) {
            qsizetype comma = value.indexOf(',', start);
            if (comma < 0)
                comma = value.size();
            const QByteArrayView option = trimOws(value.sliced(start, comma - start));
            if (equalsIgnoringAsciiCase(option, "close"_ba))
                m_head.connectionClose = true;
            else if (equalsIgnoringAsciiCase(option, "keep-alive"_ba))
                m_head.connectionKeepAlive = true;
            start = comma + 1;
        }
    } else if (equalsIgnoringAsciiCase(name, "expect"_ba)) {
        // RFC 9110 §10.1.1: a server must ignore 100-continue from HTTP/1.0 clients.
        if (m_current.httpMinorVersion == 1 && equalsIgnoringAsciiCase(value, "100-continue"_ba))
            m_expectContinue = true;
    }
    return true;
}

bool HttpRequestFramer::finishHead()
{
    if (m_current.httpMinorVersion == 1 && m_head.hostCount == 0) {
        return fail(400, "missing_host"_ba,
                    u"HTTP/1.1 requests must carry a Host header; add \"Host:\" with this server's name and port."_s);
    }
    if (m_head.transferEncoding && m_head.contentLengthCount > 0) {
        return fail(400, "conflicting_framing"_ba,
                    u"The request has both Content-Length and Transfer-Encoding, so its length is ambiguous; send "
                    u"only Content-Length."_s);
    }
    if (m_head.transferEncoding) {
        return fail(411, "length_required"_ba,
                    u"Transfer-Encoding is not supported; send the body with a Content-Length header instead."_s);
    }
    const QByteArray &method = m_current.method;
    if (m_head.contentLengthCount == 0 && (method == "POST"_ba || method == "PUT"_ba || method == "PATCH"_ba)) {
        return fail(411, "length_required"_ba,
                    QString::fromLatin1(method) +
                        u" requests must carry a Content-Length header; send the body size in bytes (0 if there "
                        u"is no body)."_s);
    }
    if (m_current.contentLength > m_limits.maxBodyBytes) {
        return fail(413, "body_too_large"_ba,
                    u"The request body is "_s + QString::number(m_current.contentLength) +
                        u" bytes; this server accepts at most "_s + QString::number(m_limits.maxBodyBytes) +
                        u" bytes."_s);
    }
    m_current.keepAlive = m_current.httpMinorVersion == 1 ? !m_head.connectionClose
                                                          : m_head.connectionKeepAlive && !m_head.connectionClose;
    return true;
}

bool HttpRequestFramer::fail(int status, QByteArray code, QString message)
{
    m_error = FramingError{status, std::move(code), std::move(message)};
    m_state = Result::Failed;
    // Nothing after a framing error can be trusted, and the connection is about to close.
    m_buffer = QByteArray();
    m_readPos = m_scanPos = m_lineStart = 0;
    m_headLength = -1;
    m_current = {};
    m_ready = {};
    m_expectContinue = false;
    return false;
}

void HttpRequestFramer::startNextRequest()
{
    m_state = Result::NeedMore;
    m_scanPos = m_lineStart = m_readPos;
    m_headLength = -1;
    m_current = {};
    m_head = {};
    m_sawRequestLine = false;
    m_skippedEmptyLine = false;
    m_expectContinue = false;
    m_continueSent = false;
}

void HttpRequestFramer::compact()
{
    const qsizetype shift = m_readPos;
    if (shift == m_buffer.size()) {
        m_buffer.clear();
    } else if (shift >= minCompactBytes && shift >= m_buffer.size() / 2) {
        // Moving at most as many bytes as were consumed keeps the total copying linear in the stream.
        m_buffer.remove(0, shift);
    } else {
        return;
    }
    m_readPos -= shift;
    m_scanPos -= shift;
    m_lineStart -= shift;
}

} // namespace SiteRelay
