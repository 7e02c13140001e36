#include "attemptinfo.h"

#include "database.h"

#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

Expected<QList<AttemptInfo>> readAttempts(const QSqlDatabase &db, const QString &submissionId)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(u"SELECT number, started_at, ended_at, stage_reached, outcome, error, stage_durations "
                  u"FROM attempts WHERE submission_id = ? ORDER BY number"_s);
    query.addBindValue(submissionId);
    if (!query.exec())
        return Database::storageError(u"reading attempts"_s, query.lastError());
    QList<AttemptInfo> attempts;
    while (query.next()) {
        AttemptInfo info;
        info.number = query.value(0).toInt();
        info.startedAt = query.value(1).toString();
        info.endedAt = query.value(2).toString();
        info.stageReached = query.value(3).toString();
        info.outcome = query.value(4).toString();
        info.error = query.value(5).toString();
        info.stageDurationsMs = QJsonDocument::fromJson(query.value(6).toString().toUtf8()).object();
        attempts.append(info);
    }
    return attempts;
}

} // namespace SiteRelay
