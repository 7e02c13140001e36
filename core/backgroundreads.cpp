#include "backgroundreads.h"

#include "storereader.h"

#include <QtConcurrent/QtConcurrentRun>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

QFuture<Expected<AlertsSnapshot>> BackgroundReads::alerts(const QString &databasePath, AlertReader::Filter filter,
                                                          int limit)
{
    return QtConcurrent::run([databasePath, filter, limit]() -> Expected<AlertsSnapshot> {
        auto reader = AlertReader::open(databasePath);
        if (!reader)
            return reader.error();
        auto alerts = (*reader)->alerts(filter, limit);
        if (!alerts)
            return alerts.error();
        auto count = (*reader)->unacknowledgedCount();
        if (!count)
            return count.error();
        return AlertsSnapshot{std::move(alerts).value(), *count};
    });
}

QFuture<Expected<QList<DeviceRecord>>> BackgroundReads::devices(const QString &databasePath)
{
    return QtConcurrent::run([databasePath]() -> Expected<QList<DeviceRecord>> {
        auto reader = StoreReader::open(databasePath);
        if (!reader)
            return reader.error();
        return (*reader)->devices();
    });
}

} // namespace SiteRelay
