#pragma once

#include "attemptinfo.h"
#include "expected.h"

#include <QDateTime>
#include <QFuture>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QVariant>

#include <memory>
#include <optional>

class QThread;

namespace SiteRelay {

/// The columns the coordinator's task list can be sorted by (and shows, in this order).
enum class TaskColumn {
    Received,
    Patient,
    Trial,
    Questionnaire,
    Device,
    State,
    Attempts,
    Score,
    Alert,
    ExportBatch,
};
constexpr int taskColumnCount = 10;

/// The position of a row in a sort order: the sort value and the row id that breaks ties.
struct TaskKey
{
    QVariant value;
    qint64 rowId = 0;
};

/// One page request of the task list: a state filter, a search, a sort and where to continue.
struct TaskQuery
{
    QString state;  ///< empty: every state
    QString search; ///< matches patient ID, submission ID or device name (substring, ASCII case-insensitive)
    TaskColumn sortColumn = TaskColumn::Received;
    bool descending = true;
    int limit = 200;
    std::optional<TaskKey> after; ///< keyset pagination: rows strictly after this key
};

/// One row of the task list.
struct TaskRow
{
    qint64 rowId = 0;
    QString submissionId;
    QString receivedAt;
    QString patientId;
    QString trialId;
    QString questionnaireId;
    qint64 deviceId = 0;
    QString deviceName;
    QString state;
    int attemptCount = 0;
    std::optional<int> scoreTotal;
    QString scoreBand;
    int alerts = 0;               ///< safety alerts raised
    int unacknowledgedAlerts = 0; ///< of which not yet acknowledged
    QString alertSeverity;        ///< the most severe raised ("critical" > "warning" > "info"), or empty
    QString exportBatchId;
    QString reviewState;
    QString lastError;
    QString nextAttemptAt;
    TaskKey key; ///< this row's position in the query's sort order

    bool operator==(const TaskRow &other) const;
    bool operator!=(const TaskRow &other) const { return !(*this == other); }
};

struct TaskPage
{
    QList<TaskRow> rows;
    bool hasMore = false; ///< rows exist after the last one
};

/// The figures of the status strip and the filter counts.
struct DashboardSummary
{
    QHash<QString, qint64> stateCounts; ///< every state, zeros included
    qint64 total = 0;
    int devicesSeenRecently = 0; ///< active (not revoked) devices seen in the last 5 minutes
    qint64 receivedLastMinute = 0;
    qint64 databaseBytes = 0; ///< the SQLite file with its WAL
    qint64 unacknowledgedAlerts = 0;
};

/// Submissions received in one hour, by state.
struct HourActivity
{
    QDateTime hourStartUtc;
    QHash<QString, qint64> byState;
};

struct AuditEntry
{
    QString at;
    QString actor;
    QString action;
    QString oldState;
    QString newState;
    QString detail;
};

struct AlertEntry
{
    qint64 id = 0;
    QString ruleId;
    QString severity;
    QString message;
    QString itemId;
    std::optional<int> itemValue;
    QString raisedAt;
    QString acknowledgedAt;
    QString acknowledgedBy;
    QString acknowledgeNote;
};

/// One point of a patient's trend: a scored submission.
struct ScorePoint
{
    QString submissionId;
    QString questionnaireId;
    QDateTime completedAtUtc;
    int total = 0;
    QString band;
};

/// Everything the details pane shows about one submission.
struct SubmissionDetails
{
    TaskRow row;
    QString completedAt;
    QString updatedAt;
    QString processedAt;
    QJsonObject answers;
    QJsonObject score; ///< ScoreResult::toJson() as stored, or empty before scoring
    QString reportPath;
    QString reviewedAt;
    QString reviewedBy;
    QString reviewNote;
    QList<AttemptInfo> attempts;
    QList<AlertEntry> alerts;
    QList<AuditEntry> audit;
    QList<ScorePoint> patientHistory; ///< the patient's scored submissions, oldest first, all questionnaires
};

/**
 * The dashboard's read side: a thread of its own with its own read-only SQLite connection (WAL
 * lets it read while the writer commits), so no query or file access runs on the GUI thread.
 * Every call is thread-safe and returns at once; the future resolves on the reader thread with the
 * result or a StorageUnavailable error (also when the database cannot be opened). Calls run one at
 * a time in the order made. Destroying the reader waits for the query in progress, closes the
 * connection and stops the thread; futures of queries that had not started are cancelled.
 */
class DashboardReader final
{
public:
    explicit DashboardReader(const QString &databasePath);
    ~DashboardReader();
    DashboardReader(const DashboardReader &) = delete;
    DashboardReader &operator=(const DashboardReader &) = delete;

    QFuture<Expected<TaskPage>> tasks(const TaskQuery &query);
    /// @p nowUtc anchors "last minute" and "last 5 minutes".
    QFuture<Expected<DashboardSummary>> summary(const QDateTime &nowUtc);
    /// Submissions per hour received in [fromUtc, toUtc), hours in time order (only hours with rows).
    QFuture<Expected<QList<HourActivity>>> activity(const QDateTime &fromUtc, const QDateTime &toUtc);
    /// NotFound when there is no such submission.
    QFuture<Expected<SubmissionDetails>> details(const QString &submissionId);

    QString databasePath() const { return m_databasePath; }

private:
    class Worker;
    template <typename T, typename Work>
    QFuture<Expected<T>> run(Work work);

    QString m_databasePath;
    std::unique_ptr<QThread> m_thread;
    Worker *m_worker = nullptr; ///< lives on m_thread
};

} // namespace SiteRelay
