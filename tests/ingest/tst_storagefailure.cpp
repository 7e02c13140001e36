// A full disk and a filesystem that turns read-only under a running server, through the real path
// (real HTTP, real SQLite file on a real filesystem): submissions are answered 503 with Retry-After
// and nothing is stored, health says 503, and once storage is back the server accepts again with
// exactly the acknowledged rows in an intact database. Needs root (mount); skips otherwise.
#include "rawhttpclient.h"
#include "testserver.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStorageInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <unistd.h>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

struct CommandResult
{
    int exitCode = -1;
    QString output;
};

CommandResult run(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(program, arguments);
    if (!process.waitForFinished(30000)) {
        process.kill();
        process.waitForFinished();
        return {-1, program + u" did not finish"_s};
    }
    const QString output = QString::fromLocal8Bit(process.readAll()).trimmed();
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            output.isEmpty() ? program + u" failed"_s : output};
}

/// Unmounts what a test mounted, whatever way the test ends.
class MountGuard
{
public:
    MountGuard() = default;
    Q_DISABLE_COPY_MOVE(MountGuard)
    ~MountGuard()
    {
        if (!m_mountPoint.isEmpty())
            unmount();
    }

    /// mount ARGS... MOUNTPOINT; empty on success, else why not.
    QString mount(const QStringList &arguments, const QString &mountPoint)
    {
        const CommandResult result = run(u"mount"_s, arguments + QStringList{mountPoint});
        if (result.exitCode != 0)
            return result.output;
        m_mountPoint = mountPoint;
        return {};
    }
    bool unmount()
    {
        if (run(u"umount"_s, {m_mountPoint}).exitCode != 0) {
            // Something still holds it (a failed test's server): detach it so nothing is left behind.
            run(u"umount"_s, {u"-l"_s, m_mountPoint});
            m_mountPoint.clear();
            return false;
        }
        m_mountPoint.clear();
        return true;
    }

private:
    QString m_mountPoint;
};

QList<QPair<QByteArray, QByteArray>> deviceHeaders(const QByteArray &token)
{
    return {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
}

RawResponse submit(quint16 port, const QByteArray &token, const QString &id)
{
    return RawHttpClient::exchange(port, "POST", "/api/v1/submissions", TestServer::submissionBody(id),
                                   deviceHeaders(token));
}

QString newId()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

/// PRAGMA integrity_check of a database file, through its own read-only connection.
QString integrityCheck(const QString &databasePath)
{
    const QString name = u"tst-storagefailure-"_s + QUuid::createUuid().toString(QUuid::Id128);
    QStringList rows;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
        db.setDatabaseName(databasePath);
        db.setConnectOptions(u"QSQLITE_OPEN_READONLY"_s);
        if (db.open()) {
            QSqlQuery query(db);
            if (query.exec(u"PRAGMA integrity_check"_s)) {
                while (query.next())
                    rows.append(query.value(0).toString());
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return rows.isEmpty() ? u"(no answer)"_s : rows.join(u"; "_s);
}

/// Fills the filesystem holding @p path until a write fails; returns the free bytes left.
qint64 fillFilesystem(const QString &path)
{
    const QString filler = path + u"/filler"_s;
    const qint64 available = QStorageInfo(path).bytesAvailable();
    if (available > 0)
        run(u"fallocate"_s, {u"-l"_s, QString::number(available), filler});
    // Whatever fallocate left (rounding, or no fallocate at all) is taken in small writes.
    QFile file(filler);
    if (file.open(QIODevice::Append)) {
        const QByteArray chunk(4096, 'x');
        while (file.write(chunk) == chunk.size() && file.flush()) {
        }
        file.close();
    }
    QStorageInfo info(path);
    info.refresh();
    return info.bytesAvailable();
}

} // namespace

class TstStorageFailure : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void fullDiskAnswers503AndRecovers();
    void readOnlyFilesystemAnswers503();

private:
    /// Answers the 503 a storage failure must give a submission, and checks nothing of it was stored.
    void expectStorageUnavailable(TestServer &server, const QByteArray &token);

    QTemporaryDir m_base;
};

void TstStorageFailure::initTestCase()
{
    if (::geteuid() != 0)
        QSKIP("needs root to mount a small filesystem (CI runs as root)");
    QVERIFY(m_base.isValid());
}

void TstStorageFailure::expectStorageUnavailable(TestServer &server, const QByteArray &token)
{
    for (int i = 0; i < 3; ++i) {
        const QString id = newId();
        const RawResponse response = submit(server.port(), token, id);
        QVERIFY2(response.status == 503,
                 qPrintable(u"status %1: %2"_s.arg(response.status).arg(QString::fromUtf8(response.body))));
        QCOMPARE(response.errorCode(), u"storage_unavailable"_s);
        QVERIFY2(response.header("Retry-After").toInt() > 0, response.header("Retry-After").constData());
        QCOMPARE(server.countRows(u"submissions"_s, u"submission_id = '%1'"_s.arg(id)), 0);
    }
    const RawResponse health = RawHttpClient::exchange(server.port(), "GET", "/api/v1/health");
    QCOMPARE(health.status, 503);
    QVERIFY(health.header("Retry-After").toInt() > 0);
}

void TstStorageFailure::fullDiskAnswers503AndRecovers()
{
    const QString mountPoint = m_base.path() + u"/full"_s;
    QVERIFY(QDir().mkpath(mountPoint));
    MountGuard mount;
    if (const QString why = mount.mount({u"-t"_s, u"tmpfs"_s, u"-o"_s, u"size=4m"_s, u"tmpfs"_s}, mountPoint);
        !why.isEmpty())
        QSKIP(qPrintable(u"cannot mount a tmpfs: "_s + why));
    const QString dataDir = mountPoint + u"/data"_s;
    int accepted = 0;
    {
        TestServer server({}, dataDir);
        QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));
        const QByteArray token = server.deviceToken();
        QCOMPARE(submit(server.port(), token, newId()).status, 202);
        ++accepted;

        const qint64 left = fillFilesystem(mountPoint);
        QVERIFY2(left < 8192, qPrintable(u"%1 bytes still free"_s.arg(left)));
        expectStorageUnavailable(server, token);
        if (QTest::currentTestFailed())
            return;

        QVERIFY(QFile::remove(mountPoint + u"/filler"_s));
        QCOMPARE(RawHttpClient::exchange(server.port(), "GET", "/api/v1/health").status, 200);
        const QString id = newId();
        QCOMPARE(submit(server.port(), token, id).status, 202);
        ++accepted;
        QCOMPARE(server.countRows(u"submissions"_s, u"submission_id = '%1'"_s.arg(id)), 1);
        QCOMPARE(server.countRows(u"submissions"_s), accepted);
    }
    QCOMPARE(integrityCheck(ServerHost::databasePath(dataDir)), u"ok"_s);
}

void TstStorageFailure::readOnlyFilesystemAnswers503()
{
    // `mount -o remount,ro` is refused (EBUSY) while SQLite holds the database open for writing, so
    // the read-only turn comes the way it does in the field: ext4 with errors=remount-ro meets an
    // error (ext4's own test trigger) and remounts itself read-only under the running server.
    const QString image = m_base.path() + u"/ro.img"_s;
    const QString mountPoint = m_base.path() + u"/ro"_s;
    QVERIFY(QDir().mkpath(mountPoint));
    {
        QFile file(image);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QVERIFY(file.resize(32 * 1024 * 1024));
    }
    if (const CommandResult made = run(u"mkfs.ext4"_s, {u"-q"_s, u"-F"_s, image}); made.exitCode != 0)
        QSKIP(qPrintable(u"cannot make an ext4 image: "_s + made.output));
    MountGuard mount;
    if (const QString why = mount.mount({u"-o"_s, u"loop,errors=remount-ro"_s, image}, mountPoint); !why.isEmpty())
        QSKIP(qPrintable(u"cannot loop-mount an ext4 image: "_s + why));
    const QString device = QFileInfo(QString::fromLocal8Bit(QStorageInfo(mountPoint).device())).fileName();
    const QString trigger = u"/sys/fs/ext4/%1/trigger_fs_error"_s.arg(device);
    if (!QFile::exists(trigger))
        QSKIP(qPrintable(trigger + u" does not exist; this kernel cannot turn ext4 read-only on demand"_s));

    const QString dataDir = mountPoint + u"/data"_s;
    QByteArray token;
    int accepted = 0;
    {
        TestServer server({}, dataDir);
        QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));
        token = server.deviceToken();
        QCOMPARE(submit(server.port(), token, newId()).status, 202);
        ++accepted;

        QFile error(trigger);
        QVERIFY(error.open(QIODevice::WriteOnly));
        QVERIFY(error.write("siterelay tst_storagefailure: turning read-only on purpose") > 0);
        error.close();
        QVERIFY(!QFile(mountPoint + u"/probe"_s).open(QIODevice::WriteOnly)); // it really is read-only now

        expectStorageUnavailable(server, token);
        if (QTest::currentTestFailed())
            return;
        server.stop();
    }

    // The repair: unmount, fsck, mount again, restart; the acknowledged rows are all there.
    QVERIFY(mount.unmount());
    const CommandResult fsck = run(u"e2fsck"_s, {u"-f"_s, u"-y"_s, image});
    QVERIFY2(fsck.exitCode == 0 || fsck.exitCode == 1, qPrintable(fsck.output)); // 1: errors corrected
    QCOMPARE(mount.mount({u"-o"_s, u"loop"_s, image}, mountPoint), QString());
    {
        TestServer server({}, dataDir);
        QVERIFY2(server.isRunning(), qPrintable(server.errorMessage()));
        QCOMPARE(server.countRows(u"submissions"_s), accepted);
        QCOMPARE(RawHttpClient::exchange(server.port(), "GET", "/api/v1/health").status, 200);
        QCOMPARE(submit(server.port(), token, newId()).status, 202);
        ++accepted;
        QCOMPARE(server.countRows(u"submissions"_s), accepted);
    }
    QCOMPARE(integrityCheck(ServerHost::databasePath(dataDir)), u"ok"_s);
}

QTEST_GUILESS_MAIN(TstStorageFailure)
#include "tst_storagefailure.moc"
