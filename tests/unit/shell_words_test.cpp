#include "dockerfile/shell_words.hpp"

#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace qdi::dockerfile {
namespace {

// Every expansion case sees the same variables, so a case reads as one line.
const Variables& TestVariables() {
  static const Variables vars = {
      {"A", "a"},
      {"B", "b"},
      {"EMPTY", ""},
      {"SPACED", "x  y"},
      {"FILE", "archive.tar.gz"},
      {"DIRS", "/usr/local/bin"},
      {"VERSION", "1.2.3"},
      {"STAR", "a*b"},
      {"KOREAN", "\xED\x95\x9C\xEA\xB5\xAD"},
  };
  return vars;
}

// Either want or error is expected; an empty error means success.
struct WordCase {
  const char* name;
  std::string text;
  std::string want;
  std::string error = "";
  char escape = '\\';
};

// GoogleTest prints a failing parameter; its name and text read better than
// the bytes it would dump otherwise.
void PrintTo(const WordCase& c, std::ostream* os) {
  *os << c.name << " " << testing::PrintToString(c.text);
}

std::string CaseName(const testing::TestParamInfo<WordCase>& info) {
  return info.param.name;
}

class ShellExpandWordTest : public testing::TestWithParam<WordCase> {};

TEST_P(ShellExpandWordTest, Expands) {
  const WordCase& c = GetParam();
  Expected<std::string> got = ExpandWord(c.text, c.escape, TestVariables());
  if (c.error.empty()) {
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(*got, c.want);
  } else {
    ASSERT_FALSE(got.has_value()) << "got \"" << *got << "\"";
    EXPECT_EQ(got.error().message, c.error);
  }
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Cases, ShellExpandWordTest, testing::Values(
    // Plain text and variable references.
    WordCase{"PlainTextKeepsWhitespace", "  a  b ", "  a  b "},
    WordCase{"DollarName", "$A-x", "a-x"},
    WordCase{"NameStopsAtNonNameChar", "$A.$B/", "a.b/"},
    WordCase{"NameTakesDigitsAndUnderscore", "$A_1 ${A}_1", " a_1"},
    WordCase{"BracedName", "${A}bc", "abc"},
    WordCase{"UnsetIsEmpty", "[$NOPE${NOPE}]", "[]"},
    WordCase{"LoneDollarIsLiteral", "a$ $. $/ $", "a$ $. $/ $"},
    WordCase{"PositionalIsUnset", "x$1y$12z", "xyz"},
    WordCase{"SpecialIsUnset", "<$@$#$$$?${#}>", "<>"},

    // ${NAME-word} and ${NAME:-word}.
    WordCase{"DefaultWhenUnset", "${NOPE:-d}${NOPE-e}", "de"},
    WordCase{"ColonDefaultWhenEmpty", "${EMPTY:-d}", "d"},
    WordCase{"NoColonKeepsEmpty", "[${EMPTY-d}]", "[]"},
    WordCase{"DefaultIgnoredWhenSet", "${A:-d}", "a"},
    WordCase{"DefaultIsExpanded", "${NOPE:-$A${B}}", "ab"},
    WordCase{"DefaultWithQuotedBrace", "${NOPE:-\"x}y\"}", "x}y"},
    WordCase{"DefaultWithEscapedBrace", "${NOPE:-x\\}y}", "x}y"},

    // ${NAME+word} and ${NAME:+word}.
    WordCase{"AlternateWhenSet", "${A:+alt}", "alt"},
    WordCase{"ColonAlternateNotWhenEmpty", "[${EMPTY:+alt}]", "[]"},
    WordCase{"NoColonAlternateWhenEmpty", "${EMPTY+alt}", "alt"},
    WordCase{"AlternateNotWhenUnset", "[${NOPE+alt}]", "[]"},

    // ${NAME?message} and ${NAME:?message}.
    WordCase{"RequiredWhenSet", "${A:?msg}", "a"},
    WordCase{"NoColonRequiredAllowsEmpty", "[${EMPTY?msg}]", "[]"},
    WordCase{"RequiredUnset", "${NOPE?}", "",
             "NOPE: is not allowed to be unset"},
    WordCase{"ColonRequiredEmpty", "${EMPTY:?}", "",
             "EMPTY: is not allowed to be empty"},
    WordCase{"RequiredMessageIsExpanded", "${NOPE:?set $A please}", "",
             "NOPE: set a please"},
    WordCase{"UnusedDefaultIsStillExpanded", "${A:-${NOPE?}}", "",
             "NOPE: is not allowed to be unset"},

    // Quotes and escapes.
    WordCase{"SingleQuotesAreLiteral", "'$A \\x \"'", "$A \\x \""},
    WordCase{"DoubleQuotesExpand", "\"$A 'b'\"", "a 'b'"},
    WordCase{"DoubleQuotesEscapeThree", "\"\\\"\\$A\\\\\"", "\"$A\\"},
    WordCase{"DoubleQuotesKeepOtherEscapes", "\"\\a\\'\"", "\\a\\'"},
    WordCase{"EscapeOutsideQuotes", "\\$A\\ \\'x\\\\", "$A 'x\\"},
    WordCase{"TrailingEscapeIsDropped", "ab\\", "ab"},
    WordCase{"QuotesJoinWithText", "a\"b\"'c'd", "abcd"},

    // The escape character set by "# escape=`".
    WordCase{"BacktickEscapesDollar", "`$A$B", "$Ab", "", '`'},
    WordCase{"BacktickLeavesBackslash", "C:\\dir\\$A", "C:\\dir\\a", "", '`'},
    WordCase{"BacktickEscapesQuote", "\"`\"`$A\\$A\"", "\"$A\\a", "", '`'},
    WordCase{"BacktickKeptBeforeOther", "\"`n\"", "`n", "", '`'},

    // Patterns.
    WordCase{"PrefixShortest", "${FILE#*.}", "tar.gz"},
    WordCase{"PrefixLongest", "${FILE##*.}", "gz"},
    WordCase{"SuffixShortest", "${FILE%.*}", "archive.tar"},
    WordCase{"SuffixLongest", "${FILE%%.*}", "archive"},
    WordCase{"PrefixNoMatch", "${FILE#x}", "archive.tar.gz"},
    WordCase{"AnyCharacter", "${VERSION#?.}", "2.3"},
    WordCase{"EscapedStarIsLiteral", "${STAR#*\\*}", "b"},
    WordCase{"PatternFromVariable", "${FILE%.$NOPE*}", "archive.tar"},
    WordCase{"ReplaceFirst", "${DIRS/\\//:}", ":usr/local/bin"},
    WordCase{"ReplaceAll", "${DIRS//\\//:}", ":usr:local:bin"},
    WordCase{"ReplaceLongestMatch", "${VERSION/.*/}", "1"},
    WordCase{"ReplacementKeepsEscapes", "${DIRS//\\//\\/}",
             "\\/usr\\/local\\/bin"},
    WordCase{"ReplaceEmptyPatternInsertsInFront", "${A/$NOPE/x}", "xa"},
    WordCase{"ReplaceAllEmptyPattern", "${B///-}", "-b-"},
    WordCase{"ReplaceAllSkipsEmptyMatchAfterMatch", "${FILE//*/x}", "x"},
    WordCase{"AnyCharIsWholeUtf8Character", "${KOREAN#?}", "\xEA\xB5\xAD"},

    // Malformed text.
    WordCase{"UnterminatedDoubleQuote", "echo \"a", "",
             "unterminated double quote in \"echo \\\"a\""},
    WordCase{"EscapedClosingDoubleQuote", "\"a\\\"", "",
             "unterminated double quote in \"\\\"a\\\\\\\"\""},
    WordCase{"UnterminatedSingleQuote", "'a", "",
             "unterminated single quote in \"'a\""},
    WordCase{"MissingBrace", "${A", "", "missing '}' in \"${A\""},
    WordCase{"MissingBraceAfterDefault", "${A:-x", "",
             "missing '}' in \"${A:-x\""},
    WordCase{"QuoteInsideBracesReportsBrace", "${A:-\"x}", "",
             "missing '}' in \"${A:-\\\"x}\""},
    WordCase{"EmptyBraces", "${}", "", "bad substitution in \"${}\""},
    WordCase{"EmptyNameWithColon", "${:-x}", "",
             "bad substitution in \"${:-x}\""},
    WordCase{"EmptyColonOperator", "${A:}", "",
             "bad substitution in \"${A:}\""},
    WordCase{"AssignIsUnsupported", "${A=x}", "",
             "unsupported modifier \"=\" in \"${A=x}\""},
    WordCase{"UnknownColonOperator", "${A:x}", "",
             "unsupported modifier \":x\" in \"${A:x}\""},
    WordCase{"SpaceInBraces", "${A B}", "",
             "unsupported modifier \" \" in \"${A B}\""},
    WordCase{"ReplaceWithoutReplacement", "${A/x}", "",
             "missing '/' in \"${A/x}\""},
    WordCase{"BadPatternEscape", "${A#\\x}", "",
             "invalid escape in pattern \"\\\\x\" in \"${A#\\\\x}\""}),
    CaseName);
// clang-format on

struct WordsCase {
  const char* name;
  std::string text;
  std::vector<std::string> want;
  std::string error = "";
  char escape = '\\';
};

void PrintTo(const WordsCase& c, std::ostream* os) {
  *os << c.name << " " << testing::PrintToString(c.text);
}

std::string WordsCaseName(const testing::TestParamInfo<WordsCase>& info) {
  return info.param.name;
}

class ShellExpandWordsTest : public testing::TestWithParam<WordsCase> {};

TEST_P(ShellExpandWordsTest, Splits) {
  const WordsCase& c = GetParam();
  Expected<std::vector<std::string>> got =
      ExpandWords(c.text, c.escape, TestVariables());
  if (c.error.empty()) {
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(*got, c.want);
  } else {
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().message, c.error);
  }
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Cases, ShellExpandWordsTest, testing::Values(
    WordsCase{"EmptyText", "", {}},
    WordsCase{"SplitsOnWhitespace", " a  b\tc\n", {"a", "b", "c"}},
    WordsCase{"QuotesKeepWhitespace", "\"a b\" 'c d'", {"a b", "c d"}},
    WordsCase{"EscapedSpaceJoins", "a\\ b c", {"a b", "c"}},
    WordsCase{"AdjacentPartsJoin", "a\"b\"'c'$A", {"abca"}},
    // BuildKit splits what an unquoted expansion produced, like sh does.
    WordsCase{"UnquotedExpansionIsSplit", "pre$SPACED", {"prex", "y"}},
    WordsCase{"QuotedExpansionIsNotSplit", "\"$SPACED\"", {"x  y"}},
    WordsCase{"QuotedDefaultIsSplitToo", "${NOPE:-\"p q\"}", {"p", "q"}},
    // BuildKit drops empty words, quoted or not.
    WordsCase{"EmptyQuotesYieldNoWord", "a \"\" ''", {"a"}},
    WordsCase{"UnsetVariableYieldsNoWord", "$NOPE b", {"b"}},
    WordsCase{"BacktickEscapesSpace", "a` b c:\\d\\", {"a b", "c:\\d\\"},
              "", '`'},
    WordsCase{"ErrorIsReported", "a \"b", {},
              "unterminated double quote in \"a \\\"b\""}),
    WordsCaseName);
// clang-format on

struct ReferencesCase {
  const char* name;
  std::string text;
  std::vector<std::string> want;
  char escape = '\\';
};

void PrintTo(const ReferencesCase& c, std::ostream* os) {
  *os << c.name << " " << testing::PrintToString(c.text);
}

std::string ReferencesCaseName(
    const testing::TestParamInfo<ReferencesCase>& info) {
  return info.param.name;
}

class ShellReferencedVariablesTest
    : public testing::TestWithParam<ReferencesCase> {};

TEST_P(ShellReferencedVariablesTest, Lists) {
  const ReferencesCase& c = GetParam();
  EXPECT_EQ(ReferencedVariables(c.text, c.escape), c.want);
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Cases, ShellReferencedVariablesTest, testing::Values(
    ReferencesCase{"NoneInPlainText", "a b $", {}},
    ReferencesCase{"OnceEachInOrder", "$B ${A} $B", {"B", "A"}},
    ReferencesCase{"NestedInDefault", "${A:-$B}", {"A", "B"}},
    ReferencesCase{"OuterNameComesFirst", "${C:+${B}}$A", {"C", "B", "A"}},
    ReferencesCase{"PatternAndReplacement", "${A/$B/$C}", {"A", "B", "C"}},
    ReferencesCase{"QuotedAndEscapedIgnored", "'$A' \\$B \"$C\"", {"C"}},
    ReferencesCase{"RequiredDoesNotStop", "${A:?x}${B?}$C", {"A", "B", "C"}},
    ReferencesCase{"PositionalIncluded", "$1", {"1"}},
    ReferencesCase{"BacktickEscape", "`$A\\$B", {"B"}, '`'},
    ReferencesCase{"StopsAtMalformedText", "$A ${}$B", {"A"}},
    ReferencesCase{"KeepsNamesBeforeError", "$A \"$B", {"A", "B"}}),
    ReferencesCaseName);
// clang-format on

}  // namespace
}  // namespace qdi::dockerfile
