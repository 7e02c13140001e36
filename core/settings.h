#pragma once

#include "expected.h"

#include <QHash>
#include <QMetaType>
#include <QString>
#include <QVariant>

#include <vector>

namespace SiteRelay {

/// Every setting SiteRelay reads. Add a key here and a row in settingSpecs(); nothing else reads
/// raw QSettings strings.
enum class SettingKey {
    ServerBind,
    ServerPort,
    IngestMaxBodyBytes,
    IngestMaxHeaderBytes,
    IngestIdleTimeoutMs,
    IngestRequestDeadlineMs,
    IngestMaxConnections,
    IngestRetryAfterSeconds,
    IngestLoopbackStats,
    StorageSynchronous,
    StorageBusyTimeoutMs,
    StorageMaxBatch,
    BenchNoStoreRoute,
    EngineEnabled,
    EngineWorkers,
    EngineMaxInFlight,
    EngineAttemptDeadlineMs,
    EngineStageTimeoutMs,
    RetryBaseMs,
    RetryCapMs,
    RetryMaxAttempts,
    ReportEnabled,
    AnalysisUrl,
    AnalysisToken,
    AnalysisTimeoutMs,
    EngineExternalCheck,
    SiteId,
    AnalysisMaxConcurrent,
    TabletCoordinatorPin,
    TabletSiteUrl,
    UploadKind,
    UploadUrl,
    UploadToken,
    UploadTokenFile,
    UploadRedcapRecordIdField,
    UploadRedcapEvent,
    UploadMaxRecords,
    UploadMaxBytes,
    UploadTimeoutMs,
    UploadMaxAttempts,
    UploadRetryBaseMs,
    UploadRetryCapMs,
};

struct SettingSpec
{
    SettingKey key;
    QString name;         ///< "group/key" as in the INI file and on the command line
    QMetaType::Type type; ///< Int, Bool or QString
    QVariant defaultValue;
    qint64 minimum = 0;  ///< for Int settings
    qint64 maximum = 0;  ///< for Int settings
    QStringList choices; ///< for QString settings with a fixed set of values (empty: any)
    QString description;
};

/// The one table of keys, types and defaults; docs/CONFIGURATION.md mirrors it.
const std::vector<SettingSpec> &settingSpecs();
const SettingSpec &settingSpec(SettingKey key);

/**
 * An immutable snapshot of the effective settings: defaults, then the INI file, then
 * `--set KEY=VALUE` overrides. Copyable and read-only, so any thread may read its copy.
 */
class Settings
{
public:
    /// All defaults.
    Settings();

    /**
     * Loads @p iniPath (missing file: defaults) and applies @p overrides ("group/key" → text).
     * Fails with InvalidArgument naming the key for an unknown key, a value of the wrong type or
     * one out of range — in the file or in the overrides.
     */
    static Expected<Settings> load(const QString &iniPath, const QHash<QString, QString> &overrides);

    /// Parses "KEY=VALUE" as given to --set.
    static Expected<std::pair<QString, QString>> parseAssignment(const QString &assignment);

    int integer(SettingKey key) const;
    bool flag(SettingKey key) const;
    QString text(SettingKey key) const;

    /// Returns a copy with one value replaced (validated like an override). For tests and tools.
    Expected<Settings> with(SettingKey key, const QString &value) const;

private:
    Expected<Done> assign(const SettingSpec &spec, const QString &text, const QString &origin);

    QHash<SettingKey, QVariant> m_values;
};

} // namespace SiteRelay
