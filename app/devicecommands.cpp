#include "devicecommands.h"

#include "enrollmentaddresses.h"
#include "enrollmentservice.h"
#include "qrcode.h"
#include "serverhost.h"
#include "settings.h"
#include "storereader.h"
#include "submissionstore.h"

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

Expected<std::unique_ptr<SubmissionStore>> openStore(const CommandLine &commandLine)
{
    auto settings = Settings::load(commandLine.configFile, commandLine.overrides);
    if (!settings)
        return settings.error();
    SubmissionStore::Options options;
    options.databasePath = ServerHost::databasePath(commandLine.dataDir);
    options.synchronous = settings->text(SettingKey::StorageSynchronous);
    options.busyTimeoutMs = settings->integer(SettingKey::StorageBusyTimeoutMs);
    return SubmissionStore::open(options);
}

QString orDash(const QString &text)
{
    return text.isEmpty() ? u"-"_s : text;
}

// `device add NAME --qr FILE.png`: no device yet, a one-time code the tablet redeems for its token.
int addByEnrollment(const CommandLine &commandLine, SubmissionStore &store, QTextStream &out, QTextStream &err)
{
    auto settings = Settings::load(commandLine.configFile, commandLine.overrides);
    if (!settings) {
        err << "siterelay: " << settings.error().message << Qt::endl;
        return 2;
    }
    const int port = settings->integer(SettingKey::ServerPort);
    const QStringList urls =
        EnrollmentAddresses::siteUrls(QHostAddress(settings->text(SettingKey::ServerBind)), quint16(port));
    QString siteUrl = settings->text(SettingKey::TabletSiteUrl);
    if (siteUrl.isEmpty()) {
        if (port == 0) {
            err << "siterelay: server/port is 0 (a random port), so tablets cannot be told where the server is; "
                   "set tablet/siteUrl or server/port"
                << Qt::endl;
            return 2;
        }
        siteUrl = urls.constFirst();
    }
    const DeviceRole role = deviceRoleFromString(commandLine.deviceRole).value_or(DeviceRole::Device);
    EnrollmentService enrollment(store);
    const Expected<EnrollmentCode> code = enrollment.create(commandLine.deviceName, siteUrl, u"cli"_s, role).result();
    if (!code) {
        err << "siterelay: " << code.error().message << Qt::endl;
        return code.error().code == ErrorCode::InvalidArgument ? 2 : 1;
    }
    if (auto saved = QrCode::savePng(code->enrollUrl, commandLine.deviceQrFile); !saved) {
        err << "siterelay: " << saved.error().message << Qt::endl;
        return 1;
    }
    out << "Enrollment for " << toString(role) << " \"" << commandLine.deviceName.trimmed()
        << "\" created; valid until " << code->expiresAt << ", single use." << Qt::endl;
    out << "QR code written to " << commandLine.deviceQrFile << ". Scan it with the tablet, or open:" << Qt::endl;
    out << "  " << code->enrollUrl << Qt::endl;
    if (urls.size() > 1 || settings->text(SettingKey::TabletSiteUrl).isEmpty()) {
        out << "This computer's LAN addresses (the tablet must reach one of them):" << Qt::endl;
        for (const QString &url : urls)
            out << "  " << url << "/tablet/" << Qt::endl;
    }
    out << "Enrollment code (type it on the tablet's setup screen instead of scanning):" << Qt::endl;
    out << code->code << Qt::endl;
    return 0;
}

} // namespace

int runDeviceCommand(const CommandLine &commandLine, QTextStream &out, QTextStream &err)
{
    auto store = openStore(commandLine);
    if (!store) {
        err << "siterelay: " << store.error().message << Qt::endl;
        // Bad settings are the user's input (exit 2, as everywhere); a database that will not open is not.
        return store.error().code == ErrorCode::InvalidArgument ? 2 : 1;
    }
    switch (commandLine.command) {
    case CommandLine::Command::DeviceAdd: {
        if (!commandLine.deviceQrFile.isEmpty())
            return addByEnrollment(commandLine, **store, out, err);
        const DeviceRole role = deviceRoleFromString(commandLine.deviceRole).value_or(DeviceRole::Device);
        // A command-line tool may wait: there is no event loop to keep responsive.
        const Expected<NewDevice> added = (*store)->addDevice(commandLine.deviceName, role, u"cli"_s).result();
        if (!added) {
            err << "siterelay: " << added.error().message << Qt::endl;
            return 1;
        }
        out << "Added " << toString(added->record.role) << " " << added->record.id << " \"" << added->record.name
            << "\". Its token is shown this once; store it on the device now:" << Qt::endl;
        out << added->token << Qt::endl;
        return 0;
    }
    case CommandLine::Command::DeviceRevoke: {
        const Expected<DeviceRecord> revoked = (*store)->revokeDevice(commandLine.deviceId, u"cli"_s).result();
        if (!revoked) {
            err << "siterelay: " << revoked.error().message << Qt::endl;
            return revoked.error().code == ErrorCode::NotFound ? 2 : 1;
        }
        out << "Revoked device " << revoked->id << " \"" << revoked->name << "\" at " << revoked->revokedAt << Qt::endl;
        return 0;
    }
    case CommandLine::Command::DeviceList: {
        auto reader = StoreReader::open((*store)->databasePath());
        if (!reader) {
            err << "siterelay: " << reader.error().message << Qt::endl;
            return 1;
        }
        auto devices = (*reader)->devices();
        if (!devices) {
            err << "siterelay: " << devices.error().message << Qt::endl;
            return 1;
        }
        out << u"%1  %2  %3  %4  %5  %6"_s.arg(u"ID"_s, 4)
                   .arg(u"NAME"_s, -24)
                   .arg(u"ROLE"_s, -11)
                   .arg(u"CREATED"_s, -24)
                   .arg(u"LAST SEEN"_s, -24)
                   .arg(u"REVOKED"_s)
            << Qt::endl;
        for (const DeviceRecord &device : std::as_const(*devices)) {
            out << u"%1  %2  %3  %4  %5  %6"_s.arg(device.id, 4)
                       .arg(device.name, -24)
                       .arg(toString(device.role), -11)
                       .arg(device.createdAt, -24)
                       .arg(orDash(device.lastSeenAt), -24)
                       .arg(orDash(device.revokedAt))
                << Qt::endl;
        }
        return 0;
    }
    default:
        return 1;
    }
}

} // namespace SiteRelay
