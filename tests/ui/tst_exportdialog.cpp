// The export dialogs, offscreen, on a real database filled through the real server and engine,
// uploading to a local REDCap-like stub: options, progress, cancel, per-field errors, re-upload.

#include "../export/redcapstub.h"
#include "batchesdialog.h"
#include "exportdialog.h"
#include "exporttestkit.h"
#include "rawhttpclient.h"
#include "testserver.h"

#include <QCheckBox>
#include <QDateEdit>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;
using namespace SiteRelay::Test::ExportKit;

namespace {

constexpr int SettleMs = 30000;
constexpr int JobMs = 30000;
constexpr int Submissions = 5;

/// The state of the newest batch; empty when there is none.
QString batchState(const QString &dataDir)
{
    return scalarValue(dataDir, u"SELECT state FROM batches ORDER BY sequence DESC"_s).toString();
}

} // namespace

class tst_ExportDialog : public QObject
{
    Q_OBJECT

private:
    Settings uploadSettings(const RedcapStub &stub) const;

    QTemporaryDir m_template;
    QTemporaryDir m_scratch;
    QString m_tokenFile;

private Q_SLOTS:
    void initTestCase();
    void exportsAndUploads();
    void uploadNeedsConfiguration();
    void cancelStopsTheUpload();
    void showsFieldErrorsInFull();
    void batchesDialogReuploads();
    void untilBoundsTheBatch();
    void untilOffForSelectionAndBatch();
};

void tst_ExportDialog::initTestCase()
{
    qRegisterMetaType<ExportDialog *>(); // for the QSignalSpy on BatchesDialog::exportDialogOpened
    QVERIFY(m_template.isValid() && m_scratch.isValid());
    m_tokenFile = m_scratch.filePath(u"token"_s);
    QVERIFY(writeTokenFile(m_tokenFile));
    TestServer server({{u"engine/enabled"_s, u"true"_s}, {u"report/enabled"_s, u"false"_s}}, m_template.path());
    QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));
    for (int i = 0; i < Submissions; ++i) {
        const RawResponse response = RawHttpClient::exchange(
            server.port(), "POST", "/api/v1/submissions", TestServer::submissionBody({}, u"P-%1"_s.arg(i), i % 4),
            {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + server.deviceToken()}});
        QCOMPARE(response.status, 202);
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.countRows(u"submissions"_s, u"state <> 'processed'"_s), 0, SettleMs);
}

Settings tst_ExportDialog::uploadSettings(const RedcapStub &stub) const
{
    auto settings = Settings::load(QString(), {{u"upload/kind"_s, u"redcap"_s},
                                               {u"upload/url"_s, stub.url()},
                                               {u"upload/tokenFile"_s, m_tokenFile},
                                               {u"upload/maxRecords"_s, u"2"_s},
                                               {u"upload/retryBaseMs"_s, u"10"_s},
                                               {u"site/id"_s, u"SITE-01"_s}});
    return settings ? *settings : Settings();
}

void tst_ExportDialog::exportsAndUploads()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    ExportDialog dialog(dir->path(), uploadSettings(stub));
    dialog.show();
    auto *upload = dialog.findChild<QCheckBox *>(u"uploadCheck"_s);
    auto *folder = dialog.findChild<QLineEdit *>(u"folderEdit"_s);
    auto *start = dialog.findChild<QPushButton *>(u"startButton"_s);
    auto *progress = dialog.findChild<QProgressBar *>(u"progressBar"_s);
    auto *result = dialog.findChild<QLabel *>(u"resultLabel"_s);
    QVERIFY(upload && folder && start && progress && result);
    QVERIFY(upload->isEnabled());
    upload->setChecked(true);
    folder->setText(dir->filePath(u"chosen"_s));
    QTest::mouseClick(start, Qt::LeftButton);
    QVERIFY(dialog.isRunning());
    QVERIFY(!start->isEnabled()); // one export at a time
    QTRY_VERIFY_WITH_TIMEOUT(dialog.lastResult().has_value(), JobMs);
    QVERIFY2(dialog.lastResult()->ok(), qPrintable(dialog.lastResult()->error.message));
    QCOMPARE(progress->value(), progress->maximum());
    QVERIFY2(result->text().contains(u"Uploaded"_s), qPrintable(result->text()));
    QVERIFY(QFile::exists(dir->filePath(u"chosen/clinical.odm.xml"_s)));
    QCOMPARE(stub.confirmedRecordIds().size(), Submissions);
    QCOMPARE(batchState(dir->path()), u"uploaded"_s);
    QVERIFY(start->isEnabled());
}

void tst_ExportDialog::uploadNeedsConfiguration()
{
    auto dir = freshDataDir(m_template.path());
    ExportDialog dialog(dir->path(), Settings());
    auto *upload = dialog.findChild<QCheckBox *>(u"uploadCheck"_s);
    QVERIFY(upload);
    QVERIFY(!upload->isEnabled()); // upload/kind = none
    QTest::mouseClick(dialog.findChild<QPushButton *>(u"startButton"_s), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(dialog.lastResult().has_value(), JobMs);
    QVERIFY(dialog.lastResult()->ok());
    QVERIFY(!dialog.lastResult()->upload);
    QCOMPARE(batchState(dir->path()), u"written"_s);
}

void tst_ExportDialog::cancelStopsTheUpload()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    stub.setSlowDelayMs(20000);
    stub.setBehaviour(2, RedcapStub::Behaviour::Slow);
    ExportDialog dialog(dir->path(), uploadSettings(stub));
    dialog.show();
    dialog.findChild<QCheckBox *>(u"uploadCheck"_s)->setChecked(true);
    auto *cancel = dialog.findChild<QPushButton *>(u"cancelButton"_s);
    QTest::mouseClick(dialog.findChild<QPushButton *>(u"startButton"_s), Qt::LeftButton);
    QCOMPARE(cancel->text(), u"Cancel"_s);
    QTRY_COMPARE_WITH_TIMEOUT(stub.requestCount(), 2, JobMs);
    QElapsedTimer sinceCancel;
    sinceCancel.start();
    QTest::mouseClick(cancel, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(dialog.lastResult().has_value(), 5000);
    QVERIFY(sinceCancel.elapsed() < 5000); // not the stub's 20 s
    QCOMPARE(dialog.lastResult()->status, ExportJobResult::Status::Cancelled);
    QCOMPARE(dialog.lastResult()->upload->partsConfirmed, 1);
    QVERIFY(dialog.isVisible()); // Cancel stopped the job, it did not close the dialog
    QCOMPARE(cancel->text(), u"Close"_s);
    QCOMPARE(batchState(dir->path()), u"written"_s);
    QCOMPARE(stub.confirmedRecordIds().size(), 2);
}

void tst_ExportDialog::showsFieldErrorsInFull()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    stub.setBehaviour(1, RedcapStub::Behaviour::FieldErrors400);
    ExportDialog dialog(dir->path(), uploadSettings(stub));
    dialog.show();
    dialog.findChild<QCheckBox *>(u"uploadCheck"_s)->setChecked(true);
    QTest::mouseClick(dialog.findChild<QPushButton *>(u"startButton"_s), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(dialog.lastResult().has_value(), JobMs);
    QCOMPARE(dialog.lastResult()->status, ExportJobResult::Status::Failed);
    auto *errors = dialog.findChild<QPlainTextEdit *>(u"errorText"_s);
    QVERIFY(errors && errors->isVisible());
    for (const QString &line : RedcapStub::fieldErrorText().split(u'\n'))
        QVERIFY2(errors->toPlainText().contains(line), qPrintable(errors->toPlainText()));
    QCOMPARE(batchState(dir->path()), u"written"_s);
}

void tst_ExportDialog::batchesDialogReuploads()
{
    auto dir = freshDataDir(m_template.path());
    RedcapStub stub;
    stub.setBehaviour(2, RedcapStub::Behaviour::FieldErrors400);
    {
        ExportDialog first(dir->path(), uploadSettings(stub));
        first.findChild<QCheckBox *>(u"uploadCheck"_s)->setChecked(true);
        first.startExport();
        QTRY_VERIFY_WITH_TIMEOUT(first.lastResult().has_value(), JobMs);
        QCOMPARE(first.lastResult()->status, ExportJobResult::Status::Failed);
    }

    BatchesDialog batches(dir->path(), uploadSettings(stub));
    batches.show();
    QTRY_COMPARE_WITH_TIMEOUT(batches.batches().size(), 1, JobMs);
    auto *table = batches.findChild<QTableWidget *>(u"batchesTable"_s);
    QVERIFY(table);
    QCOMPARE(table->rowCount(), 1);
    QCOMPARE(table->item(0, 0)->text(), u"1"_s);
    QCOMPARE(table->item(0, 4)->text(), u"written"_s);
    QVERIFY2(table->item(0, 5)->text().contains(u"failed"_s), qPrintable(table->item(0, 5)->text()));
    QVERIFY2(table->item(0, 5)->text().contains(u"1 of 3 parts"_s), qPrintable(table->item(0, 5)->text()));
    QVERIFY(table->item(0, 6)->text().contains(u"clinical.odm.xml"_s));
    QVERIFY(table->item(0, 7)->toolTip().contains(u"phq9_band"_s));

    // Re-upload resumes: parts 2 and 3 only.
    QSignalSpy opened(&batches, &BatchesDialog::exportDialogOpened);
    QTest::mouseClick(batches.findChild<QPushButton *>(u"reuploadButton"_s), Qt::LeftButton);
    QCOMPARE(opened.size(), 1);
    auto *dialog = opened.first().first().value<ExportDialog *>();
    QVERIFY(dialog);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->lastResult().has_value(), JobMs);
    QVERIFY2(dialog->lastResult()->ok(), qPrintable(dialog->lastResult()->error.message));
    QCOMPARE(stub.requestCount(), 4);
    QCOMPARE(stub.confirmedRecordIds().size(), Submissions);
    QTRY_COMPARE_WITH_TIMEOUT(table->item(0, 4)->text(), u"uploaded"_s, JobMs);
}

void tst_ExportDialog::untilBoundsTheBatch()
{
    auto dir = freshDataDir(m_template.path());
    ExportDialog dialog(dir->path(), Settings());
    dialog.show();
    auto *sinceCheck = dialog.findChild<QCheckBox *>(u"sinceCheck"_s);
    auto *sinceEdit = dialog.findChild<QDateEdit *>(u"sinceEdit"_s);
    auto *untilCheck = dialog.findChild<QCheckBox *>(u"untilCheck"_s);
    auto *untilEdit = dialog.findChild<QDateEdit *>(u"untilEdit"_s);
    auto *result = dialog.findChild<QLabel *>(u"resultLabel"_s);
    QVERIFY(sinceCheck && sinceEdit && untilCheck && untilEdit && result);
    QVERIFY(untilCheck->isEnabled());
    QVERIFY(!untilEdit->isEnabled()); // until the box is ticked
    untilCheck->setChecked(true);
    QVERIFY(untilEdit->isEnabled());

    // Every row was completed on 2026-11-26 (08:30Z): "before 11-26" is exclusive of that day.
    untilEdit->setDate(QDate(2026, 11, 26));
    dialog.startExport();
    QTRY_VERIFY_WITH_TIMEOUT(dialog.lastResult().has_value(), JobMs);
    QCOMPARE(dialog.lastResult()->status, ExportJobResult::Status::NothingToExport);
    QCOMPARE(scalar(dir->path(), u"SELECT COUNT(*) FROM batches"_s), 0);

    // An empty range does not start a job.
    sinceCheck->setChecked(true);
    sinceEdit->setDate(QDate(2026, 11, 27));
    untilEdit->setDate(QDate(2026, 11, 27));
    dialog.startExport();
    QVERIFY(!dialog.isRunning());
    QVERIFY2(result->text().contains(u"Completed before"_s), qPrintable(result->text()));

    // [11-26, 11-27) holds them all, and the batch records both bounds.
    sinceEdit->setDate(QDate(2026, 11, 26));
    dialog.startExport();
    QVERIFY(dialog.isRunning());
    QVERIFY(!untilCheck->isEnabled() && !untilEdit->isEnabled()); // not while running
    QTRY_VERIFY_WITH_TIMEOUT(dialog.lastResult().has_value(), JobMs);
    QVERIFY2(dialog.lastResult()->ok(), qPrintable(dialog.lastResult()->error.message));
    QCOMPARE(dialog.lastResult()->files.batch.submissionCount, Submissions);
    QCOMPARE(dialog.lastResult()->files.batch.untilFilter, u"2026-11-27T00:00:00.000Z"_s);
    QCOMPARE(scalarValue(dir->path(), u"SELECT until_filter FROM batches"_s).toString(), u"2026-11-27T00:00:00.000Z"_s);
    QCOMPARE(scalarValue(dir->path(), u"SELECT since_filter FROM batches"_s).toString(), u"2026-11-26T00:00:00.000Z"_s);
    QVERIFY(untilCheck->isEnabled() && untilEdit->isEnabled());
}

void tst_ExportDialog::untilOffForSelectionAndBatch()
{
    ExportDialog dialog(m_scratch.path(), Settings());
    auto *untilCheck = dialog.findChild<QCheckBox *>(u"untilCheck"_s);
    auto *untilEdit = dialog.findChild<QDateEdit *>(u"untilEdit"_s);
    QVERIFY(untilCheck && untilEdit);
    untilCheck->setChecked(true);
    dialog.setSelection({u"00000000-0000-4000-8000-000000000001"_s});
    QVERIFY(!untilCheck->isEnabled() && !untilEdit->isEnabled());
    dialog.setSelection({});
    QVERIFY(untilCheck->isEnabled() && untilEdit->isEnabled());
    dialog.setBatch(u"some-batch"_s, false);
    QVERIFY(!untilCheck->isEnabled() && !untilEdit->isEnabled());
    dialog.setBatch(QString(), false);
    QVERIFY(untilCheck->isEnabled() && untilEdit->isEnabled());
}

QTEST_MAIN(tst_ExportDialog)
#include "tst_exportdialog.moc"
