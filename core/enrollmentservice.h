#pragma once

#include "device.h"
#include "expected.h"

#include <QFuture>
#include <QString>

namespace SiteRelay {

class SubmissionStore;

/// A one-time enrollment code just created: shown (and put into a QR code) this once.
struct EnrollmentCode
{
    qint64 id = 0;     ///< row of enrollment_codes, as named in the audit trail
    QString code;      ///< "XXXX-XXXX-XXXX" (Crockford base32, 60 random bits)
    QString enrollUrl; ///< SITE_URL/tablet/?enroll=CODE, what the QR code encodes
    QString expiresAt; ///< UTC ISO 8601 with milliseconds
};

/**
 * One-time codes that let a tablet fetch its own bearer token: create() for a device name gives
 * a code valid for 15 minutes; redeem() exchanges it, once, for a new device and its token. Only
 * SHA-256 of a code is stored (table enrollment_codes, migration 006); the device row and token
 * are created at redemption and the token is stored only hashed, like every device token. Every
 * creation and redemption is in the audit trail, in the transaction that makes it.
 *
 * Used by the command line (`device add NAME --qr FILE`), the dashboard's device dialog and
 * POST /api/v1/enroll. Thread-safe: each call queues a job on the store's writer thread and the
 * future resolves after its COMMIT (StorageUnavailable if that fails; nothing is then stored).
 */
class EnrollmentService
{
public:
    static constexpr qint64 ValidityMs = 15 * 60 * 1000;

    explicit EnrollmentService(SubmissionStore &store);

    /**
     * Creates a code for a new device called @p deviceName. @p siteUrl is how the tablet reaches
     * this server, e.g. "http://192.168.1.20:8787" (see EnrollmentAddresses); a trailing slash is
     * ignored. InvalidArgument for an empty name or a site URL that is not http(s)://HOST[:PORT].
     */
    QFuture<Expected<EnrollmentCode>> create(const QString &deviceName, const QString &siteUrl,
                                             const QString &actor = QStringLiteral("cli"),
                                             DeviceRole role = DeviceRole::Device);

    /**
     * Redeems @p code (dashes, spaces and case do not matter): creates the device and returns it
     * with its token. Forbidden (reason enrollment_code_invalid, _used or _expired) when the code
     * is unknown, was redeemed already or is older than ValidityMs; InvalidArgument when it is
     * not a code at all. @p actor names the client in the audit trail (e.g. "enroll:10.0.0.7").
     */
    QFuture<Expected<NewDevice>> redeem(const QString &code, const QString &actor);

    /// "XXXXXXXXXXXX" upper case without separators, or empty if @p code cannot be a code.
    static QString normalize(const QString &code);
    /// What is stored of a code: SHA-256 of its normalized form.
    static QByteArray hash(const QString &normalizedCode);

private:
    SubmissionStore &m_store;
};

} // namespace SiteRelay
