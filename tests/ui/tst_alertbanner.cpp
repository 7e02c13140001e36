// The safety-alert banner against a real in-process server: a PHQ-9 with item 9 > 0 processed by
// the real engine raises an alert, the banner shows it, and acknowledging it through the dialog
// (driven like a user would) writes the acknowledgement and its audit row and clears the banner.
#include "acknowledgealertdialog.h"
#include "alertbanner.h"
#include "enginetestkit.h"
#include "reviewservice.h"
#include "testserver.h"

#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;
using namespace SiteRelay::Test::EngineKit;

namespace {

QJsonObject phq9WithItem9(int item9)
{
    QJsonObject answers = uniformAnswers(u"phq9"_s, 0);
    answers.insert(u"phq9_q9"_s, item9);
    return answers;
}

} // namespace

class TstAlertBanner : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void showsAlertAndClearsItAfterAcknowledging();
    void okNeedsANameAndTheNameIsRemembered();
    void alertAcknowledgedElsewhereShowsTheErrorAndLeaves();
    void refreshBurstsAreCoalesced();

private:
    /// Submits a PHQ-9 with item 9 = @p item9 and returns the id of the alert the engine raised, or 0.
    qint64 raiseAlert(int item9, const QString &patient = u"P-ENG-1"_s);
    AcknowledgeAlertDialog *openDialog(AlertBanner &banner);

    QTemporaryDir m_settingsDir;
    std::unique_ptr<TestServer> m_server;
};

void TstAlertBanner::initTestCase()
{
    QVERIFY(m_settingsDir.isValid());
    // Keep the remembered name out of the user's real settings.
    QCoreApplication::setOrganizationName(u"SiteRelayTests"_s);
    QCoreApplication::setApplicationName(u"tst_alertbanner"_s);
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settingsDir.path());
    m_server = std::make_unique<TestServer>(
        QHash<QString, QString>{{u"engine/enabled"_s, u"true"_s}, {u"report/enabled"_s, u"false"_s}});
    QVERIFY2(m_server->isRunning(), qPrintable(m_server->errorMessage()));
}

void TstAlertBanner::cleanupTestCase()
{
    m_server.reset();
}

qint64 TstAlertBanner::raiseAlert(int item9, const QString &patient)
{
    const QString id = newSubmissionId();
    const RawResponse response = postSubmission(m_server->port(), m_server->deviceToken(),
                                                submissionBody(id, u"phq9"_s, phq9WithItem9(item9), patient));
    if (response.status != 202)
        return 0;
    QDeadlineTimer deadline(20000);
    while (!deadline.hasExpired()) {
        const QVariant alert =
            scalar(m_server->databasePath(), u"SELECT id FROM alerts WHERE submission_id = ?"_s, {id});
        if (alert.isValid() && !alert.isNull())
            return alert.toLongLong();
        QTest::qWait(20);
    }
    return 0;
}

AcknowledgeAlertDialog *TstAlertBanner::openDialog(AlertBanner &banner)
{
    QSignalSpy opened(&banner, &AlertBanner::acknowledgeDialogOpened);
    auto *button = banner.findChild<QPushButton *>(u"acknowledgeAlertButton"_s);
    if (!button || !button->isEnabled())
        return nullptr;
    QTest::mouseClick(button, Qt::LeftButton);
    if (opened.count() != 1)
        return nullptr;
    return opened.constFirst().constFirst().value<AcknowledgeAlertDialog *>();
}

void TstAlertBanner::showsAlertAndClearsItAfterAcknowledging()
{
    AlertBanner banner(m_server->host().store());
    QSignalSpy countChanged(&banner, &AlertBanner::alertCountChanged);
    banner.show();
    banner.refresh();
    QTRY_VERIFY_WITH_TIMEOUT(!banner.isReading(), 10000);
    QCOMPARE(banner.alertCount(), 0);
    QVERIFY(banner.isHidden());

    const qint64 alertId = raiseAlert(2, u"P-SAFE-7"_s);
    QVERIFY(alertId > 0);
    banner.refresh();
    QTRY_COMPARE_WITH_TIMEOUT(banner.alertCount(), 1, 10000);
    QVERIFY(!banner.isHidden());
    QCOMPARE(countChanged.count(), 1);
    QCOMPARE(countChanged.constLast().constFirst().toInt(), 1);

    // The row says whose alert it is and what it is about, in words.
    auto *list = banner.findChild<QTreeWidget *>(u"alertList"_s);
    QVERIFY(list);
    QCOMPARE(list->topLevelItemCount(), 1);
    QCOMPARE(list->topLevelItem(0)->text(0), u"P-SAFE-7"_s);
    QCOMPARE(list->topLevelItem(0)->text(1), u"PHQ9"_s);
    QVERIFY(list->topLevelItem(0)->text(2).contains("CRITICAL"_L1));
    QVERIFY(!list->topLevelItem(0)->text(3).isEmpty());
    auto *title = banner.findChild<QLabel *>(u"alertTitleLabel"_s);
    QVERIFY(title);
    QVERIFY(title->text().contains("Safety alert"_L1));

    // A refresh before acknowledging keeps it: it stays until acknowledged.
    banner.refresh();
    QTRY_VERIFY_WITH_TIMEOUT(!banner.isReading(), 10000);
    QCOMPARE(banner.alertCount(), 1);

    AcknowledgeAlertDialog *dialog = openDialog(banner);
    QVERIFY(dialog);
    QCOMPARE(dialog->alertId(), alertId);
    dialog->findChild<QLineEdit *>(u"coordinatorNameEdit"_s)->setText(u"Dr. Ana Lima"_s);
    dialog->findChild<QPlainTextEdit *>(u"acknowledgeNoteEdit"_s)->setPlainText(u"Called; PI informed."_s);
    QSignalSpy acknowledged(&banner, &AlertBanner::alertAcknowledged);
    QTest::mouseClick(dialog->findChild<QPushButton *>(u"acknowledgeOkButton"_s), Qt::LeftButton);

    QTRY_COMPARE_WITH_TIMEOUT(acknowledged.count(), 1, 10000);
    QCOMPARE(acknowledged.constFirst().constFirst().toLongLong(), alertId);
    QTRY_COMPARE_WITH_TIMEOUT(banner.alertCount(), 0, 10000);
    QTRY_VERIFY(banner.isHidden());
    QCOMPARE(countChanged.constLast().constFirst().toInt(), 0);

    const QString db = m_server->databasePath();
    const QList<QVariantList> row =
        query(db, u"SELECT acknowledged_by, acknowledge_note, acknowledged_at FROM alerts WHERE id = ?"_s, {alertId});
    QCOMPARE(row.size(), 1);
    QCOMPARE(row[0][0].toString(), u"Dr. Ana Lima"_s);
    QCOMPARE(row[0][1].toString(), u"Called; PI informed."_s);
    QVERIFY(!row[0][2].isNull());
    QCOMPARE(scalar(db,
                    u"SELECT count(*) FROM audit_log WHERE entity = 'alert' AND action = 'alert_acknowledged' AND "
                    u"actor = 'dashboard' AND detail LIKE ?"_s,
                    {u"alert %1 %"_s.arg(alertId)})
                 .toInt(),
             1);
}

void TstAlertBanner::okNeedsANameAndTheNameIsRemembered()
{
    AcknowledgeAlertDialog::rememberCoordinatorName(QString());
    const qint64 alertId = raiseAlert(1);
    QVERIFY(alertId > 0);
    AlertBanner banner(m_server->host().store());
    banner.refresh();
    QTRY_VERIFY_WITH_TIMEOUT(banner.alertCount() >= 1, 10000);
    QVERIFY(banner.acknowledge(alertId));
    auto *dialog = banner.findChild<AcknowledgeAlertDialog *>(u"acknowledgeAlertDialog"_s);
    QVERIFY(dialog);
    auto *ok = dialog->findChild<QPushButton *>(u"acknowledgeOkButton"_s);
    auto *name = dialog->findChild<QLineEdit *>(u"coordinatorNameEdit"_s);
    QVERIFY(ok && name);
    QVERIFY(name->text().isEmpty());
    QVERIFY(!ok->isEnabled());
    name->setText(u"   "_s);
    QVERIFY(!ok->isEnabled());
    name->setText(u"Nurse Bo Chen"_s);
    QVERIFY(ok->isEnabled());
    QTest::mouseClick(ok, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!banner.findChild<AcknowledgeAlertDialog *>(u"acknowledgeAlertDialog"_s), 10000);
    QCOMPARE(AcknowledgeAlertDialog::rememberedCoordinatorName(), u"Nurse Bo Chen"_s);

    // The next dialog starts with the remembered name, so OK is ready at once.
    const qint64 next = raiseAlert(3);
    QVERIFY(next > 0);
    banner.refresh();
    QTRY_VERIFY_WITH_TIMEOUT(banner.acknowledge(next), 10000);
    dialog = banner.findChild<AcknowledgeAlertDialog *>(u"acknowledgeAlertDialog"_s);
    QVERIFY(dialog);
    QCOMPARE(dialog->coordinatorName(), u"Nurse Bo Chen"_s);
    QVERIFY(dialog->findChild<QPushButton *>(u"acknowledgeOkButton"_s)->isEnabled());
    dialog->reject();
}

void TstAlertBanner::alertAcknowledgedElsewhereShowsTheErrorAndLeaves()
{
    const qint64 alertId = raiseAlert(2);
    QVERIFY(alertId > 0);
    AlertBanner banner(m_server->host().store());
    banner.refresh();
    QTRY_VERIFY_WITH_TIMEOUT(banner.acknowledge(alertId), 10000);
    auto *dialog = banner.findChild<AcknowledgeAlertDialog *>(u"acknowledgeAlertDialog"_s);
    QVERIFY(dialog);

    // Another coordinator (e.g. over the API) acknowledges it while this dialog is open.
    ReviewService other(m_server->host().store());
    QVERIFY(other.acknowledgeAlert(alertId, u"Dr. Other"_s, QString(), u"coordinator:2"_s).result());

    dialog->findChild<QLineEdit *>(u"coordinatorNameEdit"_s)->setText(u"Dr. Late"_s);
    dialog->accept();
    auto *error = dialog->findChild<QLabel *>(u"acknowledgeErrorLabel"_s);
    QVERIFY(error);
    QTRY_VERIFY_WITH_TIMEOUT(!error->isHidden(), 10000);
    QVERIFY(error->text().contains("Dr. Other"_L1));
    QVERIFY(dialog->isVisible());
    dialog->reject();
    // Closing reads again: the alert is gone from the banner.
    QTRY_VERIFY_WITH_TIMEOUT(std::none_of(banner.alerts().cbegin(), banner.alerts().cend(),
                                          [alertId](const AlertRecord &alert) { return alert.id == alertId; }),
                             10000);
    QCOMPARE(
        scalar(m_server->databasePath(), u"SELECT acknowledged_by FROM alerts WHERE id = ?"_s, {alertId}).toString(),
        u"Dr. Other"_s);
}

void TstAlertBanner::refreshBurstsAreCoalesced()
{
    AlertBanner banner(m_server->host().store());
    QSignalSpy refreshed(&banner, &AlertBanner::refreshed);
    // A burst of commits, as at 200 submissions per second: one read now, at most one more after.
    for (int i = 0; i < 200; ++i)
        banner.refresh();
    QTRY_VERIFY_WITH_TIMEOUT(!banner.isReading(), 10000);
    QVERIFY2(refreshed.count() >= 1 && refreshed.count() <= 2, qPrintable(QString::number(refreshed.count())));
}

QTEST_MAIN(TstAlertBanner)
#include "tst_alertbanner.moc"
