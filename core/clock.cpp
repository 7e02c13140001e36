#include "clock.h"

#include <QElapsedTimer>

#include <cstdio>

namespace SiteRelay {
namespace {

class SystemClock final : public Clock
{
public:
    SystemClock() { m_started.start(); }
    QDateTime nowUtc() const override { return QDateTime::currentDateTimeUtc(); }
    qint64 monotonicMs() const override { return m_started.elapsed(); }

private:
    QElapsedTimer m_started;
};

} // namespace

std::shared_ptr<Clock> Clock::system()
{
    static const auto clock = std::make_shared<SystemClock>();
    return clock;
}

QString toIsoUtc(const QDateTime &time)
{
    // Formatted by hand: QDateTime::toString() goes through time-zone and locale machinery and
    // was a visible share of the ingest thread's time per request.
    const QDateTime utc = time.toUTC();
    const QDate date = utc.date();
    const QTime clock = utc.time();
    if (!date.isValid() || date.year() < 0 || date.year() > 9999)
        return utc.toString(Qt::ISODateWithMs);
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", date.year(), date.month(), date.day(),
                  clock.hour(), clock.minute(), clock.second(), clock.msec());
    return QString::fromLatin1(text);
}

} // namespace SiteRelay
