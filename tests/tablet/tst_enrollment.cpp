// Enrollment codes against a real SQLite file with a controlled clock, the rate limiter, QR images
// and the LAN address helper.
#include "attemptlimiter.h"
#include "enrollmentaddresses.h"
#include "enrollmentservice.h"
#include "qrcode.h"
#include "submissionstore.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <atomic>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;

namespace {

class ManualClock final : public Clock
{
public:
    QDateTime nowUtc() const override
    {
        return QDateTime(QDate(2026, 11, 26), QTime(9, 0), Qt::UTC).addMSecs(m_ms.load());
    }
    qint64 monotonicMs() const override { return m_ms.load(); }
    void advance(qint64 ms) { m_ms += ms; }

private:
    std::atomic<qint64> m_ms{0};
};

} // namespace

class TstEnrollment : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void normalize_data();
    void normalize();
    void codesExpireAfterFifteenMinutes_data();
    void codesExpireAfterFifteenMinutes();
    void codeIsSingleUse();
    void createRejectsBadInput_data();
    void createRejectsBadInput();
    void limiterLocksAndReleases();
    void limiterKeysAreSeparate();
    void qrImageHasFinderPatternsAndQuietZone();
    void qrPngIsWritten();
    void siteUrls();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::shared_ptr<ManualClock> m_clock;
    std::unique_ptr<SubmissionStore> m_store;
};

void TstEnrollment::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_clock = std::make_shared<ManualClock>();
    SubmissionStore::Options options;
    options.databasePath = m_dir->filePath(u"siterelay.sqlite"_s);
    options.clock = m_clock;
    auto store = SubmissionStore::open(options);
    QVERIFY2(store, store ? "" : qPrintable(store.error().message));
    m_store = std::move(store).value();
}

void TstEnrollment::cleanup()
{
    m_store.reset();
    m_dir.reset();
}

void TstEnrollment::normalize_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("normalized");
    QTest::addRow("as printed") << u"7KQ2-M9XD-4TRA"_s << u"7KQ2M9XD4TRA"_s;
    QTest::addRow("typed lower case") << u"7kq2m9xd4tra"_s << u"7KQ2M9XD4TRA"_s;
    QTest::addRow("spaces") << u"7KQ2 M9XD 4TRA"_s << u"7KQ2M9XD4TRA"_s;
    QTest::addRow("O and I read as digits") << u"OKQ2-M9XD-4TRI"_s << u"0KQ2M9XD4TR1"_s;
    QTest::addRow("too short") << u"7KQ2-M9XD-4TR"_s << QString();
    QTest::addRow("too long") << u"7KQ2-M9XD-4TRAA"_s << QString();
    QTest::addRow("U is not in the alphabet") << u"UKQ2-M9XD-4TRA"_s << QString();
    QTest::addRow("punctuation") << u"7KQ2/M9XD/4TRA"_s << QString();
    QTest::addRow("empty") << QString() << QString();
}

void TstEnrollment::normalize()
{
    QFETCH(QString, input);
    QFETCH(QString, normalized);
    QCOMPARE(EnrollmentService::normalize(input), normalized);
}

void TstEnrollment::codesExpireAfterFifteenMinutes_data()
{
    QTest::addColumn<qint64>("ageMs");
    QTest::addColumn<bool>("accepted");
    QTest::addRow("fresh") << qint64(0) << true;
    QTest::addRow("one ms before expiry") << EnrollmentService::ValidityMs - 1 << true;
    QTest::addRow("at expiry") << EnrollmentService::ValidityMs << false;
    QTest::addRow("an hour later") << qint64(3600 * 1000) << false;
}

void TstEnrollment::codesExpireAfterFifteenMinutes()
{
    QFETCH(qint64, ageMs);
    QFETCH(bool, accepted);
    EnrollmentService service(*m_store);
    const auto code = service.create(u"tablet"_s, u"http://10.0.0.5:8787/"_s).result();
    QVERIFY(code);
    QCOMPARE(code->enrollUrl, u"http://10.0.0.5:8787/tablet/?enroll="_s + code->code);
    QCOMPARE(code->expiresAt, u"2026-11-26T09:15:00.000Z"_s);
    m_clock->advance(ageMs);
    const auto device = service.redeem(code->code, u"test"_s).result();
    QCOMPARE(device.hasValue(), accepted);
    if (!accepted) {
        QCOMPARE(device.error().code, ErrorCode::Forbidden);
        QCOMPARE(device.error().reason, u"enrollment_code_expired"_s);
    } else {
        QCOMPARE(device->record.name, u"tablet"_s);
        QVERIFY(device->token.startsWith(u"srt_%1_"_s.arg(device->record.id)));
    }
}

void TstEnrollment::codeIsSingleUse()
{
    EnrollmentService service(*m_store);
    const auto code = service.create(u"tablet"_s, u"http://10.0.0.5:8787"_s).result();
    QVERIFY(code);
    const auto first = service.redeem(code->code, u"test"_s).result();
    QVERIFY(first);
    const auto second = service.redeem(code->code, u"test"_s).result();
    QVERIFY(!second);
    QCOMPARE(second.error().reason, u"enrollment_code_used"_s);
    const auto unknown = service.redeem(u"0000-0000-0000"_s, u"test"_s).result();
    QVERIFY(!unknown);
    QCOMPARE(unknown.error().reason, u"enrollment_code_invalid"_s);
}

void TstEnrollment::createRejectsBadInput_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("siteUrl");
    QTest::addColumn<QString>("field");
    QTest::addRow("no name") << u"  "_s << u"http://10.0.0.5:8787"_s << u"deviceName"_s;
    QTest::addRow("no scheme") << u"t"_s << u"10.0.0.5:8787"_s << u"siteUrl"_s;
    QTest::addRow("ftp") << u"t"_s << u"ftp://10.0.0.5"_s << u"siteUrl"_s;
    QTest::addRow("with path") << u"t"_s << u"http://10.0.0.5:8787/tablet"_s << u"siteUrl"_s;
    QTest::addRow("with query") << u"t"_s << u"http://10.0.0.5:8787?x=1"_s << u"siteUrl"_s;
    QTest::addRow("empty") << u"t"_s << QString() << u"siteUrl"_s;
}

void TstEnrollment::createRejectsBadInput()
{
    QFETCH(QString, name);
    QFETCH(QString, siteUrl);
    QFETCH(QString, field);
    EnrollmentService service(*m_store);
    const auto code = service.create(name, siteUrl).result();
    QVERIFY(!code);
    QCOMPARE(code.error().code, ErrorCode::InvalidArgument);
    QCOMPARE(code.error().field, field);
}

void TstEnrollment::limiterLocksAndReleases()
{
    ManualClock clock;
    AttemptLimiter limiter(clock, 3, 60000);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(limiter.retryAfterSeconds(u"a"_s), 0);
        limiter.recordFailure(u"a"_s);
        clock.advance(1000);
    }
    // Failures at 0 s, 1 s and 2 s; now is 3 s: free again when the first is 60 s old.
    QCOMPARE(limiter.retryAfterSeconds(u"a"_s), 57);
    clock.advance(56500);
    QCOMPARE(limiter.retryAfterSeconds(u"a"_s), 1);
    clock.advance(500);
    QCOMPARE(limiter.retryAfterSeconds(u"a"_s), 0);
    limiter.recordFailure(u"a"_s);
    QCOMPARE(limiter.retryAfterSeconds(u"a"_s), 1);
    limiter.reset(u"a"_s);
    QCOMPARE(limiter.retryAfterSeconds(u"a"_s), 0);
}

void TstEnrollment::limiterKeysAreSeparate()
{
    ManualClock clock;
    AttemptLimiter limiter(clock, 1, 1000);
    limiter.recordFailure(u"addr:10.0.0.7"_s);
    QCOMPARE(limiter.retryAfterSeconds(u"addr:10.0.0.7"_s), 1);
    QCOMPARE(limiter.retryAfterSeconds(u"addr:10.0.0.8"_s), 0);
}

void TstEnrollment::qrImageHasFinderPatternsAndQuietZone()
{
    const QString url = u"http://192.168.100.200:8787/tablet/?enroll=7KQ2-M9XD-4TRA"_s;
    const auto image = QrCode::image(url, 4);
    QVERIFY(image);
    QCOMPARE(image->width(), image->height());
    const int modules = image->width() / 4 - 8;
    QCOMPARE((modules - 21) % 4, 0); // a QR symbol is 21 + 4k modules wide
    QVERIFY(modules >= 29);          // this much text needs at least version 3 at level M
    const auto dark = [&](int moduleX, int moduleY) {
        return qGray(image->pixel((4 + moduleX) * 4 + 1, (4 + moduleY) * 4 + 1)) < 128;
    };
    // Quiet zone: white.
    QCOMPARE(qGray(image->pixel(1, 1)), 255);
    QCOMPARE(qGray(image->pixel(image->width() - 2, image->height() - 2)), 255);
    // Finder patterns in three corners: dark ring, light ring, dark 3x3 centre.
    for (const auto &[x0, y0] : {std::pair{0, 0}, std::pair{modules - 7, 0}, std::pair{0, modules - 7}}) {
        QVERIFY(dark(x0, y0));
        QVERIFY(dark(x0 + 6, y0 + 6));
        QVERIFY(!dark(x0 + 1, y0 + 1));
        QVERIFY(dark(x0 + 3, y0 + 3));
    }
    // Timing patterns between the finders: row 6 and column 6 alternate, starting dark.
    for (int i = 8; i < modules - 8; ++i) {
        QCOMPARE(dark(i, 6), i % 2 == 0);
        QCOMPARE(dark(6, i), i % 2 == 0);
    }
}

void TstEnrollment::qrPngIsWritten()
{
    const QString path = m_dir->filePath(u"code.png"_s);
    QVERIFY(QrCode::savePng(u"http://10.0.0.5:8787/tablet/?enroll=AAAA-BBBB-CCCC"_s, path));
    const QImage image(path);
    QVERIFY(!image.isNull());
    QCOMPARE(image.width(), image.height());
    const auto unwritable = QrCode::savePng(u"x"_s, m_dir->filePath(u"missing/dir/code.png"_s));
    QVERIFY(!unwritable);
}

void TstEnrollment::siteUrls()
{
    QCOMPARE(EnrollmentAddresses::siteUrls(QHostAddress(u"192.168.1.20"_s), 8787),
             QStringList{u"http://192.168.1.20:8787"_s});
    const QStringList any = EnrollmentAddresses::siteUrls(QHostAddress::AnyIPv4, 8787);
    QVERIFY(!any.isEmpty());
    for (const QString &url : any) {
        QVERIFY2(url.startsWith(u"http://"_s) && url.endsWith(u":8787"_s), qPrintable(url));
        QVERIFY2(!url.contains(u"127.0.0.1"_s) || any.size() == 1, qPrintable(url));
    }
    const auto addresses = EnrollmentAddresses::lanAddresses();
    for (const QHostAddress &address : addresses)
        QVERIFY(!address.isLoopback());
}

QTEST_GUILESS_MAIN(TstEnrollment)
#include "tst_enrollment.moc"
