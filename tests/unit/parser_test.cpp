#include "dockerfile/parser.hpp"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace qdi::dockerfile {
namespace {

using namespace std::string_literals;

// Newlines and tabs are written as "\n" and "\t" so that a description stays
// on one line and a failure shows where the whitespace is.
std::string Visible(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Describe(const Heredoc& heredoc) {
  return " heredoc(" + heredoc.name + (heredoc.strip_tabs ? " strip" : "") +
         (heredoc.expand ? "" : " raw") + " |" + Visible(heredoc.body) + "|)";
}

// One line per instruction, every field of it:
// "LINE-END_LINE keyword flag... |args| exec(a,b) heredoc(...) trigger(...)".
std::string Describe(const Instruction& instruction) {
  std::string text = std::to_string(instruction.line) + "-" +
                     std::to_string(instruction.end_line) + " " +
                     instruction.keyword;
  for (const std::string& flag : instruction.flags) text += " " + flag;
  text += " |" + Visible(instruction.args) + "|";
  if (instruction.exec_form) {
    std::string words;
    for (const std::string& word : *instruction.exec_form) {
      words += (words.empty() ? "" : ",") + word;
    }
    text += " exec(" + words + ")";
  }
  for (const Heredoc& heredoc : instruction.heredocs) {
    text += Describe(heredoc);
  }
  for (const Instruction& trigger : instruction.trigger) {
    text += " trigger(" + Describe(trigger) + ")";
  }
  return text;
}

// Directives as "#LINE name=value", then the instructions.
std::vector<std::string> Describe(const Dockerfile& file) {
  std::vector<std::string> lines;
  for (const Directive& directive : file.directives) {
    lines.push_back("#" + std::to_string(directive.line) + " " +
                    directive.name + "=" + directive.value);
  }
  for (const Instruction& instruction : file.instructions) {
    lines.push_back(Describe(instruction));
  }
  return lines;
}

// Either want or error is expected; an empty error means success.
struct ParseCase {
  const char* name;
  std::string text;
  std::vector<std::string> want;
  std::string error = "";
  char escape = '\\';
};

void PrintTo(const ParseCase& c, std::ostream* os) {
  *os << c.name << " " << testing::PrintToString(c.text);
}

std::string CaseName(const testing::TestParamInfo<ParseCase>& info) {
  return info.param.name;
}

class ParserTest : public testing::TestWithParam<ParseCase> {};

TEST_P(ParserTest, Parses) {
  const ParseCase& c = GetParam();
  Expected<Dockerfile> got = Parse(c.text, "Dockerfile");
  if (c.error.empty()) {
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(got->path, "Dockerfile");
    EXPECT_EQ(Describe(*got), c.want);
    EXPECT_EQ(got->escape, c.escape);
  } else {
    ASSERT_FALSE(got.has_value()) << testing::PrintToString(Describe(*got));
    EXPECT_EQ(got.error().message, c.error);
  }
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Directives, ParserTest, testing::Values(
    ParseCase{"Syntax", "# syntax=docker/dockerfile:1\nFROM a\n",
              {"#1 syntax=docker/dockerfile:1", "2-2 from |a|"}},
    ParseCase{"EscapeBacktick", "# escape=`\nFROM a\nRUN echo `\n  hi\n",
              {"#1 escape=`", "2-2 from |a|", "3-4 run |echo   hi|"},
              "", '`'},
    ParseCase{"Check", "# check=skip=all\nFROM a",
              {"#1 check=skip=all", "2-2 from |a|"}},
    ParseCase{"AllThree",
              "# syntax=a\n# escape=\\\n# check=error=true\nFROM a",
              {"#1 syntax=a", "#2 escape=\\", "#3 check=error=true",
               "4-4 from |a|"}},
    ParseCase{"NamesAreCaseInsensitive", "# SYNTAX=x\n#Escape=`\nFROM a",
              {"#1 syntax=x", "#2 escape=`", "3-3 from |a|"}, "", '`'},
    ParseCase{"WhitespaceAroundNameAndValue",
              "#syntax = x y \n#\tescape\t=\t`\t\nFROM a",
              {"#1 syntax=x y", "#2 escape=`", "3-3 from |a|"}, "", '`'},
    ParseCase{"LeadingWhitespaceBeforeHash", "  # escape=`\nFROM a",
              {"#1 escape=`", "2-2 from |a|"}, "", '`'},
    ParseCase{"AfterByteOrderMark", "\xEF\xBB\xBF# escape=`\nFROM a",
              {"#1 escape=`", "2-2 from |a|"}, "", '`'},
    ParseCase{"BlankLineEndsThem", "# syntax=a\n\n# escape=`\nRUN a \\\n b",
              {"#1 syntax=a", "4-5 run |a  b|"}},
    ParseCase{"CommentEndsThem", "# hello\n# escape=`\nFROM a",
              {"3-3 from |a|"}},
    ParseCase{"InstructionEndsThem", "FROM a\n# escape=`\nRUN b \\\nc",
              {"1-1 from |a|", "3-4 run |b c|"}},
    ParseCase{"UnknownDirectiveEndsThem",
              "# syntax=a\n# foo=bar\n# escape=`\nFROM a",
              {"#1 syntax=a", "4-4 from |a|"}},
    ParseCase{"EmptyValueIsAComment", "# syntax=\n# escape=`\nFROM a",
              {"3-3 from |a|"}},
    ParseCase{"DuplicateIsAnError", "# escape=`\n# escape=\\\nFROM a", {},
              "Dockerfile:2: parser directive 'escape' is set twice; keep "
              "only one of them"},
    ParseCase{"DuplicateInOtherCase", "# syntax=a\n# SYNTAX=a\nFROM a", {},
              "Dockerfile:2: parser directive 'syntax' is set twice; keep "
              "only one of them"},
    ParseCase{"InvalidEscape", "# escape=x\nFROM a", {},
              "Dockerfile:1: invalid escape character 'x'; use '\\' or '`'"}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(Lines, ParserTest, testing::Values(
    ParseCase{"BackslashContinuation",
              "RUN apt-get update && \\\n    apt-get install x\n",
              {"1-2 run |apt-get update &&     apt-get install x|"}},
    ParseCase{"WhitespaceAfterEscape", "RUN a \\ \t\n b\nRUN c",
              {"1-2 run |a  b|", "3-3 run |c|"}},
    ParseCase{"BacktickKeepsBackslash",
              "# escape=`\nRUN dir c:\\\nRUN a `\n b",
              {"#1 escape=`", "2-2 run |dir c:\\|", "3-4 run |a  b|"},
              "", '`'},
    ParseCase{"EscapedEscapeDoesNotContinue", "RUN echo a\\\\\nRUN b",
              {"1-1 run |echo a\\\\|", "2-2 run |b|"}},
    ParseCase{"CommentInsideContinuation", "RUN a \\\n# note\n  b\nRUN c",
              {"1-3 run |a   b|", "4-4 run |c|"}},
    ParseCase{"IndentedCommentInsideContinuation",
              "RUN a \\\n    # note \\\n b",
              {"1-3 run |a  b|"}},
    ParseCase{"BlankLineInsideContinuation", "RUN a \\\n\n \t\n b\n",
              {"1-4 run |a  b|"}},
    ParseCase{"ContinuationAtEndOfFile", "RUN a \\", {"1-1 run |a|"}},
    ParseCase{"HashInsideLineIsNotAComment", "RUN echo hi # there",
              {"1-1 run |echo hi # there|"}},
    ParseCase{"IndentedWholeLineComment", "FROM a\n   # comment\n\tRUN b",
              {"1-1 from |a|", "3-3 run |b|"}},
    ParseCase{"BlankLinesBetween", "\n\nFROM a\n\n  \n\nRUN b\n\n",
              {"3-3 from |a|", "7-7 run |b|"}},
    ParseCase{"EmptyFile", "", {}},
    ParseCase{"CrLfLineEndings", "FROM a\r\nRUN b \\\r\n c\r\n",
              {"1-1 from |a|", "2-3 run |b  c|"}},
    ParseCase{"ByteOrderMark", "\xEF\xBB\xBF" "FROM a", {"1-1 from |a|"}},
    ParseCase{"Utf8Text", "LABEL k=\"\xED\x95\x9C\"",
              {"1-1 label |k=\"\xED\x95\x9C\"|"}},
    ParseCase{"NulByte", "FROM a\nRUN \0x"s, {},
              "Dockerfile:2: contains a NUL byte, so it is not a text file; "
              "check that this is the Dockerfile you meant"},
    ParseCase{"InvalidUtf8", "FROM a\n\nRUN \xff", {},
              "Dockerfile:3: is not valid UTF-8; save the file as UTF-8 text"},
    ParseCase{"OverlongUtf8", "RUN \xC0\xAF", {},
              "Dockerfile:1: is not valid UTF-8; save the file as UTF-8 text"},
    ParseCase{"TruncatedUtf8", "RUN \xED\x95", {},
              "Dockerfile:1: is not valid UTF-8; save the file as UTF-8 text"},
    ParseCase{"UnknownInstruction", "FROM a\nFOO bar", {},
              "Dockerfile:2: unknown instruction 'FOO'; see the Dockerfile "
              "reference for the list"},
    ParseCase{"ContinuationJoinsNextInstruction", "RUN a \\\n\nRUNN b",
              {"1-3 run |a RUNN b|"}}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(Heredocs, ParserTest, testing::Values(
    ParseCase{"Plain", "RUN <<EOF\necho hi\nEOF\nRUN b",
              {"1-3 run |<<EOF| heredoc(EOF |echo hi\\n|)", "4-4 run |b|"}},
    ParseCase{"DashStripsTabs", "RUN <<-EOF\n\techo\n\t  x\n\t\tEOF\n",
              {"1-4 run |<<-EOF| heredoc(EOF strip |echo\\n  x\\n|)"}},
    ParseCase{"DoubleQuotedIsRaw", "RUN <<\"EOF\"\necho $HOME\nEOF",
              {"1-3 run |<<\"EOF\"| heredoc(EOF raw |echo $HOME\\n|)"}},
    ParseCase{"SingleQuotedIsRaw", "RUN <<'EOF'\n$A\nEOF",
              {"1-3 run |<<'EOF'| heredoc(EOF raw |$A\\n|)"}},
    ParseCase{"TwoInOneInstruction", "RUN <<A <<-B\na\nA\n\tb\n\tB\nRUN c",
              {"1-5 run |<<A <<-B| heredoc(A |a\\n|) heredoc(B strip |b\\n|)",
               "6-6 run |c|"}},
    ParseCase{"HashLinesAreContent", "RUN <<EOF\n# kept\n\n  # too\nEOF",
              {"1-5 run |<<EOF| heredoc(EOF |# kept\\n\\n  # too\\n|)"}},
    ParseCase{"TerminatorMustBeExact", "RUN <<EOF\nEOF \n EOF\nEOF",
              {"1-4 run |<<EOF| heredoc(EOF |EOF \\n EOF\\n|)"}},
    ParseCase{"CrLfBody", "RUN <<EOF\r\nhi\r\nEOF\r\nRUN b\r\n",
              {"1-3 run |<<EOF| heredoc(EOF |hi\\n|)", "4-4 run |b|"}},
    ParseCase{"InCopy", "COPY --chmod=644 <<EOF /etc/x\nhello\nEOF",
              {"1-3 copy --chmod=644 |<<EOF /etc/x| heredoc(EOF |hello\\n|)"}},
    ParseCase{"WithRedirection", "RUN cat 3<<EOF > /out\nx\nEOF",
              {"1-3 run |cat 3<<EOF > /out| heredoc(EOF |x\\n|)"}},
    ParseCase{"AfterContinuation",
              "RUN --mount=type=cache,target=/c \\\n  <<EOF\necho\nEOF",
              {"1-4 run --mount=type=cache,target=/c |<<EOF| "
               "heredoc(EOF |echo\\n|)"}},
    ParseCase{"QuotedMarkerIsText", "RUN echo \"<<EOF\"\nRUN b",
              {"1-1 run |echo \"<<EOF\"|", "2-2 run |b|"}},
    ParseCase{"NotInExecForm", "RUN [\"sh\", \"<<EOF\"]\nRUN b",
              {"1-1 run |[\"sh\", \"<<EOF\"]| exec(sh,<<EOF)", "2-2 run |b|"}},
    ParseCase{"OnlyForRunCopyAdd", "ENTRYPOINT cat <<EOF\nEOF", {},
              "Dockerfile:2: unknown instruction 'EOF'; see the Dockerfile "
              "reference for the list"},
    ParseCase{"InOnbuildTrigger", "ONBUILD RUN <<EOF\nx\nEOF",
              {"1-3 onbuild |RUN <<EOF| "
               "trigger(1-3 run |<<EOF| heredoc(EOF |x\\n|))"}},
    ParseCase{"Unterminated", "FROM a\nRUN <<EOF\necho\n", {},
              "Dockerfile:2: heredoc 'EOF' is not terminated; end its body "
              "with a line that holds only 'EOF'"},
    ParseCase{"SecondUnterminated", "RUN <<A <<B\nA\nx\n", {},
              "Dockerfile:1: heredoc 'B' is not terminated; end its body "
              "with a line that holds only 'B'"}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(Instructions, ParserTest, testing::Values(
    ParseCase{"KeywordsAreCaseInsensitive", "from a\nRun b\nCOPY c d",
              {"1-1 from |a|", "2-2 run |b|", "3-3 copy |c d|"}},
    ParseCase{"LeadingIndentation", "  FROM a\n\t RUN b  ",
              {"1-1 from |a|", "2-2 run |b|"}},
    ParseCase{"FromPlatform", "FROM --platform=linux/arm64 debian AS build",
              {"1-1 from --platform=linux/arm64 |debian AS build|"}},
    ParseCase{"CopyFromAndChown", "COPY --from=build --chown=1:1 /a /b",
              {"1-1 copy --from=build --chown=1:1 |/a /b|"}},
    ParseCase{"RunMountAndNetwork",
              "RUN --mount=type=cache,target=/c --network=none make",
              {"1-1 run --mount=type=cache,target=/c --network=none |make|"}},
    ParseCase{"QuotedFlagValue", "RUN --mount=type=secret,id=\"a b\" x",
              {"1-1 run --mount=type=secret,id=\"a b\" |x|"}},
    ParseCase{"FlagWithoutValue", "COPY --link /a /b",
              {"1-1 copy --link |/a /b|"}},
    ParseCase{"BareDoubleDashEndsFlags", "RUN --a -- --b x",
              {"1-1 run --a |--b x|"}},
    ParseCase{"FlagsOnly", "RUN --a", {"1-1 run --a ||"}},
    ParseCase{"NoArguments", "RUN", {"1-1 run ||"}},
    ParseCase{"ExecForm", "CMD [\"echo\", \"hi there\"]",
              {"1-1 cmd |[\"echo\", \"hi there\"]| exec(echo,hi there)"}},
    ParseCase{"ExecFormEscapes", "ENTRYPOINT [\"a\\\"b\", \"\\u0041\"]",
              {"1-1 entrypoint |[\"a\\\"b\", \"\\u0041\"]| exec(a\"b,A)"}},
    ParseCase{"InvalidJsonIsShellForm", "CMD [\"echo\", hi]",
              {"1-1 cmd |[\"echo\", hi]|"}},
    ParseCase{"SingleQuotesAreNotJson", "RUN ['a']", {"1-1 run |['a']|"}},
    ParseCase{"NonStringIsShellForm", "CMD [\"a\", 1]",
              {"1-1 cmd |[\"a\", 1]|"}},
    ParseCase{"TextAfterJsonIsShellForm", "RUN [\"a\"] b",
              {"1-1 run |[\"a\"] b|"}},
    ParseCase{"JsonAfterFlags", "COPY --chown=1 [\"a b\", \"/c/\"]",
              {"1-1 copy --chown=1 |[\"a b\", \"/c/\"]| exec(a b,/c/)"}},
    ParseCase{"JsonForShellVolumeAdd",
              "SHELL [\"sh\", \"-c\"]\nVOLUME [\"/v\"]\nADD [\"a\", \"b\"]",
              {"1-1 shell |[\"sh\", \"-c\"]| exec(sh,-c)",
               "2-2 volume |[\"/v\"]| exec(/v)",
               "3-3 add |[\"a\", \"b\"]| exec(a,b)"}},
    ParseCase{"NoJsonForOtherKeywords",
              "WORKDIR [\"/a\"]\nLABEL [\"a\"]\nEXPOSE [\"80\"]",
              {"1-1 workdir |[\"/a\"]|", "2-2 label |[\"a\"]|",
               "3-3 expose |[\"80\"]|"}},
    ParseCase{"Onbuild", "FROM a\nONBUILD RUN echo hi",
              {"1-1 from |a|", "2-2 onbuild |RUN echo hi| "
               "trigger(2-2 run |echo hi|)"}},
    ParseCase{"OnbuildLowerCaseWithFlags",
              "onbuild copy --from=b \\\n  /x /y",
              {"1-2 onbuild |copy --from=b   /x /y| "
               "trigger(1-2 copy --from=b |/x /y|)"}},
    ParseCase{"OnbuildExecForm", "ONBUILD CMD [\"x\"]",
              {"1-1 onbuild |CMD [\"x\"]| trigger(1-1 cmd |[\"x\"]| exec(x))"}},
    ParseCase{"OnbuildOnbuild", "FROM a\nONBUILD ONBUILD RUN x", {},
              "Dockerfile:2: 'ONBUILD ONBUILD' is not allowed; remove the "
              "inner ONBUILD"},
    ParseCase{"OnbuildFrom", "FROM a\nONBUILD FROM b", {},
              "Dockerfile:2: 'ONBUILD from' is not allowed as a trigger; "
              "remove it"},
    ParseCase{"OnbuildMaintainer", "ONBUILD maintainer me", {},
              "Dockerfile:1: 'ONBUILD maintainer' is not allowed as a "
              "trigger; remove it"},
    ParseCase{"OnbuildUnknown", "ONBUILD FOO x", {},
              "Dockerfile:1: unknown instruction 'FOO'; see the Dockerfile "
              "reference for the list"}),
    CaseName);
// clang-format on

// The source of an instruction is what the flattener writes out unchanged.
struct SourceCase {
  const char* name;
  std::string text;
  std::vector<std::string> want;
};

void PrintTo(const SourceCase& c, std::ostream* os) {
  *os << c.name << " " << testing::PrintToString(c.text);
}

std::string SourceCaseName(const testing::TestParamInfo<SourceCase>& info) {
  return info.param.name;
}

class ParserSourceTest : public testing::TestWithParam<SourceCase> {};

TEST_P(ParserSourceTest, KeepsLines) {
  const SourceCase& c = GetParam();
  Expected<Dockerfile> got = Parse(c.text, "Dockerfile");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  std::vector<std::string> sources;
  for (const Instruction& instruction : got->instructions) {
    sources.emplace_back(instruction.source);
  }
  EXPECT_EQ(sources, c.want);
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Cases, ParserSourceTest, testing::Values(
    SourceCase{"OneLine", "FROM a\n# c\nRUN b", {"FROM a\n", "RUN b\n"}},
    SourceCase{"ContinuationWithComment", "  RUN a \\\n# c\n  b\nRUN d",
               {"  RUN a \\\n# c\n  b\n", "RUN d\n"}},
    SourceCase{"CrLfRemoved", "FROM a\r\nRUN b \\\r\n c\r\n",
               {"FROM a\n", "RUN b \\\n c\n"}},
    SourceCase{"HeredocTerminatorIncluded", "RUN <<-EOF\n\tx\n\tEOF\nRUN c",
               {"RUN <<-EOF\n\tx\n\tEOF\n", "RUN c\n"}}),
    SourceCaseName);
// clang-format on

}  // namespace
}  // namespace qdi::dockerfile
