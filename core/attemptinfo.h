#pragma once

#include "expected.h"

#include <QJsonObject>
#include <QList>
#include <QString>

class QSqlDatabase;

namespace SiteRelay {

/// One attempt as shown by the API and the dashboard.
struct AttemptInfo
{
    int number = 0;
    QString startedAt;
    QString endedAt;
    QString stageReached;
    QString outcome; ///< empty while running
    QString error;
    QJsonObject stageDurationsMs;
};

/// The attempts of a submission, oldest first, read on @p db (a read connection of the calling
/// thread). Failures are StorageUnavailable.
Expected<QList<AttemptInfo>> readAttempts(const QSqlDatabase &db, const QString &submissionId);

} // namespace SiteRelay
