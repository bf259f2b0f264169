// Which files an image's COPY and ADD instructions take from its context:
// sources expanded with the stage's ARG and ENV values, as Docker expands
// them, and the folders watched for new files.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/evaluate.hpp"
#include "graph/graph.hpp"

namespace qdi {
namespace {

namespace fs = std::filesystem;

class ContextTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = fs::temp_directory_path() / "qdi_context.XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    for (const char* name : {"dir/a.txt", "dir/b.txt", "a b", "ctx/x/y.txt"}) {
      Write(std::string("top.docker.d/") + name, name);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    fs::path path = fs::path(dir_) / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }

  // Evaluates top.docker, holding `text`, under `settings`.
  Expected<core::Evaluation> Evaluate(const std::string& text,
                                      graph::Settings settings = {}) {
    Write("top.docker", text);
    graph::Graph graph(std::move(settings));
    Expected<const graph::Image*> top = graph.LoadFile(dir_ + "/top.docker");
    if (!top) return top.error();
    return core::Evaluate(graph, **top, nullptr);
  }

  // The names, in the context, of the files that `text` copies.
  std::vector<std::string> Copied(const std::string& text,
                                  graph::Settings settings = {}) {
    Expected<core::Evaluation> evaluation = Evaluate(text, std::move(settings));
    EXPECT_TRUE(evaluation.has_value()) << evaluation.error().message;
    std::vector<std::string> names;
    if (!evaluation) return names;
    for (const auto& file : evaluation->context_files) {
      names.push_back(file.name);
    }
    return names;
  }

  std::string dir_;
};

using Names = std::vector<std::string>;

TEST_F(ContextTest, LegacyEnvNamesTheRestOfTheLine) {
  EXPECT_EQ(Copied("FROM debian:12\nENV SUB dir\nCOPY $SUB/a.txt /\n"),
            Names{"dir/a.txt"});
  // The value keeps its inner blank, and the exec form keeps it one word.
  EXPECT_EQ(Copied("FROM debian:12\nENV NAME  a b\nCOPY [\"$NAME\", \"/\"]\n"),
            Names{"a b"});
}

TEST_F(ContextTest, EnvPairsAndBracesExpand) {
  EXPECT_EQ(Copied("FROM debian:12\nENV D=dir F=\"b.txt\"\n"
                   "COPY ${D}/${F} /\n"),
            Names{"dir/b.txt"});
}

TEST_F(ContextTest, BuildArgOverridesArgDefault) {
  std::string text = "FROM debian:12\nARG WHICH=a.txt\nCOPY dir/$WHICH /\n";
  EXPECT_EQ(Copied(text), Names{"dir/a.txt"});
  graph::Settings settings;
  settings.build_args["WHICH"] = "b.txt";
  EXPECT_EQ(Copied(text, settings), Names{"dir/b.txt"});
}

TEST_F(ContextTest, EnvOfAnotherStageDoesNotLeak) {
  Expected<core::Evaluation> evaluation = Evaluate(
      "FROM debian:12 AS one\nENV SUB dir\n"
      "FROM debian:12\nCOPY $SUB/a.txt /\n");
  ASSERT_FALSE(evaluation.has_value());
  EXPECT_NE(evaluation.error().message.find("top.docker:4:"), std::string::npos)
      << evaluation.error().message;
}

TEST_F(ContextTest, BadEnvValueIsAnErrorAtItsLine) {
  Expected<core::Evaluation> evaluation =
      Evaluate("FROM debian:12\nRUN true\nENV BAD ${}\nCOPY dir /\n");
  ASSERT_FALSE(evaluation.has_value());
  EXPECT_NE(evaluation.error().message.find("top.docker:3: bad substitution"),
            std::string::npos)
      << evaluation.error().message;
}

TEST_F(ContextTest, CopiedFoldersAreInputs) {
  Expected<core::Evaluation> evaluation =
      Evaluate("FROM debian:12\nCOPY ctx /ctx\n");
  ASSERT_TRUE(evaluation.has_value()) << evaluation.error().message;
  const std::vector<std::string>& inputs = evaluation->inputs;
  for (const char* folder :
       {"/top.docker.d", "/top.docker.d/ctx", "/top.docker.d/ctx/x"}) {
    EXPECT_NE(std::find(inputs.begin(), inputs.end(), dir_ + folder),
              inputs.end())
        << folder;
  }
}

}  // namespace
}  // namespace qdi
