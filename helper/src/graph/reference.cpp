#include "graph/reference.hpp"

#include <string_view>

#include <re2/re2.h>

namespace qdi::graph {

namespace {

// The grammar of Docker's reference package, written as one expression:
// an optional registry host, slash-separated lower-case path components,
// then an optional tag and digest.  The tag's limit of 128 characters is
// checked by TagFits instead: a bounded repetition "{0,127}" made RE2
// compile 127 copies of the class, a quarter of a whole folder's checksum.
const RE2& ReferencePattern() {
  static const RE2 pattern(
      R"((?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))"
      R"((?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*)"
      R"((?::[0-9]+)?/)?)"
      R"([a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)"
      R"((?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*)"
      R"((?::[\w][\w.-]*)?)"
      R"((?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*)"
      R"(:[0-9a-fA-F]{32,})?)");
  return pattern;
}

constexpr size_t kMaxTagLength = 128;

// Only a tag can hold a ':' after the last '/': a registry's port comes
// before a '/', and a digest's ':' after the '@'.
bool TagFits(std::string_view text) {
  text = text.substr(0, text.find('@'));
  size_t slash = text.rfind('/');
  size_t colon = text.find(':', slash == std::string_view::npos ? 0 : slash);
  if (colon == std::string_view::npos) return true;
  return text.size() - colon - 1 <= kMaxTagLength;
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

Expected<std::string> NameAfterSlashPrefix(const std::string& rest) {
  std::string name = rest;
  if (name.find('@') != std::string::npos) {
    return Error{"a local image cannot be pinned by digest"};
  }
  size_t colon = name.find(':');
  if (colon != std::string::npos) {
    if (name.substr(colon + 1) != "latest") {
      return Error{"a local image has only the tag 'latest'"};
    }
    name.resize(colon);
  }
  if (!IsValidLocalName(name)) {
    return Error{"'" + name + "' is not a Dockerfile name of the folder"};
  }
  return name;
}

}  // namespace

bool IsValidReference(const std::string& text) {
  return RE2::FullMatch(text, ReferencePattern()) && TagFits(text);
}

bool IsValidLocalName(const std::string& name) {
  static const RE2 component(R"([a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)");
  return RE2::FullMatch(name, component);
}

std::optional<Expected<std::string>> LocalImageName(
    const std::string& image, const std::vector<std::string>& prefixes) {
  for (const std::string& prefix : prefixes) {
    if (prefix.empty() || !StartsWith(image, prefix)) continue;
    if (!IsValidReference(image)) {
      return Expected<std::string>(Error{"not a valid image reference"});
    }
    std::string rest = image.substr(prefix.size());
    if (prefix.back() != ':') return NameAfterSlashPrefix(rest);
    if (rest.find('@') != std::string::npos) {
      return Expected<std::string>(
          Error{"a local image cannot be pinned by digest"});
    }
    if (!IsValidLocalName(rest)) {
      return Expected<std::string>(
          Error{"'" + rest + "' is not a Dockerfile name of the folder"});
    }
    return Expected<std::string>(rest);
  }
  return std::nullopt;
}

}  // namespace qdi::graph
