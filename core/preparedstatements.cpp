#include "preparedstatements.h"

#include <QHash>

#include <memory>

namespace SiteRelay {
namespace {

using Cache = QHash<QString, QHash<QString, std::shared_ptr<QSqlQuery>>>;

Cache &cache()
{
    // Connections are used on one thread only, so each thread keeps its own statements.
    thread_local Cache perThread;
    return perThread;
}

} // namespace

QSqlQuery &PreparedStatements::get(QSqlDatabase &db, const QString &sql)
{
    auto &statements = cache()[db.connectionName()];
    auto it = statements.find(sql);
    if (it == statements.end()) {
        auto query = std::make_shared<QSqlQuery>(db);
        query->setForwardOnly(true);
        query->prepare(sql);
        it = statements.insert(sql, query);
    }
    QSqlQuery &query = **it;
    query.finish(); // resets a SELECT left open by its last use
    return query;
}

void PreparedStatements::clear(const QString &connectionName)
{
    cache().remove(connectionName);
}

} // namespace SiteRelay
