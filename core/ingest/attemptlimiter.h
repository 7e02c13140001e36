#pragma once

#include <QHash>
#include <QList>
#include <QString>

namespace SiteRelay {

class Clock;

/**
 * Limits failed attempts per key (a client address, a device): after maxFailures failures within
 * windowMs a key is refused until its oldest failure in the window is windowMs old. Used for the
 * tablet's coordinator PIN and for enrollment codes, so neither can be guessed by trying. State is
 * in memory only (a restart forgets it, which gives an attacker one window more per restart).
 * Not thread-safe: use it on one thread (the server thread). Time comes from the Clock seam.
 */
class AttemptLimiter
{
public:
    AttemptLimiter(const Clock &clock, int maxFailures, qint64 windowMs);

    /// 0 if @p key may try now, else the seconds until it may (for Retry-After, at least 1).
    int retryAfterSeconds(const QString &key);
    void recordFailure(const QString &key);
    void reset(const QString &key);

private:
    void prune(QList<qint64> &failures, qint64 now) const;

    const Clock &m_clock;
    int m_maxFailures;
    qint64 m_windowMs;
    QHash<QString, QList<qint64>> m_failures; ///< monotonic ms of recent failures, oldest first
};

} // namespace SiteRelay
