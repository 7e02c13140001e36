// SubmissionStore against a real SQLite file: group commit, idempotency, audit, migrations.
#include "database.h"
#include "submissionstore.h"

#include <QFutureSynchronizer>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;

namespace {

NewSubmission makeSubmission(qint64 deviceId, const QString &id = {}, int answer = 1)
{
    NewSubmission submission;
    submission.submissionId = id.isEmpty() ? QUuid::createUuid().toString(QUuid::WithoutBraces) : id;
    submission.deviceId = deviceId;
    submission.patientId = u"P-1"_s;
    submission.trialId = u"T-1"_s;
    submission.questionnaireId = u"phq9"_s;
    submission.completedAt = u"2026-11-26T08:30:00.000Z"_s;
    submission.answers = QJsonObject{{u"phq9_q1"_s, answer}};
    return submission;
}

qint64 scalar(const QString &path, const QString &sql)
{
    const QString name = QUuid::createUuid().toString();
    qint64 value = -1;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
        db.setDatabaseName(path);
        if (db.open()) {
            QSqlQuery query(db);
            if (query.exec(sql) && query.next())
                value = query.value(0).toLongLong();
        }
    }
    QSqlDatabase::removeDatabase(name);
    return value;
}

} // namespace

class TstSubmissionStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void opensWithCurrentSchemaAndWal();
    void waitingWritesShareOneCommit();
    void duplicatesAndConflicts_data();
    void duplicatesAndConflicts();
    void stateCountsFollowInserts();
    void devicesAreAddedAndRevokedWithAudit();
    void refusesNewerSchema();
    void splitsMigrationStatements();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<SubmissionStore> m_store;
    qint64 m_deviceId = 0;
    QString m_path;
};

void TstSubmissionStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_path = m_dir->filePath(u"store.sqlite"_s);
    SubmissionStore::Options options;
    options.databasePath = m_path;
    auto store = SubmissionStore::open(options);
    QVERIFY2(store, store ? "" : qPrintable(store.error().message));
    m_store = std::move(store).value();
    const auto device = m_store->addDevice(u"tablet"_s, DeviceRole::Device, u"test"_s).result();
    QVERIFY(device);
    m_deviceId = device->record.id;
    m_store->drain(); // so the device's commit signal is not seen by a test's spy
}

void TstSubmissionStore::cleanup()
{
    m_store.reset();
    m_dir.reset();
}

void TstSubmissionStore::opensWithCurrentSchemaAndWal()
{
    QCOMPARE(scalar(m_path, u"PRAGMA user_version"_s), qint64(Database::schemaVersion()));
    QVERIFY(Database::schemaVersion() >= 1);
    QVERIFY(QFile::exists(m_path + u"-wal"_s));
    // Reopening an up-to-date database applies nothing and keeps the data.
    m_store.reset();
    SubmissionStore::Options options;
    options.databasePath = m_path;
    auto reopened = SubmissionStore::open(options);
    QVERIFY(reopened);
    QCOMPARE(scalar(m_path, u"SELECT count(*) FROM devices"_s), 1);
}

void TstSubmissionStore::waitingWritesShareOneCommit()
{
    QSignalSpy committed(m_store.get(), &SubmissionStore::committed);
    constexpr int Count = 500;
    QList<QFuture<Expected<SubmissionReceipt>>> futures;
    for (int i = 0; i < Count; ++i)
        futures.append(m_store->append(makeSubmission(m_deviceId)));
    for (auto &future : futures) {
        const auto receipt = future.result();
        QVERIFY(receipt);
        QVERIFY(!receipt->duplicate);
        QCOMPARE(receipt->status, u"pending"_s);
    }
    // The signal of the last batch may come a moment after its futures resolved.
    const auto writes = [&committed] {
        int sum = 0;
        for (const auto &arguments : std::as_const(committed))
            sum += arguments.at(0).toInt();
        return sum;
    };
    QTRY_COMPARE(writes(), Count);
    // Posted faster than one fsync each: far fewer transactions than submissions.
    QVERIFY2(committed.size() < Count / 4, qPrintable(u"%1 commits for %2 writes"_s.arg(committed.size()).arg(Count)));
    QCOMPARE(scalar(m_path, u"SELECT count(*) FROM submissions"_s), Count);
    QCOMPARE(scalar(m_path, u"SELECT count(*) FROM audit_log WHERE action = 'received'"_s), Count);
}

void TstSubmissionStore::duplicatesAndConflicts_data()
{
    QTest::addColumn<bool>("sameContent");
    QTest::addColumn<bool>("sameBatch");
    QTest::addRow("resend, later batch") << true << false;
    QTest::addRow("resend, same batch") << true << true;
    QTest::addRow("other content, later batch") << false << false;
    QTest::addRow("other content, same batch") << false << true;
}

void TstSubmissionStore::duplicatesAndConflicts()
{
    QFETCH(bool, sameContent);
    QFETCH(bool, sameBatch);
    const NewSubmission first = makeSubmission(m_deviceId);
    const NewSubmission second = makeSubmission(m_deviceId, first.submissionId, sameContent ? 1 : 2);
    auto firstFuture = m_store->append(first);
    if (!sameBatch)
        firstFuture.waitForFinished();
    auto secondFuture = m_store->append(second);
    const auto firstReceipt = firstFuture.result();
    const auto secondReceipt = secondFuture.result();
    QVERIFY(firstReceipt);
    QVERIFY(!firstReceipt->duplicate);
    if (sameContent) {
        QVERIFY(secondReceipt);
        QVERIFY(secondReceipt->duplicate);
        QCOMPARE(secondReceipt->receivedAt, firstReceipt->receivedAt);
    } else {
        QVERIFY(!secondReceipt);
        QVERIFY(secondReceipt.error().code == ErrorCode::Conflict);
        QCOMPARE(secondReceipt.error().field, u"submissionId"_s);
    }
    QCOMPARE(scalar(m_path, u"SELECT count(*) FROM submissions"_s), 1);
    QCOMPARE(scalar(m_path, u"SELECT count(*) FROM audit_log WHERE entity = 'submission'"_s), 1);
}

void TstSubmissionStore::stateCountsFollowInserts()
{
    for (int i = 0; i < 7; ++i)
        QVERIFY(m_store->append(makeSubmission(m_deviceId)).result());
    QCOMPARE(scalar(m_path, u"SELECT count FROM state_counts WHERE state = 'pending'"_s), 7);
    QCOMPARE(scalar(m_path, u"SELECT sum(count) FROM state_counts"_s), 7);
}

void TstSubmissionStore::devicesAreAddedAndRevokedWithAudit()
{
    const auto coordinator = m_store->addDevice(u"Dr Rivera"_s, DeviceRole::Coordinator, u"cli"_s).result();
    QVERIFY(coordinator);
    QVERIFY(coordinator->token.startsWith(u"srt_%1_"_s.arg(coordinator->record.id)));
    QVERIFY(coordinator->record.role == DeviceRole::Coordinator);
    const auto revoked = m_store->revokeDevice(coordinator->record.id, u"cli"_s).result();
    QVERIFY(revoked);
    QVERIFY(!revoked->revokedAt.isEmpty());
    const auto again = m_store->revokeDevice(coordinator->record.id, u"cli"_s).result();
    QVERIFY(again); // idempotent: no second audit row
    QCOMPARE(again->revokedAt, revoked->revokedAt);
    QCOMPARE(scalar(m_path, u"SELECT count(*) FROM audit_log WHERE entity = 'device' AND action = 'revoked'"_s), 1);
    const auto missing = m_store->revokeDevice(999, u"cli"_s).result();
    QVERIFY(!missing);
    QVERIFY(missing.error().code == ErrorCode::NotFound);
}

void TstSubmissionStore::refusesNewerSchema()
{
    m_store.reset();
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"bump"_s);
        db.setDatabaseName(m_path);
        QVERIFY(db.open());
        QVERIFY(QSqlQuery(db).exec(u"PRAGMA user_version = 999"_s));
    }
    QSqlDatabase::removeDatabase(u"bump"_s);
    SubmissionStore::Options options;
    options.databasePath = m_path;
    auto refused = SubmissionStore::open(options);
    QVERIFY(!refused);
    QVERIFY(refused.error().code == ErrorCode::StorageUnavailable);
    QVERIFY2(refused.error().message.contains("newer"_L1), qPrintable(refused.error().message));
}

void TstSubmissionStore::splitsMigrationStatements()
{
    const QStringList statements = Database::splitStatements(
        u"-- comment\nCREATE TABLE a (x);\nCREATE TRIGGER t AFTER INSERT ON a\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n"
        u"INSERT INTO a VALUES (1);\n"_s);
    QCOMPARE(statements.size(), 3);
    QVERIFY(statements[1].startsWith("CREATE TRIGGER"_L1));
    QVERIFY(statements[1].contains("SELECT 2;"_L1));
}

QTEST_GUILESS_MAIN(TstSubmissionStore)
#include "tst_submissionstore.moc"
