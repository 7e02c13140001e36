#include "uploadconfig.h"

#include "settings.h"

#include <QFile>
#include <QRegularExpression>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

Expected<UploadConfig> UploadConfig::fromSettings(const Settings &settings)
{
    UploadConfig config;
    const QString kind = settings.text(SettingKey::UploadKind);
    if (kind == "none"_L1)
        return config;
    config.kind = kind == "redcap"_L1 ? Kind::Redcap : Kind::Generic;

    config.url = QUrl(settings.text(SettingKey::UploadUrl), QUrl::StrictMode);
    if (!config.url.isValid() || (config.url.scheme() != "http"_L1 && config.url.scheme() != "https"_L1) ||
        config.url.host().isEmpty())
        return Error::invalid(u"upload/url"_s, u"upload/url must be the platform's http(s) URL, not \"%1\""_s.arg(
                                                   settings.text(SettingKey::UploadUrl)));

    config.token = settings.text(SettingKey::UploadToken).trimmed();
    const QString tokenFile = settings.text(SettingKey::UploadTokenFile);
    if (config.token.isEmpty() && !tokenFile.isEmpty()) {
        QFile file(tokenFile);
        if (!file.open(QIODevice::ReadOnly))
            return Error::invalid(u"upload/tokenFile"_s,
                                  u"cannot read upload/tokenFile %1: %2"_s.arg(tokenFile, file.errorString()));
        config.token = QString::fromUtf8(file.readLine(64 * 1024)).trimmed();
    }
    if (config.token.isEmpty())
        return Error::invalid(u"upload/token"_s,
                              u"uploading needs the platform's API token: set upload/tokenFile (or upload/token)"_s);

    // REDCap field and event names: lower-case letters, digits and underscores.
    static const QRegularExpression redcapName(u"^[a-z][a-z0-9_]{0,99}$"_s);
    config.redcapRecordIdField = settings.text(SettingKey::UploadRedcapRecordIdField);
    if (config.kind == Kind::Redcap && !redcapName.match(config.redcapRecordIdField).hasMatch())
        return Error::invalid(u"upload/redcapRecordIdField"_s,
                              u"upload/redcapRecordIdField must be a REDCap field name (a-z, 0-9, _), not \"%1\""_s.arg(
                                  config.redcapRecordIdField));
    config.redcapEvent = settings.text(SettingKey::UploadRedcapEvent);
    if (!config.redcapEvent.isEmpty() && !redcapName.match(config.redcapEvent).hasMatch())
        return Error::invalid(
            u"upload/redcapEvent"_s,
            u"upload/redcapEvent must be a unique event name (a-z, 0-9, _), not \"%1\""_s.arg(config.redcapEvent));
    config.maxRecords = settings.integer(SettingKey::UploadMaxRecords);
    config.maxBytes = settings.integer(SettingKey::UploadMaxBytes);
    config.timeoutMs = settings.integer(SettingKey::UploadTimeoutMs);
    config.retry.maxAttempts = settings.integer(SettingKey::UploadMaxAttempts);
    config.retry.baseMs = settings.integer(SettingKey::UploadRetryBaseMs);
    config.retry.capMs = settings.integer(SettingKey::UploadRetryCapMs);
    return config;
}

QString UploadConfig::kindName() const
{
    switch (kind) {
    case Kind::Redcap:
        return u"redcap"_s;
    case Kind::Generic:
        return u"generic"_s;
    case Kind::None:
        break;
    }
    return u"none"_s;
}

QString UploadConfig::safeUrl() const
{
    return url.adjusted(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment).toString();
}

} // namespace SiteRelay
