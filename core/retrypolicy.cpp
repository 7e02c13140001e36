#include "retrypolicy.h"

#include <algorithm>
#include <cmath>

namespace SiteRelay {

qint64 RetryPolicy::delayMs(int attemptInRun, double jitter01) const
{
    const int exponent = std::clamp(attemptInRun - 1, 0, 30);
    const double raw = std::min(double(capMs), double(baseMs) * std::pow(2.0, exponent));
    const double jittered = raw * (0.75 + 0.5 * std::clamp(jitter01, 0.0, 0.999999));
    return std::max<qint64>(1, qint64(std::llround(std::min(jittered, double(capMs)))));
}

} // namespace SiteRelay
