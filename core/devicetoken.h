#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

namespace SiteRelay {

/**
 * Bearer tokens of devices and coordinators: "srt_<deviceId>_<43 characters of base64url secret>".
 * The id part lets the server find the one row to check; the 256-bit secret is stored only as
 * SHA-256(salt ‖ secret) with a per-device random salt. A slow password hash buys nothing for a
 * random 256-bit secret, and the check runs on every request. All functions are thread-safe.
 */
class DeviceToken
{
public:
    struct Parsed
    {
        qint64 deviceId = 0;
        QByteArray secret;
    };

    static QByteArray newSecret();
    static QByteArray newSalt();
    static QString format(qint64 deviceId, const QByteArray &secret);
    static std::optional<Parsed> parse(QByteArrayView token);
    static QByteArray hash(const QByteArray &salt, const QByteArray &secret);
    /// Compares in constant time, so response timing says nothing about how much matched.
    static bool verify(const QByteArray &salt, const QByteArray &expectedHash, const QByteArray &secret);
};

} // namespace SiteRelay
