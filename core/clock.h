#pragma once

#include <QDateTime>

#include <memory>

namespace SiteRelay {

/**
 * The one seam through which code asks for the time, so deadlines, backoff and expiry can be
 * tested without sleeping. Implementations must be safe to call from any thread.
 */
class Clock
{
public:
    virtual ~Clock() = default;
    /// Wall-clock time in UTC.
    virtual QDateTime nowUtc() const = 0;
    /// Monotonic milliseconds since an arbitrary start; only differences are meaningful.
    virtual qint64 monotonicMs() const = 0;

    /// The process-wide real clock.
    static std::shared_ptr<Clock> system();
};

/// UTC ISO 8601 with milliseconds and a Z, the one format we store and answer with.
QString toIsoUtc(const QDateTime &time);

} // namespace SiteRelay
