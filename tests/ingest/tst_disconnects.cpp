// Clients that vanish: thousands of connections that send a complete submission and reset the
// connection before the answer, interleaved with clients that wait for theirs. The server must keep
// answering the others correctly, store each vanished submission at most once, and (under valgrind
// memcheck, the real binary) never touch a socket or connection that is already gone.
#include "rawhttpclient.h"
#include "siterelayprocess.h"
#include "testserver.h"

#include <QHash>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <memory>
#include <vector>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

/// What one load run sent and what came back.
struct LoadOutcome
{
    QSet<QString> abandonedIds;    ///< sent by clients that reset the connection without reading
    QSet<QString> acknowledgedIds; ///< answered 202 to clients that waited
    QStringList wrongAnswers;      ///< a waiting client's answer that was not its own 202
};

/// The shape of one round: clients that abort, a pipelining client that aborts, clients that wait.
struct LoadShape
{
    int rounds = 0;
    int abortersPerRound = 0;
    int pipelinedPerRound = 0; ///< requests written in one go by one client that then aborts
    int waitersPerRound = 0;
    int answerTimeoutMs = 10000;
};

QString newId()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

QByteArray submitRequest(const QString &id, const QByteArray &token)
{
    return RawHttpClient::request("POST", "/api/v1/submissions", TestServer::submissionBody(id),
                                  {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
}

/**
 * Runs the rounds. In each, every client connects first, then all write, then the aborting ones
 * reset their connection as soon as their bytes are in the kernel, and only then do the waiting
 * ones read: so the server holds requests of gone and present clients at the same time.
 */
LoadOutcome runAbandoningLoad(quint16 port, const QByteArray &token, const LoadShape &shape)
{
    LoadOutcome outcome;
    for (int round = 0; round < shape.rounds; ++round) {
        std::vector<std::unique_ptr<QTcpSocket>> aborters;
        for (int i = 0; i < shape.abortersPerRound + (shape.pipelinedPerRound > 0 ? 1 : 0); ++i) {
            aborters.push_back(std::make_unique<QTcpSocket>());
            aborters.back()->connectToHost(QHostAddress::LocalHost, port);
        }
        std::vector<std::unique_ptr<RawHttpClient>> waiters;
        for (int i = 0; i < shape.waitersPerRound; ++i) {
            waiters.push_back(std::make_unique<RawHttpClient>());
            if (!waiters.back()->connectTo(port))
                outcome.wrongAnswers.append(u"round %1: a waiting client could not connect"_s.arg(round));
        }
        for (qsizetype i = 0; i < qsizetype(aborters.size()); ++i) {
            QTcpSocket &socket = *aborters[i];
            if (!socket.waitForConnected(5000))
                continue; // it never got to send; nothing of it can be stored
            const bool pipelining = shape.pipelinedPerRound > 0 && i == 0;
            QByteArray wire;
            for (int n = 0; n < (pipelining ? shape.pipelinedPerRound : 1); ++n) {
                const QString id = newId();
                wire += submitRequest(id, token);
                outcome.abandonedIds.insert(id);
            }
            socket.write(wire);
        }
        QList<QString> waiterIds;
        for (auto &waiter : waiters) {
            waiterIds.append(newId());
            waiter->send(submitRequest(waiterIds.back(), token));
        }
        for (auto &socket : aborters) {
            socket->waitForBytesWritten(2000);
            socket->abort(); // RST: the server finds the client gone, perhaps before it has read a byte
        }
        for (qsizetype i = 0; i < qsizetype(waiters.size()); ++i) {
            const RawResponse response = waiters[i]->readResponse(shape.answerTimeoutMs);
            if (response.status == 202 && response.json().value("submissionId"_L1).toString() == waiterIds[i])
                outcome.acknowledgedIds.insert(waiterIds[i]);
            else
                outcome.wrongAnswers.append(u"round %1: status %2, body %3"_s.arg(round)
                                                .arg(response.status)
                                                .arg(QString::fromUtf8(response.body)));
        }
    }
    return outcome;
}

/// The database file as it is: submission ids with the number of 'received' audit rows of each.
struct StoredRows
{
    QString error;
    QHash<QString, int> receivedAuditRows; ///< per stored submission_id
    qint64 auditRowsForUnknownIds = 0;
};

StoredRows readStoredRows(const QString &databasePath)
{
    StoredRows rows;
    const QString name = u"tst-disconnects-"_s + QUuid::createUuid().toString(QUuid::Id128);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
        db.setDatabaseName(databasePath);
        db.setConnectOptions(u"QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=5000"_s);
        if (!db.open()) {
            rows.error = u"cannot open "_s + databasePath;
        } else {
            QSqlQuery query(db);
            if (!query.exec(u"SELECT s.submission_id, (SELECT count(*) FROM audit_log a WHERE a.entity_id = "
                            u"s.submission_id AND a.action = 'received') FROM submissions s"_s))
                rows.error = u"cannot read submissions"_s;
            while (query.next())
                rows.receivedAuditRows.insert(query.value(0).toString(), query.value(1).toInt());
            if (query.exec(u"SELECT count(*) FROM audit_log a WHERE a.action = 'received' AND NOT EXISTS "
                           u"(SELECT 1 FROM submissions s WHERE s.submission_id = a.entity_id)"_s) &&
                query.next())
                rows.auditRowsForUnknownIds = query.value(0).toLongLong();
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return rows;
}

/// Checks that the database holds every acknowledged submission and, of the abandoned ones, only
/// some, each exactly once. Returns what is wrong, or an empty string.
QString checkStored(const StoredRows &rows, const LoadOutcome &outcome)
{
    if (!rows.error.isEmpty())
        return rows.error;
    for (const QString &id : outcome.acknowledgedIds) {
        if (!rows.receivedAuditRows.contains(id))
            return u"acknowledged submission %1 is not stored"_s.arg(id);
    }
    for (auto it = rows.receivedAuditRows.cbegin(); it != rows.receivedAuditRows.cend(); ++it) {
        if (!outcome.acknowledgedIds.contains(it.key()) && !outcome.abandonedIds.contains(it.key()))
            return u"stored submission %1 was never sent"_s.arg(it.key());
        if (it.value() != 1)
            return u"submission %1 has %2 'received' audit rows"_s.arg(it.key()).arg(it.value());
    }
    if (rows.auditRowsForUnknownIds != 0)
        return u"%1 'received' audit rows name no stored submission"_s.arg(rows.auditRowsForUnknownIds);
    return {};
}

} // namespace

class TstDisconnects : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void abandonedRequestsInProcess();
    void abandonedRequestsUnderValgrind();
};

void TstDisconnects::abandonedRequestsInProcess()
{
    // Durability is not what this test is about, and an fsync per commit would make it slow.
    TestServer server({{u"storage/synchronous"_s, u"NORMAL"_s}});
    QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));

    LoadShape shape;
    // Bursts stay below QTcpServer's listen backlog (50): beyond it the kernel drops SYNs and a
    // client's connect stalls for the 1 s retransmission.
    shape.rounds = 120;
    shape.abortersPerRound = 25; // 3,000 in all
    shape.pipelinedPerRound = 4;
    shape.waitersPerRound = 1;
    const LoadOutcome outcome = runAbandoningLoad(server.port(), server.deviceToken(), shape);
    QVERIFY2(outcome.wrongAnswers.isEmpty(), qPrintable(outcome.wrongAnswers.join(u'\n')));
    QCOMPARE(outcome.acknowledgedIds.size(), shape.rounds * shape.waitersPerRound);
    QCOMPARE(outcome.abandonedIds.size(), shape.rounds * (shape.abortersPerRound + shape.pipelinedPerRound));

    // The server is still serving, owes nothing, and has let go of every connection and byte.
    QCOMPARE(RawHttpClient::exchange(server.port(), "GET", "/api/v1/health").status, 200);
    const auto ingest = [&server] {
        return RawHttpClient::exchange(server.port(), "GET", "/api/v1/stats", {}, {{"Connection", "close"}})
            .json()
            .value("ingest"_L1)
            .toObject();
    };
    QTRY_COMPARE_WITH_TIMEOUT(ingest().value("answersOwed"_L1).toInteger(-1), 0, 20000);
    // One connection, and its own request's bytes, belong to the stats request itself.
    QTRY_COMPARE_WITH_TIMEOUT(ingest().value("openConnections"_L1).toInteger(-1), 1, 20000);

    const StoredRows rows = readStoredRows(server.databasePath());
    const QString wrong = checkStored(rows, outcome);
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong));
    qInfo("%lld of %lld abandoned submissions were stored",
          qint64(rows.receivedAuditRows.size()) - outcome.acknowledgedIds.size(), qint64(outcome.abandonedIds.size()));
}

void TstDisconnects::abandonedRequestsUnderValgrind()
{
    const QString valgrind = QStandardPaths::findExecutable(u"valgrind"_s);
    if (valgrind.isEmpty())
        QSKIP("valgrind is not installed (make test installs it)");
    QTemporaryDir dataDir;
    QVERIFY(dataDir.isValid());
    const QByteArray token = SiteRelayProcess::addDevice(dataDir.path(), u"tablet-1"_s);
    QVERIFY(!token.isEmpty());

    SiteRelayProcess process(dataDir.path());
    const QStringList wrapper = {valgrind, u"--error-exitcode=99"_s, u"--errors-for-leak-kinds=none"_s,
                                 u"--leak-check=no"_s};
    // Ingest only: the engine would add threads and timing unrelated to vanishing clients.
    QVERIFY2(process.start({u"--set"_s, u"engine/enabled=false"_s, u"--set"_s, u"storage/synchronous=NORMAL"_s},
                           wrapper, 90000),
             process.output().constData());

    LoadShape shape;
    shape.rounds = 20;
    shape.abortersPerRound = 25; // 500 in all
    shape.pipelinedPerRound = 4;
    shape.waitersPerRound = 1;
    shape.answerTimeoutMs = 30000; // memcheck slows the server down dozens of times
    const LoadOutcome outcome = runAbandoningLoad(process.port(), token, shape);
    QVERIFY2(outcome.wrongAnswers.isEmpty(), qPrintable(outcome.wrongAnswers.join(u'\n')));
    QCOMPARE(outcome.acknowledgedIds.size(), shape.rounds * shape.waitersPerRound);
    QCOMPARE(RawHttpClient::exchange(process.port(), "GET", "/api/v1/health").status, 200);

    QVERIFY2(process.terminate(120000), "siterelay under valgrind did not stop on SIGTERM");
    const QByteArray output = process.output();
    QVERIFY2(output.contains("ERROR SUMMARY: 0 errors"), output.right(8000).constData());
    QCOMPARE(process.exitCode(), 0);

    const QString wrong = checkStored(readStoredRows(ServerHost::databasePath(dataDir.path())), outcome);
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong));
}

QTEST_GUILESS_MAIN(TstDisconnects)
#include "tst_disconnects.moc"
