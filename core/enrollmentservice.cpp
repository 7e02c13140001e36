#include "enrollmentservice.h"

#include "auditlog.h"
#include "clock.h"
#include "database.h"
#include "submissionstore.h"

#include <QCryptographicHash>
#include <QRandomGenerator>
#include <QSqlError>
#include <QSqlQuery>
#include <QUrl>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper is unambiguous.
constexpr QLatin1StringView Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"_L1;
constexpr int CodeLength = 12; // 60 random bits; a code lives 15 minutes and failures are rate-limited
constexpr int GroupLength = 4;

QString newCode()
{
    QString code;
    for (int i = 0; i < CodeLength; ++i) {
        if (i > 0 && i % GroupLength == 0)
            code += u'-';
        code += Alphabet.at(QRandomGenerator::system()->bounded(int(Alphabet.size())));
    }
    return code;
}

Error codeError(const QString &reason, const QString &message)
{
    return Error{ErrorCode::Forbidden, message, u"code"_s, reason};
}

} // namespace

EnrollmentService::EnrollmentService(SubmissionStore &store)
    : m_store(store)
{}

QString EnrollmentService::normalize(const QString &code)
{
    QString normalized;
    for (const QChar c : code) {
        if (c == u'-' || c == u' ')
            continue;
        const QChar upper = c.toUpper();
        // Crockford: O reads as 0, I and L as 1.
        const QChar mapped = upper == u'O' ? u'0' : (upper == u'I' || upper == u'L') ? u'1' : upper;
        if (!Alphabet.contains(mapped))
            return {};
        normalized += mapped;
        if (normalized.size() > CodeLength)
            return {};
    }
    return normalized.size() == CodeLength ? normalized : QString();
}

QByteArray EnrollmentService::hash(const QString &normalizedCode)
{
    return QCryptographicHash::hash(normalizedCode.toLatin1(), QCryptographicHash::Sha256);
}

QFuture<Expected<EnrollmentCode>> EnrollmentService::create(const QString &deviceName, const QString &siteUrl,
                                                            const QString &actor, DeviceRole role)
{
    const QString name = deviceName.trimmed();
    QString base = siteUrl.trimmed();
    while (base.endsWith(u'/'))
        base.chop(1);
    const QUrl url(base, QUrl::StrictMode);
    Error invalid;
    if (name.isEmpty())
        invalid = Error::invalid(u"deviceName"_s, u"the device needs a name"_s);
    else if (!url.isValid() || (url.scheme() != "http"_L1 && url.scheme() != "https"_L1) || url.host().isEmpty() ||
             !url.path().isEmpty() || url.hasQuery() || url.hasFragment())
        invalid = Error::invalid(
            u"siteUrl"_s,
            u"the site URL must be http://HOST:PORT (how tablets reach this server), not \"%1\""_s.arg(siteUrl));
    if (!invalid.message.isEmpty()) {
        QPromise<Expected<EnrollmentCode>> failed;
        failed.start();
        failed.addResult(invalid);
        failed.finish();
        return failed.future();
    }

    const QDateTime now = m_store.clock().nowUtc();
    const QString createdAt = toIsoUtc(now);
    const QString expiresAt = toIsoUtc(now.addMSecs(ValidityMs));
    const QString code = newCode();
    return m_store.submit<EnrollmentCode>([=](QSqlDatabase &db) -> Expected<EnrollmentCode> {
        QSqlQuery insert(db);
        insert.prepare(u"INSERT INTO enrollment_codes (code_hash, device_name, role, created_at, created_by, "
                       u"expires_at) VALUES (?, ?, ?, ?, ?, ?)"_s);
        insert.addBindValue(hash(normalize(code)));
        insert.addBindValue(name);
        insert.addBindValue(toString(role));
        insert.addBindValue(createdAt);
        insert.addBindValue(actor);
        insert.addBindValue(expiresAt);
        if (!insert.exec())
            return Database::storageError(u"creating an enrollment code"_s, insert.lastError());
        const qint64 id = insert.lastInsertId().toLongLong();
        if (auto audited =
                AuditLog::append(db, {createdAt, actor, u"enrollment"_s, QString::number(id), u"created"_s, QString(),
                                      u"open"_s, u"for device \"%1\", expires %2"_s.arg(name, expiresAt)});
            !audited)
            return audited.error();
        return EnrollmentCode{id, code, base + u"/tablet/?enroll="_s + code, expiresAt};
    });
}

QFuture<Expected<NewDevice>> EnrollmentService::redeem(const QString &code, const QString &actor)
{
    const QString normalized = normalize(code);
    if (normalized.isEmpty()) {
        QPromise<Expected<NewDevice>> failed;
        failed.start();
        failed.addResult(Error::invalid(u"code"_s,
                                        u"that is not an enrollment code: it has 12 letters and digits, "
                                        u"e.g. 7KQ2-M9XD-4TRA"_s,
                                        u"invalid_field"_s));
        failed.finish();
        return failed.future();
    }
    const QString now = toIsoUtc(m_store.clock().nowUtc());
    const QByteArray codeHash = hash(normalized);
    return m_store.submit<NewDevice>([codeHash, actor, now](QSqlDatabase &db) -> Expected<NewDevice> {
        QSqlQuery find(db);
        find.prepare(u"SELECT id, device_name, role, expires_at, redeemed_at FROM enrollment_codes "
                     u"WHERE code_hash = ?"_s);
        find.addBindValue(codeHash);
        if (!find.exec())
            return Database::storageError(u"looking up an enrollment code"_s, find.lastError());
        if (!find.next())
            return codeError(u"enrollment_code_invalid"_s,
                             u"This enrollment code is not known. Check it, or create a new one for this tablet."_s);
        const qint64 codeId = find.value(0).toLongLong();
        const QString name = find.value(1).toString();
        const DeviceRole role = deviceRoleFromString(find.value(2).toString()).value_or(DeviceRole::Device);
        const QString expiresAt = find.value(3).toString();
        if (!find.value(4).isNull())
            return codeError(u"enrollment_code_used"_s,
                             u"This enrollment code was used already; each code enrolls one tablet. Create a new "
                             u"one for this tablet."_s);
        // Both are toIsoUtc() strings, which order like the times they name.
        if (now >= expiresAt)
            return codeError(
                u"enrollment_code_expired"_s,
                u"This enrollment code expired at %1 (codes are valid 15 minutes). Create a new one."_s.arg(expiresAt));
        find.finish();

        auto device = SubmissionStore::insertDevice(db, name, role, now);
        if (!device)
            return device;
        const qint64 deviceId = device->record.id;

        QSqlQuery redeem(db);
        redeem.prepare(u"UPDATE enrollment_codes SET redeemed_at = ?, device_id = ? WHERE id = ? "
                       u"AND redeemed_at IS NULL"_s);
        redeem.addBindValue(now);
        redeem.addBindValue(deviceId);
        redeem.addBindValue(codeId);
        if (!redeem.exec())
            return Database::storageError(u"redeeming an enrollment code"_s, redeem.lastError());

        for (const AuditEntry &entry :
             {AuditEntry{now, actor, u"enrollment"_s, QString::number(codeId), u"redeemed"_s, u"open"_s, u"redeemed"_s,
                         u"device %1"_s.arg(deviceId)},
              AuditEntry{now, actor, u"device"_s, QString::number(deviceId), u"created"_s, QString(), u"active"_s,
                         u"%1, enrolled with code %2"_s.arg(toString(role)).arg(codeId)}}) {
            if (auto audited = AuditLog::append(db, entry); !audited)
                return audited.error();
        }
        return device;
    });
}

} // namespace SiteRelay
