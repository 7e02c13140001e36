#include "devicetoken.h"

#include <QCryptographicHash>
#include <QRandomGenerator>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

constexpr int SecretBytes = 32;
constexpr int SaltBytes = 16;
constexpr auto Base64Url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

QByteArray randomBytes(int count)
{
    QByteArray bytes(count, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), count / 4);
    return bytes;
}

} // namespace

QByteArray DeviceToken::newSecret()
{
    return randomBytes(SecretBytes);
}

QByteArray DeviceToken::newSalt()
{
    return randomBytes(SaltBytes);
}

QString DeviceToken::format(qint64 deviceId, const QByteArray &secret)
{
    return u"srt_%1_%2"_s.arg(deviceId).arg(QString::fromLatin1(secret.toBase64(Base64Url)));
}

std::optional<DeviceToken::Parsed> DeviceToken::parse(QByteArrayView token)
{
    if (!token.startsWith("srt_") || token.size() > 128)
        return std::nullopt;
    const QByteArrayView rest = token.sliced(4);
    const qsizetype underscore = rest.indexOf('_');
    if (underscore <= 0)
        return std::nullopt;
    bool ok = false;
    const qint64 id = rest.first(underscore).toByteArray().toLongLong(&ok);
    if (!ok || id <= 0)
        return std::nullopt;
    const auto decoded = QByteArray::fromBase64Encoding(rest.sliced(underscore + 1).toByteArray(),
                                                        Base64Url | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.size() != SecretBytes)
        return std::nullopt;
    return Parsed{id, decoded.decoded};
}

QByteArray DeviceToken::hash(const QByteArray &salt, const QByteArray &secret)
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(salt);
    hash.addData(secret);
    return hash.result();
}

bool DeviceToken::verify(const QByteArray &salt, const QByteArray &expectedHash, const QByteArray &secret)
{
    const QByteArray actual = hash(salt, secret);
    if (actual.size() != expectedHash.size())
        return false;
    unsigned char difference = 0;
    for (qsizetype i = 0; i < actual.size(); ++i)
        difference |= static_cast<unsigned char>(actual[i] ^ expectedHash[i]);
    return difference == 0;
}

} // namespace SiteRelay
