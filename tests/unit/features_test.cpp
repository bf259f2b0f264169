// The per-image features taken over from QEMU's docker.py: the added
// user, NAME.pre scripts and executables staged with their libraries.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "context/executable.hpp"
#include "core/evaluate.hpp"
#include "flatten/flattener.hpp"
#include "graph/graph.hpp"

namespace qdi {
namespace {

namespace fs = std::filesystem;

class FeaturesTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = fs::temp_directory_path() / "qdi_features.XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Write("base.docker", "FROM debian:12\nRUN echo base\n");
    Write("top.docker", "FROM qemu/base\nRUN echo top\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << text;
  }

  // Flattens and checksums top.docker under `settings`.
  core::Evaluation Evaluate(graph::Settings settings = {}) {
    graph::Graph graph(std::move(settings));
    Expected<const graph::Image*> top = graph.LoadFile(dir_ + "/top.docker");
    EXPECT_TRUE(top.has_value()) << top.error().message;
    Expected<core::Evaluation> evaluation =
        core::Evaluate(graph, **top, nullptr);
    EXPECT_TRUE(evaluation.has_value()) << evaluation.error().message;
    return *evaluation;
  }

  std::string dir_;
};

const char kUserLine[] =
    "RUN id qdi >/dev/null 2>&1 || useradd -u 42 -U qdi || { echo "
    "qdi:x:42:42::/home/qdi:/bin/sh >> /etc/passwd && echo qdi:x:42: >> "
    "/etc/group; }";

TEST(UserInstructionTest, IsMissingWithoutAUser) {
  EXPECT_FALSE(flatten::UserInstruction({}).has_value());
}

TEST(UserInstructionTest, AddsTheNameAndUid) {
  graph::ImageSettings settings;
  settings.user = "qdi:42";
  EXPECT_EQ(flatten::UserInstruction(settings), kUserLine);
}

TEST_F(FeaturesTest, UserEndsItsImageInTheFlattenedText) {
  graph::Settings settings;
  settings.per_image["base"].user = "qdi:42";
  core::Evaluation evaluation = Evaluate(settings);
  EXPECT_NE(evaluation.flattened.text.find(std::string("RUN echo base\n") +
                                           kUserLine + "\nFROM base.base\n"),
            std::string::npos)
      << evaluation.flattened.text;
  EXPECT_NE(evaluation.flattened.canonical.find(kUserLine), std::string::npos);
}

TEST_F(FeaturesTest, UserIsPartOfTheChecksum) {
  std::string without = Evaluate().checksum;
  graph::Settings settings;
  settings.per_image["base"].user = "qdi:42";
  std::string with = Evaluate(settings).checksum;
  settings.per_image["base"].user = "qdi:43";
  std::string other_uid = Evaluate(settings).checksum;
  EXPECT_NE(without, with);
  EXPECT_NE(with, other_uid);
}

TEST_F(FeaturesTest, LayeredTextEndsWithTheUser) {
  graph::Settings settings;
  settings.top.user = "qdi:42";
  graph::Graph graph(settings);
  Expected<const graph::Image*> top = graph.LoadFile(dir_ + "/top.docker");
  ASSERT_TRUE(top.has_value());
  Expected<std::string> text = flatten::LayeredText(graph, **top, "qemu/");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text,
            std::string("FROM qemu/base\nRUN echo top\n") + kUserLine + "\n");
}

TEST_F(FeaturesTest, PreScriptOfABaseIsAnInputAndPartOfTheChecksum) {
  std::string without = Evaluate().checksum;
  Write("base.pre", "#!/bin/sh\necho one\n");
  core::Evaluation with = Evaluate();
  Write("base.pre", "#!/bin/sh\necho two\n");
  std::string edited = Evaluate().checksum;
  EXPECT_NE(without, with.checksum);
  EXPECT_NE(with.checksum, edited);
  EXPECT_NE(
      std::find(with.inputs.begin(), with.inputs.end(), dir_ + "/base.pre"),
      with.inputs.end());
}

TEST(LddPathsTest, TakesResolvedLibrariesAndTheLoader) {
  Expected<std::vector<std::string>> paths = context::LddPaths(
      "\tlinux-vdso.so.1 (0x00007ffd)\n"
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f51)\n"
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f52)\n");
  ASSERT_TRUE(paths.has_value());
  EXPECT_EQ(*paths, (std::vector<std::string>{"/lib/x86_64-linux-gnu/libc.so.6",
                                              "/lib64/ld-linux-x86-64.so.2"}));
}

TEST(LddPathsTest, RefusesALibraryThatIsNotFound) {
  Expected<std::vector<std::string>> paths =
      context::LddPaths("\tlibgone.so.1 => not found\n");
  ASSERT_FALSE(paths.has_value());
  EXPECT_EQ(paths.error().message,
            "the shared library 'libgone.so.1' is not found");
}

TEST(ExecutableFilesTest, StagesTheExecutableAndItsLoader) {
  const std::string ls = "/bin/ls";
  if (!fs::exists(ls)) GTEST_SKIP() << ls << " is not installed";
  Expected<std::vector<context::StagedPath>> files =
      context::ExecutableFiles(ls);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  ASSERT_GE(files->size(), 2u);
  EXPECT_EQ(files->front().name, "usr/bin/ls");
  bool has_libc = false;
  for (const context::StagedPath& file : *files) {
    EXPECT_TRUE(fs::is_regular_file(file.path)) << file.path;
    if (file.name.find("libc.so") != std::string::npos) has_libc = true;
  }
  EXPECT_TRUE(has_libc);
}

TEST(ExecutableFilesTest, RefusesAMissingExecutable) {
  Expected<std::vector<context::StagedPath>> files =
      context::ExecutableFiles("/nonexistent/qemu-aarch64");
  ASSERT_FALSE(files.has_value());
  EXPECT_EQ(files.error().message,
            "executable '/nonexistent/qemu-aarch64' does not exist; build it "
            "first or fix the path");
}

}  // namespace
}  // namespace qdi
