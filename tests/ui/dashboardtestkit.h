#pragma once

#include "submission.h"
#include "submissionstore.h"

#include <QFuture>
#include <QList>
#include <QString>

namespace SiteRelay::Test {

/// A PHQ-9 submission for @p patientId from @p deviceId: item 1 answered @p firstAnswer, item 9
/// @p item9 (above 0 raises the critical alert), the rest 0.
NewSubmission phq9Submission(qint64 deviceId, const QString &patientId, int firstAnswer = 1, int item9 = 0,
                             const QString &completedAt = QStringLiteral("2026-11-26T08:30:00.000Z"));
/// The JSON body of the same submission as a tablet posts it.
QByteArray phq9Body(const QString &patientId, int firstAnswer = 1, int item9 = 0,
                    const QString &completedAt = QStringLiteral("2026-11-26T09:30:00+01:00"));

/// Appends every submission; returns the future of the last one (all resolve after their commits).
QFuture<Expected<SubmissionReceipt>> appendAll(SubmissionStore &store, const QList<NewSubmission> &submissions);
/// Sets a submission's state through the writer (the state_counts triggers follow), as the engine would.
QFuture<Expected<Done>> setState(SubmissionStore &store, const QString &submissionId, const QString &state);

/// Posts @p body to /api/v1/submissions over real HTTP; the HTTP status (0 on failure).
int postSubmission(quint16 port, const QByteArray &token, const QByteArray &body);

} // namespace SiteRelay::Test
