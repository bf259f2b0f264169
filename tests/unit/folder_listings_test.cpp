#include "util/folder_listings.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace qdi::util {
namespace {

namespace fs = std::filesystem;

class FolderListingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "qdi_listing.XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::ofstream(Path("file")) << "x";
    fs::create_directory(Path("folder"));
    fs::create_symlink("file", Path("link-to-file"));
    fs::create_symlink("folder", Path("link-to-folder"));
    fs::create_symlink("nowhere", Path("dangling"));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

// Each answer is what stat() says, symlinks followed.
TEST_F(FolderListingsTest, KindsAreWhatStatSays) {
  FolderListings listings;
  EXPECT_EQ(listings.KindOf(Path("file")), FileKind::kRegular);
  EXPECT_EQ(listings.KindOf(Path("folder")), FileKind::kDirectory);
  EXPECT_EQ(listings.KindOf(Path("link-to-file")), FileKind::kRegular);
  EXPECT_EQ(listings.KindOf(Path("link-to-folder")), FileKind::kDirectory);
  EXPECT_EQ(listings.KindOf(Path("dangling")), FileKind::kMissing);
  EXPECT_EQ(listings.KindOf(Path("missing")), FileKind::kMissing);
  EXPECT_EQ(listings.KindOf(Path("missing/file")), FileKind::kMissing);
  EXPECT_EQ(listings.KindOf(Path("folder/..")), FileKind::kDirectory);
  EXPECT_EQ(listings.KindOf("/dev/null"), FileKind::kOther);
  for (const char* name : {"file", "folder", "link-to-file", "dangling"}) {
    EXPECT_EQ(listings.KindOf(Path(name)), StatKindOf(Path(name))) << name;
  }
}

TEST_F(FolderListingsTest, PlainNamesAreLookedUpInTheWorkingFolder) {
  fs::path before = fs::current_path();
  fs::current_path(dir_);
  FolderListings listings;
  EXPECT_EQ(listings.KindOf("file"), FileKind::kRegular);
  EXPECT_EQ(listings.KindOf("./folder"), FileKind::kDirectory);
  EXPECT_EQ(listings.KindOf("missing"), FileKind::kMissing);
  fs::current_path(before);
}

// The promise that makes it cheap: a folder is listed once, so a file
// made afterwards is not seen by the same object, and is by a new one.
TEST_F(FolderListingsTest, AFolderIsListedOnce) {
  FolderListings listings;
  EXPECT_EQ(listings.KindOf(Path("later")), FileKind::kMissing);
  std::ofstream(Path("later")) << "y";
  EXPECT_EQ(listings.KindOf(Path("later")), FileKind::kMissing);
  EXPECT_EQ(FolderListings().KindOf(Path("later")), FileKind::kRegular);
}

}  // namespace
}  // namespace qdi::util
