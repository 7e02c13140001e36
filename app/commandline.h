#pragma once

#include "expected.h"

#include <QHash>
#include <QString>
#include <QStringList>

namespace SiteRelay {

/// What the command line asked for, after QCommandLineParser and our own checks.
struct CommandLine
{
    enum class Command { Serve, DeviceAdd, DeviceList, DeviceRevoke, Export, Help, Version };
    Command command = Command::Serve;
    bool headless = false;
    QString dataDir;
    QString configFile;
    QHash<QString, QString> overrides; ///< --set and the --bind/--port shortcuts
    QString deviceName;
    QString deviceRole = QStringLiteral("device");
    QString deviceQrFile; ///< device add --qr: write an enrollment QR code here instead of printing a token
    qint64 deviceId = 0;
    QString exportTrial;       ///< export --trial; empty: every trial
    QString exportSince;       ///< export --since, as UTC ISO 8601 with milliseconds; empty: no bound
    QString exportUntil;       ///< export --until (exclusive), as UTC ISO 8601 with milliseconds; empty: no bound
    QString exportFolder;      ///< export --out; empty: DATA_DIR/exports/<batch id>
    QString exportBatch;       ///< export --batch: write an existing batch's files again
    QString exportSite;        ///< export --site; empty: derived from the host name
    bool exportUpload = false; ///< export --upload: upload the batch after writing its files
    QString helpText;

    /// Parses arguments (including argv[0]). Errors name the offending argument.
    static Expected<CommandLine> parse(const QStringList &arguments);
};

} // namespace SiteRelay
