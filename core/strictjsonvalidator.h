#pragma once

#include "expected.h"

#include <QByteArrayView>

namespace SiteRelay {

/**
 * Checks that a document is JSON exactly as RFC 8259 defines it, before QJsonDocument (which is
 * lenient: it accepts `[2.]`, raw control characters in strings and more) ever sees it.
 *
 * Rejects: anything but one JSON value with optional surrounding whitespace; numbers not matching
 * the RFC grammar (leading zeros, `2.`, `.5`, `+1`, hex, NaN, Infinity); strings with raw control
 * characters (< 0x20), invalid escapes, invalid UTF-8 (overlong forms, surrogates encoded in UTF-8,
 * code points above U+10FFFF, truncated sequences) or lone/mismatched `\u` surrogate escapes;
 * a byte-order mark; trailing commas; comments; single quotes; nesting deeper than @p maxDepth.
 *
 * Pure and thread-safe. Fails with InvalidArgument whose message names the byte offset and the
 * problem, e.g. "invalid JSON at byte 3: a number needs a digit after the decimal point".
 */
class StrictJsonValidator
{
public:
    static Expected<Done> validate(QByteArrayView document, int maxDepth = 64);
};

} // namespace SiteRelay
