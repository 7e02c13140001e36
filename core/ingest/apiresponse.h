#pragma once

#include "error.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QPair>

namespace SiteRelay {

/// A response to write: status, headers, body.
struct ApiResponse
{
    int status = 200;
    QByteArray contentType = "application/json";
    QByteArray body;
    QList<QPair<QByteArray, QByteArray>> headers;

    void addHeader(const QByteArray &name, const QByteArray &value) { headers.append({name, value}); }

    static ApiResponse json(int status, const QJsonObject &object);
    static ApiResponse json(int status, const QJsonArray &array);
    static ApiResponse text(int status, QByteArray contentType, QByteArray body);
    /// {"error":{"code","message","field"?}}
    static ApiResponse error(int status, const QString &code, const QString &message, const QString &field = {});
    /**
     * The one place where a core Error becomes an HTTP status: InvalidArgument 400, Unauthenticated
     * 401, Forbidden 403, NotFound 404, Conflict 409, StorageUnavailable 503 with Retry-After,
     * Internal 500 (its details stay in the log).
     */
    static ApiResponse fromError(const Error &error, int retryAfterSeconds = 5);
    /// The default API error code for an ErrorCode, used when Error::reason is empty.
    static QString defaultCode(ErrorCode code);
};

} // namespace SiteRelay
