#include "commandline.h"

#include "batchexporter.h"
#include "settings.h"

#include <QCommandLineParser>
#include <QStandardPaths>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

Expected<CommandLine> CommandLine::parse(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        u"SiteRelay receives ePRO questionnaire submissions from clinic tablets, stores them durably in SQLite "
        u"and acknowledges each only after it is on disk.\n\n"
        u"Commands:\n"
        u"  (none)                                 run the ingest server (and the window, with a display)\n"
        u"  device add NAME [--role device|coordinator]\n"
        u"                                         add a device; its token is printed once, on the last line\n"
        u"  device add NAME --qr FILE.png          create a one-time enrollment code (15 minutes) for a tablet and\n"
        u"                                         write its QR code; the code is printed on the last line\n"
        u"  device list                            list devices: id, name, role, created, last seen, revoked\n"
        u"  device revoke ID                       revoke a device's token, at once, also for a running server\n"
        u"  export [--trial T] [--since DATE] [--until DATE] [--site ID] [--out DIR] [--batch ID] [--upload]\n"
        u"                                         write processed submissions not yet exported as a new batch\n"
        u"                                         (completed in [--since, --until): since inclusive, until not)\n"
        u"                                         (ODM, CSV, manifest; see docs/EXPORT.md); --batch rewrites one;\n"
        u"                                         --upload sends it to the central platform (resumes)\n\n"
        u"Settings (--set KEY=VALUE, or the INI file; see docs/CONFIGURATION.md):\n"_s +
        [] {
            QString keys;
            for (const auto &spec : settingSpecs())
                keys += u"  %1 (default %2)\n"_s.arg(spec.name, spec.defaultValue.toString());
            return keys;
        }());
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption versionOption = parser.addVersionOption();
    const QCommandLineOption headless(u"headless"_s, u"Run without a window even when a display is available."_s);
    const QCommandLineOption bind(u"bind"_s, u"Address to listen on (default 0.0.0.0)."_s, u"ADDR"_s);
    const QCommandLineOption port(u"port"_s, u"Port to listen on (default 8787; 0 picks a free one)."_s, u"N"_s);
    const QCommandLineOption dataDir(u"data-dir"_s,
                                     u"Folder for the database and settings (default: %1)."_s.arg(
                                         QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)),
                                     u"DIR"_s);
    const QCommandLineOption config(u"config"_s, u"Settings file (default: DIR/siterelay.ini)."_s, u"FILE"_s);
    const QCommandLineOption set(u"set"_s, u"Override one setting; may be repeated."_s, u"KEY=VALUE"_s);
    const QCommandLineOption role(u"role"_s, u"With device add: device (default) or coordinator."_s, u"ROLE"_s);
    const QCommandLineOption qr(u"qr"_s, u"With device add: write an enrollment QR code (PNG) for a tablet."_s,
                                u"FILE"_s);
    parser.addOption(qr);
    const QCommandLineOption trial(u"trial"_s, u"With export: only this trial."_s, u"T"_s);
    const QCommandLineOption since(u"since"_s, u"With export: only submissions completed at or after DATE."_s,
                                   u"DATE"_s);
    const QCommandLineOption until(
        u"until"_s, u"With export: only submissions completed before DATE (exclusive; later than --since)."_s,
        u"DATE"_s);
    const QCommandLineOption site(u"site"_s, u"With export: the site id written into the files."_s, u"ID"_s);
    const QCommandLineOption out(u"out"_s, u"With export: the folder to write (default DIR/exports/BATCH)."_s,
                                 u"DIR"_s);
    const QCommandLineOption batch(u"batch"_s, u"With export: write the files of this existing batch again."_s,
                                   u"ID"_s);
    const QCommandLineOption upload(u"upload"_s,
                                    u"With export: upload the batch to the central platform (upload/* settings)."_s);
    parser.addOptions(
        {headless, bind, port, dataDir, config, set, role, trial, since, until, site, out, batch, upload});
    parser.addPositionalArgument(u"command"_s, u"Optional: device add|list|revoke ..., export"_s, u"[command]"_s);

    CommandLine result;
    // Built before QCoreApplication exists, so Qt cannot know the program's name.
    result.helpText = parser.helpText().replace(u"<executable_name>"_s, u"siterelay"_s);
    if (!parser.parse(arguments))
        return Error::invalid(QString(), parser.errorText());
    if (parser.isSet(helpOption)) {
        result.command = Command::Help;
        return result;
    }
    if (parser.isSet(versionOption)) {
        result.command = Command::Version;
        return result;
    }

    result.headless = parser.isSet(headless);
    result.dataDir = parser.isSet(dataDir) ? parser.value(dataDir)
                                           : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    result.configFile = parser.isSet(config) ? parser.value(config) : result.dataDir + u"/siterelay.ini"_s;
    const QStringList assignments = parser.values(set);
    for (const QString &assignment : assignments) {
        auto parsed = Settings::parseAssignment(assignment);
        if (!parsed)
            return parsed.error();
        result.overrides.insert(parsed->first, parsed->second);
    }
    if (parser.isSet(bind))
        result.overrides.insert(u"server/bind"_s, parser.value(bind));
    if (parser.isSet(port))
        result.overrides.insert(u"server/port"_s, parser.value(port));

    const QStringList positional = parser.positionalArguments();
    const bool deviceAdd = positional.value(0) == "device"_L1 && positional.value(1) == "add"_L1;
    if (parser.isSet(role) && !deviceAdd)
        return Error::invalid(u"--role"_s, u"--role only goes with `device add`"_s);
    if (parser.isSet(qr) && (!deviceAdd || parser.value(qr).trimmed().isEmpty()))
        return Error::invalid(u"--qr"_s, u"--qr FILE.png only goes with `device add NAME`"_s);
    result.deviceQrFile = parser.value(qr);
    const bool exporting = positional.value(0) == "export"_L1;
    for (const QCommandLineOption &option : {trial, since, until, site, out, batch, upload}) {
        if (parser.isSet(option) && !exporting)
            return Error::invalid(u"--"_s + option.names().constFirst(),
                                  u"--%1 only goes with `export`"_s.arg(option.names().constFirst()));
    }
    if (positional.isEmpty())
        return result;
    if (exporting) {
        if (positional.size() != 1)
            return Error::invalid(u"export"_s, u"export takes no arguments besides its options; see --help"_s);
        result.exportUpload = parser.isSet(upload);
        if (parser.isSet(batch) &&
            (parser.isSet(trial) || parser.isSet(since) || parser.isSet(until) || parser.isSet(site)))
            return Error::invalid(u"--batch"_s, u"--batch rewrites a recorded batch: --trial, --since, --until and "
                                                u"--site do not go with it"_s);
        result.command = Command::Export;
        result.exportTrial = parser.value(trial);
        if (parser.isSet(trial) && !BatchExporter::isValidId(result.exportTrial))
            return Error::invalid(u"--trial"_s,
                                  u"--trial must be 1-64 of A-Z a-z 0-9 . _ -, not \"%1\""_s.arg(result.exportTrial));
        result.exportSite = parser.value(site);
        if (parser.isSet(site) && !BatchExporter::isValidId(result.exportSite))
            return Error::invalid(u"--site"_s,
                                  u"--site must be 1-64 of A-Z a-z 0-9 . _ -, not \"%1\""_s.arg(result.exportSite));
        if (parser.isSet(since)) {
            auto normalized = BatchExporter::normalizeSince(parser.value(since));
            if (!normalized)
                return normalized.error();
            result.exportSince = *normalized;
        }
        if (parser.isSet(until)) {
            auto normalized = BatchExporter::normalizeUntil(parser.value(until));
            if (!normalized)
                return normalized.error();
            result.exportUntil = *normalized;
        }
        if (auto range = BatchExporter::checkRange(result.exportSince, result.exportUntil); !range)
            return range.error();
        result.exportFolder = parser.value(out);
        result.exportBatch = parser.value(batch);
        if (parser.isSet(batch) && result.exportBatch.trimmed().isEmpty())
            return Error::invalid(u"--batch"_s, u"--batch needs a batch id"_s);
        return result;
    }
    if (positional.first() != "device"_L1)
        return Error::invalid(positional.first(), u"unknown command \"%1\"; see --help"_s.arg(positional.first()));
    const QString action = positional.value(1);
    if (action == "add"_L1) {
        if (positional.size() != 3 || positional[2].trimmed().isEmpty())
            return Error::invalid(u"NAME"_s, u"usage: siterelay device add NAME [--role device|coordinator]"_s);
        result.command = Command::DeviceAdd;
        result.deviceName = positional[2].trimmed();
        if (parser.isSet(role))
            result.deviceRole = parser.value(role);
        if (result.deviceRole != "device"_L1 && result.deviceRole != "coordinator"_L1)
            return Error::invalid(u"--role"_s,
                                  u"--role must be device or coordinator, not \"%1\""_s.arg(result.deviceRole));
    } else if (action == "list"_L1 && positional.size() == 2) {
        result.command = Command::DeviceList;
    } else if (action == "revoke"_L1 && positional.size() == 3) {
        bool ok = false;
        result.deviceId = positional[2].toLongLong(&ok);
        if (!ok || result.deviceId <= 0)
            return Error::invalid(
                u"ID"_s,
                u"device revoke needs a device id (a number from `device list`), not \"%1\""_s.arg(positional[2]));
        result.command = Command::DeviceRevoke;
    } else {
        return Error::invalid(u"device"_s,
                              u"usage: siterelay device add NAME [--role R] | device list | device revoke ID"_s);
    }
    return result;
}

} // namespace SiteRelay
