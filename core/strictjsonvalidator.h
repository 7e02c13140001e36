#pragma once

#include "expected.h"

#include <QByteArrayView>

namespace SiteRelay {

/**
 * Checks that a document is JSON exactly as RFC 8259 defines it, before QJsonDocument (which is
 * lenient: it accepts `[2.]`, raw control characters in strings and more) ever sees it.
 *
 * Rejects: an empty document; anything but one JSON value with optional surrounding whitespace
 * (space, tab, LF, CR); numbers not matching the RFC grammar (leading zeros, `2.`, `.5`, `+1`, hex,
 * NaN, Infinity); strings with raw control characters (< 0x20), invalid escapes, invalid UTF-8
 * (overlong forms, surrogates encoded in UTF-8, code points above U+10FFFF, truncated sequences,
 * stray continuation bytes) or lone/mismatched `\u` surrogate escapes; a byte-order mark; trailing
 * commas; comments; single quotes; nesting deeper than @p maxDepth. Numbers are only checked
 * against the grammar, so huge or tiny magnitudes (`1e99999`) pass.
 *
 * One pass over the bytes, no heap allocation unless it fails, and no recursion: the nesting is
 * tracked in a fixed 512-byte bit stack, so @p maxDepth is clamped to [0, maxSupportedDepth].
 *
 * Pure and thread-safe. Fails with InvalidArgument whose message names the 0-based byte offset and
 * the problem, e.g. "invalid JSON at byte 3: a number needs a digit after the decimal point".
 */
class StrictJsonValidator
{
public:
    static constexpr int maxSupportedDepth = 4096;

    static Expected<Done> validate(QByteArrayView document, int maxDepth = 64);
};

} // namespace SiteRelay
