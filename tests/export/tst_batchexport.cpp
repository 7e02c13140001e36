// Batch export through the real path: submissions posted over loopback HTTP to a real server whose
// engine processes them into a real SQLite file, then exported in-process and by the real binary.

#include "batchexporter.h"
#include "csvwriter.h"
#include "exporttestkit.h"
#include "questionnairecatalog.h"
#include "rawhttpclient.h"
#include "siterelayprocess.h"
#include "submissionstore.h"
#include "testpaths.h"
#include "testserver.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>

#include <optional>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;
using namespace SiteRelay::Test::ExportKit;

namespace {

Expected<ExportResult> exportBatch(const QString &dataDir, const ExportRequest &request)
{
    SubmissionStore::Options options;
    options.databasePath = QDir(dataDir).filePath(u"siterelay.sqlite"_s);
    auto store = SubmissionStore::open(options);
    if (!store)
        return store.error();
    return BatchExporter::run(**store, dataDir, request);
}

ExportRequest newBatch(const QString &trial = {}, const QString &since = {}, const QString &until = {})
{
    ExportRequest request;
    request.batch.siteId = u"SITE-01"_s;
    request.batch.trialFilter = trial;
    request.batch.sinceFilter = since;
    request.batch.untilFilter = until;
    return request;
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

/// An RFC 4180 parser: CRLF records, quoted fields with doubled quotes. nullopt when malformed.
std::optional<QList<QStringList>> parseCsv(const QByteArray &bytes)
{
    const QString text = QString::fromUtf8(bytes);
    QList<QStringList> records;
    QStringList record;
    QString field;
    bool quoted = false;
    bool afterQuote = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == u'"') {
                if (i + 1 < text.size() && text[i + 1] == u'"') {
                    field += u'"';
                    ++i;
                } else {
                    quoted = false;
                    afterQuote = true;
                }
            } else {
                field += c;
            }
        } else if (c == u'"') {
            if (!field.isEmpty() || afterQuote)
                return std::nullopt;
            quoted = true;
        } else if (c == u',') {
            record.append(field);
            field.clear();
            afterQuote = false;
        } else if (c == u'\r') {
            if (i + 1 >= text.size() || text[i + 1] != u'\n')
                return std::nullopt;
            ++i;
            record.append(field);
            records.append(record);
            record.clear();
            field.clear();
            afterQuote = false;
        } else if (c == u'\n' || afterQuote) {
            return std::nullopt; // a bare LF, or text after a closing quote
        } else {
            field += c;
        }
    }
    if (quoted || !field.isEmpty() || !record.isEmpty())
        return std::nullopt; // the last record must end with CRLF
    return records;
}

/// Every OID the document references that it does not define (ODM 1.3.2 reference attributes).
QStringList undefinedOidReferences(const QByteArray &odm, QString *parseError)
{
    static const QSet<QString> referenceAttributes = {
        u"StudyOID"_s, u"MetaDataVersionOID"_s, u"StudyEventOID"_s, u"FormOID"_s,     u"ItemGroupOID"_s,
        u"ItemOID"_s,  u"CodeListOID"_s,        u"UserOID"_s,       u"LocationOID"_s,
    };
    QSet<QString> defined;
    QList<QPair<QString, QString>> referenced;
    QXmlStreamReader xml(odm);
    while (!xml.atEnd()) {
        if (xml.readNext() != QXmlStreamReader::StartElement)
            continue;
        const QXmlStreamAttributes attributes = xml.attributes();
        for (const QXmlStreamAttribute &attribute : attributes) {
            const QString name = attribute.name().toString();
            if (name == "OID"_L1)
                defined.insert(attribute.value().toString());
            else if (referenceAttributes.contains(name))
                referenced.append({name, attribute.value().toString()});
        }
    }
    if (xml.hasError())
        *parseError = xml.errorString();
    QStringList missing;
    for (const auto &[attribute, oid] : std::as_const(referenced)) {
        if (!defined.contains(oid))
            missing.append(attribute + u'=' + oid);
    }
    missing.removeDuplicates();
    return missing;
}

struct StoredRow
{
    QString trialId, patientId, questionnaireId, completedAt, receivedAt, processedAt, band;
    qint64 deviceId = 0;
    int total = 0;
    QJsonObject answers;
};

QHash<QString, StoredRow> storedRows(const QString &dataDir, const QString &batchId)
{
    QHash<QString, StoredRow> rows;
    const QString connection = u"tst_batchexport_check"_s;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, connection);
        db.setDatabaseName(QDir(dataDir).filePath(u"siterelay.sqlite"_s));
        db.setConnectOptions(u"QSQLITE_OPEN_READONLY"_s);
        if (db.open()) {
            QSqlQuery query(db);
            query.prepare(u"SELECT submission_id, trial_id, patient_id, questionnaire_id, completed_at, received_at, "
                          u"processed_at, score_band, device_id, score_total, answers FROM submissions "
                          u"WHERE export_batch_id = ?"_s);
            query.addBindValue(batchId);
            if (query.exec()) {
                while (query.next()) {
                    rows.insert(
                        query.value(0).toString(),
                        StoredRow{query.value(1).toString(), query.value(2).toString(), query.value(3).toString(),
                                  query.value(4).toString(), query.value(5).toString(), query.value(6).toString(),
                                  query.value(7).toString(), query.value(8).toLongLong(), query.value(9).toInt(),
                                  QJsonDocument::fromJson(query.value(10).toByteArray()).object()});
                }
            }
        }
    }
    QSqlDatabase::removeDatabase(connection);
    return rows;
}

QString schemaPath()
{
    return QDir::cleanPath(sourceDir() + u"/../shared/odm-1.3.2/ODM1-3-2.xsd"_s);
}

} // namespace

class tst_BatchExport : public QObject
{
    Q_OBJECT

private:
    /// Validates against the XSD, checks every OID reference and compares the CSV with the database.
    void verifyFiles(const QString &dataDir, const ExportResult &result, qint64 expectedRows);

private Q_SLOTS:
    void initTestCase();
    void exportsProcessedSubmissionsOnly();
    void filters_data();
    void filters();
    void csvQuoting_data();
    void csvQuoting();
    void normalizeSince_data();
    void normalizeSince();
    void normalizeUntil_data();
    void normalizeUntil();
    void checkRange_data();
    void checkRange();
    void commandLine();
    void commandLineRejectsBadInput_data();
    void commandLineRejectsBadInput();
    void siteIdComesFromSettings();
};

void tst_BatchExport::initTestCase()
{
    if (!QFile::exists(schemaPath()))
        QFAIL(qPrintable(u"the ODM 1.3.2 schema is missing at %1: CI must provide ../shared/odm-1.3.2 next to the "
                         u"repository"_s.arg(schemaPath())));
    if (QStandardPaths::findExecutable(u"xmllint"_s).isEmpty())
        QFAIL("xmllint is missing: run scripts/install-deps.sh --test (libxml2-utils)");
}

void tst_BatchExport::verifyFiles(const QString &dataDir, const ExportResult &result, qint64 expectedRows)
{
    const QDir folder(result.folder);
    const QString odmPath = folder.filePath(u"clinical.odm.xml"_s);

    QProcess xmllint;
    xmllint.setProcessChannelMode(QProcess::MergedChannels);
    xmllint.start(u"xmllint"_s, {u"--noout"_s, u"--schema"_s, schemaPath(), odmPath});
    QVERIFY(xmllint.waitForFinished(60000));
    QVERIFY2(xmllint.exitStatus() == QProcess::NormalExit && xmllint.exitCode() == 0, xmllint.readAll().constData());

    const QByteArray odm = readAll(odmPath);
    QString xmlError;
    const QStringList undefined = undefinedOidReferences(odm, &xmlError);
    QVERIFY2(xmlError.isEmpty(), qPrintable(xmlError));
    QVERIFY2(undefined.isEmpty(), qPrintable(u"undefined OIDs: "_s + undefined.join(u", "_s)));
    QCOMPARE(odm.count("<FormData "), expectedRows);
    QVERIFY(odm.contains(QByteArray("FileOID=\"SiteRelay.SITE-01." + result.batch.id.toLatin1() + '"')));
    QVERIFY(odm.contains(QByteArray("CreationDateTime=\"" + result.batch.createdAt.toLatin1() + '"')));

    // The CSV, parsed back, says what the database holds.
    const QHash<QString, StoredRow> stored = storedRows(dataDir, result.batch.id);
    QCOMPARE(stored.size(), expectedRows);
    const auto records = parseCsv(readAll(folder.filePath(u"submissions.csv"_s)));
    QVERIFY2(records, "submissions.csv is not RFC 4180");
    QCOMPARE(records->size(), expectedRows + 1);
    const QStringList header = records->first();
    const auto column = [&header](const QString &name) { return header.indexOf(name); };
    for (const char *name : {"submission_id", "patient_id", "trial_id", "questionnaire_id", "completed_at",
                             "received_at", "processed_at", "score_total", "score_band", "alert", "device_id"})
        QVERIFY2(column(QLatin1StringView(name)) >= 0, name);
    const auto catalog = QuestionnaireCatalog::loadBuiltIn();
    QVERIFY(catalog);
    QSet<QString> seen;
    for (qsizetype r = 1; r < records->size(); ++r) {
        const QStringList &fields = records->at(r);
        QCOMPARE(fields.size(), header.size());
        const QString id = fields[column(u"submission_id"_s)];
        QVERIFY2(stored.contains(id), qPrintable(id));
        seen.insert(id);
        const StoredRow &row = stored[id];
        QCOMPARE(fields[column(u"batch_id"_s)], result.batch.id);
        QCOMPARE(fields[column(u"batch_sequence"_s)], QString::number(result.batch.sequence));
        QCOMPARE(fields[column(u"patient_id"_s)], row.patientId);
        QCOMPARE(fields[column(u"trial_id"_s)], row.trialId);
        QCOMPARE(fields[column(u"questionnaire_id"_s)], row.questionnaireId);
        QCOMPARE(fields[column(u"completed_at"_s)], row.completedAt);
        QCOMPARE(fields[column(u"received_at"_s)], row.receivedAt);
        QCOMPARE(fields[column(u"processed_at"_s)], row.processedAt);
        QCOMPARE(fields[column(u"device_id"_s)], QString::number(row.deviceId));
        QCOMPARE(fields[column(u"score_total"_s)], QString::number(row.total));
        QCOMPARE(fields[column(u"score_band"_s)], row.band);
        for (const QString &questionnaireId : catalog->ids()) {
            for (const QuestionnaireItem &item : catalog->find(questionnaireId)->items) {
                const int index = column(questionnaireId + u'.' + item.id);
                if (index < 0)
                    continue; // not in this batch
                const QString expected = questionnaireId == row.questionnaireId && row.answers.contains(item.id)
                                             ? QString::number(row.answers.value(item.id).toInt())
                                             : QString();
                QCOMPARE(fields[index], expected);
            }
        }
    }
    QCOMPARE(seen.size(), stored.size());

    // The manifest's checksums are the files'.
    const QJsonObject manifest = QJsonDocument::fromJson(readAll(folder.filePath(u"manifest.json"_s))).object();
    QCOMPARE(manifest.value("batchId"_L1).toString(), result.batch.id);
    QCOMPARE(manifest.value("sequence"_L1).toInteger(), result.batch.sequence);
    QCOMPARE(manifest.value("site"_L1).toString(), u"SITE-01"_s);
    QCOMPARE(manifest.value("counts"_L1).toObject().value("submissions"_L1).toInteger(), expectedRows);
    const QJsonArray files = manifest.value("files"_L1).toArray();
    QCOMPARE(files.size(), 2);
    for (const QJsonValue &file : files) {
        const QString name = file.toObject().value("name"_L1).toString();
        const QByteArray bytes = readAll(folder.filePath(name));
        QVERIFY2(!bytes.isEmpty(), qPrintable(name));
        QCOMPARE(file.toObject().value("sha256"_L1).toString().toLatin1(),
                 QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    }
}

void tst_BatchExport::exportsProcessedSubmissionsOnly()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    // Two subjects, both questionnaires, one form twice by the same subject, offsets other than UTC.
    postSubmissions(dir.path(),
                    {{u"P-001"_s, u"TRIAL-A"_s, u"phq9"_s, u"2026-11-20T09:30:00+01:00"_s, 1},
                     {u"P-001"_s, u"TRIAL-A"_s, u"phq9"_s, u"2026-11-21T09:30:00-05:00"_s, 2},
                     {u"P-001"_s, u"TRIAL-A"_s, u"gad7"_s, u"2026-11-21T10:00:00Z"_s, 3},
                     {u"P-002"_s, u"TRIAL-A"_s, u"phq9"_s, u"2026-11-22T08:00:00Z"_s, 0},
                     {u"P-003"_s, u"TRIAL-B"_s, u"gad7"_s, u"2026-11-22T08:00:00Z"_s, 1}},
                    true);
    if (QTest::currentTestFailed())
        return;
    // Stored but not processed (the engine is off): never exported.
    postSubmissions(dir.path(), {{u"P-004"_s, u"TRIAL-A"_s, u"phq9"_s, u"2026-11-22T08:00:00Z"_s, 1}}, false);
    if (QTest::currentTestFailed())
        return;

    const auto first = exportBatch(dir.path(), newBatch());
    QVERIFY2(first, qPrintable(first ? QString() : first.error().message));
    QVERIFY(first->created);
    QCOMPARE(first->batch.sequence, 1);
    QCOMPARE(first->batch.submissionCount, 5);
    QCOMPARE(first->batch.state, u"written"_s);
    QCOMPARE(first->folder, BatchExporter::defaultFolder(dir.path(), first->batch.id));
    verifyFiles(dir.path(), *first, 5);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(scalar(dir.path(), u"SELECT COUNT(*) FROM submissions WHERE state <> 'processed' AND "
                                u"export_batch_id IS NOT NULL"_s),
             0);
    QCOMPARE(scalar(dir.path(), u"SELECT COUNT(*) FROM audit_log WHERE entity = 'batch' AND action = 'created'"_s), 1);
    QCOMPARE(
        scalar(dir.path(), u"SELECT COUNT(*) FROM audit_log WHERE entity = 'batch' AND action = 'files_written'"_s), 1);

    // Re-exporting the batch writes the same bytes.
    QHash<QString, QByteArray> before;
    for (const char *name : {"clinical.odm.xml", "submissions.csv", "manifest.json"})
        before.insert(QLatin1StringView(name), readAll(QDir(first->folder).filePath(QLatin1StringView(name))));
    ExportRequest again;
    again.batchId = first->batch.id;
    const auto rewritten = exportBatch(dir.path(), again);
    QVERIFY2(rewritten, qPrintable(rewritten ? QString() : rewritten.error().message));
    QVERIFY(!rewritten->created);
    for (auto it = before.cbegin(); it != before.cend(); ++it)
        QVERIFY2(readAll(QDir(first->folder).filePath(it.key())) == it.value(), qPrintable(it.key()));
    QCOMPARE(rewritten->checksums, first->checksums);

    // Nothing new: no batch.
    const auto empty = exportBatch(dir.path(), newBatch());
    QVERIFY(!empty);
    QCOMPARE(empty.error().code, ErrorCode::NotFound);
    QCOMPARE(scalar(dir.path(), u"SELECT COUNT(*) FROM batches"_s), 1);

    // A second batch takes only what was processed since, into a folder of our choosing.
    postSubmissions(dir.path(), {{u"P-001"_s, u"TRIAL-A"_s, u"phq9"_s, u"2026-11-23T09:30:00+01:00"_s, 3}}, true);
    if (QTest::currentTestFailed())
        return;
    ExportRequest second = newBatch();
    second.outputFolder = dir.filePath(u"chosen"_s);
    const auto next = exportBatch(dir.path(), second);
    QVERIFY2(next, qPrintable(next ? QString() : next.error().message));
    QCOMPARE(next->batch.sequence, 2);
    // The engine was on again: the pending row of before is processed now and joins this batch.
    QCOMPARE(next->batch.submissionCount, 2);
    QCOMPARE(QDir(next->folder).absolutePath(), QDir(dir.filePath(u"chosen"_s)).absolutePath());
    verifyFiles(dir.path(), *next, 2);
}

void tst_BatchExport::filters_data()
{
    QTest::addColumn<QString>("trial");
    QTest::addColumn<QString>("since");
    QTest::addColumn<QString>("until");
    QTest::addColumn<int>("expected"); // 0: nothing to export

    // The rows are completed at 2026-11-20T08:30Z (TRIAL-A), 2026-11-21T08:30Z (TRIAL-A) and
    // 2026-11-22T08:00Z (TRIAL-B).
    QTest::addRow("all") << QString() << QString() << QString() << 3;
    QTest::addRow("one trial") << u"TRIAL-A"_s << QString() << QString() << 2;
    QTest::addRow("unknown trial") << u"TRIAL-X"_s << QString() << QString() << 0;
    // 2026-11-21T09:30:00+01:00 is 08:30Z: on the bound, so included.
    QTest::addRow("since, bound inclusive") << QString() << u"2026-11-21T08:30:00.000Z"_s << QString() << 2;
    QTest::addRow("since, after all") << QString() << u"2026-11-25T00:00:00.000Z"_s << QString() << 0;
    QTest::addRow("trial and since") << u"TRIAL-A"_s << u"2026-11-21T08:30:00.000Z"_s << QString() << 1;
    // On the bound, so excluded: only the 11-20 row is before it.
    QTest::addRow("until, bound exclusive") << QString() << QString() << u"2026-11-21T08:30:00.000Z"_s << 1;
    // A millisecond later the bound row is in.
    QTest::addRow("until, just after a row") << QString() << QString() << u"2026-11-21T08:30:00.001Z"_s << 2;
    QTest::addRow("until, before all") << QString() << QString() << u"2026-11-20T00:00:00.000Z"_s << 0;
    QTest::addRow("trial and until") << u"TRIAL-B"_s << QString() << u"2026-11-23T00:00:00.000Z"_s << 1;
    // One whole day: [11-21, 11-22) holds the 11-21 row only.
    QTest::addRow("since and until, one day")
        << QString() << u"2026-11-21T00:00:00.000Z"_s << u"2026-11-22T00:00:00.000Z"_s << 1;
    QTest::addRow("since and until, both bounds on rows")
        << QString() << u"2026-11-20T08:30:00.000Z"_s << u"2026-11-22T08:00:00.000Z"_s << 2;
    QTest::addRow("since and until, between rows")
        << QString() << u"2026-11-21T09:00:00.000Z"_s << u"2026-11-22T07:59:59.999Z"_s << 0;
    QTest::addRow("trial, since and until")
        << u"TRIAL-A"_s << u"2026-11-20T00:00:00.000Z"_s << u"2026-11-25T00:00:00.000Z"_s << 2;
}

void tst_BatchExport::filters()
{
    QFETCH(QString, trial);
    QFETCH(QString, since);
    QFETCH(QString, until);
    QFETCH(int, expected);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    postSubmissions(dir.path(),
                    {{u"P-001"_s, u"TRIAL-A"_s, u"phq9"_s, u"2026-11-20T09:30:00+01:00"_s, 1},
                     {u"P-001"_s, u"TRIAL-A"_s, u"phq9"_s, u"2026-11-21T09:30:00+01:00"_s, 1},
                     {u"P-002"_s, u"TRIAL-B"_s, u"gad7"_s, u"2026-11-22T08:00:00Z"_s, 1}},
                    true);
    if (QTest::currentTestFailed())
        return;
    const auto result = exportBatch(dir.path(), newBatch(trial, since, until));
    if (expected == 0) {
        QVERIFY(!result);
        QCOMPARE(result.error().code, ErrorCode::NotFound);
        QVERIFY2(result.error().message.contains(u"with these filters"_s) == !QString(trial + since + until).isEmpty(),
                 qPrintable(result.error().message));
        QCOMPARE(scalar(dir.path(), u"SELECT COUNT(*) FROM batches"_s), 0);
        QCOMPARE(scalar(dir.path(), u"SELECT COUNT(*) FROM submissions WHERE export_batch_id IS NOT NULL"_s), 0);
        return;
    }
    QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
    QCOMPARE(result->batch.submissionCount, expected);
    QCOMPARE(result->batch.trialFilter, trial);
    QCOMPARE(result->batch.sinceFilter, since);
    QCOMPARE(result->batch.untilFilter, until);
    QCOMPARE(scalar(dir.path(), u"SELECT COUNT(*) FROM submissions WHERE export_batch_id IS NOT NULL"_s), expected);
    // Stored, audited and written into the manifest as given.
    QCOMPARE(scalarValue(dir.path(), u"SELECT COALESCE(until_filter, '') FROM batches"_s).toString(), until);
    const QString detail = scalarValue(dir.path(), u"SELECT detail FROM audit_log WHERE entity = 'batch' AND "
                                                   u"action = 'created'"_s)
                               .toString();
    QVERIFY2(detail.contains(u"until "_s + until) == !until.isEmpty(), qPrintable(detail));
    const QJsonObject filters = QJsonDocument::fromJson(readAll(QDir(result->folder).filePath(u"manifest.json"_s)))
                                    .object()
                                    .value("filters"_L1)
                                    .toObject();
    QVERIFY(filters.contains("until"_L1));
    QCOMPARE(filters.value("until"_L1), until.isEmpty() ? QJsonValue() : QJsonValue(until));
    QCOMPARE(filters.value("since"_L1), since.isEmpty() ? QJsonValue() : QJsonValue(since));
    verifyFiles(dir.path(), *result, expected);
}

void tst_BatchExport::csvQuoting_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("written");

    QTest::addRow("plain") << u"P-001"_s << u"P-001"_s;
    QTest::addRow("empty") << QString() << QString();
    QTest::addRow("comma") << u"a,b"_s << u"\"a,b\""_s;
    QTest::addRow("quote") << u"say \"hi\""_s << u"\"say \"\"hi\"\"\""_s;
    QTest::addRow("line feed") << u"a\nb"_s << u"\"a\nb\""_s;
    QTest::addRow("carriage return") << u"a\r\nb"_s << u"\"a\r\nb\""_s;
    QTest::addRow("non-ASCII") << u"Zürich"_s << u"Zürich"_s;
}

void tst_BatchExport::csvQuoting()
{
    QFETCH(QString, field);
    QFETCH(QString, written);
    QCOMPARE(CsvWriter::quoted(field), written);
    // And our parser reads it back, beside a plain field.
    const auto records = parseCsv((written + u",x\r\n"_s).toUtf8());
    QVERIFY(records);
    QCOMPARE(*records, (QList<QStringList>{{field, u"x"_s}}));
}

void tst_BatchExport::normalizeSince_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("normalized"); // empty: rejected

    QTest::addRow("date") << u"2026-11-01"_s << u"2026-11-01T00:00:00.000Z"_s;
    QTest::addRow("UTC") << u"2026-11-01T08:00:00Z"_s << u"2026-11-01T08:00:00.000Z"_s;
    QTest::addRow("offset") << u"2026-11-01T08:00:00+01:00"_s << u"2026-11-01T07:00:00.000Z"_s;
    QTest::addRow("milliseconds") << u"2026-11-01T08:00:00.250-02:00"_s << u"2026-11-01T10:00:00.250Z"_s;
    QTest::addRow("no offset") << u"2026-11-01T08:00:00"_s << QString();
    QTest::addRow("month 13") << u"2026-13-01"_s << QString();
    QTest::addRow("words") << u"yesterday"_s << QString();
    QTest::addRow("empty") << QString() << QString();
}

void tst_BatchExport::normalizeSince()
{
    QFETCH(QString, text);
    QFETCH(QString, normalized);
    const auto result = BatchExporter::normalizeSince(text);
    if (normalized.isEmpty()) {
        QVERIFY(!result);
        QCOMPARE(result.error().code, ErrorCode::InvalidArgument);
        QCOMPARE(result.error().field, u"--since"_s);
    } else {
        QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
        QCOMPARE(*result, normalized);
    }
}

void tst_BatchExport::normalizeUntil_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("normalized"); // empty: rejected

    QTest::addRow("date") << u"2026-12-01"_s << u"2026-12-01T00:00:00.000Z"_s;
    QTest::addRow("offset") << u"2026-12-01T00:30:00+01:00"_s << u"2026-11-30T23:30:00.000Z"_s;
    QTest::addRow("no offset") << u"2026-12-01T08:00:00"_s << QString();
    QTest::addRow("day 32") << u"2026-12-32"_s << QString();
    QTest::addRow("empty") << QString() << QString();
}

void tst_BatchExport::normalizeUntil()
{
    QFETCH(QString, text);
    QFETCH(QString, normalized);
    const auto result = BatchExporter::normalizeUntil(text);
    if (normalized.isEmpty()) {
        QVERIFY(!result);
        QCOMPARE(result.error().code, ErrorCode::InvalidArgument);
        // The until's own name, not --since's: the same parser serves both.
        QCOMPARE(result.error().field, u"--until"_s);
        QVERIFY2(result.error().message.startsWith(u"--until "_s), qPrintable(result.error().message));
    } else {
        QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
        QCOMPARE(*result, normalized);
    }
}

void tst_BatchExport::checkRange_data()
{
    QTest::addColumn<QString>("since");
    QTest::addColumn<QString>("until");
    QTest::addColumn<bool>("valid");

    QTest::addRow("neither") << QString() << QString() << true;
    QTest::addRow("since only") << u"2026-11-01T00:00:00.000Z"_s << QString() << true;
    QTest::addRow("until only") << QString() << u"2026-11-01T00:00:00.000Z"_s << true;
    QTest::addRow("a millisecond") << u"2026-11-01T00:00:00.000Z"_s << u"2026-11-01T00:00:00.001Z"_s << true;
    QTest::addRow("equal") << u"2026-11-01T00:00:00.000Z"_s << u"2026-11-01T00:00:00.000Z"_s << false;
    QTest::addRow("reversed") << u"2026-11-02T00:00:00.000Z"_s << u"2026-11-01T00:00:00.000Z"_s << false;
}

void tst_BatchExport::checkRange()
{
    QFETCH(QString, since);
    QFETCH(QString, until);
    QFETCH(bool, valid);
    const auto result = BatchExporter::checkRange(since, until);
    QCOMPARE(bool(result), valid);
    if (!valid) {
        QCOMPARE(result.error().code, ErrorCode::InvalidArgument);
        QCOMPARE(result.error().field, u"--until"_s);
    }
}

void tst_BatchExport::commandLine()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    postSubmissions(dir.path(), {{u"P-001"_s, u"TRIAL-A"_s, u"phq9"_s, u"2026-11-20T09:30:00+01:00"_s, 1}}, true);
    if (QTest::currentTestFailed())
        return;

    QByteArray out;
    QByteArray err;
    // --until reaches the store, exclusive: the only row (08:30Z on 11-20) is not before 11-20T08:30Z.
    QCOMPARE(SiteRelayProcess::runCommand(dir.path(), {u"export"_s, u"--until"_s, u"2026-11-20T09:30:00+01:00"_s}, &out,
                                          &err),
             0);
    QVERIFY(out.isEmpty());
    QVERIFY2(err.contains("nothing to export") && err.contains("with these filters"), err.constData());
    QCOMPARE(scalar(dir.path(), u"SELECT COUNT(*) FROM batches"_s), 0);

    QCOMPARE(SiteRelayProcess::runCommand(dir.path(), {u"export"_s, u"--site"_s, u"SITE-01"_s}, &out, &err), 0);
    const QList<QByteArray> lines = out.trimmed().split('\n');
    QCOMPARE(lines.size(), 4);
    QVERIFY2(lines[0].startsWith("batch: "), out.constData());
    const QString batchId = QString::fromUtf8(lines[0].mid(7));
    QCOMPARE(lines[1], "sequence: 1");
    QCOMPARE(lines[2], "submissions: 1");
    const QString folder = QString::fromUtf8(lines[3].mid(8));
    QCOMPARE(folder, BatchExporter::defaultFolder(dir.path(), batchId));
    QVERIFY2(err.contains("submissions.csv: 1 of 1 submissions"), err.constData()); // progress
    const QByteArray manifest = readAll(QDir(folder).filePath(u"manifest.json"_s));
    QVERIFY(manifest.contains(batchId.toLatin1()));

    // Nothing new: exit 0, said on stderr, nothing on stdout.
    QCOMPARE(SiteRelayProcess::runCommand(dir.path(), {u"export"_s}, &out, &err), 0);
    QVERIFY(out.isEmpty());
    QVERIFY2(err.contains("nothing to export"), err.constData());

    // --batch writes the same files again, also to another folder.
    const QString elsewhere = dir.filePath(u"copy"_s);
    QCOMPARE(SiteRelayProcess::runCommand(dir.path(), {u"export"_s, u"--batch"_s, batchId, u"--out"_s, elsewhere}, &out,
                                          &err),
             0);
    for (const char *name : {"clinical.odm.xml", "submissions.csv", "manifest.json"}) {
        const QString file = QLatin1StringView(name);
        QCOMPARE(readAll(QDir(elsewhere).filePath(file)), readAll(QDir(folder).filePath(file)));
    }
}

void tst_BatchExport::siteIdComesFromSettings()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    postSubmissions(dir.path(), {{u"P-002"_s, u"TRIAL-A"_s, u"gad7"_s, u"2026-11-21T09:30:00+01:00"_s, 1}}, true);
    if (QTest::currentTestFailed())
        return;
    QByteArray out;
    QByteArray err;
    QCOMPARE(SiteRelayProcess::runCommand(dir.path(), {u"export"_s, u"--set"_s, u"site/id=CLINIC-042"_s}, &out, &err),
             0);
    const QString folder = QString::fromUtf8(out.trimmed().split('\n').value(3).mid(8));
    const QJsonObject manifest = QJsonDocument::fromJson(readAll(QDir(folder).filePath(u"manifest.json"_s))).object();
    QCOMPARE(manifest.value("site"_L1).toString(), u"CLINIC-042"_s);
    QVERIFY(readAll(QDir(folder).filePath(u"clinical.odm.xml"_s)).contains("CLINIC-042"));
}

void tst_BatchExport::commandLineRejectsBadInput_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("message");

    QTest::addRow("bad --since") << QStringList{u"export"_s, u"--since"_s, u"2026-13-01"_s} << QByteArray("--since");
    QTest::addRow("bad --until") << QStringList{u"export"_s, u"--until"_s, u"next week"_s}
                                 << QByteArray("--until must be a date");
    QTest::addRow("--until equal to --since")
        << QStringList{u"export"_s, u"--since"_s, u"2026-11-01"_s, u"--until"_s, u"2026-11-01T01:00:00+01:00"_s}
        << QByteArray("--until (2026-11-01T00:00:00.000Z) must be later than --since");
    QTest::addRow("--until before --since")
        << QStringList{u"export"_s, u"--since"_s, u"2026-12-01"_s, u"--until"_s, u"2026-11-01"_s}
        << QByteArray("must be later than --since");
    QTest::addRow("batch with --until") << QStringList{u"export"_s, u"--batch"_s, u"x"_s, u"--until"_s, u"2026-11-01"_s}
                                        << QByteArray("--batch");
    QTest::addRow("--until without export")
        << QStringList{u"--until"_s, u"2026-11-01"_s} << QByteArray("--until only goes with `export`");
    QTest::addRow("bad --trial") << QStringList{u"export"_s, u"--trial"_s, u"a b"_s} << QByteArray("--trial");
    QTest::addRow("bad --site") << QStringList{u"export"_s, u"--site"_s, u"x/y"_s} << QByteArray("--site");
    QTest::addRow("unknown batch") << QStringList{u"export"_s, u"--batch"_s, u"no-such-batch"_s}
                                   << QByteArray("no export batch");
    QTest::addRow("batch with filters") << QStringList{u"export"_s, u"--batch"_s, u"x"_s, u"--trial"_s, u"T"_s}
                                        << QByteArray("--batch");
    // Checked before a batch is made: nothing is taken for an upload that cannot go.
    QTest::addRow("upload not configured") << QStringList{u"export"_s, u"--upload"_s} << QByteArray("upload/kind");
    QTest::addRow("export option without export")
        << QStringList{u"--trial"_s, u"T"_s} << QByteArray("only goes with `export`");
    QTest::addRow("extra argument") << QStringList{u"export"_s, u"now"_s} << QByteArray("export takes no arguments");
}

void tst_BatchExport::commandLineRejectsBadInput()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, message);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QByteArray out;
    QByteArray err;
    QCOMPARE(SiteRelayProcess::runCommand(dir.path(), arguments, &out, &err), 2);
    QVERIFY2(err.contains(message), err.constData());
    QVERIFY(out.isEmpty());
    QVERIFY(!QDir(dir.filePath(u"exports"_s)).exists());
}

QTEST_GUILESS_MAIN(tst_BatchExport)
#include "tst_batchexport.moc"
