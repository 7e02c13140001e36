#pragma once

#include <QtGlobal>

namespace SiteRelay {

/// Facts about this process for /api/v1/stats and /metrics (Linux: read from /proc/self/status).
struct ProcessInfo
{
    int threads = 0;
    qint64 residentBytes = 0;
    qint64 peakResidentBytes = 0;

    static ProcessInfo current();
};

} // namespace SiteRelay
