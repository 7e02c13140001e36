#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>

namespace SiteRelay::Test {

struct SentSubmission;

/// One row of the submissions table, and how many 'received' audit rows name it.
struct StoredSubmission
{
    qint64 deviceId = 0;
    QString source;
    QString patientId;
    QString trialId;
    QString questionnaireId;
    QString completedAt;
    QString answers;
    QByteArray contentHash;
    QString state;
    QString receivedAt;
    QString updatedAt;
    int receivedAuditRows = 0;

    /// Empty if this row holds everything @p sent carried (from device @p deviceId), the receipt's
    /// received_at, and exactly one 'received' audit row; otherwise what differs.
    QString mismatchWith(const SentSubmission &sent, qint64 deviceId) const;
};

/**
 * What a SiteRelay database holds, read through a separate QSQLITE connection after the server
 * process has ended: the test looks at the file itself, not at what the server says about it.
 */
struct DatabaseSnapshot
{
    QString error;               ///< empty when everything could be read
    QString integrityCheck;      ///< PRAGMA integrity_check, its rows joined
    qint64 rowCount = -1;        ///< SELECT count(*) FROM submissions
    qint64 duplicatedIds = -1;   ///< submission_ids that occur more than once
    qint64 pendingCount = -1;    ///< state_counts for 'pending'
    qint64 pendingRows = -1;     ///< submissions whose state is 'pending'
    qint64 stateCountTotal = -1; ///< sum over state_counts
    QString stateCountErrors;    ///< states whose state_counts row differs from the rows in that state
    QString stateSummary;        ///< "pending 3, failed 120": the non-zero state_counts, for the log
    qint64 orphanAuditRows = -1; ///< 'received' audit rows for no stored submission
    QHash<QString, StoredSubmission> submissions;

    static DatabaseSnapshot read(const QString &databasePath);
};

} // namespace SiteRelay::Test
