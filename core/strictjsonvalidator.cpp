#include "strictjsonvalidator.h"

#include <QString>

#include <algorithm>
#include <array>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

namespace {

enum class Problem : quint8 {
    EmptyDocument,
    ByteOrderMark,
    OnlyWhitespace,
    UnexpectedValueStart,
    SingleQuote,
    Comment,
    PlusSign,
    LeadingDecimalPoint,
    MinusWithoutDigit,
    LeadingZero,
    HexNumber,
    NoDigitAfterDecimalPoint,
    NoExponentDigit,
    InvalidLiteral,
    UnterminatedString,
    ControlCharacter,
    InvalidEscape,
    BadUnicodeEscape,
    UnpairedHighSurrogate,
    LoneLowSurrogate,
    Utf8StrayContinuation,
    Utf8Overlong,
    Utf8Surrogate,
    Utf8AboveUnicode,
    Utf8ImpossibleByte,
    Utf8Truncated,
    KeyNotString,
    MissingColon,
    ArraySeparator,
    ObjectSeparator,
    TrailingCommaInArray,
    TrailingCommaInObject,
    EndsInsideArray,
    EndsInsideObject,
    TooDeep,
    TrailingData,
};

struct Failure
{
    qsizetype offset = 0;
    Problem problem = Problem::EmptyDocument;
    uchar byte = 0; // only meaningful for the problems whose message quotes the offending byte
};

constexpr bool isDigit(uchar c)
{
    return c >= '0' && c <= '9';
}

constexpr bool isContinuation(uchar c)
{
    return (c & 0xC0) == 0x80;
}

constexpr bool isHighSurrogate(uint unit)
{
    return unit >= 0xD800 && unit <= 0xDBFF;
}

constexpr bool isLowSurrogate(uint unit)
{
    return unit >= 0xDC00 && unit <= 0xDFFF;
}

// Strings are almost entirely printable ASCII; one table lookup per byte lets the common case skip the
// separate checks for the quote, the backslash, control characters and UTF-8 lead bytes.
constexpr std::array<bool, 256> makePlainStringBytes()
{
    std::array<bool, 256> table{};
    for (int c = 0x20; c < 0x80; ++c)
        table[c] = c != '"' && c != '\\';
    return table;
}
constexpr std::array<bool, 256> plainStringBytes = makePlainStringBytes();

class Scanner
{
public:
    Scanner(QByteArrayView document, int maxDepth)
        : m_begin(reinterpret_cast<const uchar *>(document.data()))
        , m_p(m_begin)
        , m_end(m_begin + document.size())
        , m_maxDepth(std::clamp(maxDepth, 0, StrictJsonValidator::maxSupportedDepth))
    {}

    bool run();
    const Failure &failure() const { return m_failure; }
    int maxDepth() const { return m_maxDepth; }

private:
    enum class State { Value, Key, AfterValue };

    qsizetype offset() const { return m_p - m_begin; }
    bool fail(qsizetype offset, Problem problem, uchar byte = 0)
    {
        m_failure = {offset, problem, byte};
        return false;
    }

    void skipWhitespace()
    {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t'))
            ++m_p;
    }
    void skipDigits()
    {
        while (m_p < m_end && isDigit(*m_p))
            ++m_p;
    }

    void push(bool isObject)
    {
        const quint64 bit = quint64(1) << (m_depth % 64);
        if (isObject)
            m_containerIsObject[m_depth / 64] |= bit;
        else
            m_containerIsObject[m_depth / 64] &= ~bit;
        ++m_depth;
    }
    bool innermostIsObject() const
    {
        const int top = m_depth - 1;
        return (m_containerIsObject[top / 64] >> (top % 64)) & 1;
    }
    Problem endsInsideContainer() const
    {
        return innermostIsObject() ? Problem::EndsInsideObject : Problem::EndsInsideArray;
    }

    bool startsWithByteOrderMark() const;
    bool scanNumber();
    bool scanLiteral();
    bool scanString();
    bool scanEscape();
    bool readHex4(uint &unit);
    bool scanUtf8Sequence();

    const uchar *const m_begin;
    const uchar *m_p;
    const uchar *const m_end;
    const int m_maxDepth;
    int m_depth = 0;
    qsizetype m_stringStart = 0;
    // One bit per open container (set = object) so that arbitrarily hostile nesting needs no heap and no
    // recursion; maxDepth is clamped so this can never overflow.
    std::array<quint64, StrictJsonValidator::maxSupportedDepth / 64> m_containerIsObject{};
    Failure m_failure;
};

bool Scanner::run()
{
    if (m_begin == m_end)
        return fail(0, Problem::EmptyDocument);
    if (startsWithByteOrderMark())
        return fail(0, Problem::ByteOrderMark);

    State state = State::Value;
    for (;;) {
        skipWhitespace();
        switch (state) {
        case State::Value: {
            if (m_p == m_end)
                return fail(offset(), m_depth == 0 ? Problem::OnlyWhitespace : endsInsideContainer());
            const uchar c = *m_p;
            switch (c) {
            case '[':
            case '{': {
                if (m_depth >= m_maxDepth)
                    return fail(offset(), Problem::TooDeep);
                const bool isObject = c == '{';
                push(isObject);
                ++m_p;
                skipWhitespace();
                if (m_p < m_end && *m_p == (isObject ? '}' : ']')) {
                    ++m_p;
                    --m_depth;
                    state = State::AfterValue;
                } else {
                    state = isObject ? State::Key : State::Value;
                }
                continue;
            }
            case '"':
                if (!scanString())
                    return false;
                break;
            case 't':
            case 'f':
            case 'n':
                if (!scanLiteral())
                    return false;
                break;
            case '-':
            case '0':
            case '1':
            case '2':
            case '3':
            case '4':
            case '5':
            case '6':
            case '7':
            case '8':
            case '9':
                if (!scanNumber())
                    return false;
                break;
            case '\'':
                return fail(offset(), Problem::SingleQuote);
            case '/':
                return fail(offset(), Problem::Comment);
            case '+':
                return fail(offset(), Problem::PlusSign);
            case '.':
                return fail(offset(), Problem::LeadingDecimalPoint);
            default:
                return fail(offset(), Problem::UnexpectedValueStart, c);
            }
            state = State::AfterValue;
            continue;
        }
        case State::Key:
            if (m_p == m_end)
                return fail(offset(), Problem::EndsInsideObject);
            if (*m_p != '"')
                return fail(offset(), Problem::KeyNotString);
            if (!scanString())
                return false;
            skipWhitespace();
            if (m_p == m_end)
                return fail(offset(), Problem::EndsInsideObject);
            if (*m_p != ':')
                return fail(offset(), Problem::MissingColon, *m_p);
            ++m_p;
            state = State::Value;
            continue;
        case State::AfterValue: {
            if (m_depth == 0)
                return m_p == m_end || fail(offset(), Problem::TrailingData);
            if (m_p == m_end)
                return fail(offset(), endsInsideContainer());
            const bool inObject = innermostIsObject();
            const uchar close = inObject ? '}' : ']';
            if (*m_p == close) {
                ++m_p;
                --m_depth;
                continue;
            }
            if (*m_p != ',')
                return fail(offset(), inObject ? Problem::ObjectSeparator : Problem::ArraySeparator, *m_p);
            const qsizetype comma = offset();
            ++m_p;
            skipWhitespace();
            if (m_p < m_end && *m_p == close)
                return fail(comma, inObject ? Problem::TrailingCommaInObject : Problem::TrailingCommaInArray);
            state = inObject ? State::Key : State::Value;
            continue;
        }
        }
    }
}

bool Scanner::startsWithByteOrderMark() const
{
    // UTF-16 marks too: a UTF-16 body would otherwise be reported as a baffling "unexpected byte 0xFF".
    const qsizetype size = m_end - m_begin;
    if (size >= 3 && m_begin[0] == 0xEF && m_begin[1] == 0xBB && m_begin[2] == 0xBF)
        return true;
    return size >= 2 && ((m_begin[0] == 0xFE && m_begin[1] == 0xFF) || (m_begin[0] == 0xFF && m_begin[1] == 0xFE));
}

bool Scanner::scanNumber()
{
    if (*m_p == '-') {
        ++m_p;
        if (m_p == m_end || !isDigit(*m_p))
            return fail(offset(), Problem::MinusWithoutDigit);
    }
    if (*m_p == '0') {
        ++m_p;
        if (m_p < m_end && isDigit(*m_p))
            return fail(offset() - 1, Problem::LeadingZero);
        if (m_p < m_end && (*m_p == 'x' || *m_p == 'X'))
            return fail(offset() - 1, Problem::HexNumber);
    } else {
        skipDigits();
    }
    if (m_p < m_end && *m_p == '.') {
        ++m_p;
        if (m_p == m_end || !isDigit(*m_p))
            return fail(offset(), Problem::NoDigitAfterDecimalPoint);
        skipDigits();
    }
    if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
        ++m_p;
        if (m_p < m_end && (*m_p == '+' || *m_p == '-'))
            ++m_p;
        if (m_p == m_end || !isDigit(*m_p))
            return fail(offset(), Problem::NoExponentDigit);
        skipDigits();
    }
    return true;
}

bool Scanner::scanLiteral()
{
    const char *const word = *m_p == 't' ? "true" : *m_p == 'f' ? "false" : "null";
    const qsizetype length = *m_p == 'f' ? 5 : 4;
    if (m_end - m_p < length || !std::equal(word, word + length, m_p))
        return fail(offset(), Problem::InvalidLiteral);
    m_p += length;
    return true;
}

bool Scanner::scanString()
{
    m_stringStart = offset();
    ++m_p;
    for (;;) {
        while (m_p < m_end && plainStringBytes[*m_p])
            ++m_p;
        if (m_p == m_end)
            return fail(m_stringStart, Problem::UnterminatedString);
        const uchar c = *m_p;
        if (c == '"') {
            ++m_p;
            return true;
        }
        if (c == '\\') {
            if (!scanEscape())
                return false;
        } else if (c < 0x20) {
            return fail(offset(), Problem::ControlCharacter, c);
        } else if (!scanUtf8Sequence()) {
            return false;
        }
    }
}

bool Scanner::scanEscape()
{
    const qsizetype at = offset();
    ++m_p;
    if (m_p == m_end)
        return fail(m_stringStart, Problem::UnterminatedString);
    switch (*m_p) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        ++m_p;
        return true;
    case 'u':
        ++m_p;
        break;
    default:
        return fail(at, Problem::InvalidEscape, *m_p);
    }

    uint unit = 0;
    if (!readHex4(unit))
        return fail(at, Problem::BadUnicodeEscape);
    if (isLowSurrogate(unit))
        return fail(at, Problem::LoneLowSurrogate);
    if (!isHighSurrogate(unit))
        return true;
    if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u')
        return fail(at, Problem::UnpairedHighSurrogate);
    const qsizetype second = offset();
    m_p += 2;
    if (!readHex4(unit))
        return fail(second, Problem::BadUnicodeEscape);
    if (!isLowSurrogate(unit))
        return fail(at, Problem::UnpairedHighSurrogate);
    return true;
}

bool Scanner::readHex4(uint &unit)
{
    if (m_end - m_p < 4)
        return false;
    unit = 0;
    for (int i = 0; i < 4; ++i, ++m_p) {
        const uchar c = *m_p;
        uint digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            digit = c - 'A' + 10;
        else
            return false;
        unit = unit << 4 | digit;
    }
    return true;
}

// Well-formed sequences exactly as in Unicode 15, table 3-7: the lead byte fixes the length, and for a few
// lead bytes the second byte's range is narrowed to exclude overlong forms, surrogates and values above
// U+10FFFF.
bool Scanner::scanUtf8Sequence()
{
    const qsizetype at = offset();
    const uchar lead = *m_p;
    int length = 0;
    uchar secondMin = 0x80;
    uchar secondMax = 0xBF;
    Problem outOfRange = Problem::Utf8Overlong;
    if (lead < 0xC0) {
        return fail(at, Problem::Utf8StrayContinuation);
    } else if (lead < 0xC2) {
        return fail(at, Problem::Utf8Overlong);
    } else if (lead < 0xE0) {
        length = 2;
    } else if (lead < 0xF0) {
        length = 3;
        if (lead == 0xE0) {
            secondMin = 0xA0;
        } else if (lead == 0xED) {
            secondMax = 0x9F;
            outOfRange = Problem::Utf8Surrogate;
        }
    } else if (lead < 0xF5) {
        length = 4;
        if (lead == 0xF0) {
            secondMin = 0x90;
        } else if (lead == 0xF4) {
            secondMax = 0x8F;
            outOfRange = Problem::Utf8AboveUnicode;
        }
    } else if (lead < 0xF8) {
        return fail(at, Problem::Utf8AboveUnicode);
    } else {
        return fail(at, Problem::Utf8ImpossibleByte, lead);
    }

    for (int i = 1; i < length; ++i) {
        if (m_end - m_p <= i || !isContinuation(m_p[i]))
            return fail(at, Problem::Utf8Truncated);
    }
    if (m_p[1] < secondMin || m_p[1] > secondMax)
        return fail(at, outOfRange);
    m_p += length;
    return true;
}

QString hexByte(uchar byte)
{
    return u"0x"_s + QString::number(byte, 16).toUpper().rightJustified(2, u'0');
}

QString describeByte(uchar byte)
{
    if (byte > 0x20 && byte < 0x7F)
        return u"'"_s + QLatin1Char(char(byte)) + u"'"_s;
    return u"byte "_s + hexByte(byte);
}

QString suggestedEscape(uchar control)
{
    switch (control) {
    case '\b':
        return u"\\b"_s;
    case '\t':
        return u"\\t"_s;
    case '\n':
        return u"\\n"_s;
    case '\f':
        return u"\\f"_s;
    case '\r':
        return u"\\r"_s;
    default:
        return u"\\u00"_s + QString::number(control, 16).toUpper().rightJustified(2, u'0');
    }
}

QString describe(const Failure &failure, int maxDepth)
{
    switch (failure.problem) {
    case Problem::EmptyDocument:
        return u"the document is empty"_s;
    case Problem::ByteOrderMark:
        return u"a byte-order mark is not allowed; JSON must be UTF-8 without a BOM"_s;
    case Problem::OnlyWhitespace:
        return u"the document contains only whitespace, no JSON value"_s;
    case Problem::UnexpectedValueStart:
        return u"unexpected "_s + describeByte(failure.byte) + u" where a JSON value should start"_s;
    case Problem::SingleQuote:
        return u"strings must be in double quotes, not single quotes"_s;
    case Problem::Comment:
        return u"comments are not allowed in JSON"_s;
    case Problem::PlusSign:
        return u"a number must not start with '+'"_s;
    case Problem::LeadingDecimalPoint:
        return u"a number needs a digit before the decimal point"_s;
    case Problem::MinusWithoutDigit:
        return u"a minus sign must be followed by a digit"_s;
    case Problem::LeadingZero:
        return u"a number must not have leading zeros"_s;
    case Problem::HexNumber:
        return u"hexadecimal numbers are not allowed"_s;
    case Problem::NoDigitAfterDecimalPoint:
        return u"a number needs a digit after the decimal point"_s;
    case Problem::NoExponentDigit:
        return u"an exponent needs at least one digit"_s;
    case Problem::InvalidLiteral:
        return u"invalid literal; expected true, false or null"_s;
    case Problem::UnterminatedString:
        return u"unterminated string: the document ends before its closing quote"_s;
    case Problem::ControlCharacter:
        return u"raw control character "_s + hexByte(failure.byte) + u" inside a string; escape it as "_s +
               suggestedEscape(failure.byte);
    case Problem::InvalidEscape:
        return u"invalid escape \\ followed by "_s + describeByte(failure.byte) +
               u"; only \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX are allowed"_s;
    case Problem::BadUnicodeEscape:
        return u"\\u must be followed by four hexadecimal digits"_s;
    case Problem::UnpairedHighSurrogate:
        return u"a high surrogate \\uD800-\\uDBFF must be followed by a low surrogate \\uDC00-\\uDFFF"_s;
    case Problem::LoneLowSurrogate:
        return u"a low surrogate \\uDC00-\\uDFFF without a high surrogate before it"_s;
    case Problem::Utf8StrayContinuation:
        return u"invalid UTF-8 sequence: a continuation byte without a lead byte"_s;
    case Problem::Utf8Overlong:
        return u"invalid UTF-8 sequence: overlong encoding"_s;
    case Problem::Utf8Surrogate:
        return u"invalid UTF-8 sequence: a UTF-16 surrogate (U+D800-U+DFFF) encoded in UTF-8"_s;
    case Problem::Utf8AboveUnicode:
        return u"invalid UTF-8 sequence: a code point above U+10FFFF"_s;
    case Problem::Utf8ImpossibleByte:
        return u"invalid UTF-8 sequence: byte "_s + hexByte(failure.byte) + u" never occurs in UTF-8"_s;
    case Problem::Utf8Truncated:
        return u"invalid UTF-8 sequence: truncated multi-byte character"_s;
    case Problem::KeyNotString:
        return u"an object key must be a string in double quotes"_s;
    case Problem::MissingColon:
        return u"expected ':' after an object key, found "_s + describeByte(failure.byte);
    case Problem::ArraySeparator:
        return u"expected ',' or ']' after an array element, found "_s + describeByte(failure.byte);
    case Problem::ObjectSeparator:
        return u"expected ',' or '}' after an object member, found "_s + describeByte(failure.byte);
    case Problem::TrailingCommaInArray:
        return u"trailing comma before ]"_s;
    case Problem::TrailingCommaInObject:
        return u"trailing comma before }"_s;
    case Problem::EndsInsideArray:
        return u"the document ends inside an array"_s;
    case Problem::EndsInsideObject:
        return u"the document ends inside an object"_s;
    case Problem::TooDeep:
        return u"nesting deeper than "_s + QString::number(maxDepth) + u" levels"_s;
    case Problem::TrailingData:
        return u"unexpected data after the JSON value"_s;
    }
    return u"unknown problem"_s;
}

} // namespace

Expected<Done> StrictJsonValidator::validate(QByteArrayView document, int maxDepth)
{
    Scanner scanner(document, maxDepth);
    if (scanner.run())
        return Done{};
    const Failure &failure = scanner.failure();
    return Error{ErrorCode::InvalidArgument,
                 u"invalid JSON at byte "_s + QString::number(failure.offset) + u": "_s +
                     describe(failure, scanner.maxDepth()),
                 QString()};
}

} // namespace SiteRelay
