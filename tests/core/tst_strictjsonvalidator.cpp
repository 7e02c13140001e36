#include "strictjsonvalidator.h"
#include "testpaths.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cstring>
#include <memory>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;

namespace {

// Keeps embedded NUL bytes, which a plain `const char *` conversion would cut off.
template <qsizetype N>
QByteArray bytes(const char (&literal)[N])
{
    return QByteArray(literal, N - 1);
}

QString messageOf(const Expected<Done> &result)
{
    return result ? u"(accepted)"_s : result.error().message;
}

struct ImplementationDefinedCase
{
    const char *file;
    bool accepted;
};

// JSONTestSuite leaves these to the parser. Numbers are only checked against the grammar (range is the
// questionnaire's business), while anything that is not valid Unicode in UTF-8 is refused because health
// records must round-trip exactly.
constexpr ImplementationDefinedCase implementationDefinedCases[] = {
    {"i_number_double_huge_neg_exp.json", true},
    {"i_number_huge_exp.json", true},
    {"i_number_neg_int_huge_exp.json", true},
    {"i_number_pos_double_huge_exp.json", true},
    {"i_number_real_neg_overflow.json", true},
    {"i_number_real_pos_overflow.json", true},
    {"i_number_real_underflow.json", true},
    {"i_number_too_big_neg_int.json", true},
    {"i_number_too_big_pos_int.json", true},
    {"i_number_very_big_negative_int.json", true},
    {"i_object_key_lone_2nd_surrogate.json", false},
    {"i_string_1st_surrogate_but_2nd_missing.json", false},
    {"i_string_1st_valid_surrogate_2nd_invalid.json", false},
    {"i_string_UTF-16LE_with_BOM.json", false},
    {"i_string_UTF-8_invalid_sequence.json", false},
    {"i_string_UTF8_surrogate_U+D800.json", false},
    {"i_string_incomplete_surrogate_and_escape_valid.json", false},
    {"i_string_incomplete_surrogate_pair.json", false},
    {"i_string_incomplete_surrogates_escape_valid.json", false},
    {"i_string_invalid_lonely_surrogate.json", false},
    {"i_string_invalid_surrogate.json", false},
    {"i_string_invalid_utf-8.json", false},
    {"i_string_inverted_surrogates_U+1D11E.json", false},
    {"i_string_iso_latin_1.json", false},
    {"i_string_lone_second_surrogate.json", false},
    {"i_string_lone_utf8_continuation_byte.json", false},
    {"i_string_not_in_unicode_range.json", false},
    {"i_string_overlong_sequence_2_bytes.json", false},
    {"i_string_overlong_sequence_6_bytes.json", false},
    {"i_string_overlong_sequence_6_bytes_null.json", false},
    {"i_string_truncated-utf-8.json", false},
    {"i_string_utf16BE_no_BOM.json", false},
    {"i_string_utf16LE_no_BOM.json", false},
    // 500 levels is far beyond the default maxDepth of 64 that the ingest path uses.
    {"i_structure_500_nested_arrays.json", false},
    {"i_structure_UTF-8_BOM_empty_object.json", false},
};

} // namespace

class TstStrictJsonValidator : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void specificDocuments_data();
    void specificDocuments();
    void jsonTestSuite();
    void depthLimit();
    void hostileDepthFailsFast();
    void maxDepthIsClamped();
    void largeDocumentPasses();
    void truncatedDocumentsAreRejectedWithoutOverreading();
};

void TstStrictJsonValidator::specificDocuments_data()
{
    QTest::addColumn<QByteArray>("document");
    QTest::addColumn<int>("offset"); // -1: must be accepted
    QTest::addColumn<QString>("messagePart");

    // Accepted
    QTest::addRow("top-level number") << bytes("42") << -1 << QString();
    QTest::addRow("top-level string") << bytes("\"x\"") << -1 << QString();
    QTest::addRow("top-level literal in whitespace") << bytes(" \t\r\nnull \n") << -1 << QString();
    QTest::addRow("nested containers")
        << bytes(R"({"a":[1,-0.5e+10,0,-0,1E-2,true,false,null,{},[]],"b":"", "c" : { "d" : [ ] } })") << -1
        << QString();
    QTest::addRow("every escape") << bytes(R"(["\"\\\/\b\f\n\r\t\u00e9\uD834\uDD1E\u0000"])") << -1 << QString();
    QTest::addRow("UTF-8 of every length") << bytes("[\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"]") << -1 << QString();
    QTest::addRow("UTF-8 boundaries")
        << bytes(
               "[\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"]")
        << -1 << QString();
    QTest::addRow("DEL is not a control character") << bytes("[\"\x7F\"]") << -1 << QString();
    QTest::addRow("huge exponent") << bytes("[1e99999]") << -1 << QString();

    // Document level
    QTest::addRow("empty") << bytes("") << 0 << u"the document is empty"_s;
    QTest::addRow("only whitespace") << bytes(" \n") << 2 << u"only whitespace"_s;
    QTest::addRow("UTF-8 BOM") << bytes("\xEF\xBB\xBF{}") << 0 << u"byte-order mark"_s;
    QTest::addRow("UTF-16 BOM") << bytes("\xFF\xFE[\0]\0") << 0 << u"byte-order mark"_s;
    QTest::addRow("NUL byte") << bytes("\0") << 0 << u"unexpected byte 0x00 where a JSON value should start"_s;
    QTest::addRow("form feed is not whitespace") << bytes("[\f1]") << 1 << u"unexpected byte 0x0C"_s;
    QTest::addRow("second value") << bytes("{} {}") << 3 << u"unexpected data after the JSON value"_s;
    QTest::addRow("extra bracket") << bytes("[1]]") << 3 << u"unexpected data after the JSON value"_s;
    QTest::addRow("trailing NUL") << bytes("[1]\0") << 3 << u"unexpected data after the JSON value"_s;
    QTest::addRow("comment") << bytes("/* c */[1]") << 0 << u"comments are not allowed"_s;
    QTest::addRow("non-ASCII outside a string") << bytes("[\xC3\xA9]") << 1 << u"unexpected byte 0xC3"_s;

    // Numbers
    QTest::addRow("no digit after point") << bytes("[2.]") << 3 << u"a number needs a digit after the decimal point"_s;
    QTest::addRow("point then exponent") << bytes("[2.e3]") << 3 << u"a digit after the decimal point"_s;
    QTest::addRow("no digit before point") << bytes("[.5]") << 1 << u"a digit before the decimal point"_s;
    QTest::addRow("plus sign") << bytes("[+1]") << 1 << u"must not start with '+'"_s;
    QTest::addRow("leading zero") << bytes("[01]") << 1 << u"must not have leading zeros"_s;
    QTest::addRow("negative leading zero") << bytes("[-012]") << 2 << u"must not have leading zeros"_s;
    QTest::addRow("hex") << bytes("[0x1F]") << 1 << u"hexadecimal numbers are not allowed"_s;
    QTest::addRow("lone minus") << bytes("[-]") << 2 << u"a minus sign must be followed by a digit"_s;
    QTest::addRow("-Infinity") << bytes("[-Infinity]") << 2 << u"a minus sign must be followed by a digit"_s;
    QTest::addRow("NaN") << bytes("[NaN]") << 1 << u"unexpected 'N' where a JSON value should start"_s;
    QTest::addRow("empty exponent") << bytes("[1e]") << 3 << u"an exponent needs at least one digit"_s;
    QTest::addRow("signed empty exponent") << bytes("[1E+]") << 4 << u"an exponent needs at least one digit"_s;
    QTest::addRow("letter after number") << bytes("[1.5e3x]") << 6
                                         << u"expected ',' or ']' after an array element, found 'x'"_s;

    // Literals
    QTest::addRow("truncated literal") << bytes("[tru]") << 1 << u"invalid literal; expected true, false or null"_s;
    QTest::addRow("capitalised literal") << bytes("[True]") << 1 << u"unexpected 'T'"_s;
    QTest::addRow("literal with extra letter") << bytes("[nulll]") << 5 << u"after an array element, found 'l'"_s;

    // Strings
    QTest::addRow("raw tab") << bytes("[\"a\tb\"]") << 3
                             << u"raw control character 0x09 inside a string; escape it as \\t"_s;
    QTest::addRow("raw newline") << bytes("[\"\n\"]") << 2
                                 << u"raw control character 0x0A inside a string; escape it as \\n"_s;
    QTest::addRow("raw NUL") << bytes("[\"\0\"]") << 2
                             << u"raw control character 0x00 inside a string; escape it as \\u0000"_s;
    QTest::addRow("single quotes") << bytes("['a']") << 1 << u"double quotes, not single quotes"_s;
    QTest::addRow("unknown escape") << bytes(R"(["\x41"])") << 2 << u"invalid escape \\ followed by 'x'"_s;
    QTest::addRow("escaped non-ASCII") << bytes("[\"\\\xC3\xA9\"]") << 2
                                       << u"invalid escape \\ followed by byte 0xC3"_s;
    QTest::addRow("bad hex") << bytes(R"(["\u12G4"])") << 2 << u"\\u must be followed by four hexadecimal digits"_s;
    QTest::addRow("short hex at end") << bytes(R"(["\u12)") << 2 << u"four hexadecimal digits"_s;
    QTest::addRow("lone high surrogate") << bytes(R"(["\uD834"])") << 2
                                         << u"a high surrogate \\uD800-\\uDBFF must be followed by a low surrogate"_s;
    QTest::addRow("high surrogate then BMP") << bytes(R"(["\uD834\u0041"])") << 2 << u"must be followed by a low"_s;
    QTest::addRow("high surrogate then bad hex") << bytes(R"(["\uD834\uZZZZ"])") << 8 << u"four hexadecimal digits"_s;
    QTest::addRow("lone low surrogate") << bytes(R"(["\uDD1E"])") << 2
                                        << u"a low surrogate \\uDC00-\\uDFFF without a high surrogate"_s;
    QTest::addRow("pair then lone low") << bytes(R"(["\uD834\uDD1E\uDD1E"])") << 14 << u"without a high surrogate"_s;
    QTest::addRow("unterminated string") << bytes("[\"abc") << 1 << u"unterminated string"_s;
    QTest::addRow("unterminated after backslash") << bytes("[\"abc\\") << 1 << u"unterminated string"_s;

    // UTF-8 inside strings
    QTest::addRow("overlong 2 bytes") << bytes("[\"\xC0\xAF\"]") << 2 << u"invalid UTF-8 sequence: overlong"_s;
    QTest::addRow("overlong 3 bytes") << bytes("[\"\xE0\x80\xAF\"]") << 2 << u"invalid UTF-8 sequence: overlong"_s;
    QTest::addRow("overlong 4 bytes") << bytes("[\"\xF0\x8F\xBF\xBF\"]") << 2 << u"invalid UTF-8 sequence: overlong"_s;
    QTest::addRow("UTF-8 surrogate") << bytes("[\"\xED\xA0\x80\"]") << 2
                                     << u"invalid UTF-8 sequence: a UTF-16 surrogate"_s;
    QTest::addRow("above U+10FFFF") << bytes("[\"\xF4\x90\x80\x80\"]") << 2 << u"a code point above U+10FFFF"_s;
    QTest::addRow("F5 lead byte") << bytes("[\"\xF5\x80\x80\x80\"]") << 2 << u"a code point above U+10FFFF"_s;
    QTest::addRow("stray continuation") << bytes("[\"\x80\"]") << 2 << u"a continuation byte without a lead byte"_s;
    QTest::addRow("impossible byte") << bytes("[\"a\xFF\"]") << 3 << u"byte 0xFF never occurs in UTF-8"_s;
    QTest::addRow("truncated before quote") << bytes("[\"a\xE2\x82\"]") << 3 << u"truncated multi-byte character"_s;
    QTest::addRow("truncated at end") << bytes("\"\xF0\x9F\x98") << 1 << u"truncated multi-byte character"_s;
    QTest::addRow("Latin-1") << bytes("[\"caf\xE9\"]") << 5 << u"invalid UTF-8 sequence"_s;

    // Structure
    QTest::addRow("trailing comma in array") << bytes("[1,]") << 2 << u"trailing comma before ]"_s;
    QTest::addRow("trailing comma in object") << bytes("{\"a\":1 , }") << 7 << u"trailing comma before }"_s;
    QTest::addRow("leading comma") << bytes("[,1]") << 1 << u"unexpected ','"_s;
    QTest::addRow("missing comma") << bytes("[1 2]") << 3 << u"expected ',' or ']' after an array element, found '2'"_s;
    QTest::addRow("mismatched bracket") << bytes("[1}") << 2 << u"expected ',' or ']'"_s;
    QTest::addRow("close without value") << bytes("[}") << 1 << u"unexpected '}'"_s;
    QTest::addRow("missing colon") << bytes("{\"a\" 1}") << 5 << u"expected ':' after an object key, found '1'"_s;
    QTest::addRow("missing member comma")
        << bytes("{\"a\":1 \"b\":2}") << 7 << u"expected ',' or '}' after an object member, found '\"'"_s;
    QTest::addRow("unquoted key") << bytes("{a:1}") << 1 << u"an object key must be a string in double quotes"_s;
    QTest::addRow("number key") << bytes("{1:1}") << 1 << u"an object key must be a string"_s;
    QTest::addRow("missing member value") << bytes("{\"a\":}") << 5 << u"unexpected '}'"_s;
    QTest::addRow("open array") << bytes("[1") << 2 << u"the document ends inside an array"_s;
    QTest::addRow("open array after comma") << bytes("[1,") << 3 << u"the document ends inside an array"_s;
    QTest::addRow("open object") << bytes("{\"a\":") << 5 << u"the document ends inside an object"_s;
    QTest::addRow("open object after key") << bytes("{\"a\"") << 4 << u"the document ends inside an object"_s;
}

void TstStrictJsonValidator::specificDocuments()
{
    QFETCH(QByteArray, document);
    QFETCH(int, offset);
    QFETCH(QString, messagePart);

    const auto result = StrictJsonValidator::validate(document);
    if (offset < 0) {
        QVERIFY2(result, qPrintable(messageOf(result)));
        return;
    }
    QVERIFY(!result);
    QCOMPARE(result.error().code, ErrorCode::InvalidArgument);
    QVERIFY(result.error().field.isEmpty());
    const QString message = result.error().message;
    const QString prefix = u"invalid JSON at byte "_s + QString::number(offset) + u": "_s;
    QVERIFY2(message.startsWith(prefix), qPrintable(message));
    QVERIFY2(message.contains(messagePart), qPrintable(message));
}

void TstStrictJsonValidator::jsonTestSuite()
{
    const QDir dir(SiteRelay::Test::testDataDir() + u"/JSONTestSuite/test_parsing"_s);
    const QStringList files = dir.entryList({u"*.json"_s}, QDir::Files, QDir::Name);
    QVERIFY2(files.size() > 300, qPrintable(u"only %1 files in %2"_s.arg(files.size()).arg(dir.path())));

    QHash<QString, bool> decisions;
    for (const auto &decision : implementationDefinedCases)
        decisions.insert(QString::fromLatin1(decision.file), decision.accepted);

    QStringList wronglyRejected;
    QStringList wronglyAccepted;
    QStringList badErrors;
    QStringList undecided;
    int mustAccept = 0;
    int mustReject = 0;
    int implementationDefined = 0;
    for (const QString &name : files) {
        QFile file(dir.filePath(name));
        QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(name));
        const QByteArray document = file.readAll();

        bool shouldAccept = false;
        if (name.startsWith("y_"_L1)) {
            shouldAccept = true;
            ++mustAccept;
        } else if (name.startsWith("n_"_L1)) {
            ++mustReject;
        } else if (decisions.contains(name)) {
            shouldAccept = decisions.take(name);
            ++implementationDefined;
        } else {
            undecided << name;
            continue;
        }

        const auto result = StrictJsonValidator::validate(document);
        if (shouldAccept && !result)
            wronglyRejected << name + u" ("_s + result.error().message + u")"_s;
        else if (!shouldAccept && result)
            wronglyAccepted << name;
        else if (!result && (result.error().code != ErrorCode::InvalidArgument ||
                             !result.error().message.startsWith("invalid JSON at byte "_L1)))
            badErrors << name + u" ("_s + result.error().message + u")"_s;
    }

    qInfo("checked %d y_, %d n_ and %d i_ files", mustAccept, mustReject, implementationDefined);
    QVERIFY2(undecided.isEmpty(), qPrintable(u"no decision in the i_ table for: "_s + undecided.join(u", "_s)));
    QVERIFY2(decisions.isEmpty(), qPrintable(u"i_ table names missing files: "_s + decisions.keys().join(u", "_s)));
    QVERIFY2(wronglyRejected.isEmpty(), qPrintable(u"rejected: "_s + wronglyRejected.join(u"; "_s)));
    QVERIFY2(wronglyAccepted.isEmpty(), qPrintable(u"accepted: "_s + wronglyAccepted.join(u", "_s)));
    QVERIFY2(badErrors.isEmpty(), qPrintable(u"malformed errors: "_s + badErrors.join(u"; "_s)));
    QVERIFY(mustAccept > 0);
    QVERIFY(mustReject > 0);
}

void TstStrictJsonValidator::depthLimit()
{
    const auto nestedArrays = [](int depth) -> QByteArray { return QByteArray(depth, '[') + QByteArray(depth, ']'); };
    QVERIFY2(StrictJsonValidator::validate(nestedArrays(64)), "64 nested arrays must pass at maxDepth 64");
    const auto tooDeep = StrictJsonValidator::validate(nestedArrays(65));
    QVERIFY(!tooDeep);
    QCOMPARE(tooDeep.error().message, u"invalid JSON at byte 64: nesting deeper than 64 levels"_s);

    const auto nestedObjects = [](int depth) -> QByteArray {
        return QByteArray("{\"a\":").repeated(depth) + "1" + QByteArray(depth, '}');
    };
    QVERIFY(StrictJsonValidator::validate(nestedObjects(64)));
    const auto objectsTooDeep = StrictJsonValidator::validate(nestedObjects(65));
    QVERIFY(!objectsTooDeep);
    QCOMPARE(objectsTooDeep.error().message, u"invalid JSON at byte 320: nesting deeper than 64 levels"_s);

    // Closing the inner containers must restore the outer one's kind: `]` here closes the array, not the object.
    QVERIFY(StrictJsonValidator::validate(R"({"a":[{"b":[[],{}]},[]],"c":{"d":[]}})"));
    QVERIFY(!StrictJsonValidator::validate(R"({"a":[{"b":[[],{}]},[]}})"));

    QVERIFY(StrictJsonValidator::validate("[[1]]", 2));
    QVERIFY(!StrictJsonValidator::validate("[[1]]", 1));
    QVERIFY(StrictJsonValidator::validate("1", 0));
    QVERIFY(!StrictJsonValidator::validate("[]", 0));
    QVERIFY(!StrictJsonValidator::validate("[]", -5));
}

void TstStrictJsonValidator::hostileDepthFailsFast()
{
    const QByteArray hostile(100000, '[');
    const auto result = StrictJsonValidator::validate(hostile);
    QVERIFY(!result);
    // Failing at the 65th bracket shows it stopped there instead of walking the remaining 99,935.
    QCOMPARE(result.error().message, u"invalid JSON at byte 64: nesting deeper than 64 levels"_s);
}

void TstStrictJsonValidator::maxDepthIsClamped()
{
    constexpr int limit = StrictJsonValidator::maxSupportedDepth;
    const QByteArray deep = QByteArray(100000, '[') + QByteArray(100000, ']');
    const auto result = StrictJsonValidator::validate(deep, 1000000);
    QVERIFY(!result);
    QCOMPARE(result.error().message, u"invalid JSON at byte "_s + QString::number(limit) + u": nesting deeper than "_s +
                                         QString::number(limit) + u" levels"_s);
    const QByteArray deepest = QByteArray(limit, '[') + QByteArray(limit, ']');
    QVERIFY(StrictJsonValidator::validate(deepest, 1000000));
}

void TstStrictJsonValidator::largeDocumentPasses()
{
    QByteArray document = "{";
    int fields = 0;
    while (document.size() < 200 * 1024) {
        if (fields > 0)
            document += ",\n  ";
        document += "\"item" + QByteArray::number(fields) + "\": {\"score\": " + QByteArray::number(fields % 5) +
                    ", \"ratio\": -" + QByteArray::number(fields) +
                    ".125e-3, \"answered\": true, \"skipped\": null, \"flags\": [false, 0, 1E+2],"
                    " \"note\": \"caf\xC3\xA9 \\\"quoted\\\" \\t \\u00e9 \xF0\x9F\x98\x80 \\uD83D\\uDE00\"}";
        ++fields;
    }
    document += "\n}\n";
    QVERIFY(document.size() >= 200 * 1024);

    QJsonParseError parseError;
    const QJsonDocument parsed = QJsonDocument::fromJson(document, &parseError);
    QCOMPARE(parseError.error, QJsonParseError::NoError);
    QCOMPARE(parsed.object().size(), fields);

    const auto result = StrictJsonValidator::validate(document);
    QVERIFY2(result, qPrintable(messageOf(result)));

    // An error at the very end must still be found and located.
    const qsizetype lastBrace = document.lastIndexOf('}');
    document.insert(lastBrace, ',');
    const auto broken = StrictJsonValidator::validate(document);
    QVERIFY(!broken);
    QCOMPARE(broken.error().message,
             u"invalid JSON at byte "_s + QString::number(lastBrace) + u": trailing comma before }"_s);
}

void TstStrictJsonValidator::truncatedDocumentsAreRejectedWithoutOverreading()
{
    const QByteArray document =
        bytes("{\"a\":[1,-2.5e3,\"x\\u00e9\\uD834\\uDD1E\xC3\xA9\xF0\x9F\x98\x80\",true,false,null],\"b\":{}}");
    QVERIFY(StrictJsonValidator::validate(document));
    // Exact-size heap copies, so a read past the end of the view is caught by AddressSanitizer builds.
    for (qsizetype length = 0; length < document.size(); ++length) {
        const std::unique_ptr<char[]> prefix(new char[std::max<qsizetype>(length, 1)]);
        std::memcpy(prefix.get(), document.constData(), length);
        const auto result = StrictJsonValidator::validate(QByteArrayView(prefix.get(), length));
        QVERIFY2(!result, qPrintable(u"prefix of length %1 was accepted"_s.arg(length)));
    }
}

QTEST_GUILESS_MAIN(TstStrictJsonValidator)
#include "tst_strictjsonvalidator.moc"
