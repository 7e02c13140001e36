#include "exportcommand.h"

#include "batchexporter.h"
#include "exportjob.h"
#include "serverhost.h"
#include "settings.h"
#include "submissionstore.h"

#include <QElapsedTimer>
#include <QEventLoop>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// Progress lines at most this often: a terminal, not a log, reads them.
constexpr qint64 kProgressIntervalMs = 1000;

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

    ExportJobRequest request;
    request.files.batchId = commandLine.exportBatch;
    request.files.outputFolder = commandLine.exportFolder;
    request.files.batch.siteId = BatchExporter::siteIdFor(*settings, commandLine.exportSite);
    request.files.batch.trialFilter = commandLine.exportTrial;
    request.files.batch.sinceFilter = commandLine.exportSince;
    request.files.batch.untilFilter = commandLine.exportUntil;
    request.upload = commandLine.exportUpload;
    request.actor = u"cli"_s;

    ExportJob job({commandLine.dataDir, *settings, store->get()}, request);
    QString phase;
    QElapsedTimer sincePrinted;
    QObject::connect(&job, &ExportJob::message, &job,
                     [&err](const QString &text) { err << "siterelay: " << text << Qt::endl; });
    QObject::connect(&job, &ExportJob::phaseChanged, &job, [&phase, &sincePrinted](const QString &text) {
        phase = text;
        sincePrinted.invalidate();
    });
    QObject::connect(&job, &ExportJob::progress, &job, [&](qint64 done, qint64 total) {
        if (phase != "uploading"_L1 && done != total && sincePrinted.isValid() &&
            sincePrinted.elapsed() < kProgressIntervalMs)
            return;
        sincePrinted.start();
        err << "siterelay: " << phase << ": " << done << " of " << total
            << (phase == "uploading"_L1 ? " records confirmed" : " submissions") << Qt::endl;
    });
    std::optional<ExportJobResult> result;
    QEventLoop loop;
    QObject::connect(&job, &ExportJob::finished, &loop, [&](const ExportJobResult &finished) {
        result = finished;
        loop.quit();
    });
    job.start();
    // The main thread of a command-line tool has nothing else to do; the work runs on the job's thread.
    loop.exec();

    if (result->status == ExportJobResult::Status::NothingToExport) {
        err << "siterelay: " << result->error.message << Qt::endl;
        return 0;
    }
    if (result->filesWritten) {
        out << "batch: " << result->files.batch.id << Qt::endl;
        out << "sequence: " << result->files.batch.sequence << Qt::endl;
        out << "submissions: " << result->files.batch.submissionCount << Qt::endl;
        out << "folder: " << result->files.folder << Qt::endl;
    }
    if (result->upload) {
        const UploadOutcome &upload = *result->upload;
        out << "upload: "
            << (upload.status == UploadOutcome::Status::Confirmed          ? "confirmed"
                : upload.status == UploadOutcome::Status::AlreadyConfirmed ? "already confirmed"
                : upload.status == UploadOutcome::Status::Cancelled        ? "cancelled"
                                                                           : "failed")
            << ", " << upload.partsConfirmed << " of " << upload.parts << " parts, " << upload.recordsConfirmed
            << " of " << upload.records << " records" << Qt::endl;
    }
    if (result->ok())
        return 0;
    err << "siterelay: " << result->error.message << Qt::endl;
    const Error &error = result->error;
    const bool badInput = error.code == ErrorCode::InvalidArgument || error.reason == "upload_not_configured"_L1 ||
                          (error.code == ErrorCode::NotFound && !commandLine.exportBatch.isEmpty());
    return badInput ? 2 : 1;
}

} // namespace SiteRelay
