#pragma once

#include "expected.h"

#include <QSqlDatabase>
#include <QString>
#include <QVariant>

class QSqlError;
class QSqlQuery;

namespace SiteRelay {

/**
 * Opens SiteRelay's SQLite file with the pragmas every connection needs, and brings the schema up
 * to date. A QSqlDatabase connection must be created, used and removed on one thread: call open()
 * and close() on the thread that uses the connection.
 */
class Database
{
public:
    struct Options
    {
        QString path;
        QString connectionName;
        QString synchronous = QStringLiteral("FULL"); ///< FULL or NORMAL
        int busyTimeoutMs = 5000;
        bool readOnly = false; ///< a reader: no migrations, no writes
    };

    /// The schema version this build writes (the highest resources/sql/NNN_*.sql).
    static int schemaVersion();

    /**
     * Opens the connection. A writer also applies pending migrations in one transaction
     * (BEGIN IMMEDIATE … PRAGMA user_version = N … COMMIT) and refuses a database written by a newer
     * SiteRelay. Fails with StorageUnavailable, saying what and why.
     */
    static Expected<QSqlDatabase> open(const Options &options);

    /// Closes and removes the named connection (on the thread that opened it).
    static void close(const QString &connectionName);

    /// A StorageUnavailable error for a failed statement, naming what was being done.
    static Error storageError(const QString &what, const QSqlError &error);

    /// Runs one statement; fails with StorageUnavailable.
    static Expected<Done> exec(QSqlDatabase &db, const QString &sql);

    /// A bind value that is SQL NULL for an empty string (optional text columns).
    static QVariant nullIfEmpty(const QString &text);

    /// Splits a migration file into statements (CREATE TRIGGER … END; stays whole).
    static QStringList splitStatements(const QString &script);
};

} // namespace SiteRelay
