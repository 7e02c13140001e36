#include "device.h"

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

QString toString(DeviceRole role)
{
    return role == DeviceRole::Coordinator ? u"coordinator"_s : u"device"_s;
}

std::optional<DeviceRole> deviceRoleFromString(QStringView text)
{
    if (text == u"device")
        return DeviceRole::Device;
    if (text == u"coordinator")
        return DeviceRole::Coordinator;
    return std::nullopt;
}

QString AuthenticatedDevice::actor() const
{
    return u"%1:%2"_s.arg(toString(role)).arg(id);
}

} // namespace SiteRelay
