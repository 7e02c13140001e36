#include "apiresponse.h"

#include "logging.h"

#include <QJsonDocument>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

ApiResponse ApiResponse::json(int status, const QJsonObject &object)
{
    return {status, "application/json", QJsonDocument(object).toJson(QJsonDocument::Compact), {}};
}

ApiResponse ApiResponse::json(int status, const QJsonArray &array)
{
    return {status, "application/json", QJsonDocument(array).toJson(QJsonDocument::Compact), {}};
}

ApiResponse ApiResponse::text(int status, QByteArray contentType, QByteArray body)
{
    return {status, std::move(contentType), std::move(body), {}};
}

ApiResponse ApiResponse::error(int status, const QString &code, const QString &message, const QString &field)
{
    QJsonObject error{{u"code"_s, code}, {u"message"_s, message}};
    if (!field.isEmpty())
        error.insert(u"field"_s, field);
    return json(status, QJsonObject{{u"error"_s, error}});
}

QString ApiResponse::defaultCode(ErrorCode code)
{
    switch (code) {
    case ErrorCode::InvalidArgument:
        return u"invalid_request"_s;
    case ErrorCode::NotFound:
        return u"not_found"_s;
    case ErrorCode::Conflict:
        return u"conflict"_s;
    case ErrorCode::Unauthenticated:
        return u"unauthenticated"_s;
    case ErrorCode::Forbidden:
        return u"forbidden"_s;
    case ErrorCode::StorageUnavailable:
        return u"storage_unavailable"_s;
    case ErrorCode::Internal:
        return u"internal_error"_s;
    }
    return u"internal_error"_s;
}

ApiResponse ApiResponse::fromError(const Error &error, int retryAfterSeconds)
{
    const QString code = error.reason.isEmpty() ? defaultCode(error.code) : error.reason;
    switch (error.code) {
    case ErrorCode::InvalidArgument:
        return ApiResponse::error(400, code, error.message, error.field);
    case ErrorCode::Unauthenticated: {
        ApiResponse response = ApiResponse::error(401, code, error.message);
        response.addHeader("WWW-Authenticate", "Bearer realm=\"siterelay\"");
        return response;
    }
    case ErrorCode::Forbidden:
        return ApiResponse::error(403, code, error.message);
    case ErrorCode::NotFound:
        return ApiResponse::error(404, code, error.message, error.field);
    case ErrorCode::Conflict:
        return ApiResponse::error(409, code, error.message, error.field);
    case ErrorCode::StorageUnavailable: {
        qCWarning(lcIngest).noquote() << "storage unavailable:" << error.message;
        ApiResponse response = ApiResponse::error(
            503, code, u"The site's database cannot store data right now; nothing was stored. Retry later."_s);
        response.addHeader("Retry-After", QByteArray::number(retryAfterSeconds));
        return response;
    }
    case ErrorCode::Internal:
        break;
    }
    qCWarning(lcIngest).noquote() << "internal error:" << error.message;
    return ApiResponse::error(500, code, u"An internal error occurred; it has been logged."_s);
}

} // namespace SiteRelay
