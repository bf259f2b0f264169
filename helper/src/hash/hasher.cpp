#include "hash/hasher.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include "util/files.hpp"

namespace qdi::hash {
namespace {

// Large reads keep system calls rare for the big files of a build context.
constexpr size_t kChunkSize = 256 * 1024;

std::string EscapeForTrace(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    }
  }
  return out;
}

Error ReadError(const std::string& path, int err) {
  return ErrorAt(path, 0,
                 std::string("cannot be read: ") + std::strerror(err) +
                     "; check that it exists and is readable");
}

Error ChangedError(const std::string& path) {
  return ErrorAt(path, 0, "changed while it was hashed; run the build again");
}

// Reads up to `size` bytes; returns the count, or -1 with errno set.
ssize_t ReadSome(int fd, char* buffer, size_t size) {
  for (;;) {
    ssize_t n = ::read(fd, buffer, size);
    if (n >= 0 || errno != EINTR) return n;
  }
}

}  // namespace

void Hasher::StateDeleter::operator()(XXH3_state_s* state) const {
  XXH3_freeState(state);
}

Hasher::Hasher() : state_(XXH3_createState()) {
  XXH3_128bits_reset(state_.get());
}

void Hasher::Add(Tag tag, std::string_view bytes) {
  AddHeader(tag, bytes.size());
  XXH3_128bits_update(state_.get(), bytes.data(), bytes.size());
  Trace(tag, bytes.size(), bytes);
}

Status Hasher::AddFileData(const std::string& path, uint64_t size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ReadError(path, errno);

  AddHeader(Tag::kFileData, size);
  Trace(Tag::kFileData, size, path);
  // Most context files are small scripts: a buffer of their size, left
  // uninitialised, spares zeroing 256 KB for each of them.
  size_t chunk = static_cast<size_t>(std::min<uint64_t>(size + 1, kChunkSize));
  auto buffer = std::make_unique_for_overwrite<char[]>(chunk);
  uint64_t hashed = 0;
  ssize_t n;
  // Reading on to the end of the file notices one that grew.
  while ((n = ReadSome(fd, buffer.get(), chunk)) > 0) {
    hashed += static_cast<uint64_t>(n);
    if (hashed > size) break;
    XXH3_128bits_update(state_.get(), buffer.get(), static_cast<size_t>(n));
  }
  int err = errno;
  ::close(fd);

  if (n < 0) return ReadError(path, err);
  if (hashed != size) return ChangedError(path);
  return Ok{};
}

void Hasher::AddFileBytes(const std::string& path, std::string_view bytes) {
  AddHeader(Tag::kFileData, bytes.size());
  Trace(Tag::kFileData, bytes.size(), path);
  XXH3_128bits_update(state_.get(), bytes.data(), bytes.size());
}

Expected<std::string> ReadFileData(const std::string& path, uint64_t size) {
  Expected<std::string> bytes = util::ReadFile(path);
  if (bytes && bytes->size() != size) return ChangedError(path);
  return bytes;
}

std::string Hasher::HexDigest() const {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(state_.get()));
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof canonical.digest);
  for (unsigned char byte : canonical.digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

void Hasher::AddHeader(Tag tag, uint64_t length) {
  std::array<char, 9> header;
  header[0] = static_cast<char>(tag);
  for (int i = 0; i < 8; ++i) {
    header[1 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
  }
  XXH3_128bits_update(state_.get(), header.data(), header.size());
}

void Hasher::Trace(Tag tag, uint64_t length, std::string_view text) {
  if (trace_ == nullptr) return;
  *trace_ << static_cast<char>(tag) << ' ' << length << ' '
          << EscapeForTrace(text) << '\n';
}

}  // namespace qdi::hash
