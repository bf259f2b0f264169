#pragma once

// Answers "is there a file or a folder at this path?" from one listing of
// the path's folder.  A folder's checksum asks that three times per image
// (NAME.docker of a base, NAME.pre, NAME.docker.d); with a stat() each,
// that was 15,000 system calls for 5,000 images, at about a microsecond
// each on the machines we measured on.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace qdi::util {

enum class FileKind { kMissing, kRegular, kDirectory, kOther };

// The listings are taken once and kept, so an object must not outlive the
// files it describes: one command, or one test.  Safe to use from several
// threads at once.
class FolderListings {
 public:
  // What stat() would say of `path`: symlinks are followed.  Entries the
  // listing cannot classify (symlinks, file systems without d_type) and
  // folders that cannot be listed are stat()ed.
  FileKind KindOf(const std::string& path) const;

 private:
  // Name -> d_type of each entry; null when the folder cannot be listed.
  // Looked up by string_view, so that a query copies no string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view name) const {
      return std::hash<std::string_view>()(name);
    }
  };
  using Listing =
      std::unordered_map<std::string, unsigned char, NameHash, std::equal_to<>>;
  // Listings are never dropped while the object lives, so a plain pointer
  // stays valid; a shared_ptr's count bounced between the threads.
  const Listing* ListingOf(std::string_view folder) const;

  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, std::unique_ptr<const Listing>,
                             NameHash, std::equal_to<>>
      folders_;
};

// What stat() says of `path`, asked directly.
FileKind StatKindOf(const std::string& path);

}  // namespace qdi::util
