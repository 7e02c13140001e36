#include "exportcommand.h"

#include "batchexporter.h"
#include "serverhost.h"
#include "settings.h"
#include "submissionstore.h"

#include <QRegularExpression>
#include <QSysInfo>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

/// Without --site, the host name made to fit an id: one SiteRelay runs per site.
QString defaultSiteId()
{
    static const QRegularExpression notAllowed(u"[^A-Za-z0-9._-]+"_s);
    QString site = QSysInfo::machineHostName().replace(notAllowed, u"-"_s).left(64);
    return BatchExporter::isValidId(site) ? site : u"site"_s;
}

} // namespace

int runExportCommand(const CommandLine &commandLine, QTextStream &out, QTextStream &err)
{
    auto settings = Settings::load(commandLine.configFile, commandLine.overrides);
    if (!settings) {
        err << "siterelay: " << settings.error().message << Qt::endl;
        return 2;
    }
    SubmissionStore::Options options;
    options.databasePath = ServerHost::databasePath(commandLine.dataDir);
    options.synchronous = settings->text(SettingKey::StorageSynchronous);
    options.busyTimeoutMs = settings->integer(SettingKey::StorageBusyTimeoutMs);
    auto store = SubmissionStore::open(options);
    if (!store) {
        err << "siterelay: " << store.error().message << Qt::endl;
        return 1;
    }

    ExportRequest request;
    request.batchId = commandLine.exportBatch;
    request.outputFolder = commandLine.exportFolder;
    // --site, else the site/id setting, else the host name.
    request.batch.siteId = !commandLine.exportSite.isEmpty()               ? commandLine.exportSite
                           : !settings->text(SettingKey::SiteId).isEmpty() ? settings->text(SettingKey::SiteId)
                                                                           : defaultSiteId();
    request.batch.trialFilter = commandLine.exportTrial;
    request.batch.sinceFilter = commandLine.exportSince;
    const auto result = BatchExporter::run(**store, commandLine.dataDir, request, [&err](const QString &message) {
        err << "siterelay: " << message << Qt::endl;
    });
    if (!result) {
        err << "siterelay: " << result.error().message << Qt::endl;
        if (result.error().reason == "nothing_to_export"_L1)
            return 0;
        const bool badInput = result.error().code == ErrorCode::InvalidArgument ||
                              (result.error().code == ErrorCode::NotFound && !commandLine.exportBatch.isEmpty());
        return badInput ? 2 : 1;
    }
    out << "batch: " << result->batch.id << Qt::endl;
    out << "sequence: " << result->batch.sequence << Qt::endl;
    out << "submissions: " << result->batch.submissionCount << Qt::endl;
    out << "folder: " << result->folder << Qt::endl;
    return 0;
}

} // namespace SiteRelay
