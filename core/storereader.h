#pragma once

#include "attemptinfo.h"
#include "device.h"
#include "expected.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QSqlDatabase>
#include <QString>

#include <memory>
#include <optional>

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
    int attemptCount = 0;
    QString lastError;
    QString nextAttemptAt;
    std::optional<int> scoreTotal;
    QString scoreBand;
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
    /// The attempts of a submission, oldest first.
    Expected<QList<AttemptInfo>> attempts(const QString &submissionId);
    /// Retrying tasks whose next attempt is due at or before @p nowIso.
    Expected<qint64> dueRetries(const QString &nowIso);
    /// When the earliest retrying task is due (UTC ISO 8601), or empty when none is waiting.
    Expected<QString> nextRetryDueAt();

private:
    explicit StoreReader(QString connectionName);
    QSqlDatabase database() const;
    QString m_connectionName;
};

} // namespace SiteRelay
