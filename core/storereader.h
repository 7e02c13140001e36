#pragma once

#include "device.h"
#include "expected.h"

#include <QHash>
#include <QList>
#include <QSqlDatabase>
#include <QString>

#include <memory>

namespace SiteRelay {

/// What GET /api/v1/submissions/{id} shows: state and timestamps, no answers.
struct SubmissionStatus
{
    QString submissionId;
    qint64 deviceId = 0;
    QString patientId;
    QString trialId;
    QString questionnaireId;
    QString state;
    QString completedAt;
    QString receivedAt;
    QString updatedAt;
};

/**
 * A read connection of its own, for one thread (SQLite in WAL mode lets it read while the writer
 * commits). Create, use and destroy it on that thread. Failures are StorageUnavailable.
 */
class StoreReader
{
public:
    static Expected<std::unique_ptr<StoreReader>> open(const QString &databasePath);
    ~StoreReader();
    StoreReader(const StoreReader &) = delete;
    StoreReader &operator=(const StoreReader &) = delete;

    /// Checks a bearer token; Unauthenticated for a malformed, unknown or revoked one.
    Expected<AuthenticatedDevice> authenticate(QByteArrayView token);
    /// NotFound when there is no such submission.
    Expected<SubmissionStatus> submissionStatus(const QString &submissionId);
    /// Count of submissions in each state (every state present, zeros included).
    Expected<QHash<QString, qint64>> stateCounts();
    Expected<QList<DeviceRecord>> devices();

private:
    explicit StoreReader(QString connectionName);
    QSqlDatabase database() const;
    QString m_connectionName;
};

} // namespace SiteRelay
