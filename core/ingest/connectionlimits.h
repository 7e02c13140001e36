#pragma once

#include <QtGlobal>

namespace SiteRelay {

/// The hardening limits of the ingest listener (from the ingest/* settings).
struct ConnectionLimits
{
    qint64 maxHeaderBytes = 16 * 1024;
    qint64 maxBodyBytes = 256 * 1024;
    int idleTimeoutMs = 10000;
    int requestDeadlineMs = 30000;
    int maxConnections = 1000;
    /// Bytes of unfinished requests held across all connections before new data is refused (503).
    qint64 maxBufferedBytes = 64 * 1024 * 1024;
};

} // namespace SiteRelay
