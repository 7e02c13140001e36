#include "settings.h"

#include <QFileInfo>
#include <QSettings>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

const std::vector<SettingSpec> &settingSpecs()
{
    using T = QMetaType::Type;
    static const std::vector<SettingSpec> specs = {
        {SettingKey::ServerBind,
         u"server/bind"_s,
         T::QString,
         u"0.0.0.0"_s,
         0,
         0,
         {},
         u"Address the ingest server listens on (0.0.0.0: every IPv4 interface)."_s},
        {SettingKey::ServerPort,
         u"server/port"_s,
         T::Int,
         8787,
         0,
         65535,
         {},
         u"TCP port of the ingest server; 0 picks a free port (printed at start)."_s},
        {SettingKey::IngestMaxBodyBytes,
         u"ingest/maxBodyBytes"_s,
         T::Int,
         256 * 1024,
         1024,
         64 * 1024 * 1024,
         {},
         u"Largest request body accepted; a larger declared Content-Length is answered 413 at once."_s},
        {SettingKey::IngestMaxHeaderBytes,
         u"ingest/maxHeaderBytes"_s,
         T::Int,
         16 * 1024,
         1024,
         1024 * 1024,
         {},
         u"Largest request line plus headers; larger is answered 431 and the connection closed."_s},
        {SettingKey::IngestIdleTimeoutMs,
         u"ingest/idleTimeoutMs"_s,
         T::Int,
         10000,
         100,
         3600 * 1000,
         {},
         u"A connection that sends nothing for this long while no request of it is being answered is closed."_s},
        {SettingKey::IngestRequestDeadlineMs,
         u"ingest/requestDeadlineMs"_s,
         T::Int,
         30000,
         100,
         3600 * 1000,
         {},
         u"A request must arrive in full within this time of its first byte, or it is answered 408 and closed."_s},
        {SettingKey::IngestMaxConnections,
         u"ingest/maxConnections"_s,
         T::Int,
         1000,
         1,
         100000,
         {},
         u"Open connections at most; further ones are answered 503 and closed."_s},
        {SettingKey::IngestRetryAfterSeconds,
         u"ingest/retryAfterSeconds"_s,
         T::Int,
         5,
         1,
         3600,
         {},
         u"Retry-After sent with a 503 when the store cannot commit."_s},
        {SettingKey::IngestLoopbackStats,
         u"ingest/loopbackStats"_s,
         T::Bool,
         true,
         0,
         0,
         {},
         u"Whether /api/v1/stats and /metrics answer loopback clients without a coordinator token."_s},
        {SettingKey::StorageSynchronous,
         u"storage/synchronous"_s,
         T::QString,
         u"FULL"_s,
         0,
         0,
         {u"FULL"_s, u"NORMAL"_s},
         u"SQLite synchronous mode: FULL survives power loss; NORMAL (WAL) survives a crash of SiteRelay only."_s},
        {SettingKey::StorageBusyTimeoutMs,
         u"storage/busyTimeoutMs"_s,
         T::Int,
         5000,
         0,
         600000,
         {},
         u"How long a connection waits for a lock held by another before failing (then 503)."_s},
        {SettingKey::StorageMaxBatch,
         u"storage/maxBatch"_s,
         T::Int,
         1024,
         1,
         100000,
         {},
         u"Most submissions committed in one group-commit transaction."_s},
        {SettingKey::BenchNoStoreRoute,
         u"bench/noStoreRoute"_s,
         T::Bool,
         false,
         0,
         0,
         {},
         u"Benchmarks only: enables POST /bench/echo, which answers like an ingest without storing."_s},
        {SettingKey::EngineEnabled,
         u"engine/enabled"_s,
         T::Bool,
         true,
         0,
         0,
         {},
         u"Whether submissions are processed; false keeps them pending (ingest only)."_s},
        {SettingKey::EngineWorkers,
         u"engine/workers"_s,
         T::Int,
         0,
         0,
         256,
         {},
         u"Threads for CPU stages (validate, score, report); 0 means max(2, number of cores)."_s},
        {SettingKey::EngineMaxInFlight,
         u"engine/maxInFlight"_s,
         T::Int,
         256,
         1,
         100000,
         {},
         u"Attempts in progress at most; the rest wait as rows in the database."_s},
        {SettingKey::EngineAttemptDeadlineMs,
         u"engine/attemptDeadlineMs"_s,
         T::Int,
         60000,
         100,
         3600 * 1000,
         {},
         u"An attempt still running after this long is cancelled and counts as timed out."_s},
        {SettingKey::EngineStageTimeoutMs,
         u"engine/stageTimeoutMs"_s,
         T::Int,
         30000,
         50,
         3600 * 1000,
         {},
         u"Longest a CPU stage (validate, score, report together) may run before the attempt times out."_s},
        {SettingKey::RetryBaseMs,
         u"retry/baseMs"_s,
         T::Int,
         2000,
         1,
         3600 * 1000,
         {},
         u"Delay before the first retry of a transient failure; doubles with each attempt (with jitter)."_s},
        {SettingKey::RetryCapMs,
         u"retry/capMs"_s,
         T::Int,
         300000,
         1,
         24 * 3600 * 1000,
         {},
         u"Longest delay between retries."_s},
        {SettingKey::RetryMaxAttempts,
         u"retry/maxAttempts"_s,
         T::Int,
         5,
         1,
         1000,
         {},
         u"Attempts at most per submission before it ends timed_out or failed."_s},
        {SettingKey::ReportEnabled,
         u"report/enabled"_s,
         T::Bool,
         true,
         0,
         0,
         {},
         u"Whether a one-page PDF summary is written for each processed submission."_s},
        {SettingKey::AnalysisUrl,
         u"analysis/url"_s,
         T::QString,
         QString(),
         0,
         0,
         {},
         u"The analysis service's URL (http or https); empty skips the analysis stage."_s},
        {SettingKey::AnalysisToken,
         u"analysis/token"_s,
         T::QString,
         QString(),
         0,
         0,
         {},
         u"Bearer token sent to the analysis service; never logged."_s},
        {SettingKey::AnalysisTimeoutMs,
         u"analysis/timeoutMs"_s,
         T::Int,
         10000,
         50,
         3600 * 1000,
         {},
         u"Longest wait for the analysis service's answer; the request is then aborted."_s},
        {SettingKey::EngineExternalCheck,
         u"engine/externalCheck"_s,
         T::QString,
         QString(),
         0,
         0,
         {},
         u"A program run after scoring with the scored submission as JSON on stdin; it must print a JSON "
         u"object. Killed at engine/stageTimeoutMs or on cancel. Empty: no external check."_s},
        {SettingKey::SiteId,
         u"site/id"_s,
         T::QString,
         QString(),
         0,
         0,
         {},
         u"This site's identifier in exports (ODM FileOID, manifest); empty: the host name."_s},
        {SettingKey::AnalysisMaxConcurrent,
         u"analysis/maxConcurrent"_s,
         T::Int,
         6,
         1,
         1000,
         {},
         u"Analysis calls on their way at once; the rest wait (their timeout starts when sent). Qt sends at "
         u"most six HTTP/1.1 requests to one host in parallel."_s},
        // The tablet page (docs/TABLET.md).
        {SettingKey::TabletCoordinatorPin,
         u"tablet/coordinatorPin"_s,
         T::QString,
         QString(),
         0,
         0,
         {},
         u"PIN that opens the tablet page's coordinator screen (checked by the server, wrong PINs rate-limited); "
         u"empty: the coordinator screen stays locked."_s},
        {SettingKey::TabletSiteUrl,
         u"tablet/siteUrl"_s,
         T::QString,
         QString(),
         0,
         0,
         {},
         u"How tablets reach this server, e.g. http://192.168.1.20:8787, for enrollment links and QR codes; "
         u"empty: the first LAN address and server/port."_s},
        // Upload of export batches to the central trial platform (docs/EXPORT.md).
        {SettingKey::UploadKind,
         u"upload/kind"_s,
         T::QString,
         u"none"_s,
         0,
         0,
         {u"none"_s, u"redcap"_s, u"generic"_s},
         u"Where export batches are uploaded: none, redcap (REDCap API record import) or generic (POST of the "
         u"ODM file)."_s},
        {SettingKey::UploadUrl,
         u"upload/url"_s,
         T::QString,
         QString(),
         0,
         0,
         {},
         u"The central platform's URL (REDCap: its API endpoint, e.g. https://redcap.example.org/api/)."_s},
        {SettingKey::UploadToken,
         u"upload/token"_s,
         T::QString,
         QString(),
         0,
         0,
         {},
         u"API token for the central platform; never logged. Prefer upload/tokenFile."_s},
        {SettingKey::UploadTokenFile,
         u"upload/tokenFile"_s,
         T::QString,
         QString(),
         0,
         0,
         {},
         u"A file whose first line is the API token (used when upload/token is empty); never logged."_s},
        {SettingKey::UploadRedcapRecordIdField,
         u"upload/redcapRecordIdField"_s,
         T::QString,
         u"record_id"_s,
         0,
         0,
         {},
         u"REDCap: the project's record id field; each submission is one record keyed by its submission id."_s},
        {SettingKey::UploadRedcapEvent,
         u"upload/redcapEvent"_s,
         T::QString,
         QString(),
         0,
         0,
         {},
         u"REDCap: the unique event name sent as redcap_event_name (longitudinal projects); empty: none."_s},
        {SettingKey::UploadMaxRecords,
         u"upload/maxRecords"_s,
         T::Int,
         500,
         1,
         100000,
         {},
         u"REDCap: most records per import request (part)."_s},
        {SettingKey::UploadMaxBytes,
         u"upload/maxBytes"_s,
         T::Int,
         2 * 1024 * 1024,
         1024,
         512 * 1024 * 1024,
         {},
         u"REDCap: largest data payload per import request; a part is split before it grows larger."_s},
        {SettingKey::UploadTimeoutMs,
         u"upload/timeoutMs"_s,
         T::Int,
         120000,
         50,
         3600 * 1000,
         {},
         u"Longest wait for the platform's answer to one request; it is then aborted and retried."_s},
        {SettingKey::UploadMaxAttempts,
         u"upload/maxAttempts"_s,
         T::Int,
         5,
         1,
         1000,
         {},
         u"Attempts at most per part for transient failures (network, timeout, 5xx, 429) in one run."_s},
        {SettingKey::UploadRetryBaseMs,
         u"upload/retryBaseMs"_s,
         T::Int,
         2000,
         1,
         3600 * 1000,
         {},
         u"Delay before the first retry of a part; doubles with each attempt (with jitter)."_s},
        {SettingKey::UploadRetryCapMs,
         u"upload/retryCapMs"_s,
         T::Int,
         60000,
         1,
         24 * 3600 * 1000,
         {},
         u"Longest delay between retries of a part."_s},
    };
    return specs;
}

const SettingSpec &settingSpec(SettingKey key)
{
    for (const auto &spec : settingSpecs()) {
        if (spec.key == key)
            return spec;
    }
    Q_UNREACHABLE();
}

namespace {

const SettingSpec *findSpec(const QString &name)
{
    for (const auto &spec : settingSpecs()) {
        if (spec.name.compare(name, Qt::CaseInsensitive) == 0)
            return &spec;
    }
    return nullptr;
}

} // namespace

Settings::Settings()
{
    for (const auto &spec : settingSpecs())
        m_values.insert(spec.key, spec.defaultValue);
}

Expected<Done> Settings::assign(const SettingSpec &spec, const QString &text, const QString &origin)
{
    const auto bad = [&](const QString &why) {
        return Error::invalid(spec.name, u"%1: setting %2 %3"_s.arg(origin, spec.name, why));
    };
    switch (spec.type) {
    case QMetaType::Int: {
        bool ok = false;
        const qint64 number = text.trimmed().toLongLong(&ok);
        if (!ok)
            return bad(u"must be a whole number, not \"%1\""_s.arg(text));
        if (number < spec.minimum || number > spec.maximum)
            return bad(u"must be between %1 and %2, not %3"_s.arg(spec.minimum).arg(spec.maximum).arg(number));
        m_values.insert(spec.key, int(number));
        return Done{};
    }
    case QMetaType::Bool: {
        const QString lowered = text.trimmed().toLower();
        if (lowered == "true"_L1 || lowered == "1"_L1 || lowered == "yes"_L1 || lowered == "on"_L1)
            m_values.insert(spec.key, true);
        else if (lowered == "false"_L1 || lowered == "0"_L1 || lowered == "no"_L1 || lowered == "off"_L1)
            m_values.insert(spec.key, false);
        else
            return bad(u"must be true or false, not \"%1\""_s.arg(text));
        return Done{};
    }
    default: {
        if (!spec.choices.isEmpty()) {
            for (const auto &choice : spec.choices) {
                if (choice.compare(text.trimmed(), Qt::CaseInsensitive) == 0) {
                    m_values.insert(spec.key, choice);
                    return Done{};
                }
            }
            return bad(u"must be one of %1, not \"%2\""_s.arg(spec.choices.join(u", "_s), text));
        }
        m_values.insert(spec.key, text);
        return Done{};
    }
    }
}

Expected<Settings> Settings::load(const QString &iniPath, const QHash<QString, QString> &overrides)
{
    Settings settings;
    if (!iniPath.isEmpty() && QFileInfo::exists(iniPath)) {
        QSettings file(iniPath, QSettings::IniFormat);
        if (file.status() != QSettings::NoError)
            return Error::invalid(QString(), u"cannot read settings file %1"_s.arg(iniPath));
        const QStringList keys = file.allKeys();
        for (const QString &name : keys) {
            const SettingSpec *spec = findSpec(name);
            if (!spec)
                return Error::invalid(name, u"%1: unknown setting %2 (see docs/CONFIGURATION.md)"_s.arg(iniPath, name));
            const QVariant raw = file.value(name);
            const QString text =
                raw.typeId() == QMetaType::QStringList ? raw.toStringList().join(u',') : raw.toString();
            if (auto assigned = settings.assign(*spec, text, iniPath); !assigned)
                return assigned.error();
        }
    }
    for (auto it = overrides.cbegin(); it != overrides.cend(); ++it) {
        const SettingSpec *spec = findSpec(it.key());
        if (!spec)
            return Error::invalid(it.key(), u"--set: unknown setting %1 (see docs/CONFIGURATION.md)"_s.arg(it.key()));
        if (auto assigned = settings.assign(*spec, it.value(), u"--set"_s); !assigned)
            return assigned.error();
    }
    return settings;
}

Expected<std::pair<QString, QString>> Settings::parseAssignment(const QString &assignment)
{
    const qsizetype equals = assignment.indexOf(u'=');
    if (equals <= 0)
        return Error::invalid(assignment, u"--set expects KEY=VALUE, got \"%1\""_s.arg(assignment));
    return std::pair{assignment.left(equals).trimmed(), assignment.mid(equals + 1)};
}

int Settings::integer(SettingKey key) const
{
    return m_values.value(key).toInt();
}

bool Settings::flag(SettingKey key) const
{
    return m_values.value(key).toBool();
}

QString Settings::text(SettingKey key) const
{
    return m_values.value(key).toString();
}

Expected<Settings> Settings::with(SettingKey key, const QString &value) const
{
    Settings copy = *this;
    if (auto assigned = copy.assign(settingSpec(key), value, u"override"_s); !assigned)
        return assigned.error();
    return copy;
}

} // namespace SiteRelay
