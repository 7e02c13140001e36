#include "processinfo.h"

#include <QFile>

namespace SiteRelay {

ProcessInfo ProcessInfo::current()
{
    ProcessInfo info;
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return info;
    const QList<QByteArray> lines = status.readAll().split('\n');
    for (const QByteArray &line : lines) {
        const auto kib = [&line] {
            return line.mid(line.indexOf(':') + 1).trimmed().split(' ').value(0).toLongLong() * 1024;
        };
        if (line.startsWith("Threads:"))
            info.threads = line.mid(8).trimmed().toInt();
        else if (line.startsWith("VmRSS:"))
            info.residentBytes = kib();
        else if (line.startsWith("VmHWM:"))
            info.peakResidentBytes = kib();
    }
    return info;
}

} // namespace SiteRelay
