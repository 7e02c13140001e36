#include "databasesnapshot.h"

#include "submissionload.h"

#include <QDateTime>
#include <QJsonDocument>

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>
#include <QUuid>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay::Test {
namespace {

void readInto(QSqlDatabase &db, DatabaseSnapshot &snapshot)
{
    QSqlQuery query(db);
    const auto run = [&](const QString &sql) {
        if (query.exec(sql))
            return true;
        snapshot.error = u"%1: %2"_s.arg(sql, query.lastError().text());
        return false;
    };
    const auto scalar = [&](const QString &sql, qint64 &into) {
        if (!run(sql))
            return false;
        into = query.next() ? query.value(0).toLongLong() : -1;
        return true;
    };

    if (!run(u"PRAGMA integrity_check"_s))
        return;
    QStringList integrity;
    while (query.next())
        integrity.append(query.value(0).toString());
    snapshot.integrityCheck = integrity.join(u"; "_s);

    if (!scalar(u"SELECT count(*) FROM submissions"_s, snapshot.rowCount) ||
        !scalar(u"SELECT count(*) FROM (SELECT submission_id FROM submissions GROUP BY submission_id "
                u"HAVING count(*) > 1)"_s,
                snapshot.duplicatedIds) ||
        !scalar(u"SELECT count FROM state_counts WHERE state = 'pending'"_s, snapshot.pendingCount) ||
        !scalar(u"SELECT count(*) FROM submissions WHERE state = 'pending'"_s, snapshot.pendingRows) ||
        !scalar(u"SELECT sum(count) FROM state_counts"_s, snapshot.stateCountTotal) ||
        !scalar(u"SELECT count(*) FROM audit_log WHERE entity = 'submission' AND action = 'received' "
                u"AND entity_id NOT IN (SELECT submission_id FROM submissions)"_s,
                snapshot.orphanAuditRows))
        return;

    // The triggers keep state_counts; a kill between a state change and its count would show here.
    if (!run(u"SELECT state, count, (SELECT count(*) FROM submissions s WHERE s.state = state_counts.state) "
             u"FROM state_counts"_s))
        return;
    QStringList stateCountErrors;
    QStringList stateSummary;
    while (query.next()) {
        if (query.value(1).toLongLong() != 0)
            stateSummary.append(u"%1 %2"_s.arg(query.value(0).toString()).arg(query.value(1).toLongLong()));
        if (query.value(1).toLongLong() != query.value(2).toLongLong())
            stateCountErrors.append(u"%1: counted %2, rows %3"_s.arg(query.value(0).toString())
                                        .arg(query.value(1).toLongLong())
                                        .arg(query.value(2).toLongLong()));
    }
    snapshot.stateCountErrors = stateCountErrors.join(u"; "_s);
    snapshot.stateSummary = stateSummary.join(u", "_s);

    if (!run(u"SELECT submission_id, device_id, source, patient_id, trial_id, questionnaire_id, completed_at, "
             u"answers, content_hash, state, received_at, updated_at FROM submissions"_s))
        return;
    while (query.next()) {
        StoredSubmission row;
        row.deviceId = query.value(1).toLongLong();
        row.source = query.value(2).toString();
        row.patientId = query.value(3).toString();
        row.trialId = query.value(4).toString();
        row.questionnaireId = query.value(5).toString();
        row.completedAt = query.value(6).toString();
        row.answers = query.value(7).toString();
        row.contentHash = query.value(8).toByteArray();
        row.state = query.value(9).toString();
        row.receivedAt = query.value(10).toString();
        row.updatedAt = query.value(11).toString();
        snapshot.submissions.insert(query.value(0).toString(), row);
    }

    if (!run(u"SELECT entity_id, count(*) FROM audit_log WHERE entity = 'submission' AND action = 'received' "
             u"GROUP BY entity_id"_s))
        return;
    while (query.next()) {
        const auto it = snapshot.submissions.find(query.value(0).toString());
        if (it != snapshot.submissions.end())
            it->receivedAuditRows = query.value(1).toInt();
    }
}

} // namespace

QString StoredSubmission::mismatchWith(const SentSubmission &sent, qint64 expectedDeviceId) const
{
    QStringList problems;
    const auto expect = [&](bool ok, const QString &what) {
        if (!ok)
            problems.append(what);
    };
    const QDateTime sentCompleted = QDateTime::fromString(sent.completedAt, Qt::ISODate);
    const QDateTime storedCompleted = QDateTime::fromString(completedAt, Qt::ISODateWithMs);
    expect(deviceId == expectedDeviceId, u"device_id %1"_s.arg(deviceId));
    expect(source == "api_v1"_L1, u"source %1"_s.arg(source));
    expect(patientId == sent.patientId, u"patient_id %1 (sent %2)"_s.arg(patientId, sent.patientId));
    expect(trialId == "TRIAL-E2E"_L1, u"trial_id %1"_s.arg(trialId));
    expect(questionnaireId == sent.questionnaireId, u"questionnaire_id %1"_s.arg(questionnaireId));
    expect(sentCompleted.isValid() && storedCompleted == sentCompleted && completedAt.endsWith(u'Z'),
           u"completed_at %1 (sent %2)"_s.arg(completedAt, sent.completedAt));
    expect(QJsonDocument::fromJson(answers.toUtf8()).object() == sent.answers, u"answers %1"_s.arg(answers));
    expect(!contentHash.isEmpty(), u"no content_hash"_s);
    static const QStringList states = {u"pending"_s,   u"processing"_s, u"processed"_s, u"retrying"_s,
                                       u"timed_out"_s, u"failed"_s,     u"cancelled"_s};
    expect(states.contains(state), u"state %1"_s.arg(state));
    expect(QDateTime::fromString(receivedAt, Qt::ISODateWithMs).isValid(), u"received_at %1"_s.arg(receivedAt));
    expect(QDateTime::fromString(updatedAt, Qt::ISODateWithMs).isValid(), u"updated_at %1"_s.arg(updatedAt));
    expect(!sent.acknowledged() || receivedAt == sent.receivedAt,
           u"received_at %1 but the receipt said %2"_s.arg(receivedAt, sent.receivedAt));
    expect(receivedAuditRows == 1, u"%1 'received' audit rows"_s.arg(receivedAuditRows));
    return problems.join(u", "_s);
}

DatabaseSnapshot DatabaseSnapshot::read(const QString &databasePath)
{
    DatabaseSnapshot snapshot;
    const QString name = u"e2e-snapshot-"_s + QUuid::createUuid().toString(QUuid::Id128);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
        db.setDatabaseName(databasePath);
        // Read-write on purpose: after a SIGKILL the WAL must be recovered, which takes a writer.
        db.setConnectOptions(u"QSQLITE_BUSY_TIMEOUT=5000"_s);
        if (db.open())
            readInto(db, snapshot);
        else
            snapshot.error = db.lastError().text();
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return snapshot;
}

} // namespace SiteRelay::Test
