#include "attemptlimiter.h"

#include "clock.h"

namespace SiteRelay {
namespace {

// Bounds memory against a flood of distinct keys: beyond this, keys with no recent failure go.
constexpr qsizetype MaxKeys = 10000;

} // namespace

AttemptLimiter::AttemptLimiter(const Clock &clock, int maxFailures, qint64 windowMs)
    : m_clock(clock)
    , m_maxFailures(maxFailures)
    , m_windowMs(windowMs)
{}

void AttemptLimiter::prune(QList<qint64> &failures, qint64 now) const
{
    while (!failures.isEmpty() && now - failures.constFirst() >= m_windowMs)
        failures.removeFirst();
}

int AttemptLimiter::retryAfterSeconds(const QString &key)
{
    auto it = m_failures.find(key);
    if (it == m_failures.end())
        return 0;
    const qint64 now = m_clock.monotonicMs();
    prune(*it, now);
    if (it->size() < m_maxFailures) {
        if (it->isEmpty())
            m_failures.erase(it);
        return 0;
    }
    const qint64 waitMs = it->constFirst() + m_windowMs - now;
    return int(qMax<qint64>(1, (waitMs + 999) / 1000));
}

void AttemptLimiter::recordFailure(const QString &key)
{
    const qint64 now = m_clock.monotonicMs();
    if (m_failures.size() >= MaxKeys && !m_failures.contains(key)) {
        for (auto it = m_failures.begin(); it != m_failures.end();) {
            prune(*it, now);
            it = it->isEmpty() ? m_failures.erase(it) : std::next(it);
        }
    }
    QList<qint64> &failures = m_failures[key];
    prune(failures, now);
    failures.append(now);
}

void AttemptLimiter::reset(const QString &key)
{
    m_failures.remove(key);
}

} // namespace SiteRelay
