// Upload of export batches through the real path: submissions posted over loopback HTTP to a real
// server whose engine processes them into a real SQLite file; batches uploaded in-process, by the
// real binary (also killed with SIGKILL mid-upload) and through POST /api/v1/exports, to a local
// stub that behaves like REDCap's record import.

#include "batchexporter.h"
#include "batchuploader.h"
#include "exportjob.h"
#include "exportreader.h"
#include "exporttestkit.h"
#include "questionnairecatalog.h"
#include "rawhttpclient.h"
#include "redcaprecords.h"
#include "redcapstub.h"
#include "siterelayprocess.h"
#include "testpaths.h"
#include "testserver.h"
#include "uploadconfig.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

#include <optional>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;
using namespace SiteRelay::Test::ExportKit;

namespace {

constexpr int JobMs = 30000;
constexpr int Submissions = 7;

/// The first column of the first row as text; empty when the query fails or yields nothing.
QString text(const QString &dataDir, const QString &sql)
{
    return scalarValue(dataDir, sql).toString();
}

QStringList sorted(QStringList list)
{
    list.sort();
    return list;
}

} // namespace

class tst_BatchUpload : public QObject
{
    Q_OBJECT

private:
    QHash<QString, QString> uploadSettings(const RedcapStub &stub, int maxRecords = 3) const;
    std::optional<ExportJobResult> runJob(const QString &dataDir, const QHash<QString, QString> &overrides,
                                          const ExportJobRequest &request);
    QStringList uploadArguments(const RedcapStub &stub, int maxRecords) const;

    QTemporaryDir m_template;
    QTemporaryDir m_scratch;
    QString m_tokenFile;
    QStringList m_submissionIds;

private Q_SLOTS:
    void initTestCase();
    void excludesRejectedAndUnprocessed();
    void exportsOnlyTheSelection();
    void redcapUploadConfirmed();
    void planning_data();
    void planning();
    void partsRespectMaxBytes();
    void fieldErrorsKeepBatchUnconfirmedThenResume();
    void unauthorizedIsPermanent();
    void transientFailuresRetry_data();
    void transientFailuresRetry();
    void givesUpAfterMaxAttempts();
    void wrongIdsAreNotAConfirmation();
    void cancelStopsTheUpload();
    void genericUpload();
    void commandLineReportsFieldErrors();
    void commandLineRefusesUnconfiguredUpload();
    void resumesAfterKillMidUpload();
    void exportsApi();
};

void tst_BatchUpload::initTestCase()
{
    QVERIFY(m_template.isValid());
    QVERIFY(m_scratch.isValid());
    m_tokenFile = m_scratch.filePath(u"redcap.token"_s);
    QVERIFY(writeTokenFile(m_tokenFile));

    const QList<Posted> submissions = {
        {u"P-001"_s, u"TRIAL-A"_s, u"phq9"_s, u"2026-11-20T09:30:00+01:00"_s, 1},
        {u"P-001"_s, u"TRIAL-A"_s, u"phq9"_s, u"2026-11-21T09:30:00-05:00"_s, 3},
        {u"P-001"_s, u"TRIAL-A"_s, u"gad7"_s, u"2026-11-21T10:00:00Z"_s, 2},
        {u"P-002"_s, u"TRIAL-A"_s, u"phq9"_s, u"2026-11-22T08:00:00Z"_s, 0},
        {u"P-003"_s, u"TRIAL-B"_s, u"gad7"_s, u"2026-11-22T08:00:00Z"_s, 1},
        {u"P-004"_s, u"TRIAL-B"_s, u"phq9"_s, u"2026-11-23T08:00:00Z"_s, 2},
        {u"P-005"_s, u"TRIAL-A"_s, u"gad7"_s, u"2026-11-23T09:00:00Z"_s, 3},
    };
    postSubmissions(m_template.path(), submissions, true);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(scalar(m_template.path(), u"SELECT COUNT(*) FROM submissions"_s), Submissions);
}

QHash<QString, QString> tst_BatchUpload::uploadSettings(const RedcapStub &stub, int maxRecords) const
{
    return {{u"upload/kind"_s, u"redcap"_s},      {u"upload/url"_s, stub.url()},
            {u"upload/tokenFile"_s, m_tokenFile}, {u"upload/maxRecords"_s, QString::number(maxRecords)},
            {u"upload/timeoutMs"_s, u"5000"_s},   {u"upload/maxAttempts"_s, u"4"_s},
            {u"upload/retryBaseMs"_s, u"10"_s},   {u"upload/retryCapMs"_s, u"50"_s},
            {u"site/id"_s, u"SITE-01"_s}};
}

QStringList tst_BatchUpload::uploadArguments(const RedcapStub &stub, int maxRecords) const
{
    QStringList arguments;
    const QHash<QString, QString> settings = uploadSettings(stub, maxRecords);
    for (auto it = settings.cbegin(); it != settings.cend(); ++it)
        arguments << u"--set"_s << it.key() + u'=' + it.value();
    return arguments;
}

std::optional<ExportJobResult> tst_BatchUpload::runJob(const QString &dataDir, const QHash<QString, QString> &overrides,
                                                       const ExportJobRequest &request)
{
    auto settings = Settings::load(QString(), overrides);
    if (!settings)
        return std::nullopt;
    ExportJob job({dataDir, *settings, nullptr}, request);
    std::optional<ExportJobResult> result;
    connect(&job, &ExportJob::finished, this, [&result](const ExportJobResult &finished) { result = finished; });
    job.start();
    // A nullopt result makes the caller's QVERIFY fail.
    if (!QTest::qWaitFor([&result] { return result.has_value(); }, JobMs))
        qWarning("the export job did not finish within %d ms", JobMs);
    return result;
}

ExportJobRequest uploadRequest(const QString &batchId = {})
{
    ExportJobRequest request;
    request.files.batchId = batchId;
    request.files.batch.siteId = u"SITE-01"_s;
    request.upload = true;
    request.actor = u"test"_s;
    return request;
}

void tst_BatchUpload::excludesRejectedAndUnprocessed()
{
    auto dir = freshDataDir(m_template.path());
    // A coordinator's rejection (the review columns of migration 004; the review API belongs to the
    // dashboard actions) and a row the engine has not processed.
    QVERIFY(execute(dir->path(), u"UPDATE submissions SET review_state = 'rejected' WHERE patient_id = 'P-002'"_s));
    QVERIFY(execute(dir->path(), u"UPDATE submissions SET review_state = 'reviewed' WHERE patient_id = 'P-003'"_s));
    QVERIFY(execute(dir->path(), u"UPDATE submissions SET state = 'failed' WHERE patient_id = 'P-004'"_s));
    ExportJobRequest request = uploadRequest();
    request.upload = false;
    const auto result = runJob(dir->path(), {}, request);
    QVERIFY(result);
    QVERIFY2(result->ok(), qPrintable(result->error.message));
    QCOMPARE(result->files.batch.submissionCount, Submissions - 2);
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM submissions WHERE patient_id IN ('P-002', 'P-004') AND "
                                 u"export_batch_id IS NOT NULL"_s),
             0);
    // A reviewed (not rejected) submission goes.
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM submissions WHERE patient_id = 'P-003' AND "
                                 u"export_batch_id IS NOT NULL"_s),
             1);
    // And the rejected one stays out of later batches too.
    const auto next = runJob(dir->path(), {}, request);
    QVERIFY(next);
    QCOMPARE(next->status, ExportJobResult::Status::NothingToExport);
}

void tst_BatchUpload::exportsOnlyTheSelection()
{
    auto dir = freshDataDir(m_template.path());
    QVERIFY(execute(dir->path(), u"UPDATE submissions SET review_state = 'rejected' WHERE patient_id = 'P-002'"_s));
    QVERIFY(execute(dir->path(), u"UPDATE submissions SET state = 'failed' WHERE patient_id = 'P-004'"_s));
    const auto idOf = [&dir](const QString &patient) {
        return scalarValue(dir->path(), u"SELECT submission_id FROM submissions WHERE patient_id = '%1'"_s.arg(patient))
            .toString();
    };
    // Selected: two exportable ones, a rejected one, an unprocessed one and an id that does not exist.
    ExportJobRequest request = uploadRequest();
    request.upload = false;
    request.files.batch.submissionIds = {idOf(u"P-003"_s), idOf(u"P-005"_s), idOf(u"P-002"_s), idOf(u"P-004"_s),
                                         u"00000000-0000-4000-8000-000000000000"_s};
    const auto result = runJob(dir->path(), {}, request);
    QVERIFY(result);
    QVERIFY2(result->ok(), qPrintable(result->error.message));
    QCOMPARE(result->files.batch.submissionCount, 2);
    QCOMPARE(scalarValue(dir->path(), u"SELECT group_concat(patient_id, ',') FROM (SELECT patient_id FROM submissions "
                                      u"WHERE export_batch_id IS NOT NULL ORDER BY patient_id)"_s)
                 .toString(),
             u"P-003,P-005"_s);
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM audit_log WHERE entity = 'batch' AND action = 'created' AND "
                                 u"detail LIKE '%from a selection of 5%'"_s),
             1);
    // The same selection again: nothing left in it to export, and nothing else is taken.
    const auto again = runJob(dir->path(), {}, request);
    QVERIFY(again);
    QCOMPARE(again->status, ExportJobResult::Status::NothingToExport);
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM submissions WHERE export_batch_id IS NOT NULL"_s), 2);
}

void tst_BatchUpload::redcapUploadConfirmed()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    QVERIFY(stub.isListening());
    const auto result = runJob(dir->path(), uploadSettings(stub, 3), uploadRequest());
    QVERIFY(result);
    QVERIFY2(result->ok(), qPrintable(result->error.message));
    QVERIFY(result->upload);
    QCOMPARE(result->upload->status, UploadOutcome::Status::Confirmed);
    QCOMPARE(result->upload->parts, 3); // 7 records, 3 a part
    QCOMPARE(result->upload->recordsConfirmed, Submissions);
    QCOMPARE(result->files.batch.state, u"uploaded"_s);
    QCOMPARE(stub.protocolErrors(), 0);
    QCOMPARE(stub.requestCount(), 3);

    // Every submission once, confirmed once.
    QStringList stored;
    for (int i = 0; i < Submissions; ++i)
        stored.append(
            text(dir->path(), u"SELECT submission_id FROM submissions ORDER BY id LIMIT 1 OFFSET %1"_s.arg(i)));
    QCOMPARE(sorted(stub.receivedRecordIds()), sorted(stored));
    QCOMPARE(sorted(stub.confirmedRecordIds()), sorted(stored));

    // The mapping (docs/EXPORT.md): one record of each questionnaire compared with the database.
    for (const RedcapStub::Request &request : stub.requests()) {
        QCOMPARE(request.form.value(u"token"_s), u"STUB-TOKEN-0123456789"_s);
        for (const QJsonObject &record : request.records()) {
            const QString id = record.value("record_id"_L1).toString();
            const QString where = u" FROM submissions WHERE submission_id = '%1'"_s.arg(id);
            const QString q = text(dir->path(), u"SELECT questionnaire_id"_s + where);
            QCOMPARE(record.value("patient_id"_L1).toString(), text(dir->path(), u"SELECT patient_id"_s + where));
            QCOMPARE(record.value("trial_id"_L1).toString(), text(dir->path(), u"SELECT trial_id"_s + where));
            QCOMPARE(record.value("site_id"_L1).toString(), u"SITE-01"_s);
            QCOMPARE(record.value(q + u"_total"_s).toString(), text(dir->path(), u"SELECT score_total"_s + where));
            QCOMPARE(record.value(q + u"_band"_s).toString(), text(dir->path(), u"SELECT score_band"_s + where));
            QVERIFY(record.contains(q + u"_alert"_s));
            const QString completed = text(dir->path(), u"SELECT completed_at"_s + where);
            QCOMPARE(record.value(q + u"_completed_at"_s).toString(), completed.left(10) + u' ' + completed.mid(11, 8));
            const QJsonObject answers =
                QJsonDocument::fromJson(text(dir->path(), u"SELECT answers"_s + where).toUtf8()).object();
            for (auto it = answers.constBegin(); it != answers.constEnd(); ++it)
                QCOMPARE(record.value(RedcapRecords::itemField(q, it.key())).toString(),
                         QString::number(it.value().toInt()));
            QVERIFY(!record.contains("redcap_event_name"_L1));
        }
    }

    // Recorded: parts, states and the audit trail (plan, each attempt and its outcome, the end).
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM upload_parts WHERE state = 'confirmed'"_s), 3);
    QCOMPARE(text(dir->path(), u"SELECT state FROM batch_uploads"_s), u"confirmed"_s);
    QCOMPARE(text(dir->path(), u"SELECT state FROM batches"_s), u"uploaded"_s);
    for (const auto &[action, count] :
         {std::pair{"upload_planned", 1}, std::pair{"upload_attempt", 3}, std::pair{"upload_attempt_result", 3},
          std::pair{"upload_confirmed", 1}, std::pair{"uploaded", 1}})
        QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM audit_log WHERE entity = 'batch' AND action = '%1'"_s.arg(
                                         QLatin1StringView(action))),
                 count);
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%STUB-TOKEN%'"_s), 0);

    // Uploading it again sends nothing.
    const auto again = runJob(dir->path(), uploadSettings(stub, 3), uploadRequest(result->files.batch.id));
    QVERIFY(again && again->ok());
    QCOMPARE(again->upload->status, UploadOutcome::Status::AlreadyConfirmed);
    QCOMPARE(stub.requestCount(), 3);
}

void tst_BatchUpload::planning_data()
{
    QTest::addColumn<int>("maxRecords");
    QTest::addColumn<int>("maxBytes");
    QTest::addColumn<int>("expectedParts"); // -1: only the limits are checked; 0: refused

    QTest::addRow("one part") << 100 << 1024 * 1024 << 1;
    QTest::addRow("a record a part") << 1 << 1024 * 1024 << Submissions;
    QTest::addRow("by records") << 2 << 1024 * 1024 << 4;
    QTest::addRow("by bytes") << 100 << 1100 << -1;
    QTest::addRow("record larger than maxBytes") << 100 << 100 << 0;
}

void tst_BatchUpload::planning()
{
    QFETCH(int, maxRecords);
    QFETCH(int, maxBytes);
    QFETCH(int, expectedParts);
    auto dir = freshDataDir(m_template.path());
    ExportJobRequest request = uploadRequest();
    request.upload = false;
    const auto exported = runJob(dir->path(), {}, request);
    QVERIFY(exported && exported->ok());

    auto reader = ExportReader::open(QDir(dir->path()).filePath(u"siterelay.sqlite"_s));
    QVERIFY(reader);
    const auto catalog = QuestionnaireCatalog::loadBuiltIn();
    QVERIFY(catalog);
    UploadConfig config;
    const RedcapRecords records(*catalog, config);
    const auto batch = (*reader)->batch(exported->files.batch.id);
    QVERIFY(batch);
    const auto plan = BatchUploader::planRedcap(**reader, records, *batch, maxRecords, maxBytes);
    if (expectedParts == 0) {
        QVERIFY(!plan);
        QCOMPARE(plan.error().field, u"upload/maxBytes"_s);
        return;
    }
    QVERIFY2(plan, qPrintable(plan ? QString() : plan.error().message));
    if (expectedParts > 0)
        QCOMPARE(plan->parts.size(), expectedParts);
    else
        QVERIFY(plan->parts.size() > 1);
    qint64 total = 0;
    qint64 previousLast = 0;
    for (const UploadPart &part : plan->parts) {
        QVERIFY(part.recordCount >= 1 && part.recordCount <= maxRecords);
        QVERIFY(part.byteCount <= maxBytes);
        QVERIFY(part.firstRowId > previousLast); // contiguous, in id order, no overlap
        previousLast = part.lastRowId;
        total += part.recordCount;
    }
    QCOMPARE(total, Submissions);

    // Planning again (as after an interruption) yields the same parts, byte for byte.
    const auto again = BatchUploader::planRedcap(**reader, records, *batch, maxRecords, maxBytes);
    QVERIFY(again);
    QCOMPARE(again->parts.size(), plan->parts.size());
    for (qsizetype i = 0; i < plan->parts.size(); ++i) {
        QCOMPARE(again->parts[i].firstRowId, plan->parts[i].firstRowId);
        QCOMPARE(again->parts[i].lastRowId, plan->parts[i].lastRowId);
        QCOMPARE(again->parts[i].payloadSha256, plan->parts[i].payloadSha256);
    }
}

void tst_BatchUpload::partsRespectMaxBytes()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    auto settings = uploadSettings(stub, 100);
    settings.insert(u"upload/maxBytes"_s, u"1100"_s);
    const auto result = runJob(dir->path(), settings, uploadRequest());
    QVERIFY(result);
    QVERIFY2(result->ok(), qPrintable(result->error.message));
    QVERIFY(stub.requestCount() > 1);
    for (const RedcapStub::Request &request : stub.requests())
        QVERIFY(request.form.value(u"data"_s).toUtf8().size() <= 1100);
    QCOMPARE(sorted(stub.confirmedRecordIds()).size(), Submissions);
    QCOMPARE(stub.confirmedRecordIds().removeDuplicates(), 0);
}

void tst_BatchUpload::fieldErrorsKeepBatchUnconfirmedThenResume()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    stub.setBehaviour(2, RedcapStub::Behaviour::FieldErrors400);
    const auto failed = runJob(dir->path(), uploadSettings(stub, 3), uploadRequest());
    QVERIFY(failed);
    QCOMPARE(failed->status, ExportJobResult::Status::Failed);
    QVERIFY(failed->upload);
    QVERIFY(failed->upload->permanent);
    QCOMPARE(failed->upload->httpStatus, 400);
    QCOMPARE(failed->upload->partsConfirmed, 1);
    // Shown in full: every line of the platform's per-field errors.
    for (const QString &line : RedcapStub::fieldErrorText().split(u'\n'))
        QVERIFY2(failed->error.message.contains(line), qPrintable(failed->error.message));
    QCOMPARE(stub.requestCount(), 2); // a 400 is not retried
    QCOMPARE(text(dir->path(), u"SELECT state FROM batches"_s), u"written"_s);
    QCOMPARE(text(dir->path(), u"SELECT state FROM batch_uploads"_s), u"failed"_s);
    QVERIFY(text(dir->path(), u"SELECT last_error FROM batch_uploads"_s).contains(u"phq9_band"_s));
    QCOMPARE(text(dir->path(), u"SELECT state FROM upload_parts WHERE part_no = 2"_s), u"failed"_s);

    // Fixed on the platform's side: uploading the batch again sends parts 2 and 3 only.
    const QStringList firstPart = stub.requests().first().recordIds;
    const auto resumed = runJob(dir->path(), uploadSettings(stub, 3), uploadRequest(failed->files.batch.id));
    QVERIFY(resumed);
    QVERIFY2(resumed->ok(), qPrintable(resumed->error.message));
    QCOMPARE(stub.requestCount(), 4);
    for (const RedcapStub::Request &request : stub.requests().mid(2)) {
        for (const QString &id : request.recordIds)
            QVERIFY2(!firstPart.contains(id), "a confirmed part was sent again");
    }
    QCOMPARE(sorted(stub.confirmedRecordIds()).size(), Submissions);
    QCOMPARE(stub.confirmedRecordIds().removeDuplicates(), 0);
    QCOMPARE(text(dir->path(), u"SELECT state FROM batches"_s), u"uploaded"_s);
}

void tst_BatchUpload::unauthorizedIsPermanent()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    stub.setDefaultBehaviour(RedcapStub::Behaviour::Unauthorized401);
    const auto result = runJob(dir->path(), uploadSettings(stub, 3), uploadRequest());
    QVERIFY(result);
    QCOMPARE(result->status, ExportJobResult::Status::Failed);
    QCOMPARE(result->upload->httpStatus, 401);
    QVERIFY(result->upload->permanent);
    QVERIFY2(result->error.message.contains(u"upload/token"_s), qPrintable(result->error.message));
    QCOMPARE(stub.requestCount(), 1);
    QCOMPARE(text(dir->path(), u"SELECT state FROM batches"_s), u"written"_s);
}

void tst_BatchUpload::transientFailuresRetry_data()
{
    QTest::addColumn<RedcapStub::Behaviour>("behaviour");
    QTest::addRow("500") << RedcapStub::Behaviour::ServerError500;
    QTest::addRow("429") << RedcapStub::Behaviour::TooMany429;
    QTest::addRow("dropped connection") << RedcapStub::Behaviour::Drop;
    QTest::addRow("slow answer, timed out") << RedcapStub::Behaviour::Slow;
}

void tst_BatchUpload::transientFailuresRetry()
{
    QFETCH(RedcapStub::Behaviour, behaviour);
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    stub.setSlowDelayMs(8000);
    // Part 2's first try fails (Qt re-sends a POST once by itself when the connection drops).
    stub.setBehaviour(2, behaviour);
    stub.setBehaviour(3, behaviour);
    auto settings = uploadSettings(stub, 3);
    settings.insert(u"upload/timeoutMs"_s, u"1500"_s);
    const auto result = runJob(dir->path(), settings, uploadRequest());
    QVERIFY(result);
    QVERIFY2(result->ok(), qPrintable(result->error.message));
    QCOMPARE(result->upload->status, UploadOutcome::Status::Confirmed);
    QVERIFY(stub.requestCount() > 3);
    QCOMPARE(sorted(stub.confirmedRecordIds()).size(), Submissions);
    QCOMPARE(stub.confirmedRecordIds().removeDuplicates(), 0);
    QVERIFY(scalar(dir->path(), u"SELECT attempts FROM upload_parts WHERE part_no = 2"_s) >= 2);
    QCOMPARE(text(dir->path(), u"SELECT state FROM batches"_s), u"uploaded"_s);
}

void tst_BatchUpload::givesUpAfterMaxAttempts()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    stub.setDefaultBehaviour(RedcapStub::Behaviour::ServerError500);
    auto settings = uploadSettings(stub, 3);
    settings.insert(u"upload/maxAttempts"_s, u"3"_s);
    const auto result = runJob(dir->path(), settings, uploadRequest());
    QVERIFY(result);
    QCOMPARE(result->status, ExportJobResult::Status::Failed);
    QVERIFY(!result->upload->permanent);
    QVERIFY2(result->error.message.contains(u"gave up after 3 attempts"_s), qPrintable(result->error.message));
    QCOMPARE(stub.requestCount(), 3);
    QCOMPARE(scalar(dir->path(), u"SELECT attempts FROM upload_parts WHERE part_no = 1"_s), 3);
    QCOMPARE(text(dir->path(), u"SELECT state FROM upload_parts WHERE part_no = 1"_s), u"pending"_s);
    QCOMPARE(text(dir->path(), u"SELECT state FROM batches"_s), u"written"_s);
}

void tst_BatchUpload::wrongIdsAreNotAConfirmation()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    stub.setBehaviour(1, RedcapStub::Behaviour::WrongIds);
    const auto result = runJob(dir->path(), uploadSettings(stub, 3), uploadRequest());
    QVERIFY(result);
    QCOMPARE(result->status, ExportJobResult::Status::Failed);
    QVERIFY2(result->error.message.contains(u"ids differ"_s), qPrintable(result->error.message));
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM upload_parts WHERE state = 'confirmed'"_s), 0);
    QCOMPARE(text(dir->path(), u"SELECT state FROM batches"_s), u"written"_s);
}

void tst_BatchUpload::cancelStopsTheUpload()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    stub.setSlowDelayMs(20000);
    stub.setBehaviour(2, RedcapStub::Behaviour::Slow);
    auto settings = Settings::load(QString(), uploadSettings(stub, 3));
    QVERIFY(settings);
    ExportJob job({dir->path(), *settings, nullptr}, uploadRequest());
    std::optional<ExportJobResult> result;
    connect(&job, &ExportJob::finished, this, [&result](const ExportJobResult &finished) { result = finished; });
    job.start();
    QTRY_COMPARE_WITH_TIMEOUT(stub.requestCount(), 2, JobMs);
    QElapsedTimer sinceCancel;
    sinceCancel.start();
    job.cancel();
    QTRY_VERIFY_WITH_TIMEOUT(result.has_value(), 5000);
    QVERIFY(sinceCancel.elapsed() < 5000); // the slow answer (20 s) was not awaited
    QCOMPARE(result->status, ExportJobResult::Status::Cancelled);
    QCOMPARE(result->upload->partsConfirmed, 1);
    QCOMPARE(text(dir->path(), u"SELECT state FROM batches"_s), u"written"_s);
    QCOMPARE(text(dir->path(), u"SELECT state FROM upload_parts WHERE part_no = 2"_s), u"pending"_s);
    QCOMPARE(stub.confirmedRecordIds().size(), 3);
}

void tst_BatchUpload::genericUpload()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub(RedcapStub::Mode::Generic);
    auto settings = uploadSettings(stub, 3);
    settings.insert(u"upload/kind"_s, u"generic"_s);
    const auto result = runJob(dir->path(), settings, uploadRequest());
    QVERIFY(result);
    QVERIFY2(result->ok(), qPrintable(result->error.message));
    QCOMPARE(result->upload->parts, 1);
    QCOMPARE(stub.requestCount(), 1);
    QCOMPARE(stub.protocolErrors(), 0);
    const RedcapStub::Request request = stub.requests().first();
    QCOMPARE(request.headers.value("content-type"), "application/xml");
    QCOMPARE(request.headers.value("authorization"), "Bearer STUB-TOKEN-0123456789");
    QFile odm(QDir(result->files.folder).filePath(u"clinical.odm.xml"_s));
    QVERIFY(odm.open(QIODevice::ReadOnly));
    QCOMPARE(request.body, odm.readAll());
    QCOMPARE(text(dir->path(), u"SELECT state FROM batches"_s), u"uploaded"_s);

    // A 401 from the generic platform is as permanent as REDCap's.
    auto other = freshDataDir(m_template.path());
    RedcapStub refusing(RedcapStub::Mode::Generic, "ANOTHER-TOKEN");
    settings.insert(u"upload/url"_s, refusing.url());
    const auto refused = runJob(other->path(), settings, uploadRequest());
    QVERIFY(refused);
    QCOMPARE(refused->status, ExportJobResult::Status::Failed);
    QCOMPARE(refused->upload->httpStatus, 401);
}

void tst_BatchUpload::commandLineReportsFieldErrors()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    stub.setBehaviour(1, RedcapStub::Behaviour::FieldErrors400);
    QByteArray out;
    QByteArray err;
    const int code = SiteRelayProcess::runCommand(
        dir->path(), QStringList{u"export"_s, u"--upload"_s} + uploadArguments(stub, 3), &out, &err);
    QCOMPARE(code, 1);
    for (const QString &line : RedcapStub::fieldErrorText().split(u'\n'))
        QVERIFY2(err.contains(line.toUtf8()), err.constData());
    QVERIFY2(out.contains("upload: failed, 0 of 3 parts"), out.constData());
    QVERIFY(out.startsWith("batch: ")); // the files were written; the batch is recorded
    QVERIFY(!err.contains("STUB-TOKEN") && !out.contains("STUB-TOKEN"));
    QCOMPARE(text(dir->path(), u"SELECT state FROM batches"_s), u"written"_s);
}

void tst_BatchUpload::commandLineRefusesUnconfiguredUpload()
{
    auto dir = freshDataDir(m_template.path());
    QByteArray out;
    QByteArray err;
    QCOMPARE(SiteRelayProcess::runCommand(dir->path(), {u"export"_s, u"--upload"_s}, &out, &err), 2);
    QVERIFY2(err.contains("upload/kind"), err.constData());
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM batches"_s), 0); // nothing taken for an upload that cannot go
    QCOMPARE(SiteRelayProcess::runCommand(dir->path(),
                                          {u"export"_s, u"--upload"_s, u"--set"_s, u"upload/kind=redcap"_s, u"--set"_s,
                                           u"upload/url=http://127.0.0.1:1/api/"_s},
                                          &out, &err),
             2);
    QVERIFY2(err.contains("upload/tokenFile"), err.constData());
}

void tst_BatchUpload::resumesAfterKillMidUpload()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    // Part 3 is answered only after a long time: the process is killed while it waits.
    stub.setSlowDelayMs(60000);
    stub.setBehaviour(3, RedcapStub::Behaviour::Slow);
    const QStringList arguments =
        QStringList{u"export"_s, u"--upload"_s, u"--data-dir"_s, dir->path()} + uploadArguments(stub, 2);
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(siterelayBinary(), arguments);
    QVERIFY(process.waitForStarted(10000));
    QTRY_COMPARE_WITH_TIMEOUT(stub.requestCount(), 3, JobMs);
    // Part 3 is sent only once parts 1 and 2 are recorded as confirmed.
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM upload_parts WHERE state = 'confirmed'"_s), 2);
    process.kill();
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitStatus(), QProcess::CrashExit);
    const QString batchId = text(dir->path(), u"SELECT id FROM batches"_s);
    QVERIFY(!batchId.isEmpty());
    QCOMPARE(text(dir->path(), u"SELECT state FROM batches"_s), u"written"_s);
    QCOMPARE(text(dir->path(), u"SELECT state FROM batch_uploads"_s), u"uploading"_s);

    QByteArray out;
    QByteArray err;
    QCOMPARE(SiteRelayProcess::runCommand(
                 dir->path(), QStringList{u"export"_s, u"--batch"_s, batchId, u"--upload"_s} + uploadArguments(stub, 2),
                 &out, &err),
             0);
    QVERIFY2(out.contains("upload: confirmed, 4 of 4 parts, 7 of 7 records"), out.constData());
    QVERIFY2(err.contains("resuming the upload"), err.constData());

    // Every record confirmed exactly once; no record of a confirmed part was sent again.
    const QList<RedcapStub::Request> requests = stub.requests();
    QCOMPARE(requests.size(), 5); // parts 1, 2, 3 (killed), then 3 and 4
    QStringList all;
    for (int i = 0; i < Submissions; ++i)
        all.append(text(dir->path(), u"SELECT submission_id FROM submissions ORDER BY id LIMIT 1 OFFSET %1"_s.arg(i)));
    QCOMPARE(sorted(stub.confirmedRecordIds()), sorted(all));
    const QStringList confirmedBeforeKill = requests[0].recordIds + requests[1].recordIds;
    for (const RedcapStub::Request &request : requests.mid(3)) {
        for (const QString &id : request.recordIds)
            QVERIFY2(!confirmedBeforeKill.contains(id), "a confirmed part was sent again");
    }
    QCOMPARE(requests[3].recordIds, requests[2].recordIds); // the same part 3, rebuilt byte for byte
    QCOMPARE(requests[3].form.value(u"data"_s), requests[2].form.value(u"data"_s));
    QCOMPARE(text(dir->path(), u"SELECT state FROM batches"_s), u"uploaded"_s);
    // Both attempts at part 3 are in the trail, the killed one included.
    QCOMPARE(scalar(dir->path(), u"SELECT attempts FROM upload_parts WHERE part_no = 3"_s), 2);
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM audit_log WHERE action = 'upload_attempt'"_s), 5);
}

void tst_BatchUpload::exportsApi()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    stub.setSlowDelayMs(1500);
    stub.setBehaviour(1, RedcapStub::Behaviour::Slow);
    TestServer server(uploadSettings(stub, 3), dir->path());
    QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));
    const QList<QPair<QByteArray, QByteArray>> coordinator = {{"Content-Type", "application/json"},
                                                              {"Authorization", "Bearer " + server.coordinatorToken()}};
    const auto call = [&](const QByteArray &method, const QByteArray &path, const QByteArray &body,
                          const QList<QPair<QByteArray, QByteArray>> &headers) {
        return RawHttpClient::exchange(server.port(), method, path, body, headers);
    };

    // Access and validation.
    QCOMPARE(call("POST", "/api/v1/exports", "{}", {{"Content-Type", "application/json"}}).status, 401);
    QCOMPARE(call("POST", "/api/v1/exports", "{}",
                  {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + server.deviceToken()}})
                 .status,
             403);
    const RawResponse badBody = call("POST", "/api/v1/exports", R"({"upload":"yes"})", coordinator);
    QCOMPARE(badBody.status, 400);
    QVERIFY2(badBody.body.contains("\"field\":\"upload\""), badBody.body.constData());
    QCOMPARE(call("POST", "/api/v1/exports", R"({"format":"xls"})", coordinator).status, 400);
    QCOMPARE(call("POST", "/api/v1/exports", R"({"since":"yesterday"})", coordinator).status, 400);
    // until: parsed as since is, and must be later than it; the errors name the API's field.
    for (const QByteArray &body :
         {QByteArray(R"({"until":"tomorrow"})"), QByteArray(R"({"since":"2026-11-02","until":"2026-11-01"})"),
          QByteArray(R"({"since":"2026-11-01","until":"2026-11-01T00:00:00Z"})")}) {
        const RawResponse badUntil = call("POST", "/api/v1/exports", body, coordinator);
        QCOMPARE(badUntil.status, 400);
        QVERIFY2(badUntil.body.contains("\"field\":\"until\"") && !badUntil.body.contains("--"),
                 badUntil.body.constData());
    }
    QCOMPARE(call("POST", "/api/v1/exports", R"({"batchId":"x","until":"2026-11-01"})", coordinator).status, 400);
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM batches"_s), 0);

    // Started at once (202), followed at its status URL. The until bound is after every row.
    const RawResponse started =
        call("POST", "/api/v1/exports", R"({"upload":true,"trialId":"TRIAL-A","until":"2100-01-01"})", coordinator);
    QCOMPARE(started.status, 202);
    const QJsonObject job = QJsonDocument::fromJson(started.body).object();
    const QByteArray statusUrl = job.value("statusUrl"_L1).toString().toLatin1();
    QVERIFY2(statusUrl.startsWith("/api/v1/exports/"), started.body.constData());
    QCOMPARE(job.value("state"_L1).toString(), u"running"_s);
    // One at a time: the first is still waiting for the platform's slow answer.
    const RawResponse second = call("POST", "/api/v1/exports", "{}", coordinator);
    QCOMPARE(second.status, 409);

    QJsonObject status;
    QTRY_VERIFY_WITH_TIMEOUT((status = QJsonDocument::fromJson(call("GET", statusUrl, {}, coordinator).body).object())
                                     .value("state"_L1)
                                     .toString() != "running"_L1,
                             JobMs);
    QCOMPARE(status.value("state"_L1).toString(), u"done"_s);
    const QJsonObject upload = status.value("upload"_L1).toObject();
    QCOMPARE(upload.value("state"_L1).toString(), u"confirmed"_s);
    const qint64 trialA = scalar(dir->path(), u"SELECT COUNT(*) FROM submissions WHERE trial_id = 'TRIAL-A'"_s);
    QCOMPARE(upload.value("recordsConfirmed"_L1).toInteger(), trialA);
    QCOMPARE(stub.confirmedRecordIds().size(), trialA);
    const QString batchId = status.value("batchId"_L1).toString();
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM audit_log WHERE action = 'created' AND actor LIKE "
                                 u"'coordinator:%'"_s),
             1);

    // Listed, and readable by batch id, with state, upload state and checksums.
    const RawResponse list = call("GET", "/api/v1/exports", {}, coordinator);
    QCOMPARE(list.status, 200);
    const QJsonObject listed = QJsonDocument::fromJson(list.body).object();
    const QJsonObject first = listed.value("batches"_L1).toArray().first().toObject();
    QCOMPARE(first.value("batchId"_L1).toString(), batchId);
    QCOMPARE(first.value("state"_L1).toString(), u"uploaded"_s);
    QCOMPARE(first.value("untilFilter"_L1).toString(), u"2100-01-01T00:00:00.000Z"_s);
    QVERIFY(first.value("sinceFilter"_L1).isNull());
    QCOMPARE(first.value("upload"_L1).toObject().value("state"_L1).toString(), u"confirmed"_s);
    QVERIFY(first.value("checksums"_L1).toObject().contains("clinical.odm.xml"_L1));
    QCOMPARE(listed.value("jobs"_L1).toArray().size(), 1);
    const RawResponse byBatch = call("GET", "/api/v1/exports/" + batchId.toLatin1(), {}, coordinator);
    QCOMPARE(byBatch.status, 200);
    QCOMPARE(QJsonDocument::fromJson(byBatch.body).object().value("sequence"_L1).toInteger(), 1);
    QCOMPARE(call("GET", "/api/v1/exports/no-such-export", {}, coordinator).status, 404);

    // Without upload: the rest becomes a second batch, written but not uploaded.
    const RawResponse plain =
        call("POST", "/api/v1/exports", "", {{"Authorization", "Bearer " + server.coordinatorToken()}});
    QCOMPARE(plain.status, 202);
    const QByteArray plainUrl =
        QJsonDocument::fromJson(plain.body).object().value("statusUrl"_L1).toString().toLatin1();
    QTRY_VERIFY_WITH_TIMEOUT((status = QJsonDocument::fromJson(call("GET", plainUrl, {}, coordinator).body).object())
                                     .value("state"_L1)
                                     .toString() != "running"_L1,
                             JobMs);
    QCOMPARE(status.value("state"_L1).toString(), u"done"_s);
    QCOMPARE(status.value("submissions"_L1).toInteger(), Submissions - trialA);
    QVERIFY(!status.contains("upload"_L1));
}

QTEST_GUILESS_MAIN(tst_BatchUpload)
#include "tst_batchupload.moc"
