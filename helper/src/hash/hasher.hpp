#pragma once

// A framed XXH3-128 hasher.  Each field goes into the hash as a one-byte tag,
// its length as 8 bytes little-endian, then its bytes, so two different
// sequences of fields never produce the same byte stream.

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "util/expected.hpp"

struct XXH3_state_s;

namespace qdi::hash {

// What a field is.  The values are part of every stored hash: changing one
// changes every hash.
enum class Tag : char {
  kFormat = 'V',
  kText = 'T',
  kFileName = 'N',
  kFileMode = 'M',
  kFileData = 'D',
  kSymlink = 'L',
  kArgName = 'A',
  kArgValue = 'a',
  kImage = 'I',
  kBaseName = 'B',      // an external base, when external bases are pinned
  kBaseIdentity = 'b',  // what the engine knows it as
  kPreScript = 'P',
};

class Hasher {
 public:
  Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void Add(Tag tag, std::string_view bytes);

  // Hashes the file's bytes as one kFileData field of length `size`, which
  // the caller took from stat().  Fails when the file cannot be read or its
  // size differs from `size`; the hash is then unusable.
  Status AddFileData(const std::string& path, uint64_t size);
  // The same field for bytes already read from `path` with ReadFileData.
  void AddFileBytes(const std::string& path, std::string_view bytes);

  // The canonical XXH128 form: 32 lowercase hex digits, high half first.
  std::string HexDigest() const;

  // When set, every field is also written to `out` as one line
  // "<tag> <length> <bytes>", with "\n", "\\" and bytes outside printable
  // ASCII escaped; file data shows the path instead of the bytes.
  void SetTrace(std::ostream* out) { trace_ = out; }

 private:
  void AddHeader(Tag tag, uint64_t length);
  void Trace(Tag tag, uint64_t length, std::string_view text);

  struct StateDeleter {
    void operator()(XXH3_state_s* state) const;
  };
  std::unique_ptr<XXH3_state_s, StateDeleter> state_;
  std::ostream* trace_ = nullptr;
};

// Reads the file for AddFileBytes, so that a file hashed for several
// images is read once; fails as AddFileData does.
Expected<std::string> ReadFileData(const std::string& path, uint64_t size);

}  // namespace qdi::hash
