#pragma once

#include <QString>

namespace SiteRelay {

/**
 * What went wrong, in terms a caller can act on. The ingest layer maps each code to one HTTP
 * status in one place (ApiErrorMapper); the command line prints the message.
 */
enum class ErrorCode {
    InvalidArgument,    ///< the caller sent something malformed or out of range
    NotFound,           ///< no such record (or not visible to this caller)
    Conflict,           ///< the record exists with other content
    Unauthenticated,    ///< no, unknown or revoked credentials
    Forbidden,          ///< authenticated but not allowed
    StorageUnavailable, ///< the database could not commit (disk full, read-only, locked)
    Internal,           ///< a bug or an unexpected state; details are in the debug log
};

struct Error
{
    ErrorCode code = ErrorCode::Internal;
    QString message;
    QString field;  ///< the request field at fault, when there is one
    QString reason; ///< optional machine-readable refinement, e.g. "missing_field" (API error code)

    static Error invalid(const QString &field, const QString &message, const QString &reason = QString())
    {
        return {ErrorCode::InvalidArgument, message, field, reason};
    }
};

} // namespace SiteRelay
