#pragma once

#include <QJsonValue>
#include <QString>

#include <optional>

namespace SiteRelay {

/// Small checks on parsed JSON values shared by the definition loader and the scorer. Pure.
class JsonValues
{
public:
    /**
     * QJsonValue keeps every number as a double; an integer is one without a fraction that fits
     * an int. (2.0 cannot be told apart from 2 after parsing and counts as 2.)
     */
    static std::optional<int> exactInt(const QJsonValue &value);

    /// A value for an error message: "null", "true", "1.5", "an array", ... Strings are shown
    /// (shortened to 64 characters) when @p showStrings, else as "a string".
    static QString describe(const QJsonValue &value, bool showStrings);

    /// @p text shortened to 64 characters: what we echo back of untrusted input stays short.
    static QString elided(const QString &text);
};

} // namespace SiteRelay
