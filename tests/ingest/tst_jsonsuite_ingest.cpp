// Every document of JSONTestSuite (tests/data/JSONTestSuite/test_parsing) through the real ingest
// path: as a whole request body, and spliced byte for byte as the "answers" value of an otherwise
// valid submission. Proves that no document a strict parser must refuse is ever stored, and that
// exactly the valid JSON objects are accepted as answers.
#include "rawhttpclient.h"
#include "testpaths.h"
#include "testserver.h"

#include <QDir>
#include <QFile>
#include <QSet>
#include <QTest>
#include <QUuid>

#include <memory>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

QString suiteDir()
{
    return testDataDir() + u"/JSONTestSuite/test_parsing"_s;
}

/// The suite's files whose names start with one of @p prefixes (y_ must parse, n_ must not, i_ either).
QStringList suiteFiles(const QStringList &prefixes)
{
    QStringList filters;
    for (const QString &prefix : prefixes)
        filters.append(prefix + u"*.json"_s);
    return QDir(suiteDir()).entryList(filters, QDir::Files, QDir::Name);
}

/// Whether a valid JSON document is an object: its first byte that is not JSON whitespace is '{'.
bool isJsonObject(const QByteArray &document)
{
    for (const char c : document) {
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return c == '{';
    }
    return false;
}

} // namespace

class TstJsonSuiteIngest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void documentAsWholeBody_data();
    void documentAsWholeBody();
    void documentSplicedAsAnswers_data();
    void documentSplicedAsAnswers();
    void storedRowsAreExactlyTheAccepted();

private:
    /// POSTs @p body to /api/v1/submissions on one keep-alive connection, reopened if the server closed it.
    RawResponse post(const QByteArray &body);
    void addFileRows(const QStringList &prefixes);

    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<RawHttpClient> m_client;
    qint64 m_rowsAtStart = 0;
    QSet<QString> m_accepted;
};

void TstJsonSuiteIngest::initTestCase()
{
    QVERIFY2(suiteFiles({u"y_"_s}).size() > 90 && suiteFiles({u"n_"_s}).size() > 180,
             qPrintable(u"JSONTestSuite is missing from "_s + suiteDir()));
    m_server = std::make_unique<TestServer>();
    QVERIFY2(m_server->isRunning(), qPrintable(m_server->errorMessage()));
    m_rowsAtStart = m_server->countRows(u"submissions"_s);
    QCOMPARE(m_rowsAtStart, 0);
}

void TstJsonSuiteIngest::cleanupTestCase()
{
    m_client.reset();
    m_server.reset();
}

RawResponse TstJsonSuiteIngest::post(const QByteArray &body)
{
    if (!m_client || m_client->socket().state() != QAbstractSocket::ConnectedState) {
        m_client = std::make_unique<RawHttpClient>();
        if (!m_client->connectTo(m_server->port()))
            return {};
    }
    m_client->send(RawHttpClient::request(
        "POST", "/api/v1/submissions", body,
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + m_server->deviceToken()}}));
    return m_client->readResponse();
}

void TstJsonSuiteIngest::addFileRows(const QStringList &prefixes)
{
    QTest::addColumn<QString>("fileName");
    for (const QString &name : suiteFiles(prefixes))
        QTest::newRow(qPrintable(name)) << name;
}

void TstJsonSuiteIngest::documentAsWholeBody_data()
{
    addFileRows({u"y_"_s, u"n_"_s, u"i_"_s});
}

void TstJsonSuiteIngest::documentAsWholeBody()
{
    QFETCH(QString, fileName);
    QFile file(suiteDir() + u'/' + fileName);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray document = file.readAll();
    const qint64 rowsBefore = m_server->countRows(u"submissions"_s);

    const RawResponse response = post(document);
    // No document of the suite is a complete submission, valid JSON or not.
    QVERIFY2(response.status == 400,
             qPrintable(u"status %1: %2"_s.arg(response.status).arg(QString::fromUtf8(response.body))));
    const QString code = response.errorCode();
    if (fileName.startsWith("n_"_L1)) {
        QVERIFY2(code == "malformed_json"_L1 || code == "not_an_object"_L1, qPrintable(code));
    } else if (fileName.startsWith("y_"_L1)) {
        // Valid JSON is never reported as malformed; it fails for what it says, not how.
        if (isJsonObject(document))
            QVERIFY2(code != "malformed_json"_L1, qPrintable(QString::fromUtf8(response.body)));
        else
            QCOMPARE(code, u"not_an_object"_s);
    }
    QCOMPARE(m_server->countRows(u"submissions"_s), rowsBefore);
}

void TstJsonSuiteIngest::documentSplicedAsAnswers_data()
{
    addFileRows({u"y_"_s, u"n_"_s});
}

void TstJsonSuiteIngest::documentSplicedAsAnswers()
{
    QFETCH(QString, fileName);
    QFile file(suiteDir() + u'/' + fileName);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray document = file.readAll();
    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    // Byte-level, so the document reaches the server exactly as the suite has it.
    const QByteArray body = R"({"submissionId":")" + id.toLatin1() +
                            R"(","patientId":"P-001","trialId":"TRIAL-7","questionnaireId":"phq9",)"
                            R"("completedAt":"2026-11-26T09:30:00+01:00","answers":)" +
                            document + '}';

    const RawResponse response = post(body);
    const bool valid = fileName.startsWith("y_"_L1);
    if (valid && isJsonObject(document)) {
        QVERIFY2(response.status == 202,
                 qPrintable(u"status %1: %2"_s.arg(response.status).arg(QString::fromUtf8(response.body))));
        QCOMPARE(response.json().value("submissionId"_L1).toString(), id);
        m_accepted.insert(id);
        QCOMPARE(m_server->countRows(u"submissions"_s, u"submission_id = '%1'"_s.arg(id)), 1);
        return;
    }
    QVERIFY2(response.status == 400,
             qPrintable(u"status %1: %2"_s.arg(response.status).arg(QString::fromUtf8(response.body))));
    if (valid) {
        QCOMPARE(response.errorCode(), u"invalid_field"_s);
        QCOMPARE(response.json().value("error"_L1).toObject().value("field"_L1).toString(), u"answers"_s);
    } else {
        QCOMPARE(response.errorCode(), u"malformed_json"_s);
    }
    QCOMPARE(m_server->countRows(u"submissions"_s, u"submission_id = '%1'"_s.arg(id)), 0);
}

void TstJsonSuiteIngest::storedRowsAreExactlyTheAccepted()
{
    // Every valid object of the suite was accepted (and guards against a vacuous run).
    qsizetype objects = 0;
    for (const QString &name : suiteFiles({u"y_"_s})) {
        QFile file(suiteDir() + u'/' + name);
        QVERIFY(file.open(QIODevice::ReadOnly));
        objects += isJsonObject(file.readAll()) ? 1 : 0;
    }
    QVERIFY(objects >= 10);
    QCOMPARE(m_accepted.size(), objects);
    QCOMPARE(m_server->countRows(u"submissions"_s), m_rowsAtStart + m_accepted.size());
}

QTEST_GUILESS_MAIN(TstJsonSuiteIngest)
#include "tst_jsonsuite_ingest.moc"
