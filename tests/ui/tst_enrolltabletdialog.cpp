// The enroll dialog against a real in-process server and SQLite file: the code it shows (as QR code
// and text) is committed, audited and redeems exactly once over real HTTP to a working token;
// errors (no name, a bad address, a failing store, no address at all) are shown and store nothing.
#include "enginetestkit.h"
#include "enrolltabletdialog.h"
#include "qrcode.h"
#include "rawhttpclient.h"
#include "testserver.h"

#include <QClipboard>
#include <QComboBox>
#include <QGuiApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QUuid>

#include <cmath>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

RawResponse enroll(quint16 port, const QString &code)
{
    return RawHttpClient::exchange(port, "POST", "/api/v1/enroll",
                                   QJsonDocument(QJsonObject{{u"code"_s, code}}).toJson(QJsonDocument::Compact),
                                   {qMakePair("Content-Type"_ba, "application/json"_ba)});
}

/// Runs @p statement through a connection of the test's own (the test kit's helpers only read).
QString execute(const QString &databasePath, const QString &statement)
{
    const QString name = u"tst-enroll-dialog-"_s + QUuid::createUuid().toString(QUuid::Id128);
    QString error;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
        db.setDatabaseName(databasePath);
        db.setConnectOptions(u"QSQLITE_BUSY_TIMEOUT=10000"_s);
        if (!db.open()) {
            error = db.lastError().text();
        } else {
            QSqlQuery query(db);
            if (!query.exec(statement))
                error = query.lastError().text();
        }
    }
    QSqlDatabase::removeDatabase(name);
    return error;
}

} // namespace

class TstEnrollTabletDialog : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void showsACodeThatEnrollsOnce_data();
    void showsACodeThatEnrollsOnce();
    void anotherTabletGetsItsOwnCode();
    void errorsAreShownAndNothingIsStored_data();
    void errorsAreShownAndNothingIsStored();
    void withoutAnAddressNoCodeCanBeCreated();

private:
    QString siteUrl() const { return u"http://127.0.0.1:%1"_s.arg(m_server->port()); }
    qint64 codeCount() const { return m_server->countRows(u"enrollment_codes"_s); }

    std::unique_ptr<TestServer> m_server;
};

void TstEnrollTabletDialog::initTestCase()
{
    m_server = std::make_unique<TestServer>();
    QVERIFY2(m_server->isRunning(), qPrintable(m_server->errorMessage()));
}

void TstEnrollTabletDialog::cleanupTestCase()
{
    m_server.reset();
}

void TstEnrollTabletDialog::showsACodeThatEnrollsOnce_data()
{
    QTest::addColumn<int>("addressIndex");
    QTest::addRow("first address, preselected") << -1;
    QTest::addRow("second address, chosen") << 1;
}

void TstEnrollTabletDialog::showsACodeThatEnrollsOnce()
{
    QFETCH(int, addressIndex);
    // The second address (TEST-NET-1) is never reached: the code is redeemed on the loopback port.
    const QStringList urls = {siteUrl(), u"http://192.0.2.10:%1"_s.arg(m_server->port())};
    const QString name = u"Ward tablet %1"_s.arg(QString::fromLatin1(QTest::currentDataTag()));

    EnrollTabletDialog dialog(m_server->host().store(), urls);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    auto *combo = dialog.findChild<QComboBox *>(u"siteUrlCombo"_s);
    QVERIFY(combo);
    QCOMPARE(combo->count(), 2);
    QCOMPARE(combo->currentText(), urls.constFirst());
    if (addressIndex >= 0)
        combo->setCurrentIndex(addressIndex);
    const QString chosenUrl = urls.at(std::max(addressIndex, 0));
    auto *qrLabel = dialog.findChild<QLabel *>(u"enrollQrLabel"_s);
    QVERIFY(qrLabel);
    QVERIFY(!qrLabel->isVisibleTo(&dialog));

    const qint64 codesBefore = codeCount();
    QSignalSpy created(&dialog, &EnrollTabletDialog::codeCreated);
    dialog.findChild<QLineEdit *>(u"tabletNameEdit"_s)->setText(name);
    QTest::mouseClick(dialog.findChild<QPushButton *>(u"createCodeButton"_s), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(created.count(), 1, 10000);
    const EnrollmentCode code = created.constFirst().constFirst().value<EnrollmentCode>();
    QCOMPARE(dialog.shownCode().code, code.code);

    // What the coordinator sees: the code as text, the URL, its validity, and the QR code of that URL.
    auto *codeLabel = dialog.findChild<QLabel *>(u"enrollCodeLabel"_s);
    QVERIFY(codeLabel && codeLabel->isVisibleTo(&dialog));
    QCOMPARE(codeLabel->text(), code.code);
    QVERIFY(QRegularExpression(u"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$"_s)
                .match(codeLabel->text())
                .hasMatch());
    const QString enrollUrl = chosenUrl + u"/tablet/?enroll="_s + code.code;
    QCOMPARE(code.enrollUrl, enrollUrl);
    QCOMPARE(dialog.findChild<QLabel *>(u"enrollUrlLabel"_s)->text(), enrollUrl);
    const QString validity = dialog.findChild<QLabel *>(u"enrollValidityLabel"_s)->text();
    const QString until = QDateTime::fromString(code.expiresAt, Qt::ISODateWithMs).toLocalTime().toString(u"HH:mm"_s);
    QVERIFY2(validity.contains(until) && validity.contains("15 minutes"_L1) && validity.contains("single use"_L1),
             qPrintable(validity));
    QVERIFY(dialog.findChild<QLabel *>(u"enrollInstructionLabel"_s)->text().contains(name));
    QVERIFY(qrLabel->isVisibleTo(&dialog));
    const QImage shown = qrLabel->pixmap().toImage();
    QVERIFY(!shown.isNull());
    QVERIFY2(shown.width() >= 250, "too small to scan from a monitor");
    // The dialog draws 8-pixel modules in device pixels (offscreen: a ratio of 1).
    const int scale = std::max(1, int(std::ceil(qrLabel->pixmap().devicePixelRatio())));
    const Expected<QImage> expected = QrCode::image(enrollUrl, 8 * scale);
    QVERIFY(expected);
    QCOMPARE(shown.convertToFormat(QImage::Format_RGB32), expected->convertToFormat(QImage::Format_RGB32));

    QTest::mouseClick(dialog.findChild<QPushButton *>(u"copyCodeButton"_s), Qt::LeftButton);
    QCOMPARE(QGuiApplication::clipboard()->text(), code.code);

    // Committed and audited: one code row for this name, unredeemed, and its creation by the dashboard.
    QCOMPARE(codeCount(), codesBefore + 1);
    QCOMPARE(
        m_server->countRows(
            u"enrollment_codes"_s,
            u"id = %1 AND device_name = '%2' AND created_by = 'dashboard' AND redeemed_at IS NULL"_s.arg(code.id).arg(
                name)),
        qint64(1));
    QCOMPARE(m_server->countRows(u"audit_log"_s, u"entity = 'enrollment' AND entity_id = '%1' AND action = 'created' "
                                                 u"AND actor = 'dashboard'"_s.arg(code.id)),
             qint64(1));

    // The tablet's side: the code as shown redeems to a device whose token is accepted, once.
    const qint64 devicesBefore = m_server->countRows(u"devices"_s);
    const RawResponse enrolled = enroll(m_server->port(), codeLabel->text());
    QCOMPARE(enrolled.status, 200);
    QCOMPARE(enrolled.json().value("deviceName"_L1).toString(), name);
    const QByteArray token = enrolled.json().value("token"_L1).toString().toLatin1();
    QVERIFY(token.startsWith("srt_"));
    QCOMPARE(RawHttpClient::exchange(m_server->port(), "GET", "/api/v1/questionnaires", {},
                                     {qMakePair("Authorization"_ba, QByteArray("Bearer " + token))})
                 .status,
             200);
    const RawResponse again = enroll(m_server->port(), code.code);
    QCOMPARE(again.status, 403);
    QCOMPARE(again.errorCode(), u"enrollment_code_used"_s);
    QCOMPARE(m_server->countRows(u"devices"_s), devicesBefore + 1);
}

void TstEnrollTabletDialog::anotherTabletGetsItsOwnCode()
{
    EnrollTabletDialog dialog(m_server->host().store(), {siteUrl()});
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QSignalSpy created(&dialog, &EnrollTabletDialog::codeCreated);
    auto *nameEdit = dialog.findChild<QLineEdit *>(u"tabletNameEdit"_s);
    auto *create = dialog.findChild<QPushButton *>(u"createCodeButton"_s);
    auto *another = dialog.findChild<QPushButton *>(u"enrollAnotherButton"_s);
    QVERIFY(nameEdit && create && another);
    QVERIFY(!another->isVisibleTo(&dialog));
    nameEdit->setText(u"Bay 1"_s);
    QTest::mouseClick(create, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(created.count(), 1, 10000);
    QVERIFY(another->isVisibleTo(&dialog));
    QVERIFY(!create->isVisibleTo(&dialog));

    QTest::mouseClick(another, Qt::LeftButton);
    QVERIFY(nameEdit->isVisibleTo(&dialog));
    QVERIFY(nameEdit->text().isEmpty());
    QCOMPARE(dialog.shownCode().id, qint64(0));
    nameEdit->setText(u"Bay 2"_s);
    QTest::mouseClick(create, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(created.count(), 2, 10000);
    const EnrollmentCode first = created.at(0).constFirst().value<EnrollmentCode>();
    const EnrollmentCode second = created.at(1).constFirst().value<EnrollmentCode>();
    QVERIFY(first.code != second.code);
    QCOMPARE(dialog.findChild<QLabel *>(u"enrollCodeLabel"_s)->text(), second.code);
    // Both stay valid: each enrolls its own tablet under its own name.
    QCOMPARE(enroll(m_server->port(), first.code).json().value("deviceName"_L1).toString(), u"Bay 1"_s);
    QCOMPARE(enroll(m_server->port(), second.code).json().value("deviceName"_L1).toString(), u"Bay 2"_s);
}

void TstEnrollTabletDialog::errorsAreShownAndNothingIsStored_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("url");
    QTest::addColumn<bool>("failStorage");
    QTest::addColumn<QString>("message");
    QTest::addRow("empty name") << QString() << QString() << false << u"name"_s;
    QTest::addRow("blank name") << u"   "_s << QString() << false << u"name"_s;
    // Not selectable through EnrollmentAddresses, but the dialog must pass the service's refusal on.
    QTest::addRow("not a site URL") << u"Bay 4"_s << u"ftp://192.0.2.10/tablets"_s << false << u"site URL"_s;
    QTest::addRow("storage fails") << u"Bay 5"_s << QString() << true << u"No code was created"_s;
}

void TstEnrollTabletDialog::errorsAreShownAndNothingIsStored()
{
    QFETCH(QString, name);
    QFETCH(QString, url);
    QFETCH(bool, failStorage);
    QFETCH(QString, message);

    const QString databasePath = m_server->databasePath();
    if (failStorage) {
        // Any failing statement in the writer's job stands for a failing disk: the job reports a
        // storage error and its transaction stores nothing.
        QCOMPARE(execute(databasePath, u"CREATE TRIGGER fail_enrollment BEFORE INSERT ON enrollment_codes "
                                       u"BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END"_s),
                 QString());
    }
    const auto dropTrigger = qScopeGuard([&] {
        if (failStorage)
            QCOMPARE(execute(databasePath, u"DROP TRIGGER fail_enrollment"_s), QString());
    });

    const qint64 codesBefore = codeCount();
    const qint64 auditBefore = m_server->countRows(u"audit_log"_s, u"entity = 'enrollment'"_s);
    EnrollTabletDialog dialog(m_server->host().store(), {url.isEmpty() ? siteUrl() : url});
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QSignalSpy created(&dialog, &EnrollTabletDialog::codeCreated);
    auto *errorLabel = dialog.findChild<QLabel *>(u"enrollErrorLabel"_s);
    auto *create = dialog.findChild<QPushButton *>(u"createCodeButton"_s);
    QVERIFY(errorLabel && create);
    QVERIFY(!errorLabel->isVisibleTo(&dialog));
    QVERIFY(create->isEnabled());
    dialog.findChild<QLineEdit *>(u"tabletNameEdit"_s)->setText(name);
    QTest::mouseClick(create, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(errorLabel->isVisibleTo(&dialog), 10000);
    QVERIFY2(errorLabel->text().contains(message), qPrintable(errorLabel->text()));
    // Still on the first page, ready to try again.
    QTRY_VERIFY(create->isEnabled());
    QVERIFY(create->isVisibleTo(&dialog));
    QVERIFY(!dialog.findChild<QLabel *>(u"enrollQrLabel"_s)->isVisibleTo(&dialog));
    QCOMPARE(created.count(), 0);
    QCOMPARE(dialog.shownCode().id, qint64(0));
    QCOMPARE(codeCount(), codesBefore);
    QCOMPARE(m_server->countRows(u"audit_log"_s, u"entity = 'enrollment'"_s), auditBefore);
}

void TstEnrollTabletDialog::withoutAnAddressNoCodeCanBeCreated()
{
    const qint64 codesBefore = codeCount();
    EnrollTabletDialog dialog(m_server->host().store(), {});
    auto *errorLabel = dialog.findChild<QLabel *>(u"enrollErrorLabel"_s);
    auto *create = dialog.findChild<QPushButton *>(u"createCodeButton"_s);
    QVERIFY(errorLabel && create);
    QVERIFY(errorLabel->isVisibleTo(&dialog));
    QVERIFY(errorLabel->text().contains("No address"_L1));
    QVERIFY(!create->isEnabled());
    // Typing a name neither hides why nor enables anything.
    dialog.findChild<QLineEdit *>(u"tabletNameEdit"_s)->setText(u"Bay 6"_s);
    QVERIFY(errorLabel->isVisibleTo(&dialog));
    QVERIFY(!create->isEnabled());
    dialog.createCode();
    QCOMPARE(codeCount(), codesBefore);
}

QTEST_MAIN(TstEnrollTabletDialog)
#include "tst_enrolltabletdialog.moc"
