// The devices dialog against a real in-process server: the list as stored, adding a device (its
// token shown once, and it authenticates over real HTTP), revoking one (its token is refused) and
// opening the enroll dialog only when an address for tablets is known.
#include "adddevicedialog.h"
#include "devicesdialog.h"
#include "enginetestkit.h"
#include "enrolltabletdialog.h"
#include "rawhttpclient.h"
#include "testserver.h"

#include <QClipboard>
#include <QComboBox>
#include <QGuiApplication>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QTreeWidget>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

/// A status request with @p token: 404 for an unknown submission means the token was accepted.
int statusWithToken(quint16 port, const QByteArray &token)
{
    return RawHttpClient::exchange(port, "GET", "/api/v1/submissions/00000000-0000-4000-8000-000000000000", {},
                                   {qMakePair("Authorization"_ba, QByteArray("Bearer " + token))})
        .status;
}

QTreeWidgetItem *rowOf(QTreeWidget *list, qint64 deviceId)
{
    for (int i = 0; i < list->topLevelItemCount(); ++i) {
        if (list->topLevelItem(i)->data(0, Qt::DisplayRole).toLongLong() == deviceId)
            return list->topLevelItem(i);
    }
    return nullptr;
}

} // namespace

class TstDevicesDialog : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void listsTheStoredDevices();
    void addShowsTheTokenOnceAndItAuthenticates_data();
    void addShowsTheTokenOnceAndItAuthenticates();
    void revokeAsksAndThenTheTokenIsRefused();
    void enrollNeedsASiteUrl();

private:
    std::unique_ptr<TestServer> m_server;
};

void TstDevicesDialog::initTestCase()
{
    m_server = std::make_unique<TestServer>();
    QVERIFY2(m_server->isRunning(), qPrintable(m_server->errorMessage()));
}

void TstDevicesDialog::cleanupTestCase()
{
    m_server.reset();
}

void TstDevicesDialog::listsTheStoredDevices()
{
    DevicesDialog dialog(m_server->host().store());
    auto *list = dialog.findChild<QTreeWidget *>(u"deviceList"_s);
    QVERIFY(list);
    QTRY_VERIFY_WITH_TIMEOUT(dialog.devices().size() >= 2, 10000);
    QCOMPARE(list->topLevelItemCount(), dialog.devices().size());
    const qint64 tabletId = EngineKit::tokenDeviceId(m_server->deviceToken());
    const qint64 coordinatorId = EngineKit::tokenDeviceId(m_server->coordinatorToken());
    QTreeWidgetItem *tablet = rowOf(list, tabletId);
    QTreeWidgetItem *coordinator = rowOf(list, coordinatorId);
    QVERIFY(tablet && coordinator);
    QCOMPARE(tablet->text(1), u"tablet-1"_s);
    QCOMPARE(tablet->text(2), u"Tablet"_s);
    QCOMPARE(coordinator->text(2), u"Coordinator"_s);
    QVERIFY(!tablet->text(3).isEmpty());
    QVERIFY(tablet->text(5).isEmpty());
    // Nothing selected: nothing to revoke.
    QVERIFY(!dialog.findChild<QPushButton *>(u"revokeDeviceButton"_s)->isEnabled());
}

void TstDevicesDialog::addShowsTheTokenOnceAndItAuthenticates_data()
{
    QTest::addColumn<int>("roleIndex");
    QTest::addColumn<QString>("role");
    QTest::addRow("tablet") << 0 << u"device"_s;
    QTest::addRow("coordinator") << 1 << u"coordinator"_s;
}

void TstDevicesDialog::addShowsTheTokenOnceAndItAuthenticates()
{
    QFETCH(int, roleIndex);
    QFETCH(QString, role);

    DevicesDialog dialog(m_server->host().store());
    QSignalSpy opened(&dialog, &DevicesDialog::addDeviceDialogOpened);
    QTest::mouseClick(dialog.findChild<QPushButton *>(u"addDeviceButton"_s), Qt::LeftButton);
    QCOMPARE(opened.count(), 1);
    auto *add = opened.constFirst().constFirst().value<AddDeviceDialog *>();
    QVERIFY(add);

    auto *ok = add->findChild<QPushButton *>(u"addDeviceOkButton"_s);
    QVERIFY(ok);
    QVERIFY(!ok->isEnabled()); // no name yet
    const QString name = u"Tablet %1"_s.arg(QString::fromLatin1(QTest::currentDataTag()));
    add->findChild<QLineEdit *>(u"deviceNameEdit"_s)->setText(name);
    add->findChild<QComboBox *>(u"deviceRoleCombo"_s)->setCurrentIndex(roleIndex);
    QVERIFY(ok->isEnabled());
    QSignalSpy added(add, &AddDeviceDialog::deviceAdded);
    QTest::mouseClick(ok, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(added.count(), 1, 10000);

    auto *tokenEdit = add->findChild<QLineEdit *>(u"newDeviceTokenEdit"_s);
    QVERIFY(tokenEdit);
    QVERIFY(tokenEdit->isReadOnly());
    QVERIFY(tokenEdit->isVisibleTo(add));
    const QString token = tokenEdit->text();
    QVERIFY(token.startsWith("srt_"_L1));
    QCOMPARE(add->shownToken(), token);
    auto *warning = add->findChild<QLabel *>(u"tokenWarningLabel"_s);
    QVERIFY(warning && warning->isVisibleTo(add));
    QVERIFY(warning->text().contains("cannot be shown again"_L1));

    QTest::mouseClick(add->findChild<QPushButton *>(u"copyTokenButton"_s), Qt::LeftButton);
    QCOMPARE(QGuiApplication::clipboard()->text(), token);

    // Stored as a hash only: the token itself is nowhere in the database.
    const DeviceRecord record = added.constFirst().constFirst().value<DeviceRecord>();
    QCOMPARE(record.name, name);
    QCOMPARE(toString(record.role), role);
    QCOMPARE(
        EngineKit::scalar(m_server->databasePath(), u"SELECT role FROM devices WHERE id = ?"_s, {record.id}).toString(),
        role);
    QCOMPARE(EngineKit::scalar(m_server->databasePath(),
                               u"SELECT count(*) FROM audit_log WHERE entity = 'device' AND entity_id = ? AND "
                               u"action = 'created' AND actor = 'dashboard'"_s,
                               {QString::number(record.id)})
                 .toInt(),
             1);

    // The token works over HTTP at once.
    QCOMPARE(statusWithToken(m_server->port(), token.toLatin1()), 404);

    // The list shows the new device; closing the Add dialog drops the token with it.
    QTRY_VERIFY_WITH_TIMEOUT(rowOf(dialog.findChild<QTreeWidget *>(u"deviceList"_s), record.id), 10000);
    QPointer<AddDeviceDialog> guard(add);
    QTest::mouseClick(add->findChild<QPushButton *>(u"closeTokenButton"_s), Qt::LeftButton);
    QTRY_VERIFY(guard.isNull());
}

void TstDevicesDialog::revokeAsksAndThenTheTokenIsRefused()
{
    const auto [deviceId, token] = m_server->addDevice(u"tablet-to-revoke"_s);
    QVERIFY(deviceId > 0);
    QCOMPARE(statusWithToken(m_server->port(), token), 404);

    DevicesDialog dialog(m_server->host().store());
    bool answer = false;
    QStringList questions;
    dialog.setConfirmHandler([&](const QString &, const QString &text, std::function<void(bool)> reply) {
        questions.append(text);
        reply(answer);
    });
    auto *list = dialog.findChild<QTreeWidget *>(u"deviceList"_s);
    auto *revoke = dialog.findChild<QPushButton *>(u"revokeDeviceButton"_s);
    QTRY_VERIFY_WITH_TIMEOUT(rowOf(list, deviceId), 10000);
    list->setCurrentItem(rowOf(list, deviceId));
    QVERIFY(revoke->isEnabled());

    // Declined: still valid.
    QTest::mouseClick(revoke, Qt::LeftButton);
    QCOMPARE(questions.size(), 1);
    QVERIFY(questions.constFirst().contains("tablet-to-revoke"_L1));
    QCOMPARE(statusWithToken(m_server->port(), token), 404);

    answer = true;
    QSignalSpy revoked(&dialog, &DevicesDialog::revokeFinished);
    QSignalSpy refreshed(&dialog, &DevicesDialog::refreshed);
    QTest::mouseClick(revoke, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(revoked.count(), 1, 10000);
    QCOMPARE(revoked.constFirst().constFirst().toBool(), true);
    QCOMPARE(statusWithToken(m_server->port(), token), 401);

    // The list reads again and says so in words; a revoked device cannot be revoked twice.
    QTRY_VERIFY_WITH_TIMEOUT(refreshed.count() >= 1, 10000);
    QTreeWidgetItem *row = rowOf(list, deviceId);
    QVERIFY(row);
    QVERIFY(row->text(5).startsWith("Revoked"_L1));
    list->setCurrentItem(row);
    QVERIFY(!revoke->isEnabled());
    QCOMPARE(EngineKit::scalar(m_server->databasePath(),
                               u"SELECT count(*) FROM audit_log WHERE entity = 'device' AND entity_id = ? AND "
                               u"action = 'revoked' AND actor = 'dashboard'"_s,
                               {QString::number(deviceId)})
                 .toInt(),
             1);
}

void TstDevicesDialog::enrollNeedsASiteUrl()
{
    DevicesDialog dialog(m_server->host().store());
    QSignalSpy opened(&dialog, &DevicesDialog::enrollTabletDialogOpened);
    auto *enroll = dialog.findChild<QPushButton *>(u"enrollTabletButton"_s);
    QVERIFY(enroll);
    // No address known: nothing to put in a QR code, and the tooltip says so.
    QVERIFY(!enroll->isEnabled());
    const QString disabledTip = enroll->toolTip();
    QVERIFY2(disabledTip.contains("No address"_L1), qPrintable(disabledTip));
    dialog.enrollTablet();
    QCOMPARE(opened.count(), 0);

    const QStringList urls = {u"http://127.0.0.1:%1"_s.arg(m_server->port()), u"http://192.0.2.10:8787"_s};
    dialog.setSiteUrls(urls);
    QVERIFY(enroll->isEnabled());
    QCOMPARE(enroll->toolTip(), u"Show a QR code a tablet scans to enroll itself"_s);
    QTest::mouseClick(enroll, Qt::LeftButton);
    QCOMPARE(opened.count(), 1);
    QPointer<EnrollTabletDialog> enrollDialog = opened.constFirst().constFirst().value<EnrollTabletDialog *>();
    QVERIFY(enrollDialog);
    QVERIFY(enrollDialog->isVisible());
    auto *combo = enrollDialog->findChild<QComboBox *>(u"siteUrlCombo"_s);
    QVERIFY(combo);
    QCOMPARE(combo->count(), urls.size());
    QCOMPARE(combo->currentText(), urls.constFirst());
    // A second click raises the open dialog instead of opening another.
    QTest::mouseClick(enroll, Qt::LeftButton);
    QCOMPARE(opened.count(), 1);

    // Closing it reads the list again (a tablet may have enrolled meanwhile) and deletes it.
    QSignalSpy refreshed(&dialog, &DevicesDialog::refreshed);
    enrollDialog->reject();
    QTRY_VERIFY(enrollDialog.isNull());
    QTRY_VERIFY_WITH_TIMEOUT(refreshed.count() >= 1, 10000);

    dialog.setSiteUrls({});
    QVERIFY(!enroll->isEnabled());
    QCOMPARE(enroll->toolTip(), disabledTip);
}

QTEST_MAIN(TstDevicesDialog)
#include "tst_devicesdialog.moc"
