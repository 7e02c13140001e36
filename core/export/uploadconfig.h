#pragma once

#include "expected.h"
#include "retrypolicy.h"

#include <QString>
#include <QUrl>

namespace SiteRelay {

class Settings;

/**
 * The upload settings (upload/kind and the rest), checked once: where and how batches go to the central platform. The
 * token is read here (from upload/token or the first line of upload/tokenFile) and kept only in
 * this value; nothing logs or audits it. A plain copyable value: any thread may read its copy.
 */
struct UploadConfig
{
    enum class Kind { None, Redcap, Generic };

    Kind kind = Kind::None;
    QUrl url;
    QString token;
    QString redcapRecordIdField = QStringLiteral("record_id");
    QString redcapEvent;
    int maxRecords = 500;
    int maxBytes = 2 * 1024 * 1024;
    int timeoutMs = 120000;
    RetryPolicy retry;

    /**
     * Reads the settings. Fails with InvalidArgument naming the setting when uploading is
     * configured but incomplete: no or a non-http(s) url, no token, an unreadable token file, an
     * invalid REDCap field name. With upload/kind = none it succeeds with Kind::None.
     */
    static Expected<UploadConfig> fromSettings(const Settings &settings);

    /// "redcap", "generic" or "none", as stored in batch_uploads.kind.
    QString kindName() const;
    /// The url without user info, query or fragment: what logs and the audit trail may name.
    QString safeUrl() const;
};

} // namespace SiteRelay
