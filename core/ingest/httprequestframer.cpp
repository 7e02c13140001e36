#include "httprequestframer.h"

// Placeholder: the strict framer is being written (see tests/ingest/tst_httprequestframer.cpp).
namespace SiteRelay {

HttpRequestFramer::HttpRequestFramer(Limits limits) : m_limits(limits) {}
void HttpRequestFramer::append(QByteArrayView bytes) { m_buffer.append(bytes); }
HttpRequestFramer::Result HttpRequestFramer::next() { return m_state; }
FramedRequest HttpRequestFramer::takeRequest() { return std::exchange(m_ready, {}); }
const FramingError &HttpRequestFramer::error() const { return m_error; }
bool HttpRequestFramer::wantsContinue() const { return false; }
void HttpRequestFramer::continueSent() {}
bool HttpRequestFramer::hasPartialRequest() const { return !m_buffer.isEmpty(); }
qint64 HttpRequestFramer::bufferedBytes() const { return m_buffer.size(); }

} // namespace SiteRelay
