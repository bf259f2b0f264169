#include "util/files.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace qdi::util {
namespace {

namespace fs = std::filesystem;

// A point in 2001, far from any time a test runs at.
constexpr time_t kOldTime = 1'000'000'000;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "qdi_files.XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  void Put(const std::string& name, const std::string& content) {
    ASSERT_TRUE(WriteFileIfChanged(Path(name), content));
  }

  std::string Get(const std::string& name) const {
    Expected<std::string> content = ReadFile(Path(name));
    return content ? *content : "<unreadable>";
  }

  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      names.push_back(entry.path().filename());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string dir_;
};

void SetMtime(const std::string& path, time_t seconds) {
  timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

time_t Mtime(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return -1;
  return info.st_mtim.tv_sec;
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// --- ReadFile

TEST_F(FilesTest, ReadFileReturnsEveryByte) {
  std::string content("a\0b\r\n\xff", 6);
  Put("f", content);
  Expected<std::string> read = ReadFile(Path("f"));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, content);
}

// Sizes around the 64 KB read buffer, where a short read ends the file.
TEST_F(FilesTest, ReadFileReturnsEveryByteOfBigFiles) {
  for (size_t size : {65535u, 65536u, 65537u, 200000u}) {
    std::string content(size, 'x');
    content.back() = 'y';
    Put("big", content);
    EXPECT_EQ(Get("big"), content) << size;
  }
}

// A pipe and a file of /proc read short before their end, and /proc gives
// a size of 0 whatever the file holds.
TEST_F(FilesTest, ReadFileReadsPipesAndProcFilesToTheEnd) {
  ASSERT_EQ(mkfifo(Path("fifo").c_str(), 0600), 0);
  std::string content(100000, 'p');
  pid_t writer = fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    int fd = open(Path("fifo").c_str(), O_WRONLY);
    for (size_t done = 0; fd >= 0 && done < content.size(); done += 1000) {
      if (write(fd, content.data() + done, 1000) != 1000) _exit(1);
      usleep(100);
    }
    _exit(0);
  }
  Expected<std::string> piped = ReadFile(Path("fifo"));
  waitpid(writer, nullptr, 0);
  ASSERT_TRUE(piped) << piped.error().message;
  EXPECT_EQ(*piped, content);

  // smaps gives one page or less per read, and this process has enough
  // mappings for several pages.
  Expected<std::string> smaps = ReadFile("/proc/self/smaps");
  ASSERT_TRUE(smaps) << smaps.error().message;
  EXPECT_GT(smaps->size(), 3 * 4096u);
  EXPECT_EQ(smaps->back(), '\n');
}

// Below 1 MB a file is read, from 1 MB on it is mapped; both give every
// byte, and a move keeps them.
TEST_F(FilesTest, ReadFileBytesGivesEveryByteReadOrMapped) {
  for (size_t size : {0u, 10u, (1u << 20) - 1, 1u << 20, 3u << 20}) {
    std::string content(size, 'b');
    if (size > 0) content.front() = 'a';
    Put("bytes", content);
    Expected<FileBytes> bytes = ReadFileBytes(Path("bytes"));
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(bytes->view(), content) << size;
    FileBytes moved = std::move(*bytes);
    EXPECT_EQ(moved.view(), content) << size;
    FileBytes assigned(std::string("old"));
    assigned = std::move(moved);
    EXPECT_EQ(assigned.view(), content) << size;
  }
}

TEST_F(FilesTest, ReadFileBytesOfMissingFileSaysWhatReadFileSays) {
  Expected<FileBytes> bytes = ReadFileBytes(Path("missing"));
  Expected<std::string> text = ReadFile(Path("missing"));
  ASSERT_FALSE(bytes);
  ASSERT_FALSE(text);
  EXPECT_EQ(bytes.error().message, text.error().message);
}

TEST_F(FilesTest, ReadFileOfMissingFileNamesPathAndFix) {
  Expected<std::string> read = ReadFile(Path("missing"));
  ASSERT_FALSE(read);
  const std::string& message = read.error().message;
  EXPECT_TRUE(
      StartsWith(message, Path("missing") + ": cannot be read: No such file"))
      << message;
  EXPECT_TRUE(EndsWith(message, "; check that it exists and is readable"))
      << message;
}

// --- WriteFileIfChanged

TEST_F(FilesTest, WriteCreatesNewFile) {
  Expected<bool> written = WriteFileIfChanged(Path("f"), "new");
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_TRUE(*written);
  EXPECT_EQ(Get("f"), "new");
}

TEST_F(FilesTest, UnchangedContentKeepsMtime) {
  Put("f", "same");
  SetMtime(Path("f"), kOldTime);

  Expected<bool> written = WriteFileIfChanged(Path("f"), "same");
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_FALSE(*written);
  EXPECT_EQ(Mtime(Path("f")), kOldTime);
}

TEST_F(FilesTest, ChangedContentReplacesFile) {
  Put("f", "old content");
  SetMtime(Path("f"), kOldTime);

  Expected<bool> written = WriteFileIfChanged(Path("f"), "new");
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_TRUE(*written);
  EXPECT_EQ(Get("f"), "new");
  EXPECT_NE(Mtime(Path("f")), kOldTime);
  EXPECT_EQ(Entries(), std::vector<std::string>{"f"});
}

TEST_F(FilesTest, MissingFolderIsAnError) {
  Expected<bool> written = WriteFileIfChanged(Path("no/f"), "x");
  ASSERT_FALSE(written);
  const std::string& message = written.error().message;
  EXPECT_TRUE(StartsWith(message, Path("no/f") + ": cannot be written: No "))
      << message;
  EXPECT_TRUE(EndsWith(message, "; check that its folder exists")) << message;
  EXPECT_FALSE(fs::exists(Path("no")));
}

TEST_F(FilesTest, ParentThatIsAFileIsAnError) {
  Put("file", "x");
  Expected<bool> written = WriteFileIfChanged(Path("file/f"), "x");
  ASSERT_FALSE(written);
  const std::string& message = written.error().message;
  EXPECT_TRUE(StartsWith(
      message, Path("file/f") + ": cannot be written: Not a directory"))
      << message;
  EXPECT_EQ(Entries(), std::vector<std::string>{"file"});
}

// A full disk, imitated with a file size limit that binds root as well.
TEST_F(FilesTest, FailedWriteKeepsOldFileAndRemovesTemporary) {
  Put("f", "old");
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit tight = saved;
  tight.rlim_cur = 16;
  sighandler_t old_handler = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tight), 0);

  Expected<bool> written = WriteFileIfChanged(Path("f"), std::string(64, 'x'));
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, old_handler);

  ASSERT_FALSE(written);
  const std::string& message = written.error().message;
  EXPECT_TRUE(StartsWith(message, Path("f") + ": cannot be written: "))
      << message;
  EXPECT_TRUE(
      EndsWith(message, "; free some space or choose another output folder"))
      << message;
  EXPECT_EQ(Get("f"), "old");
  EXPECT_EQ(Entries(), std::vector<std::string>{"f"});
}

TEST_F(FilesTest, FailedRenameRemovesTemporary) {
  fs::create_directories(Path("d/inner"));
  Expected<bool> written = WriteFileIfChanged(Path("d"), "x");
  ASSERT_FALSE(written);
  EXPECT_TRUE(
      StartsWith(written.error().message, Path("d") + ": cannot be written: "))
      << written.error().message;
  EXPECT_TRUE(fs::is_directory(Path("d/inner")));
  EXPECT_EQ(Entries(), std::vector<std::string>{"d"});
}

TEST_F(FilesTest, StagedWritesChangeNothingWhenOneFails) {
  Put("a", "old a");
  Put("c", "old c");
  SetMtime(Path("a"), kOldTime);
  {
    StagedWrites writes;
    ASSERT_TRUE(writes.Stage(Path("a"), "new a"));
    Status failed = writes.Stage(Path("missing/b"), "new b");
    ASSERT_FALSE(failed);
    EXPECT_TRUE(StartsWith(failed.error().message,
                           Path("missing/b") + ": cannot be written: "))
        << failed.error().message;
  }
  EXPECT_EQ(Get("a"), "old a");
  EXPECT_EQ(Get("c"), "old c");
  EXPECT_EQ(Entries(), (std::vector<std::string>{"a", "c"}));
}

TEST_F(FilesTest, StagedWritesReplaceOnlyChangedFiles) {
  Put("same", "kept");
  SetMtime(Path("same"), kOldTime);
  StagedWrites writes;
  ASSERT_TRUE(writes.Stage(Path("same"), "kept"));
  ASSERT_TRUE(writes.Stage(Path("new"), "written"));
  Expected<size_t> committed = writes.Commit();
  ASSERT_TRUE(committed);
  EXPECT_EQ(*committed, 1u);
  EXPECT_EQ(Get("new"), "written");
  struct stat info {};
  ASSERT_EQ(stat(Path("same").c_str(), &info), 0);
  EXPECT_EQ(info.st_mtime, kOldTime);
  EXPECT_EQ(Entries(), (std::vector<std::string>{"new", "same"}));
}

// --- Depfiles

TEST(EscapeDepfilePathTest, EscapesWhatBothToolsNeed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain/path.txt", "plain/path.txt"},
      {"a b", "a\\ b"},
      {"x#y", "x\\#y"},
      {"d$z", "d$$z"},
      {"c:d", "c\\:d"},
      {"\xc3\xa9", "\xc3\xa9"},
      {"b\\s", "b\\s"},
      {"e\\ f", "e\\\\\\ f"},
      {"e\\\\ f", "e\\\\\\\\\\ f"},
      {"p%q(1)", "p%q(1)"},
  };
  for (const auto& [path, escaped] : cases) {
    EXPECT_EQ(EscapeDepfilePath(path), escaped) << path;
  }
}

TEST(CheckDepfilePathTest, AcceptsOrdinaryPaths) {
  for (std::string path : {"/src/a b/x#y", "d$z", "c:d", "b\\s", "e\\ f"}) {
    Status status = CheckDepfilePath(path);
    EXPECT_TRUE(status) << status.error().message;
  }
}

TEST(CheckDepfilePathTest, RejectsPathsNoSpellingFits) {
  const std::string fix = "; rename the file";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a\nb",
       "cannot list 'a\\x0ab' in a depfile because it contains the "
       "control character \\x0a" +
           fix},
      {"t\tb",
       "cannot list 't\\x09b' in a depfile because it contains the "
       "control character \\x09" +
           fix},
      {"a;b",
       "cannot list 'a;b' in a depfile because it contains ';', "
       "which ninja or make reads as syntax" +
           fix},
      {"k=v",
       "cannot list 'k=v' in a depfile because it contains '=', "
       "which ninja or make reads as syntax" +
           fix},
      {"it's",
       "cannot list 'it's' in a depfile because it contains ''', "
       "which ninja or make reads as syntax" +
           fix},
      {"q[1]",
       "cannot list 'q[1]' in a depfile because it contains '[', "
       "which make expands as a wildcard" +
           fix},
      {"~x",
       "cannot list '~x' in a depfile because it contains a leading "
       "'~', which make expands" +
           fix},
      {"x:",
       "cannot list 'x:' in a depfile because it contains a trailing "
       "':', which ninja misreads" +
           fix},
      {"x\\",
       "cannot list 'x\\' in a depfile because it contains a "
       "trailing backslash" +
           fix},
      {"x\\#y",
       "cannot list 'x\\#y' in a depfile because it contains a "
       "backslash before '#'" +
           fix},
      {"", "cannot list '' in a depfile because it contains nothing" + fix},
  };
  for (const auto& [path, message] : cases) {
    Status status = CheckDepfilePath(path);
    ASSERT_FALSE(status) << path;
    EXPECT_EQ(status.error().message, message);
  }
}

TEST(FormatDepfileTest, ListsInputsOnePerLineWithEmptyRules) {
  EXPECT_EQ(FormatDepfile("out stamp", {"a", "b c", "d"}),
            "out\\ stamp: a \\\n"
            "  b\\ c \\\n"
            "  d\n"
            "\n"
            "a:\n"
            "\n"
            "b\\ c:\n"
            "\n"
            "d:\n");
}

TEST(FormatDepfileTest, WithoutInputsListsOnlyTarget) {
  EXPECT_EQ(FormatDepfile("out", {}), "out:\n");
}

TEST_F(FilesTest, WriteDepfileRejectsNewlineAndWritesNothing) {
  Expected<bool> written = WriteDepfile(Path("out.d"), "out", {"ok", "a\nb"});
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().message,
            Path("out.d") +
                ": cannot list 'a\\x0ab' in a depfile because it contains "
                "the control character \\x0a; rename the file");
  EXPECT_TRUE(Entries().empty());
}

TEST_F(FilesTest, WriteDepfileRejectsBadTarget) {
  Expected<bool> written = WriteDepfile(Path("out.d"), "o|t", {"in"});
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().message,
            Path("out.d") +
                ": cannot list 'o|t' in a depfile because it contains '|', "
                "which ninja or make reads as syntax; rename the file");
}

TEST_F(FilesTest, WriteDepfileWritesFormattedText) {
  Expected<bool> written = WriteDepfile(Path("out.d"), "out", {"a b"});
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_TRUE(*written);
  EXPECT_EQ(Get("out.d"), FormatDepfile("out", {"a b"}));
}

// --- Depfiles read back by the real tools

bool OnPath(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// Names that need every kind of escaping the depfile writer does.
const std::vector<std::string>& AwkwardNames() {
  static const std::vector<std::string> names = {
      "a b", "x#y", "d$z", "c:d", "\xc3\xa9", "b\\s", "e\\ f"};
  return names;
}

// The rule copies our depfile to where the tool reads it, and logs each run.
constexpr char kCommand[] = "cp deps.d out.d && touch out && echo run >> runs";

class DepfileToolTest : public FilesTest {
 protected:
  void WriteNinja(bool deps_log) {
    Put("build.ninja", std::string("rule r\n  command = ") + kCommand +
                           "\n  depfile = out.d\n" +
                           (deps_log ? "  deps = gcc\n" : "") +
                           "build out: r\n");
    tool_ = "ninja -C " + dir_;
  }

  void WriteMake() {
    Put("Makefile", std::string("out:\n\t") + kCommand + "\n-include out.d\n");
    tool_ = "make -C " + dir_;
  }

  void WriteInputs() {
    for (const std::string& name : AwkwardNames()) {
      Put(name, "input");
      SetMtime(Path(name), kOldTime);
    }
    Expected<bool> written =
        WriteDepfile(Path("deps.d"), "out", AwkwardNames());
    ASSERT_TRUE(written) << written.error().message;
  }

  bool Build() {
    return std::system((tool_ + " >/dev/null 2>&1").c_str()) == 0;
  }

  size_t Runs() const {
    std::string log = Get("runs");
    return log == "<unreadable>" ? 0 : std::count(log.begin(), log.end(), '\n');
  }

  // Builds twice, then makes each input newer than the output in turn: the
  // tool must rebuild exactly then.
  void ExpectRebuildPerInput() {
    ASSERT_TRUE(Build());
    ASSERT_TRUE(Build());
    ASSERT_EQ(Runs(), 1u) << "the second build should have had nothing to do";
    for (const std::string& name : AwkwardNames()) {
      size_t before = Runs();
      SetMtime(Path(name), Mtime(Path("out")) + 1);
      ASSERT_TRUE(Build()) << name;
      EXPECT_EQ(Runs(), before + 1) << "no rebuild after touching " << name;
      SetMtime(Path(name), kOldTime);
    }
  }

  void ExpectDeletedInputIsHarmless() {
    ASSERT_TRUE(Build());
    fs::remove(Path("a b"));
    EXPECT_TRUE(Build()) << "the build failed once an input was deleted";
  }

  std::string tool_;
};

TEST_F(DepfileToolTest, NinjaWithDepsLogRebuildsForEachInput) {
  if (!OnPath("ninja")) GTEST_SKIP() << "ninja is not on PATH";
  WriteNinja(true);
  WriteInputs();
  ExpectRebuildPerInput();
}

TEST_F(DepfileToolTest, NinjaReadingDepfileRebuildsForEachInput) {
  if (!OnPath("ninja")) GTEST_SKIP() << "ninja is not on PATH";
  WriteNinja(false);
  WriteInputs();
  ExpectRebuildPerInput();
}

TEST_F(DepfileToolTest, MakeRebuildsForEachInput) {
  if (!OnPath("make")) GTEST_SKIP() << "make is not on PATH";
  WriteMake();
  WriteInputs();
  ExpectRebuildPerInput();
}

TEST_F(DepfileToolTest, NinjaToleratesDeletedInput) {
  if (!OnPath("ninja")) GTEST_SKIP() << "ninja is not on PATH";
  WriteNinja(true);
  WriteInputs();
  ExpectDeletedInputIsHarmless();
}

TEST_F(DepfileToolTest, MakeToleratesDeletedInput) {
  if (!OnPath("make")) GTEST_SKIP() << "make is not on PATH";
  WriteMake();
  WriteInputs();
  ExpectDeletedInputIsHarmless();
}

}  // namespace
}  // namespace qdi::util
