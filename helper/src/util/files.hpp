#pragma once

// Reading inputs and writing outputs for build tools.  Outputs are written
// atomically and only when their content changes, so Make and Ninja see a
// new timestamp exactly when something changed.

#include <string>
#include <string_view>
#include <vector>

#include "util/expected.hpp"

namespace qdi::util {

// Returns the whole file as bytes.
Expected<std::string> ReadFile(const std::string& path);

// A file's bytes, read into memory or, for a big regular file, mapped.
// Mapping spares copying the file and faulting in the pages of the copy:
// reading a file of 100 MB took 100 ms here, mapping it 15 ms.
// A mapped file that another program truncates while it is mapped makes
// the next access to a lost page fail with SIGBUS; editors that save by
// renaming a new file over the old one leave the mapping intact.
class FileBytes {
 public:
  FileBytes() = default;
  explicit FileBytes(std::string text) : text_(std::move(text)) {}
  FileBytes(FileBytes&& other) noexcept;
  FileBytes& operator=(FileBytes&& other) noexcept;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  ~FileBytes();

  std::string_view view() const {
    return mapped_ ? std::string_view(mapped_, mapped_size_) : text_;
  }

 private:
  friend Expected<FileBytes> ReadFileBytes(const std::string& path);
  void Unmap();

  std::string text_;
  const char* mapped_ = nullptr;
  size_t mapped_size_ = 0;
};

// Reads the file at `path`, mapping it when it is a regular file of 1 MB
// or more, where mapping pays for its own system calls.
Expected<FileBytes> ReadFileBytes(const std::string& path);

// Replaces the file at `path` with `content` through a temporary file in the
// same folder, fsync and rename.  Returns false, and leaves the file and its
// timestamp alone, when it already holds `content`.  On failure `path` keeps
// its old content and no temporary file remains.  A missing parent folder is
// an error: the build tool creates output folders.
Expected<bool> WriteFileIfChanged(const std::string& path,
                                  std::string_view content);

// Files that must change together or not at all, such as a flattened file,
// its depfile and its stamp.  Each is written in full to a temporary file
// beside it first; only when all of them were written are they renamed over
// the old ones, in the order they were staged.  So a full disk or a
// read-only folder leaves every old file as it was.  Temporaries that were
// not committed are removed on destruction.
class StagedWrites {
 public:
  StagedWrites() = default;
  StagedWrites(const StagedWrites&) = delete;
  StagedWrites& operator=(const StagedWrites&) = delete;
  ~StagedWrites();

  // Writes `content` beside `path`, unless `path` already holds it.
  Status Stage(const std::string& path, std::string_view content);
  // Renames the staged files over their paths.  Returns how many changed.
  Expected<size_t> Commit();

 private:
  struct Staged {
    std::string path;
    std::string temp;
  };
  std::vector<Staged> staged_;
};

// Depfiles use the Make syntax that both GNU Make (4.3) and Ninja (1.11)
// read.  The escaping below was checked against both tools:
//   space -> "\ ", '#' -> "\#", ':' -> "\:", '$' -> "$$", and a run of
//   backslashes before a space is doubled; other backslashes stay as they are.
// Some paths have no spelling that both tools read back unchanged, and
// CheckDepfilePath rejects them:
//   - control characters (newline, tab, ...) and DEL;
//   - any of " & ' * ; < > ? ^ ` | = (Ninja or Make treat them as syntax);
//   - '[' (Make expands it as a wildcard), a leading '~' (Make expands it
//     as a home folder) and a trailing ':' (Ninja keeps the backslash);
//   - a backslash before '#', '$', ':' or at the end of the path;
//   - the empty path.
Status CheckDepfilePath(std::string_view path);

// Escapes one path that CheckDepfilePath accepted.
std::string EscapeDepfilePath(std::string_view path);

// Formats "target: in1 \" with one input per line.  Every input is also
// listed as a target without a recipe, so that Make does not stop with "no
// rule to make target" once an input is deleted; Ninja accepts these lines.
// Paths must have passed CheckDepfilePath.
std::string FormatDepfile(std::string_view target,
                          const std::vector<std::string>& inputs);

// Checks every path, then writes the depfile with WriteFileIfChanged.
Expected<bool> WriteDepfile(const std::string& depfile, std::string_view target,
                            const std::vector<std::string>& inputs);

// Checks every path, then stages the depfile in `writes`.
Status StageDepfile(StagedWrites& writes, const std::string& depfile,
                    std::string_view target,
                    const std::vector<std::string>& inputs);

// An exclusive lock on a file, held until the object is destroyed or the
// process ends, however it ends.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {}
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock();

 private:
  int fd_;
};

// Waits for the lock on `path`, creating the file if needed.
Expected<FileLock> LockFile(const std::string& path);

// Sets the file's modification time to now, for build tools that compare
// times and have no "restat" (Make).
Status TouchFile(const std::string& path);

}  // namespace qdi::util
