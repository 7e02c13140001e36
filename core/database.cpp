#include "database.h"

#include "logging.h"
#include "preparedstatements.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>

#include <map>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// Migration files by version, from resources/sql/NNN_name.sql compiled into the binary.
std::map<int, QString> migrationFiles()
{
    std::map<int, QString> files;
    static const QRegularExpression name(u"^(\\d{3})_[a-z0-9_]+\\.sql$"_s);
    const QDir dir(u":/sql"_s);
    const QStringList entries = dir.entryList(QDir::Files, QDir::Name);
    for (const QString &entry : entries) {
        const auto match = name.match(entry);
        if (match.hasMatch())
            files.emplace(match.captured(1).toInt(), dir.filePath(entry));
    }
    return files;
}

Expected<Done> applyMigrations(QSqlDatabase &db)
{
    QSqlQuery query(db);
    if (!query.exec(u"PRAGMA user_version"_s) || !query.next())
        return Database::storageError(u"reading the schema version"_s, query.lastError());
    const int current = query.value(0).toInt();
    const int target = Database::schemaVersion();
    if (current > target)
        return Error{ErrorCode::StorageUnavailable,
                     u"the database has schema version %1, newer than this SiteRelay understands (%2); "
                     u"run the newer SiteRelay or restore a backup"_s.arg(current)
                         .arg(target),
                     QString(), u"schema_too_new"_s};
    if (current == target)
        return Done{};

    if (auto begun = Database::exec(db, u"BEGIN IMMEDIATE"_s); !begun)
        return begun;
    const auto rollback = [&db](Error error) {
        QSqlQuery(db).exec(u"ROLLBACK"_s);
        return error;
    };
    for (const auto &[version, path] : migrationFiles()) {
        if (version <= current)
            continue;
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return rollback(Error{ErrorCode::Internal, u"cannot read migration %1"_s.arg(path)});
        const QStringList statements = Database::splitStatements(QString::fromUtf8(file.readAll()));
        for (const QString &statement : statements) {
            if (auto done = Database::exec(db, statement); !done)
                return rollback(
                    Error{ErrorCode::StorageUnavailable,
                          u"migration %1 failed: %2"_s.arg(QFileInfo(path).fileName(), done.error().message)});
        }
        qCInfo(lcStore) << "applied migration" << QFileInfo(path).fileName();
    }
    if (auto set = Database::exec(db, u"PRAGMA user_version = %1"_s.arg(target)); !set)
        return rollback(set.error());
    if (auto committed = Database::exec(db, u"COMMIT"_s); !committed)
        return rollback(committed.error());
    return Done{};
}

} // namespace

int Database::schemaVersion()
{
    const auto files = migrationFiles();
    return files.empty() ? 0 : files.rbegin()->first;
}

Error Database::storageError(const QString &what, const QSqlError &error)
{
    return Error{ErrorCode::StorageUnavailable, u"database error while %1: %2"_s.arg(what, error.text()), QString(),
                 u"storage_unavailable"_s};
}

Expected<Done> Database::exec(QSqlDatabase &db, const QString &sql)
{
    QSqlQuery query(db);
    if (!query.exec(sql))
        return storageError(sql.left(60).simplified(), query.lastError());
    return Done{};
}

QVariant Database::nullIfEmpty(const QString &text)
{
    return text.isEmpty() ? QVariant(QMetaType(QMetaType::QString)) : QVariant(text);
}

QStringList Database::splitStatements(const QString &script)
{
    QStringList statements;
    QString current;
    bool inTrigger = false;
    const QStringList lines = script.split(u'\n');
    for (const QString &rawLine : lines) {
        const QString line = rawLine.trimmed();
        if (line.isEmpty() || line.startsWith("--"_L1))
            continue;
        if (current.isEmpty() && line.startsWith("CREATE TRIGGER"_L1, Qt::CaseInsensitive))
            inTrigger = true;
        current += rawLine + u'\n';
        const bool ends = inTrigger ? line.compare("END;"_L1, Qt::CaseInsensitive) == 0 : line.endsWith(u';');
        if (ends) {
            statements.append(current.trimmed());
            current.clear();
            inTrigger = false;
        }
    }
    if (!current.trimmed().isEmpty())
        statements.append(current.trimmed());
    return statements;
}

Expected<QSqlDatabase> Database::open(const Options &options)
{
    if (!options.readOnly) {
        const QFileInfo info(options.path);
        if (!QDir().mkpath(info.absolutePath()))
            return Error{ErrorCode::StorageUnavailable, u"cannot create the data folder %1"_s.arg(info.absolutePath()),
                         QString(), u"storage_unavailable"_s};
    }
    QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, options.connectionName);
    db.setDatabaseName(options.path);
    QString connectOptions = u"QSQLITE_BUSY_TIMEOUT=%1"_s.arg(options.busyTimeoutMs);
    if (options.readOnly)
        connectOptions += u";QSQLITE_OPEN_READONLY"_s;
    db.setConnectOptions(connectOptions);
    if (!db.open()) {
        const Error error = storageError(u"opening %1"_s.arg(options.path), db.lastError());
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(options.connectionName);
        return error;
    }
    const auto fail = [&](const Error &error) -> Expected<QSqlDatabase> {
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(options.connectionName);
        return error;
    };

    QStringList pragmas = {u"PRAGMA foreign_keys = ON"_s};
    if (!options.readOnly) {
        pragmas += {u"PRAGMA journal_mode = WAL"_s, u"PRAGMA synchronous = %1"_s.arg(options.synchronous)};
    }
    for (const QString &pragma : std::as_const(pragmas)) {
        if (auto done = exec(db, pragma); !done)
            return fail(done.error());
    }
    if (!options.readOnly) {
        if (auto migrated = applyMigrations(db); !migrated)
            return fail(migrated.error());
    }
    return db;
}

void Database::close(const QString &connectionName)
{
    PreparedStatements::clear(connectionName);
    {
        QSqlDatabase db = QSqlDatabase::database(connectionName, false);
        if (db.isOpen())
            db.close();
    }
    QSqlDatabase::removeDatabase(connectionName);
}

} // namespace SiteRelay
