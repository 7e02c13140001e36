#include "auditlog.h"

#include "database.h"
#include "preparedstatements.h"

#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

QVariant nullable(const QString &text)
{
    return text.isNull() ? QVariant(QMetaType(QMetaType::QString)) : QVariant(text);
}

} // namespace

Expected<Done> AuditLog::append(QSqlDatabase &db, const AuditEntry &entry)
{
    QSqlQuery &query = PreparedStatements::get(
        db, u"INSERT INTO audit_log (at, actor, entity, entity_id, action, old_state, new_state, detail) "
            u"VALUES (?, ?, ?, ?, ?, ?, ?, ?)"_s);
    const StatementReset queryReset(query);
    query.addBindValue(entry.at);
    query.addBindValue(entry.actor);
    query.addBindValue(entry.entity);
    query.addBindValue(entry.entityId);
    query.addBindValue(entry.action);
    query.addBindValue(nullable(entry.oldState));
    query.addBindValue(nullable(entry.newState));
    query.addBindValue(nullable(entry.detail));
    if (!query.exec())
        return Database::storageError(u"writing the audit trail"_s, query.lastError());
    return Done{};
}

} // namespace SiteRelay
