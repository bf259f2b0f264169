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
void SplitPath(std::string_view path, std::string_view* folder,
               std::string_view* name) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    *folder = ".";
    *name = path;
  } else {
    *folder = slash == 0 ? "/" : path.substr(0, slash);
    *name = path.substr(slash + 1);
  }
}

}  // namespace

const FolderListings::Listing* FolderListings::ListingOf(
    std::string_view folder) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = folders_.find(folder);
  if (found != folders_.end()) return found->second.get();

  std::unique_ptr<Listing> listing;
  std::string path(folder);
  if (DIR* dir = ::opendir(path.c_str())) {
    listing = std::make_unique<Listing>();
    while (const dirent* entry = ::readdir(dir)) {
      listing->emplace(entry->d_name, entry->d_type);
    }
    ::closedir(dir);
  }
  const Listing* result = listing.get();
  folders_.emplace(std::move(path), std::move(listing));
  return result;
}

FileKind FolderListings::KindOf(const std::string& path) const {
  std::string_view folder;
  std::string_view name;
  SplitPath(path, &folder, &name);
  // "." and ".." are in every listing, but what they name depends on the
  // folder's own path; an empty name (a trailing '/') is the folder.
  if (name.empty() || name == "." || name == "..") return StatKindOf(path);
  const Listing* listing = ListingOf(folder);
  if (listing == nullptr) return StatKindOf(path);

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
