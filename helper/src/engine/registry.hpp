#pragma once

// The registry cache: an image built on one machine is pushed to a
// registry under a tag derived from its checksum, and another machine
// pulls it instead of building it.  Whatever the registry holds is checked
// against the checksum label before it is used, since anyone who can push
// there can push anything under any tag.

#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "util/expected.hpp"

namespace qdi::engine {

struct Registry {
  std::string address;             // "host[:port][/path]"; empty: no cache
  std::string repository;          // "qemu/NAME", below the address
  std::vector<std::string> flags;  // options of pull and push
};

// "ADDRESS/REPOSITORY:CHECKSUM", where the image of `checksum` is cached.
std::string CachedRef(const Registry& registry, const std::string& checksum);

struct PullResult {
  enum class Kind {
    kPulled,      // `tag` now names the cached image
    kMissing,     // the registry answered that it has no such image
    kWrongLabel,  // it has one, but its checksum label is another
    kFailed,      // the registry or the engine failed
  };
  Kind kind = Kind::kFailed;
  std::string detail;  // for kWrongLabel and kFailed, one line
};

// Pulls the cached image of `checksum` and tags it `tag` when its label
// is `checksum`.  Never fails: every failure is a reason to build.
PullResult PullCached(const Engine& engine, const Registry& registry,
                      const std::string& checksum, const std::string& tag);

// Tags the built image `tag` as its cached name and pushes it; the error
// says which command failed and its last line of output.
Status PushBuilt(const Engine& engine, const Registry& registry,
                 const std::string& checksum, const std::string& tag);

}  // namespace qdi::engine
