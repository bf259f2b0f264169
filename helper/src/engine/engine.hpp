#pragma once

// The container engine, a docker-compatible command (docker, podman, or a
// stand-in for tests).  We ask it two things: the checksum label of an
// image, and to build one.

#include <optional>
#include <string>
#include <vector>

#include "util/expected.hpp"

namespace qdi::engine {

inline constexpr const char* kChecksumLabel = "com.qemu.dockerfile-checksum";

struct Engine {
  // The command and its global options, e.g. {"podman", "--root", "/x"}.
  std::vector<std::string> command;
};

// The checksum label of the image `tag`; nullopt when the engine has no
// such image or the image has no such label.
std::optional<std::string> ImageChecksum(const Engine& engine,
                                         const std::string& tag);

struct BuildRequest {
  std::string tag;
  std::string checksum;
  std::string dockerfile;
  std::string context_dir;
  std::vector<std::string> build_args;  // "NAME=VALUE"
  std::vector<std::string> flags;       // extra "build" options
  bool no_cache = false;
  bool verbose = false;  // the engine's output goes to ours
  std::string log_file;  // otherwise it goes here
};

// The engine's argument vector for `request`.
std::vector<std::string> BuildCommand(const Engine& engine,
                                      const BuildRequest& request);

// Builds the image; on failure the error quotes the end of the engine's log.
Status Build(const Engine& engine, const BuildRequest& request);

}  // namespace qdi::engine
