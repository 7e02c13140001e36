#pragma once

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>

namespace SiteRelay {

/**
 * Prepared statements kept per connection, so a statement run for every submission is compiled
 * once instead of every time (preparing was the largest single cost of the writer thread).
 * A connection belongs to one thread, so the cache is per thread; call clear() on that thread
 * before the connection is closed.
 */
class PreparedStatements
{
public:
    /// The prepared query for @p sql on @p db, reset and ready for new bind values. Returns an
    /// unprepared query (whose exec() fails with the error) if preparing failed.
    static QSqlQuery &get(QSqlDatabase &db, const QString &sql);
    /// Drops the cached statements of a connection (before it is closed).
    static void clear(const QString &connectionName);
};

/// Resets a cached statement when it goes out of scope, so a finished SELECT does not keep its read
/// snapshot (in WAL mode an open statement pins the view of the database it started with).
class StatementReset
{
public:
    explicit StatementReset(QSqlQuery &query)
        : m_query(query)
    {}
    ~StatementReset() { m_query.finish(); }
    StatementReset(const StatementReset &) = delete;
    StatementReset &operator=(const StatementReset &) = delete;

private:
    QSqlQuery &m_query;
};

} // namespace SiteRelay
