#include "batchexporter.h"

#include "batchstore.h"
#include "clock.h"
#include "csvwriter.h"
#include "logging.h"
#include "odmwriter.h"
#include "questionnairecatalog.h"
#include "settings.h"
#include "submissionstore.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSysInfo>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

Expected<QString> sha256Of(const QString &path)
{
    QFile file(path);
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!file.open(QIODevice::ReadOnly) || !hash.addData(&file))
        return Error{ErrorCode::StorageUnavailable, u"cannot read back %1: %2"_s.arg(path, file.errorString())};
    return QString::fromLatin1(hash.result().toHex());
}

/// Writes @p path through a QSaveFile: readers see the old file or the whole new one.
Expected<Done> writeAtomically(const QString &path, const std::function<Expected<Done>(QIODevice &)> &fill)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return Error{ErrorCode::StorageUnavailable, u"cannot create %1: %2"_s.arg(path, file.errorString())};
    if (auto filled = fill(file); !filled) {
        file.cancelWriting();
        return Error{filled.error().code, u"%1: %2"_s.arg(path, filled.error().message)};
    }
    if (!file.commit())
        return Error{ErrorCode::StorageUnavailable, u"cannot write %1: %2"_s.arg(path, file.errorString())};
    return Done{};
}

QJsonObject manifestFor(const ExportBatch &batch, const BatchSummary &summary, const QJsonArray &files)
{
    QJsonObject byQuestionnaire;
    for (auto it = summary.byQuestionnaire.cbegin(); it != summary.byQuestionnaire.cend(); ++it)
        byQuestionnaire.insert(it.key(), it.value());
    return QJsonObject{
        {u"format"_s, u"siterelay-export"_s},
        {u"formatVersion"_s, 1},
        {u"batchId"_s, batch.id},
        {u"sequence"_s, batch.sequence},
        {u"createdAt"_s, batch.createdAt},
        {u"site"_s, batch.siteId},
        {u"filters"_s, QJsonObject{{u"trial"_s, batch.trialFilter.isEmpty() ? QJsonValue() : batch.trialFilter},
                                   {u"since"_s, batch.sinceFilter.isEmpty() ? QJsonValue() : batch.sinceFilter},
                                   {u"until"_s, batch.untilFilter.isEmpty() ? QJsonValue() : batch.untilFilter}}},
        {u"counts"_s, QJsonObject{{u"submissions"_s, summary.submissions},
                                  {u"subjects"_s, summary.subjects},
                                  {u"trials"_s, summary.trialIds.size()},
                                  {u"byQuestionnaire"_s, byQuestionnaire}}},
        {u"timeRange"_s, QJsonObject{{u"firstCompletedAt"_s, summary.firstCompletedAt},
                                     {u"lastCompletedAt"_s, summary.lastCompletedAt}}},
        {u"trials"_s, QJsonArray::fromStringList(summary.trialIds)},
        {u"files"_s, files},
        {u"siteRelayVersion"_s, QStringLiteral(SITERELAY_VERSION)},
    };
}

/// A date bound given as @p option (--since, --until): YYYY-MM-DD (midnight UTC) or an RFC 3339
/// date-time with offset, as UTC ISO 8601 with milliseconds.
Expected<QString> normalizeBound(const QString &text, const QString &option)
{
    static const QRegularExpression dateOnly(u"^\\d{4}-\\d{2}-\\d{2}$"_s);
    static const QRegularExpression dateTime(
        u"^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$"_s);
    QDateTime parsed;
    if (dateOnly.match(text).hasMatch())
        parsed = QDateTime(QDate::fromString(text, Qt::ISODate), QTime(0, 0), Qt::UTC);
    else if (dateTime.match(text).hasMatch())
        parsed = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!parsed.isValid())
        return Error::invalid(option, u"%1 must be a date (2026-11-01) or an RFC 3339 date-time with offset "
                                      u"(2026-11-01T08:00:00+01:00), not \"%2\""_s.arg(option, text));
    return toIsoUtc(parsed);
}

} // namespace

QString BatchExporter::defaultFolder(const QString &dataDir, const QString &batchId)
{
    return QDir(dataDir).filePath(u"exports/"_s + batchId);
}

bool BatchExporter::isValidId(const QString &id)
{
    static const QRegularExpression pattern(u"^[A-Za-z0-9._-]{1,64}$"_s);
    return pattern.match(id).hasMatch();
}

QString BatchExporter::siteIdFor(const Settings &settings, const QString &override)
{
    if (!override.isEmpty())
        return override;
    if (!settings.text(SettingKey::SiteId).isEmpty())
        return settings.text(SettingKey::SiteId);
    // One SiteRelay runs per site: its host name is the natural default.
    static const QRegularExpression notAllowed(u"[^A-Za-z0-9._-]+"_s);
    QString site = QSysInfo::machineHostName().replace(notAllowed, u"-"_s).left(64);
    return isValidId(site) ? site : u"site"_s;
}

Error BatchExporter::cancelledError()
{
    return Error{ErrorCode::Internal, u"the export was cancelled"_s, QString(), u"cancelled"_s};
}

Expected<QString> BatchExporter::normalizeSince(const QString &text)
{
    return normalizeBound(text, u"--since"_s);
}

Expected<QString> BatchExporter::normalizeUntil(const QString &text)
{
    return normalizeBound(text, u"--until"_s);
}

Expected<Done> BatchExporter::checkRange(const QString &since, const QString &until)
{
    // Both UTC ISO 8601 with milliseconds: text order is time order.
    if (!since.isEmpty() && !until.isEmpty() && until <= since)
        return Error::invalid(u"--until"_s,
                              u"--until (%1) must be later than --since (%2): submissions completed at or after "
                              u"--since and before --until are taken"_s.arg(until, since));
    return Done{};
}

Expected<ExportResult> BatchExporter::run(SubmissionStore &store, const QString &dataDir, const ExportRequest &request,
                                          const Progress &progress)
{
    const auto say = [&progress](const QString &message) {
        if (progress)
            progress(message);
    };
    const auto catalog = QuestionnaireCatalog::loadBuiltIn();
    if (!catalog)
        return catalog.error();
    if (request.canceled && request.canceled())
        return cancelledError();

    ExportResult result;
    QString batchId = request.batchId;
    if (batchId.isEmpty()) {
        if (!isValidId(request.batch.siteId))
            return Error::invalid(u"--site"_s, u"the site id must be 1-64 of A-Z a-z 0-9 . _ -"_s);
        // Every caller checks this already; an empty range must not reach the store as "nothing to export".
        if (auto range = checkRange(request.batch.sinceFilter, request.batch.untilFilter); !range)
            return range.error();
        // Waiting is fine here: this runs on a command-line thread (see the class comment).
        const Expected<ExportBatch> created = BatchStore::create(store, request.batch).result();
        if (!created)
            return created.error();
        batchId = created->id;
        result.created = true;
        say(u"created batch %1 (sequence %2) with %3 submissions"_s.arg(created->id)
                .arg(created->sequence)
                .arg(created->submissionCount));
    }

    auto reader = ExportReader::open(store.databasePath());
    if (!reader)
        return reader.error();
    auto batch = (*reader)->batch(batchId);
    if (!batch)
        return batch.error();
    auto summary = (*reader)->summary(batchId);
    if (!summary)
        return summary.error();
    result.batch = *batch;
    result.summary = *summary;
    result.folder =
        request.outputFolder.isEmpty() ? defaultFolder(dataDir, batchId) : QDir(request.outputFolder).absolutePath();
    if (!QDir().mkpath(result.folder))
        return Error{ErrorCode::StorageUnavailable, u"cannot create the folder %1"_s.arg(result.folder)};

    const auto failed = [&](const Error &error) -> Expected<ExportResult> {
        Error wrapped = error;
        if (result.created)
            wrapped.message +=
                u"; batch %1 is recorded: run `siterelay export --batch %1` to write its files"_s.arg(batchId);
        return wrapped;
    };

    const QDir folder(result.folder);
    const QString odmPath = folder.filePath(QLatin1StringView(kOdmFileName));
    const QString csvPath = folder.filePath(QLatin1StringView(kCsvFileName));
    const QString manifestPath = folder.filePath(QLatin1StringView(kManifestFileName));
    const qint64 total = summary->submissions;
    const auto rowProgress = [&say, &request, total](const char *file) {
        return [&say, &request, total, file](qint64 rows) {
            if (request.rowProgress)
                request.rowProgress(QLatin1StringView(file), rows, total);
            if (rows == total)
                say(u"%1: %2 of %3 submissions"_s.arg(QLatin1StringView(file)).arg(rows).arg(total));
            return !(request.canceled && request.canceled());
        };
    };

    if (auto done = writeAtomically(odmPath,
                                    [&](QIODevice &device) {
                                        return OdmWriter::write(device, **reader, *batch, *summary, *catalog,
                                                                rowProgress(kOdmFileName));
                                    });
        !done)
        return failed(done.error());
    if (auto done = writeAtomically(csvPath,
                                    [&](QIODevice &device) {
                                        return CsvWriter::write(device, **reader, *batch, *summary, *catalog,
                                                                rowProgress(kCsvFileName));
                                    });
        !done)
        return failed(done.error());

    QJsonArray files;
    for (const auto &[name, path] : {std::pair{kOdmFileName, odmPath}, std::pair{kCsvFileName, csvPath}}) {
        auto sha = sha256Of(path);
        if (!sha)
            return failed(sha.error());
        files.append(QJsonObject{
            {u"name"_s, QLatin1StringView(name)}, {u"sha256"_s, *sha}, {u"bytes"_s, QFileInfo(path).size()}});
        result.checksums.insert(QLatin1StringView(name), *sha);
    }
    const QByteArray manifest = QJsonDocument(manifestFor(*batch, *summary, files)).toJson(QJsonDocument::Indented);
    if (auto done = writeAtomically(manifestPath,
                                    [&](QIODevice &device) -> Expected<Done> {
                                        if (device.write(manifest) != manifest.size())
                                            return Error{ErrorCode::StorageUnavailable, device.errorString()};
                                        return Done{};
                                    });
        !done)
        return failed(done.error());
    result.checksums.insert(
        QLatin1StringView(kManifestFileName),
        QString::fromLatin1(QCryptographicHash::hash(manifest, QCryptographicHash::Sha256).toHex()));
    say(u"wrote %1"_s.arg(result.folder));

    if (auto recorded =
            BatchStore::recordWritten(store, batchId, result.checksums, result.folder, request.batch.actor).result();
        !recorded)
        return failed(recorded.error());
    auto updated = (*reader)->batch(batchId);
    if (updated)
        result.batch = *updated;
    qCInfo(lcExport) << "wrote export batch" << result.batch.sequence << "to" << result.folder;
    return result;
}

} // namespace SiteRelay
