// The work that a folder's checksum spreads over the cores: ParallelFor
// itself, and Evaluator::Checksums, which must give exactly what one
// evaluation after another gives, errors included.

#include "util/parallel.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/evaluate.hpp"
#include "graph/graph.hpp"

namespace qdi {
namespace {

namespace fs = std::filesystem;

TEST(ParallelForTest, CallsEachIndexOnceOnSeveralThreads) {
  std::vector<std::atomic<int>> calls(1000);
  util::ParallelFor(calls.size(), 4, [&](size_t i) { ++calls[i]; });
  for (size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(calls[i], 1) << i;
}

TEST(ParallelForTest, OneThreadRunsInOrderOnTheCaller) {
  std::vector<size_t> order;
  util::ParallelFor(5, 1, [&](size_t i) { order.push_back(i); });
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4}));
}

TEST(ParallelForTest, NothingToDoCallsNothing) {
  bool called = false;
  util::ParallelFor(0, 4, [&](size_t) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ThreadsForTest, FewPiecesStayOnOneThread) {
  EXPECT_EQ(util::ThreadsFor(0), 1u);
  EXPECT_EQ(util::ThreadsFor(3), 1u);
  EXPECT_GE(util::ThreadsFor(100000), 1u);
}

// A folder large enough to be checksummed on several threads: roots that
// copy files, images two and three levels above them, and some pre scripts.
class ChecksumsTest : public testing::Test {
 protected:
  static constexpr int kImages = 300;

  void SetUp() override {
    std::string pattern = fs::temp_directory_path() / "qdi_parallel.XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    for (int i = 0; i < kImages; ++i) {
      std::string name = "img" + std::to_string(i);
      std::string text;
      if (i % 10 == 0) {
        fs::create_directories(dir_ + "/" + name + ".docker.d");
        Write(name + ".docker.d/file.txt", "data " + std::to_string(i));
        text = "FROM debian:12\nENV N=" + std::to_string(i) +
               "\nCOPY file.txt /opt/$N\n";
      } else {
        int base = i % 3 == 0 ? i - i % 10 : i - 1;
        text = "FROM qemu/img" + std::to_string(base) + "\nRUN echo " +
               std::to_string(i) + "\n";
      }
      Write(name + ".docker", text);
      if (i % 7 == 0) Write(name + ".pre", "#!/bin/sh\nexit 0\n");
      paths_.push_back(dir_ + "/" + name + ".docker");
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << text;
  }

  // Each checksum, or the error's message, evaluated one at a time in a
  // graph of its own.
  std::vector<std::string> OneByOne() {
    std::vector<std::string> results;
    for (const std::string& path : paths_) {
      graph::Graph graph({});
      Expected<const graph::Image*> image = graph.LoadFile(path);
      if (!image) {
        results.push_back(image.error().message);
        continue;
      }
      Expected<core::Evaluation> evaluation =
          core::Evaluate(graph, **image, nullptr);
      results.push_back(evaluation ? evaluation->checksum
                                   : evaluation.error().message);
    }
    return results;
  }

  // The same through one graph and Evaluator::Checksums.
  std::vector<std::string> AllAtOnce() {
    graph::Graph graph({});
    Expected<std::vector<const graph::Image*>> images = graph.LoadFiles(paths_);
    EXPECT_TRUE(images.has_value()) << images.error().message;
    if (!images) return {};
    core::Evaluator evaluator(graph, nullptr, /*keep_text=*/false);
    std::vector<std::string> results;
    for (const Expected<std::string>& checksum : evaluator.Checksums(*images)) {
      results.push_back(checksum ? *checksum : checksum.error().message);
    }
    return results;
  }

  std::string dir_;
  std::vector<std::string> paths_;
};

TEST_F(ChecksumsTest, UsesSeveralThreadsForThisFolder) {
  if (std::thread::hardware_concurrency() < 2) {
    GTEST_SKIP() << "one core: everything runs on one thread";
  }
  EXPECT_GT(util::ThreadsFor(paths_.size()), 1u)
      << "the folder is too small to test the threaded path";
}

TEST_F(ChecksumsTest, AllAtOnceEqualsOneByOne) {
  std::vector<std::string> expected = OneByOne();
  EXPECT_EQ(AllAtOnce(), expected);
}

TEST_F(ChecksumsTest, AnErrorStaysWithItsImageAndOthersStillHash) {
  fs::remove(dir_ + "/img20.docker.d/file.txt");
  std::vector<std::string> expected = OneByOne();
  std::vector<std::string> got = AllAtOnce();
  ASSERT_EQ(got, expected);
  EXPECT_NE(got[20].find("file.txt"), std::string::npos) << got[20];
  // img23 stands on img20; img19 and img30 do not.
  EXPECT_NE(got[23].find("file.txt"), std::string::npos) << got[23];
  EXPECT_EQ(got[19].size(), 32u) << got[19];
  EXPECT_EQ(got[30].size(), 32u) << got[30];
}

// The threaded path finds every image's inputs ahead, pre scripts among
// them; a script it missed would leave the checksums as they were.
TEST_F(ChecksumsTest, PreScriptsCountWhenAllAtOnce) {
  std::vector<std::string> with_script = AllAtOnce();
  fs::remove(dir_ + "/img7.pre");
  std::vector<std::string> without = AllAtOnce();
  ASSERT_EQ(without.size(), with_script.size());
  EXPECT_NE(without[7], with_script[7]);
  EXPECT_NE(without[8], with_script[8]);  // img8 stands on img7
  EXPECT_EQ(without[5], with_script[5]);
  EXPECT_EQ(without, OneByOne());
}

// A copied file is read once for all the images above it when it is
// small, and as each is hashed when it is big; a changed byte counts for
// every image that stands on it either way.
TEST_F(ChecksumsTest, CopiedFilesCountAboveTheirImageKeptOrNot) {
  for (size_t size : {10u, 200u * 1024}) {
    Write("img10.docker.d/file.txt", std::string(size, 'a'));
    std::vector<std::string> before = AllAtOnce();
    Write("img10.docker.d/file.txt", std::string(size - 1, 'a') + "b");
    std::vector<std::string> after = AllAtOnce();
    ASSERT_EQ(after.size(), before.size());
    EXPECT_NE(after[10], before[10]) << size;
    EXPECT_NE(after[11], before[11]) << size;  // img11 stands on img10
    EXPECT_NE(after[13], before[13]) << size;  // img13 on img12, on img10
    EXPECT_EQ(after[9], before[9]) << size;
    EXPECT_EQ(after, OneByOne()) << size;
  }
}

// Small files are kept only up to a total per image, so that a big
// context is not held in memory; one past that total still counts.
TEST_F(ChecksumsTest, CopiedFilesPastTheKeptTotalStillCount) {
  Write("img10.docker", "FROM debian:12\nCOPY . /opt/\n");
  for (int i = 0; i < 20; ++i) {
    Write("img10.docker.d/part" + std::to_string(100 + i),
          std::string(60 * 1024, 'p'));
  }
  std::vector<std::string> before = AllAtOnce();
  Write("img10.docker.d/part119", std::string(60 * 1024, 'q'));
  std::vector<std::string> after = AllAtOnce();
  ASSERT_EQ(after.size(), before.size());
  EXPECT_NE(after[10], before[10]);
  EXPECT_NE(after[11], before[11]);  // img11 stands on img10
  EXPECT_EQ(after[9], before[9]);
  EXPECT_EQ(after, OneByOne());
}

}  // namespace
}  // namespace qdi
