#include "util/files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <random>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qdi::util {
namespace {

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  // Closes now, so that a failing close() can be reported.
  int Close() {
    int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

Error ReadError(const std::string& path, int err) {
  return ErrorAt(path, 0,
                 std::string("cannot be read: ") + std::strerror(err) +
                     "; check that it exists and is readable");
}

std::string WriteHint(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return "free some space or choose another output folder";
    case ENOENT:
    case ENOTDIR:
      return "check that its folder exists";
    case EACCES:
    case EPERM:
    case EROFS:
      return "check that its folder is writable";
    default:
      return "check the output folder";
  }
}

Error WriteError(const std::string& path, int err) {
  return ErrorAt(path, 0,
                 std::string("cannot be written: ") + std::strerror(err) +
                     "; " + WriteHint(err));
}

// Reads until end of file; returns errno, or 0 on success.  When fstat
// gave the file's `size`, a short read that brings `out` to that size is
// taken as the end: a regular file reads short only there.  That spares a
// folder's checksum one read() per Dockerfile.  A size of 0 says nothing:
// files of /proc have it whatever they hold, and read short.
int ReadAll(int fd, std::string& out, std::optional<size_t> size) {
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) return 0;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    out.append(buffer, static_cast<size_t>(n));
    bool short_read = static_cast<size_t>(n) < sizeof buffer;
    if (short_read && size.value_or(0) > 0 && out.size() >= *size) return 0;
  }
}

// The size of the open file, when it is a regular one.
std::optional<size_t> RegularFileSize(int fd) {
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  return static_cast<size_t>(info.st_size);
}

// The rest of the open file `path`, whose size fstat gave as `size`.
// Reserving that size spares growing the string, which copied a big file
// several times over while it was read.
Expected<std::string> ReadOpenFile(int fd, const std::string& path,
                                   std::optional<size_t> size) {
  std::string content;
  if (size) content.reserve(*size + 1);
  if (int err = ReadAll(fd, content, size)) return ReadError(path, err);
  return content;
}

// Writes every byte; returns errno, or 0 on success.
int WriteAll(int fd, std::string_view content) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    content.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

// Creates a temporary file beside `path`.  The pid keeps processes apart and
// the random part keeps threads apart; mode 0666 lets the umask decide, as
// for any other file the user's tools create.
int CreateTemporary(const std::string& path, std::string& temp) {
  static thread_local std::mt19937_64 random(std::random_device{}());
  for (int attempt = 0;; ++attempt) {
    char suffix[48];
    std::snprintf(suffix, sizeof suffix, ".tmp.%ld.%016llx",
                  static_cast<long>(::getpid()),
                  static_cast<unsigned long long>(random()));
    temp = path + suffix;
    int fd =
        ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST || attempt == 8) return fd;
  }
}

// Returns errno, or 0 once the content is on disk.
int FillAndSync(Fd& fd, std::string_view content) {
  if (int err = WriteAll(fd.get(), content)) return err;
  if (::fsync(fd.get()) != 0) return errno;
  if (fd.Close() != 0) return errno;
  return 0;
}

bool HoldsContent(const std::string& path, std::string_view content) {
  Expected<std::string> old = ReadFile(path);
  return old && *old == content;
}

}  // namespace

Expected<std::string> ReadFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ReadError(path, errno);

  return ReadOpenFile(fd.get(), path, RegularFileSize(fd.get()));
}

FileBytes::FileBytes(FileBytes&& other) noexcept
    : text_(std::move(other.text_)),
      mapped_(std::exchange(other.mapped_, nullptr)),
      mapped_size_(std::exchange(other.mapped_size_, 0)) {}

FileBytes& FileBytes::operator=(FileBytes&& other) noexcept {
  if (this != &other) {
    Unmap();
    text_ = std::move(other.text_);
    mapped_ = std::exchange(other.mapped_, nullptr);
    mapped_size_ = std::exchange(other.mapped_size_, 0);
  }
  return *this;
}

FileBytes::~FileBytes() { Unmap(); }

void FileBytes::Unmap() {
  if (mapped_ != nullptr) {
    ::munmap(const_cast<char*>(mapped_), mapped_size_);
    mapped_ = nullptr;
  }
}

Expected<FileBytes> ReadFileBytes(const std::string& path) {
  constexpr size_t kMapFrom = 1 << 20;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ReadError(path, errno);

  std::optional<size_t> size = RegularFileSize(fd.get());
  // MAP_POPULATE maps every page at once rather than one fault at a time.
  if (size.value_or(0) >= kMapFrom) {
    void* mapped = ::mmap(nullptr, *size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
                          fd.get(), 0);
    if (mapped != MAP_FAILED) {
      FileBytes bytes;
      bytes.mapped_ = static_cast<const char*>(mapped);
      bytes.mapped_size_ = *size;
      return bytes;
    }
  }
  // What cannot be mapped is read.
  Expected<std::string> content = ReadOpenFile(fd.get(), path, size);
  if (!content) return content.error();
  return FileBytes(std::move(content.value()));
}

Expected<bool> WriteFileIfChanged(const std::string& path,
                                  std::string_view content) {
  StagedWrites writes;
  if (Status staged = writes.Stage(path, content); !staged) {
    return staged.error();
  }
  Expected<size_t> changed = writes.Commit();
  if (!changed) return changed.error();
  return *changed > 0;
}

StagedWrites::~StagedWrites() {
  for (const Staged& file : staged_) ::unlink(file.temp.c_str());
}

Status StagedWrites::Stage(const std::string& path, std::string_view content) {
  // Leaving an unchanged file alone keeps its timestamp, so build tools
  // rebuild nothing that depends on it.
  if (HoldsContent(path, content)) return Ok{};

  std::string temp;
  Fd fd(CreateTemporary(path, temp));
  if (fd.get() < 0) return WriteError(path, errno);
  staged_.push_back({path, temp});
  if (int err = FillAndSync(fd, content)) return WriteError(path, err);
  return Ok{};
}

Expected<size_t> StagedWrites::Commit() {
  size_t renamed = 0;
  for (; renamed < staged_.size(); ++renamed) {
    const Staged& file = staged_[renamed];
    if (::rename(file.temp.c_str(), file.path.c_str()) != 0) {
      int err = errno;
      staged_.erase(staged_.begin(), staged_.begin() + renamed);
      return WriteError(file.path, err);
    }
  }
  staged_.clear();
  return renamed;
}

namespace {

// Characters that Ninja 1.11 reads as the end of a name, or that Make reads
// as syntax ("=" makes a target-specific variable, ";" starts a recipe, "|"
// starts order-only prerequisites).  Neither tool has an escape for them
// that the other reads back.
constexpr std::string_view kUnspellable = "\"&'*;<>?^`|=";

std::string HexByte(unsigned char c) {
  char text[8];
  std::snprintf(text, sizeof text, "\\x%02x", c);
  return text;
}

// Shows control characters in an error message without breaking its line.
std::string Printable(std::string_view path) {
  std::string out;
  for (char c : path) {
    auto byte = static_cast<unsigned char>(c);
    out += byte < 0x20 || byte == 0x7f ? HexByte(byte) : std::string(1, c);
  }
  return out;
}

std::optional<std::string> BackslashProblem(std::string_view path, size_t i) {
  if (i + 1 == path.size()) return "a trailing backslash";
  char next = path[i + 1];
  if (next == '#' || next == '$' || next == ':') {
    return std::string("a backslash before '") + next + "'";
  }
  return std::nullopt;
}

std::optional<std::string> CharProblem(std::string_view path, size_t i) {
  auto c = static_cast<unsigned char>(path[i]);
  if (c < 0x20 || c == 0x7f) return "the control character " + HexByte(c);
  if (kUnspellable.find(path[i]) != std::string_view::npos) {
    return std::string("'") + path[i] +
           "', which ninja or make reads as syntax";
  }
  if (c == '[') return "'[', which make expands as a wildcard";
  if (c == '\\') return BackslashProblem(path, i);
  return std::nullopt;
}

// Says why `path` has no spelling that both tools read back, if it has none.
std::optional<std::string> DepfileProblem(std::string_view path) {
  if (path.empty()) return "nothing";
  if (path.front() == '~') return "a leading '~', which make expands";
  if (path.back() == ':') return "a trailing ':', which ninja misreads";
  for (size_t i = 0; i < path.size(); ++i) {
    if (auto problem = CharProblem(path, i)) return problem;
  }
  return std::nullopt;
}

void AppendEscaped(std::string& out, char c) {
  switch (c) {
    case ' ':
      out += "\\ ";
      break;
    case '#':
      out += "\\#";
      break;
    case ':':
      out += "\\:";
      break;
    case '$':
      out += "$$";
      break;
    default:
      out += c;
  }
}

}  // namespace

Status CheckDepfilePath(std::string_view path) {
  std::optional<std::string> problem = DepfileProblem(path);
  if (!problem) return Ok{};
  return ErrorAt("", 0,
                 "cannot list '" + Printable(path) +
                     "' in a depfile because it contains " + *problem +
                     "; rename the file");
}

std::string EscapeDepfilePath(std::string_view path) {
  std::string out;
  size_t backslashes = 0;
  for (char c : path) {
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    // Both tools halve a run of backslashes that ends in an escaped space
    // and keep any other run as it is.
    out.append(c == ' ' ? 2 * backslashes : backslashes, '\\');
    backslashes = 0;
    AppendEscaped(out, c);
  }
  out.append(backslashes, '\\');
  return out;
}

std::string FormatDepfile(std::string_view target,
                          const std::vector<std::string>& inputs) {
  std::string out = EscapeDepfilePath(target) + ":";
  for (size_t i = 0; i < inputs.size(); ++i) {
    out += i == 0 ? " " : " \\\n  ";
    out += EscapeDepfilePath(inputs[i]);
  }
  out += "\n";

  for (const std::string& input : inputs) {
    out += "\n" + EscapeDepfilePath(input) + ":\n";
  }
  return out;
}

namespace {

Status CheckDepfilePaths(const std::string& depfile, std::string_view target,
                         const std::vector<std::string>& inputs) {
  Status status = CheckDepfilePath(target);
  for (size_t i = 0; status && i < inputs.size(); ++i) {
    status = CheckDepfilePath(inputs[i]);
  }
  if (!status) return ErrorAt(depfile, 0, status.error().message);
  return Ok{};
}

}  // namespace

Expected<bool> WriteDepfile(const std::string& depfile, std::string_view target,
                            const std::vector<std::string>& inputs) {
  Status checked = CheckDepfilePaths(depfile, target, inputs);
  if (!checked) return checked.error();
  return WriteFileIfChanged(depfile, FormatDepfile(target, inputs));
}

Status StageDepfile(StagedWrites& writes, const std::string& depfile,
                    std::string_view target,
                    const std::vector<std::string>& inputs) {
  Status checked = CheckDepfilePaths(depfile, target, inputs);
  if (!checked) return checked;
  return writes.Stage(depfile, FormatDepfile(target, inputs));
}

FileLock::~FileLock() {
  if (fd_ >= 0) close(fd_);
}

Expected<FileLock> LockFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return ErrorAt(path, 0,
                   std::string("cannot be opened for locking: ") +
                       std::strerror(errno) + "; check the build folder");
  }
  while (flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int error = errno;
    close(fd);
    return ErrorAt(path, 0,
                   std::string("cannot be locked: ") + std::strerror(error) +
                       "; check the build folder");
  }
  return FileLock(fd);
}

Status TouchFile(const std::string& path) {
  if (utimensat(AT_FDCWD, path.c_str(), nullptr, 0) != 0) {
    return ErrorAt(path, 0,
                   std::string("cannot update its time: ") +
                       std::strerror(errno) + "; check the build folder");
  }
  return Ok{};
}

}  // namespace qdi::util
