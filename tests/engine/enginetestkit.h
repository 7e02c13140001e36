#pragma once

#include "rawhttpclient.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QVariant>

namespace SiteRelay::Test {

/**
 * Small helpers for the engine tests: the real API over blocking loopback HTTP (call them from the
 * test thread while the server runs on its own threads) and read-only SQL on the database file.
 */
namespace EngineKit {

/// The completedAt every engine test sends; a fixed past instant keeps bodies reproducible.
inline constexpr auto CompletedAt = "2026-11-26T09:30:00+01:00";

/// {"phq9_q1": value, ..., "phq9_q9": value} or the same for gad7_q1..7: every scored item.
QJsonObject uniformAnswers(const QString &questionnaireId, int value);
/// A valid API v1 body carrying @p answers verbatim (they are checked by the engine, not at ingest).
QByteArray submissionBody(const QString &submissionId, const QString &questionnaireId, const QJsonObject &answers,
                          const QString &patientId = QStringLiteral("P-ENG-1"));
QString newSubmissionId();

/// POST @p path with a JSON body and a bearer token; status 0 if no answer came within @p timeoutMs.
RawResponse post(quint16 port, const QByteArray &path, const QByteArray &token, const QByteArray &body = "{}",
                 int timeoutMs = 10000);
RawResponse postSubmission(quint16 port, const QByteArray &token, const QByteArray &body);
/// Submits @p answers as a new submission; returns its id, or empty if it was not answered 202.
QString submit(quint16 port, const QByteArray &token, const QString &questionnaireId, const QJsonObject &answers);
/// GET /api/v1/submissions/{id}; an empty object if it did not answer 200.
QJsonObject status(quint16 port, const QByteArray &token, const QString &submissionId);
/// The "status" of status(), or "<no answer>".
QString stateOf(quint16 port, const QByteArray &token, const QString &submissionId);
/// GET /api/v1/stats (loopback, so no token needed); an empty object if it did not answer.
QJsonObject stats(quint16 port);
/// The "engine" object of stats().
QJsonObject engineStats(quint16 port);
/// stats()["submissions"][state]: rows in that state, -1 without an answer.
qint64 submissionsIn(quint16 port, const QString &state);
/// The outcome of each attempt in status()["attempts"], in order, e.g. {"retry", "failed"}.
QStringList attemptOutcomes(const QJsonObject &status);

/// Runs one read-only query on the SQLite file through its own short-lived connection.
QList<QVariantList> query(const QString &databasePath, const QString &sql, const QVariantList &binds = {},
                          QString *error = nullptr);
/// The first column of the first row of query(), or an invalid QVariant.
QVariant scalar(const QString &databasePath, const QString &sql, const QVariantList &binds = {});

/// The device id inside a token "srt_ID_SECRET"; audit rows name the actor "coordinator:ID".
qint64 tokenDeviceId(const QByteArray &token);

/// SHA-256 of a file's bytes as lowercase hex; empty if it cannot be read.
QString fileSha256(const QString &path);

} // namespace EngineKit
} // namespace SiteRelay::Test
