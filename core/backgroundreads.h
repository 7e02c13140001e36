#pragma once

#include "alertreader.h"
#include "device.h"
#include "expected.h"

#include <QFuture>
#include <QList>
#include <QString>

namespace SiteRelay {

/// The open safety alerts and how many there are (the list is capped; the count is not).
struct AlertsSnapshot
{
    QList<AlertRecord> alerts;
    qint64 unacknowledged = 0;
};

/**
 * One-shot reads for the dashboard that must not touch the database on the GUI thread: each call
 * runs on Qt's global thread pool, opens a read connection there, reads, closes it again and
 * resolves the future with the result (StorageUnavailable on failure). Opening a read-only SQLite
 * connection costs well under a millisecond, which is nothing at a few refreshes a second and
 * keeps connections strictly on the thread that made them. Callable from any thread; consume the
 * future with whenFinished() and a context object.
 */
class BackgroundReads
{
public:
    static QFuture<Expected<AlertsSnapshot>> alerts(const QString &databasePath, AlertReader::Filter filter,
                                                    int limit = AlertReader::DefaultLimit);
    static QFuture<Expected<QList<DeviceRecord>>> devices(const QString &databasePath);
};

} // namespace SiteRelay
