#pragma once

#include <QtGlobal>

namespace SiteRelay {

/**
 * Exponential backoff with jitter for transient failures (timeouts, network errors, 5xx): the n-th
 * retry waits base·2^(n−1), capped, then scaled by a random factor in [0.75, 1.25) so that a batch
 * that failed together does not retry together. Pure; thread-safe.
 */
struct RetryPolicy
{
    int baseMs = 2000;
    int capMs = 300000;
    int maxAttempts = 5;

    /// Whether another attempt may follow attempt @p attemptInRun (counted from 1).
    bool mayRetryAfter(int attemptInRun) const { return attemptInRun < maxAttempts; }
    /// Delay before the attempt after @p attemptInRun; @p jitter01 in [0, 1).
    qint64 delayMs(int attemptInRun, double jitter01) const;
};

} // namespace SiteRelay
