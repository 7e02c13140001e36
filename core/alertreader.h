#pragma once

#include "expected.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <memory>
#include <optional>

// Declared, not included: the dashboard (ui/) includes this header and must not see QtSql.
class QSqlDatabase;

namespace SiteRelay {

/// A safety alert raised by scoring, with the submission it belongs to and its acknowledgement.
struct AlertRecord
{
    qint64 id = 0;
    QString submissionId;
    QString patientId;
    QString trialId;
    QString questionnaireId;
    QString ruleId;
    QString severity; ///< e.g. "critical"
    QString message;  ///< the rule's message, written for the coordinator
    QString itemId;   ///< the answer that raised it, when there is one
    std::optional<int> itemValue;
    QString raisedAt;
    QString acknowledgedAt; ///< empty while unacknowledged
    QString acknowledgedBy;
    QString acknowledgeNote;

    bool isAcknowledged() const { return !acknowledgedAt.isEmpty(); }
    /// {"id", "submissionId", "patientId", "trialId", "questionnaireId", "ruleId", "severity", "message",
    ///  "itemId", "itemValue", "raisedAt", "acknowledged": bool, "acknowledgedAt", "acknowledgedBy",
    ///  "acknowledgeNote"} with null for what is not there: the shape GET /api/v1/alerts answers.
    QJsonObject toJson() const;
};

/**
 * Reads safety alerts through a read connection of its own (SQLite WAL: it reads while the writer
 * commits). Create, use and destroy it on one thread, never the GUI thread: the dashboard runs it
 * on a worker thread and passes the results back. Failures are StorageUnavailable.
 */
class AlertReader
{
public:
    enum class Filter { Unacknowledged, All };

    static Expected<std::unique_ptr<AlertReader>> open(const QString &databasePath);
    ~AlertReader();
    AlertReader(const AlertReader &) = delete;
    AlertReader &operator=(const AlertReader &) = delete;

    /// Alerts newest first, at most @p limit of them.
    Expected<QList<AlertRecord>> alerts(Filter filter, int limit = DefaultLimit);
    /// How many alerts no coordinator has acknowledged yet (an index lookup).
    Expected<qint64> unacknowledgedCount();

    static constexpr int DefaultLimit = 500;
    static constexpr int MaxLimit = 5000;

    /// Reads one alert on an open connection (the writer's, inside its transaction); NotFound when missing.
    static Expected<AlertRecord> readAlert(QSqlDatabase &db, qint64 alertId);

private:
    explicit AlertReader(QString connectionName);
    QString m_connectionName;
};

} // namespace SiteRelay
