#pragma once

#include <QString>

#include <optional>

namespace SiteRelay {

/// What a token may do: a device submits and reads its own submissions; a coordinator reads
/// everything and acts.
enum class DeviceRole { Device, Coordinator };

QString toString(DeviceRole role);
/// "device" or "coordinator"; anything else is nullopt.
std::optional<DeviceRole> deviceRoleFromString(QStringView text);

struct DeviceRecord
{
    qint64 id = 0;
    QString name;
    DeviceRole role = DeviceRole::Device;
    QString createdAt;
    QString lastSeenAt; ///< empty if never seen
    QString revokedAt;  ///< empty while valid
};

/// A device just added: its record and its token, which is shown this once and never stored.
struct NewDevice
{
    DeviceRecord record;
    QString token;
};

/// Who made a request, once its token checked out.
struct AuthenticatedDevice
{
    qint64 id = 0;
    DeviceRole role = DeviceRole::Device;
    bool isCoordinator() const { return role == DeviceRole::Coordinator; }
    QString actor() const;
};

} // namespace SiteRelay
