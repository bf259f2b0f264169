#include "util/folder_listings.hpp"

#include <dirent.h>
#include <sys/stat.h>

namespace qdi::util {

FileKind StatKindOf(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return FileKind::kMissing;
  if (S_ISREG(info.st_mode)) return FileKind::kRegular;
  if (S_ISDIR(info.st_mode)) return FileKind::kDirectory;
  return FileKind::kOther;
}

namespace {

// Splits "a/b/name" into "a/b" and "name", and "name" into "." and it.
void SplitPath(const std::string& path, std::string* folder,
               std::string* name) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    *folder = ".";
    *name = path;
  } else {
    *folder = slash == 0 ? "/" : path.substr(0, slash);
    *name = path.substr(slash + 1);
  }
}

}  // namespace

std::shared_ptr<const FolderListings::Listing> FolderListings::ListingOf(
    const std::string& folder) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = folders_.find(folder);
  if (found != folders_.end()) return found->second;

  std::shared_ptr<Listing> listing;
  if (DIR* dir = ::opendir(folder.c_str())) {
    listing = std::make_shared<Listing>();
    while (const dirent* entry = ::readdir(dir)) {
      listing->emplace(entry->d_name, entry->d_type);
    }
    ::closedir(dir);
  }
  folders_.emplace(folder, listing);
  return listing;
}

FileKind FolderListings::KindOf(const std::string& path) const {
  std::string folder;
  std::string name;
  SplitPath(path, &folder, &name);
  // "." and ".." are in every listing, but what they name depends on the
  // folder's own path; an empty name (a trailing '/') is the folder.
  if (name.empty() || name == "." || name == "..") return StatKindOf(path);
  std::shared_ptr<const Listing> listing = ListingOf(folder);
  if (!listing) return StatKindOf(path);

  auto entry = listing->find(name);
  if (entry == listing->end()) return FileKind::kMissing;
  switch (entry->second) {
    case DT_REG:
      return FileKind::kRegular;
    case DT_DIR:
      return FileKind::kDirectory;
    case DT_LNK:
    case DT_UNKNOWN:
      return StatKindOf(path);
    default:
      return FileKind::kOther;
  }
}

}  // namespace qdi::util
