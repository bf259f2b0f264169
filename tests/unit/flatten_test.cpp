#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "flatten/flattener.hpp"
#include "graph/graph.hpp"

namespace qdi::flatten {
namespace {

namespace fs = std::filesystem;

// Image name -> Dockerfile text; the image named "top" is flattened.
using Files = std::map<std::string, std::string>;

// A folder of its own per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern = fs::temp_directory_path() / "qdi_flatten.XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    if (!path_.empty()) fs::remove_all(path_);
  }
  const std::string& path() const { return path_; }

  // Writes NAME.docker and returns its path.
  std::string Write(const std::string& name, const std::string& text) const {
    std::string file = path_ + "/" + name + ".docker";
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }

 private:
  std::string path_;
};

// "@DIR@" in expected text stands for the test's folder.
std::string WithDir(std::string text, const std::string& dir) {
  const std::string marker = "@DIR@";
  for (size_t at = text.find(marker); at != std::string::npos;
       at = text.find(marker, at + dir.size())) {
    text.replace(at, marker.size(), dir);
  }
  return text;
}

// Flattens `top` of `files`; the error message when loading or flattening
// fails.
Expected<Flattened> FlattenFiles(const TempDir& dir, const Files& files,
                                 const dockerfile::Variables& build_args) {
  for (const auto& [name, text] : files) dir.Write(name, text);
  graph::Settings settings;
  settings.build_args = build_args;
  graph::Graph graph(settings);
  Expected<const graph::Image*> top =
      graph.LoadFile(dir.path() + "/top.docker");
  if (!top) return top.error();
  return Flatten(graph, **top);
}

// Either want (the flattened text) or error is expected.
struct FlattenCase {
  const char* name;
  Files files;
  std::string want;
  std::string error = "";
  dockerfile::Variables build_args = {};
};

void PrintTo(const FlattenCase& c, std::ostream* os) { *os << c.name; }

std::string CaseName(const testing::TestParamInfo<FlattenCase>& info) {
  return info.param.name;
}

class FlattenTest : public testing::TestWithParam<FlattenCase> {};

TEST_P(FlattenTest, Flattens) {
  const FlattenCase& c = GetParam();
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Expected<Flattened> got = FlattenFiles(dir, c.files, c.build_args);
  if (c.error.empty()) {
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(got->text, WithDir(c.want, dir.path()));
  } else {
    ASSERT_FALSE(got.has_value()) << got->text;
    EXPECT_EQ(got.error().message, WithDir(c.error, dir.path()));
  }
}

// The comment that announces each inlined file.
#define FROM_FILE(name) \
  "# qemu-docker-images: " name " from @DIR@/" name ".docker\n"

// clang-format off
INSTANTIATE_TEST_SUITE_P(Chains, FlattenTest, testing::Values(
    FlattenCase{"ThreeLevels",
        {{"base", "FROM debian:12\nRUN echo base\n"},
         {"mid", "FROM qemu/base\nRUN echo mid\n"},
         {"top", "FROM qemu/mid\nRUN echo top\n"}},
        FROM_FILE("base")
        "FROM debian:12 AS base.base\n"
        "RUN echo base\n"
        FROM_FILE("mid")
        "FROM base.base AS base.mid\n"
        "RUN echo mid\n"
        "FROM base.mid\n"
        "RUN echo top\n"},
    FlattenCase{"ColonPrefix",
        {{"base", "FROM debian:12\n"},
         {"mid", "FROM qemu:base\nRUN echo mid\n"},
         {"top", "FROM qemu:mid\n"}},
        FROM_FILE("base")
        "FROM debian:12 AS base.base\n"
        FROM_FILE("mid")
        "FROM base.base AS base.mid\n"
        "RUN echo mid\n"
        "FROM base.mid\n"},
    FlattenCase{"ColonPrefixWithTag",
        {{"top", "FROM qemu:mid:latest\n"}},
        "", "@DIR@/top.docker:1: 'qemu:mid:latest' cannot name a local "
        "image: not a valid image reference; name a Dockerfile of the search "
        "folders"},
    FlattenCase{"ColonAndSlashPrefixes",
        {{"base", "FROM debian:12\n"},
         {"mid", "FROM qemu:base\nRUN echo mid\n"},
         {"top", "FROM qemu/mid:latest\n"}},
        FROM_FILE("base")
        "FROM debian:12 AS base.base\n"
        FROM_FILE("mid")
        "FROM base.base AS base.mid\n"
        "RUN echo mid\n"
        "FROM base.mid\n"},
    FlattenCase{"BaseOfTwoStagesEmittedOnce",
        {{"base", "FROM alpine\nRUN b\n"},
         {"top", "FROM qemu/base AS one\nRUN 1\n"
                 "FROM qemu:base\nCOPY --from=one /x /x\n"}},
        FROM_FILE("base")
        "FROM alpine AS base.base\n"
        "RUN b\n"
        "FROM base.base AS one\n"
        "RUN 1\n"
        "FROM base.base\n"
        "COPY --from=one /x /x\n"},
    FlattenCase{"SharedBaseOfTwoBasesEmittedOnce",
        {{"base", "FROM alpine\n"},
         {"left", "FROM qemu/base\nRUN l\n"},
         {"right", "FROM qemu/base\nRUN r\n"},
         {"top", "FROM qemu/left\nCOPY --from=qemu/right /r /r\n"}},
        FROM_FILE("base")
        "FROM alpine AS base.base\n"
        FROM_FILE("left")
        "FROM base.base AS base.left\n"
        "RUN l\n"
        FROM_FILE("right")
        "FROM base.base AS base.right\n"
        "RUN r\n"
        "FROM base.left\n"
        "COPY --from=base.right /r /r\n"},
    FlattenCase{"MissingBase",
        {{"top", "FROM debian\nRUN x\nFROM qemu/nope\n"}},
        "", "@DIR@/top.docker:3: local base image 'nope' has no Dockerfile: "
        "no nope.docker in @DIR@; add the file or name its folder with "
        "--search-dir"},
    FlattenCase{"OtherTagOfLocalImage",
        {{"top", "FROM qemu/base:v1\n"}},
        "", "@DIR@/top.docker:1: 'qemu/base:v1' cannot name a local image: "
        "a local image has only the tag 'latest'; name a Dockerfile of the "
        "search folders"},
    FlattenCase{"CycleOfOne",
        {{"top", "FROM debian\nRUN x\nFROM qemu/top\n"}},
        "", "@DIR@/top.docker:3: dependency cycle: top -> top; an image "
        "cannot be built on itself, so remove one of these bases"},
    FlattenCase{"CycleOfTwo",
        {{"top", "FROM qemu/b\n"},
         {"b", "FROM debian\nCOPY --from=qemu/top / /\n"}},
        "", "@DIR@/b.docker:2: dependency cycle: top -> b -> top; an image "
        "cannot be built on itself, so remove one of these bases"},
    FlattenCase{"CycleOfThree",
        {{"top", "FROM qemu/b\n"},
         {"b", "FROM qemu:c\n"},
         {"c", "# a comment\nFROM qemu/top AS x\n"}},
        "", "@DIR@/c.docker:2: dependency cycle: top -> b -> c -> top; an "
        "image cannot be built on itself, so remove one of these bases"},
    FlattenCase{"CycleBelowTop",
        {{"top", "FROM qemu/a\n"},
         {"a", "FROM qemu/b\n"},
         {"b", "FROM qemu/a\n"}},
        "", "@DIR@/b.docker:1: dependency cycle: a -> b -> a; an image "
        "cannot be built on itself, so remove one of these bases"}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(Stages, FlattenTest, testing::Values(
    FlattenCase{"NameCollisionRenamesInlinedStage",
        {{"base", "FROM gcc AS build\nRUN make\nFROM build AS test\n"
                  "FROM debian\nCOPY --from=build /out /out\n"},
         {"top", "FROM golang AS build\nRUN go build\nFROM qemu/base\n"
                 "COPY --from=build /app /app\n"}},
        FROM_FILE("base")
        "FROM gcc AS base.base.build\n"
        "RUN make\n"
        "FROM base.base.build AS base.base.test\n"
        "FROM debian AS base.base\n"
        "COPY --from=base.base.build /out /out\n"
        "FROM golang AS build\n"
        "RUN go build\n"
        "FROM base.base\n"
        "COPY --from=build /app /app\n"},
    FlattenCase{"TopStageNamedLikeInlinedStage",
        {{"base", "FROM debian\n"},
         {"top", "FROM alpine AS base.base\nFROM qemu/base\n"
                 "COPY --from=base.base / /\n"}},
        FROM_FILE("base")
        "FROM debian AS base.base.2\n"
        "FROM alpine AS base.base\n"
        "FROM base.base.2\n"
        "COPY --from=base.base / /\n"},
    FlattenCase{"NumericFromInInlinedFile",
        {{"base", "FROM gcc\nRUN make\nFROM debian\n"
                  "COPY --from=0 /out /out\n"},
         {"top", "FROM qemu/base\n"}},
        FROM_FILE("base")
        "FROM gcc AS base.base.0\n"
        "RUN make\n"
        "FROM debian AS base.base\n"
        "COPY --from=base.base.0 /out /out\n"
        "FROM base.base\n"},
    FlattenCase{"NumericFromInTopFile",
        {{"base", "FROM debian\n"},
         {"top", "FROM gcc\nRUN make\nFROM qemu/base\n"
                 "COPY --from=0 /out /out\n"}},
        FROM_FILE("base")
        "FROM debian AS base.base\n"
        "FROM gcc AS stage.0\n"
        "RUN make\n"
        "FROM base.base\n"
        "COPY --from=stage.0 /out /out\n"},
    FlattenCase{"StageIndexTooLarge",
        {{"top", "FROM gcc\nFROM debian\nCOPY --from=1 /a /b\n"}},
        "", "@DIR@/top.docker:3: stage index 1 does not name an earlier "
        "stage; use a smaller index"},
    FlattenCase{"StageIndexOverflows",
        {{"top", "FROM gcc\nFROM debian\n"
                 "COPY --from=99999999999999999999 /a /b\n"}},
        "", "@DIR@/top.docker:3: stage index 99999999999999999999 does not "
        "name an earlier stage; use a smaller index"},
    FlattenCase{"StageIndexWithLeadingZeros",
        {{"top", "FROM gcc\nFROM debian\n"
                 "COPY --from=000000000000000000000 /a /b\n"}},
        "FROM gcc AS stage.0\nFROM debian\n"
        "COPY --from=stage.0 /a /b\n"},
    FlattenCase{"MountFromStage",
        {{"base", "FROM gcc AS build\nRUN make\nFROM debian\n"
                  "RUN --mount=type=bind,from=build,source=/o,target=/i "
                  "cp -r /i /opt\n"},
         {"top", "FROM qemu/base\n"}},
        FROM_FILE("base")
        "FROM gcc AS base.base.build\n"
        "RUN make\n"
        "FROM debian AS base.base\n"
        "RUN --mount=type=bind,from=base.base.build,source=/o,target=/i "
        "cp -r /i /opt\n"
        "FROM base.base\n"},
    FlattenCase{"MountFromStageWithHeredoc",
        {{"base", "FROM gcc AS build\nFROM debian\n"
                  "RUN --mount=from=build,target=/i <<EOF\n# kept\nEOF\n"},
         {"top", "FROM qemu/base\n"}},
        FROM_FILE("base")
        "FROM gcc AS base.base.build\n"
        "FROM debian AS base.base\n"
        "RUN --mount=from=base.base.build,target=/i <<EOF\n# kept\nEOF\n"
        "FROM base.base\n"},
    FlattenCase{"CopyFromLocalImage",
        {{"other", "FROM alpine\nRUN make-tool\n"},
         {"top", "FROM debian\nCOPY --from=qemu/other /tool /tool\n"
                 "RUN --mount=from=qemu:other,target=/t true\n"}},
        FROM_FILE("other")
        "FROM alpine AS base.other\n"
        "RUN make-tool\n"
        "FROM debian\n"
        "COPY --from=base.other /tool /tool\n"
        "RUN --mount=from=base.other,target=/t true\n"},
    FlattenCase{"AliasOfLocalFromKept",
        {{"base", "FROM debian\n"},
         {"top", "FROM qemu/base AS build\nRUN make\nFROM alpine\n"
                 "COPY --from=build /o /o\n"}},
        FROM_FILE("base")
        "FROM debian AS base.base\n"
        "FROM base.base AS build\n"
        "RUN make\n"
        "FROM alpine\n"
        "COPY --from=build /o /o\n"},
    FlattenCase{"TopKeepsItsTextAndComments",
        {{"base", "FROM debian\n"},
         {"top", "# syntax=docker/dockerfile:1\n\n# about\nFROM qemu/base\n"
                 "RUN a \\\n  # inside\n  b\n"}},
        "# syntax=docker/dockerfile:1\n"
        FROM_FILE("base")
        "FROM debian AS base.base\n"
        "FROM base.base\n"
        "RUN a \\\n  # inside\n  b\n"},
    FlattenCase{"FromFlagsKept",
        {{"base", "FROM --platform=$BUILDPLATFORM debian\n"},
         {"top", "FROM --platform=linux/arm64 qemu/base AS x\n"}},
        FROM_FILE("base")
        "FROM --platform=$BUILDPLATFORM debian AS base.base\n"
        "FROM --platform=linux/arm64 base.base AS x\n"},
    FlattenCase{"InvalidStageName",
        {{"top", "FROM debian AS a/b\n"}},
        "", "@DIR@/top.docker:1: 'a/b' is not a valid stage name; start it "
        "with a letter and use letters, digits, '-', '_', '.'"},
    FlattenCase{"StageNameWithDash",
        {{"top", "FROM debian AS a-b_c.d\nFROM a-b_c.d\n"}},
        "FROM debian AS a-b_c.d\nFROM a-b_c.d\n"},
    FlattenCase{"OnbuildOfBaseFiresInChild",
        {{"base", "FROM debian\nONBUILD RUN echo triggered\n"},
         {"top", "FROM qemu/base\nRUN echo child\n"}},
        FROM_FILE("base")
        "FROM debian AS base.base\n"
        "# qemu-docker-images: fired below each FROM base.base: "
        "ONBUILD RUN echo triggered\n"
        "FROM base.base\n"
        "RUN echo triggered\n"
        "RUN echo child\n"},
    FlattenCase{"OnbuildFiresOnlyInDirectChild",
        {{"a", "FROM debian\nONBUILD RUN echo a\n"},
         {"b", "FROM qemu/a\nRUN echo b\n"},
         {"top", "FROM qemu/b\nRUN echo top\n"}},
        FROM_FILE("a")
        "FROM debian AS base.a\n"
        "# qemu-docker-images: fired below each FROM base.a: "
        "ONBUILD RUN echo a\n"
        FROM_FILE("b")
        "FROM base.a AS base.b\n"
        "RUN echo a\n"
        "RUN echo b\n"
        "FROM base.b\n"
        "RUN echo top\n"},
    FlattenCase{"TopGlobalArgDoesNotLeakIntoBase",
        {{"base", "FROM debian\nARG V\nRUN echo $V\n"},
         {"top", "ARG V=top\nFROM qemu/base\n"}},
        "ARG V=top\n"
        FROM_FILE("base")
        "FROM debian AS base.base\n"
        "ARG V=\"\"\n"
        "RUN echo $V\n"
        "FROM base.base\n"}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(Args, FlattenTest, testing::Values(
    FlattenCase{"GlobalArgDefaultPicksBase",
        {{"debian10", "FROM debian:10\n"},
         {"debian11", "FROM debian:11\n"},
         {"top", "ARG BASE=debian10\nFROM qemu/${BASE}\nRUN x\n"}},
        "ARG BASE=debian10\n"
        FROM_FILE("debian10")
        "FROM debian:10 AS base.debian10\n"
        "FROM base.debian10\n"
        "RUN x\n"},
    FlattenCase{"BuildArgPicksBase",
        {{"debian10", "FROM debian:10\n"},
         {"debian11", "FROM debian:11\n"},
         {"top", "ARG BASE=debian10\nFROM qemu/${BASE}\nRUN x\n"}},
        "ARG BASE=debian10\n"
        FROM_FILE("debian11")
        "FROM debian:11 AS base.debian11\n"
        "FROM base.debian11\n"
        "RUN x\n",
        "", {{"BASE", "debian11"}}},
    FlattenCase{"InlinedGlobalArgs",
        {{"base", "ARG IMG=debian:12\nARG V=1.2\nFROM ${IMG}\n"
                  "ARG V\nARG W\nRUN echo $V\n"},
         {"top", "FROM qemu/base\nARG V\n"}},
        FROM_FILE("base")
        "FROM debian:12 AS base.base\n"
        "ARG V=\"1.2\"\n"
        "ARG W\n"
        "RUN echo $V\n"
        "FROM base.base\n"
        "ARG V\n"},
    FlattenCase{"InlinedGlobalArgsWithBuildArgs",
        {{"base", "ARG IMG=debian:12\nARG V=1.2\nFROM ${IMG}\n"
                  "ARG V W=2\nRUN echo $V\n"},
         {"top", "FROM qemu/base\n"}},
        FROM_FILE("base")
        "FROM debian:11 AS base.base\n"
        "ARG V=\"a\\\"\\$b\\\\\" W=2\n"
        "RUN echo $V\n"
        "FROM base.base\n",
        "", {{"IMG", "debian:11"}, {"V", "a\"$b\\"}}},
    FlattenCase{"InlinedArgWithBacktickEscape",
        {{"base", "# escape=`\nARG V=`$x\nFROM debian\nARG V\n"},
         {"top", "# escape=`\nFROM qemu/base\n"}},
        "# escape=`\n"
        FROM_FILE("base")
        "FROM debian AS base.base\n"
        "ARG V=\"`$x\"\n"
        "FROM base.base\n"}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(Directives, FlattenTest, testing::Values(
    FlattenCase{"AgreeingDirectivesHeadTheOutput",
        {{"base", "# syntax=docker/dockerfile:1\n# escape=`\nFROM debian\n"},
         {"top", "# escape=`\n# check=error=true\nFROM qemu/base\n"}},
        "# syntax=docker/dockerfile:1\n# escape=`\n# check=error=true\n"
        FROM_FILE("base")
        "FROM debian AS base.base\n"
        "FROM base.base\n"},
    FlattenCase{"EscapeOnlyInBase",
        {{"base", "# escape=`\nFROM debian\n"},
         {"top", "FROM qemu/base\n"}},
        "", "@DIR@/top.docker:1: escape character '\\' differs from '`' in "
        "@DIR@/base.docker; use one escape character in a whole chain"},
    FlattenCase{"EscapeDiffers",
        {{"base", "# escape=`\nFROM debian\n"},
         {"top", "# syntax=x\n# escape=\\\nFROM qemu/base\n"}},
        "", "@DIR@/top.docker:2: escape character '\\' differs from '`' in "
        "@DIR@/base.docker; use one escape character in a whole chain"},
    FlattenCase{"SyntaxDiffers",
        {{"base", "# syntax=docker/dockerfile:1.4\nFROM debian\n"},
         {"top", "# syntax=docker/dockerfile:1\nFROM qemu/base\n"}},
        "", "@DIR@/top.docker:1: parser directive "
        "'syntax=docker/dockerfile:1' conflicts with "
        "'docker/dockerfile:1.4' at @DIR@/base.docker:1; give it one value "
        "in a whole chain"}),
    CaseName);
// clang-format on

#undef FROM_FILE

// The canonical text of the chain after `edit` replaced base.docker.
class CanonicalTest : public testing::Test {
 protected:
  std::string Canonical(const std::string& base) {
    TempDir dir;
    Files files = {{"base", base}, {"top", "FROM qemu/base\nRUN top\n"}};
    Expected<Flattened> got = FlattenFiles(dir, files, {});
    if (!got) return "error: " + got.error().message;
    return got->canonical;
  }

  const std::string original_ = "FROM debian\nRUN a \\\n  b\n";
};

TEST_F(CanonicalTest, IsOneLinePerInstruction) {
  EXPECT_EQ(Canonical(original_),
            "FROM debian AS base.base\n"
            "RUN a   b\n"
            "FROM base.base\n"
            "RUN top\n");
}

TEST_F(CanonicalTest, IgnoresCommentAndBlankLineEdits) {
  EXPECT_EQ(Canonical("# new\n\nFROM debian\n# more\n\nRUN a \\\n"
                      "  # inside\n\n  b\n\n# end\n"),
            Canonical(original_));
}

TEST_F(CanonicalTest, ChangesWithAnInstruction) {
  EXPECT_NE(Canonical("FROM debian\nRUN a \\\n  c\n"), Canonical(original_));
  EXPECT_NE(Canonical("FROM debian:12\nRUN a \\\n  b\n"), Canonical(original_));
}

TEST_F(CanonicalTest, KeepsHeredocBodies) {
  EXPECT_EQ(Canonical("FROM debian\nRUN <<EOF\n# body\nEOF\n"),
            "FROM debian AS base.base\n"
            "RUN <<EOF\n# body\nEOF\n"
            "FROM base.base\n"
            "RUN top\n");
  EXPECT_NE(Canonical("FROM debian\nRUN <<EOF\n# other\nEOF\n"),
            Canonical("FROM debian\nRUN <<EOF\n# body\nEOF\n"));
}

}  // namespace
}  // namespace qdi::flatten
