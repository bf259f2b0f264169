#pragma once

// Runs a command in a container of an image, for tests that must run
// inside an image (QEMU's docker-TEST@IMAGE).  Docker-compatible engines
// do it with "run --rm"; where Podman cannot start containers (rootless
// setups without rlimit rights), buildah, which shares Podman's store,
// runs it with chroot isolation in a working container made for the
// purpose and removed afterwards.

#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "util/expected.hpp"

namespace qdi::engine {

struct Mount {
  std::string host;
  std::string container;
  bool read_only = false;
};

enum class Runner { kEngine, kBuildah };

struct RunRequest {
  std::string image;
  std::vector<Mount> mounts;
  std::string workdir;           // empty: the image's own
  std::string user;              // empty: the image's own
  std::vector<std::string> env;  // "NAME=VALUE"
  std::vector<std::string> command;
};

// The engine's "run" argument vector for `request`.
std::vector<std::string> RunCommand(const Engine& engine,
                                    const RunRequest& request);

// Runs the command and returns its exit status.  The error is for what
// keeps it from starting: no such image, no runner.
Expected<int> RunInImage(const Engine& engine, Runner runner,
                         const RunRequest& request);

}  // namespace qdi::engine
