#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QVariant>

#include <memory>

class QTemporaryDir;

namespace SiteRelay {
class QuestionnaireCatalog;
}

namespace SiteRelay::Test {

/**
 * Helpers shared by the export tests (tst_batchexport, tst_batchupload, tst_exportdialog): building
 * the submissions they post, reading and changing the SQLite file of a data folder directly, and
 * copying a prepared template data folder so each test function starts from the same rows.
 */
namespace ExportKit {

/// A submission as a test posts it; bodyFor() turns it into the JSON a tablet sends.
struct Posted
{
    QString patientId;
    QString trialId;
    QString questionnaireId;
    QString completedAt; ///< as sent (RFC 3339 with offset)
    int value = 0;       ///< every item's answer, clamped to its options
};

/// The API v1 body of @p posted under a new submission id, answering every item of its questionnaire
/// in @p catalog, so tests can post valid submissions with chosen patients, trials and scores.
QByteArray bodyFor(const QuestionnaireCatalog &catalog, const Posted &posted);

/// Posts @p submissions over loopback HTTP to a TestServer on @p dataDir (QCOMPARE: each answered 202);
/// with @p process the engine runs (validate and score only) and this waits until it has processed every
/// row in the database, also ones stored earlier with the engine off. Callers check
/// QTest::currentTestFailed() afterwards.
void postSubmissions(const QString &dataDir, const QList<Posted> &submissions, bool process);

/// The first column of the first row of @p sql on DATA_DIR/siterelay.sqlite, through a short-lived
/// connection of its own, to check what the code under test stored; invalid when the query fails or
/// yields nothing.
QVariant scalarValue(const QString &dataDir, const QString &sql);
/// scalarValue() as a number, for counts and attempt numbers; -1 when the query fails or yields nothing.
qint64 scalar(const QString &dataDir, const QString &sql);
/// Runs one statement on DATA_DIR/siterelay.sqlite, for setting up rows the API cannot produce
/// (e.g. a review decision); false when it fails.
bool execute(const QString &dataDir, const QString &sql);

/// A fresh temporary data folder holding a copy of the database in @p templateDir (main file and, if
/// present, -wal and -shm), so each test function changes its own copy of rows prepared only once.
std::unique_ptr<QTemporaryDir> freshDataDir(const QString &templateDir);

/// Writes @p token and a newline to @p path, the upload/tokenFile the REDCap stub accepts by default;
/// false when the file cannot be written.
bool writeTokenFile(const QString &path, const QByteArray &token = "STUB-TOKEN-0123456789");

} // namespace ExportKit
} // namespace SiteRelay::Test
