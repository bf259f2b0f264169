#include "hash/hasher.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace qdi::hash {
namespace {

namespace fs = std::filesystem;

std::string Digest(void (*fill)(Hasher&)) {
  Hasher hasher;
  fill(hasher);
  return hasher.HexDigest();
}

// The framing written out by hand, independently of Hasher.
std::string Frame(char tag, const std::string& bytes) {
  std::string out(1, tag);
  for (int i = 0; i < 8; ++i) {
    out += static_cast<char>((bytes.size() >> (8 * i)) & 0xff);
  }
  return out + bytes;
}

class HasherFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "qdi_hasher.XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::string dir_;
};

TEST(HasherTest, FieldBoundariesMatter) {
  EXPECT_NE(Digest([](Hasher& h) {
              h.Add(Tag::kText, "ab");
              h.Add(Tag::kText, "c");
            }),
            Digest([](Hasher& h) {
              h.Add(Tag::kText, "a");
              h.Add(Tag::kText, "bc");
            }));
}

TEST(HasherTest, TagsMatter) {
  EXPECT_NE(Digest([](Hasher& h) { h.Add(Tag::kText, "x"); }),
            Digest([](Hasher& h) { h.Add(Tag::kFileName, "x"); }));
}

TEST(HasherTest, EmptyFieldCounts) {
  EXPECT_NE(Digest([](Hasher& h) { h.Add(Tag::kText, ""); }),
            Digest([](Hasher&) {}));
}

TEST(HasherTest, DigestIsCanonicalLowercaseHex) {
  // XXH3-128 of no bytes, as `xxh128sum /dev/null` prints it.
  EXPECT_EQ(Digest([](Hasher&) {}), "99aa06d3014798d86001c324468d497f");
}

TEST(HasherTest, DigestOfKnownFields) {
  // Obtained once with xxh128sum over Frame('V', "1") + Frame('T', "hello")
  // written to a file (xxhash 0.8.1).
  EXPECT_EQ(Digest([](Hasher& h) {
              h.Add(Tag::kFormat, "1");
              h.Add(Tag::kText, "hello");
            }),
            "cb5cc080936fcd008c3cb9e7d13f983a");
}

TEST_F(HasherFileTest, DigestMatchesXxh128sumOverFramedBytes) {
  if (std::system("command -v xxh128sum >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "xxh128sum is not on PATH; install the xxhash package";
  }
  std::string binary("\0\n\xff", 3);
  std::string path = Write("framed", Frame('A', "NAME") + Frame('a', binary) +
                                         Frame('I', std::string(70000, 'i')));

  std::string command = "xxh128sum " + path;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char line[256] = {};
  ASSERT_NE(fgets(line, sizeof line, pipe), nullptr);
  ASSERT_EQ(pclose(pipe), 0);

  Hasher hasher;
  hasher.Add(Tag::kArgName, "NAME");
  hasher.Add(Tag::kArgValue, binary);
  hasher.Add(Tag::kImage, std::string(70000, 'i'));
  EXPECT_EQ(hasher.HexDigest(), std::string(line, 32));
}

TEST_F(HasherFileTest, FileDataEqualsAddOfSameBytes) {
  // Larger than one read chunk, and not a multiple of it.
  std::string content(600 * 1024 + 3, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = char(i * 7);
  std::string path = Write("data", content);

  Hasher from_file;
  Status status = from_file.AddFileData(path, content.size());
  ASSERT_TRUE(status) << status.error().message;
  Hasher from_memory;
  from_memory.Add(Tag::kFileData, content);
  EXPECT_EQ(from_file.HexDigest(), from_memory.HexDigest());
}

// Bytes read once and hashed for several images give the field that
// hashing the file itself gives, trace line included.
TEST_F(HasherFileTest, FileBytesReadAheadEqualFileData) {
  std::string content("#!/bin/sh\necho \0x\n", 19);
  std::string path = Write("script", content);
  std::ostringstream file_trace;
  Hasher from_file;
  from_file.SetTrace(&file_trace);
  ASSERT_TRUE(from_file.AddFileData(path, content.size()));

  Expected<std::string> bytes = ReadFileData(path, content.size());
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(*bytes, content);
  std::ostringstream bytes_trace;
  Hasher from_bytes;
  from_bytes.SetTrace(&bytes_trace);
  from_bytes.AddFileBytes(path, *bytes);
  EXPECT_EQ(from_bytes.HexDigest(), from_file.HexDigest());
  EXPECT_EQ(bytes_trace.str(), file_trace.str());
}

TEST_F(HasherFileTest, ReadFileDataFailsAsFileDataDoes) {
  std::string path = Write("data", "12345");
  Expected<std::string> grew = ReadFileData(path, 4);
  ASSERT_FALSE(grew);
  EXPECT_EQ(grew.error().message,
            path + ": changed while it was hashed; run the build again");
  Expected<std::string> missing = ReadFileData(dir_ + "/missing", 0);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message.rfind(
                dir_ + "/missing: cannot be read: No such file", 0),
            0u);
}

TEST_F(HasherFileTest, FileThatGrewIsAnError) {
  std::string path = Write("data", "12345");
  Hasher hasher;
  Status status = hasher.AddFileData(path, 4);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message,
            path + ": changed while it was hashed; run the build again");
}

TEST_F(HasherFileTest, FileThatShrankIsAnError) {
  std::string path = Write("data", "123");
  Hasher hasher;
  Status status = hasher.AddFileData(path, 4);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message,
            path + ": changed while it was hashed; run the build again");
}

TEST_F(HasherFileTest, MissingFileIsAnError) {
  std::string path = dir_ + "/missing";
  Hasher hasher;
  Status status = hasher.AddFileData(path, 0);
  ASSERT_FALSE(status);
  const std::string& message = status.error().message;
  EXPECT_EQ(message.rfind(path + ": cannot be read: No such file", 0), 0u)
      << message;
  EXPECT_TRUE(message.ends_with("; check that it exists and is readable"))
      << message;
}

TEST_F(HasherFileTest, TraceShowsOneLinePerField) {
  std::string path = Write("data", "abcde");
  std::ostringstream trace;
  Hasher hasher;
  hasher.SetTrace(&trace);

  hasher.Add(Tag::kFormat, "1");
  hasher.Add(Tag::kText, std::string("a\nb\\c\x01\xc3\xa9 d", 10));
  ASSERT_TRUE(hasher.AddFileData(path, 5));
  hasher.Add(Tag::kArgValue, "");

  EXPECT_EQ(trace.str(),
            "V 1 1\n"
            "T 10 a\\nb\\\\c\\x01\\xc3\\xa9 d\n"
            "D 5 " +
                path +
                "\n"
                "a 0 \n");
}

TEST(HasherTest, TraceDoesNotChangeDigest) {
  std::ostringstream trace;
  Hasher traced;
  traced.SetTrace(&trace);
  traced.Add(Tag::kSymlink, "target");
  Hasher plain;
  plain.Add(Tag::kSymlink, "target");
  EXPECT_EQ(traced.HexDigest(), plain.HexDigest());
}

}  // namespace
}  // namespace qdi::hash
