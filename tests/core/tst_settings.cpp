#include "settings.h"
#include "testpaths.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;

class TstSettings : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void defaultsComeFromTheTable();
    void overridesAndFileApply();
    void rejectsBadValues_data();
    void rejectsBadValues();
    void parsesAssignments();
    void everyKeyIsDocumented();
};

void TstSettings::defaultsComeFromTheTable()
{
    const Settings settings;
    QCOMPARE(settings.integer(SettingKey::ServerPort), 8787);
    QCOMPARE(settings.text(SettingKey::ServerBind), u"0.0.0.0"_s);
    QCOMPARE(settings.text(SettingKey::StorageSynchronous), u"FULL"_s);
    QCOMPARE(settings.integer(SettingKey::IngestMaxBodyBytes), 256 * 1024);
    QCOMPARE(settings.integer(SettingKey::IngestIdleTimeoutMs), 10000);
    QCOMPARE(settings.integer(SettingKey::IngestRequestDeadlineMs), 30000);
    QCOMPARE(settings.integer(SettingKey::IngestMaxConnections), 1000);
    QCOMPARE(settings.flag(SettingKey::BenchNoStoreRoute), false);
}

void TstSettings::overridesAndFileApply()
{
    QTemporaryDir dir;
    const QString ini = dir.filePath(u"siterelay.ini"_s);
    QFile file(ini);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("[server]\nport=9000\n[storage]\nsynchronous=normal\n");
    file.close();

    auto loaded = Settings::load(ini, {{u"server/port"_s, u"9100"_s}});
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().message));
    QCOMPARE(loaded->integer(SettingKey::ServerPort), 9100); // --set wins over the file
    QCOMPARE(loaded->text(SettingKey::StorageSynchronous), u"NORMAL"_s);
}

void TstSettings::rejectsBadValues_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("messagePart");
    QTest::addRow("unknown key") << u"server/colour"_s << u"blue"_s << u"unknown setting server/colour"_s;
    QTest::addRow("not a number") << u"server/port"_s << u"eighty"_s << u"whole number"_s;
    QTest::addRow("out of range") << u"server/port"_s << u"70000"_s << u"between 0 and 65535"_s;
    QTest::addRow("not a choice") << u"storage/synchronous"_s << u"OFF"_s << u"one of FULL, NORMAL"_s;
    QTest::addRow("not a bool") << u"bench/noStoreRoute"_s << u"maybe"_s << u"true or false"_s;
}

void TstSettings::rejectsBadValues()
{
    QFETCH(QString, key);
    QFETCH(QString, value);
    QFETCH(QString, messagePart);
    auto loaded = Settings::load(QString(), {{key, value}});
    QVERIFY(!loaded);
    QVERIFY2(loaded.error().message.contains(messagePart), qPrintable(loaded.error().message));
}

void TstSettings::parsesAssignments()
{
    auto ok = Settings::parseAssignment(u"ingest/maxBodyBytes=1024"_s);
    QVERIFY(ok);
    QCOMPARE(ok->first, u"ingest/maxBodyBytes"_s);
    QCOMPARE(ok->second, u"1024"_s);
    QVERIFY(!Settings::parseAssignment(u"novalue"_s));
    QVERIFY(!Settings::parseAssignment(u"=5"_s));
}

void TstSettings::everyKeyIsDocumented()
{
    QFile doc(Test::sourceDir() + u"/docs/CONFIGURATION.md"_s);
    QVERIFY(doc.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(doc.readAll());
    QVERIFY(settingSpecs().size() >= 10);
    for (const SettingSpec &spec : settingSpecs())
        QVERIFY2(text.contains(u"`%1`"_s.arg(spec.name)),
                 qPrintable(spec.name + u" is not in docs/CONFIGURATION.md"_s));
}

QTEST_GUILESS_MAIN(TstSettings)
#include "tst_settings.moc"
