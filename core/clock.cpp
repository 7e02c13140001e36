#include "clock.h"

#include <QElapsedTimer>

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
    return time.toUTC().toString(Qt::ISODateWithMs);
}

} // namespace SiteRelay
