#pragma once

// The container engine, a docker-compatible command (docker, podman, or a
// stand-in for tests).  We ask it for the checksum label or the ID of an
// image, to build one, and, for the registry cache, to pull, tag and push.

#include <optional>
#include <string>
#include <vector>

#include "util/expected.hpp"

namespace qdi::engine {

inline constexpr const char* kChecksumLabel = "com.qemu.dockerfile-checksum";

struct Engine {
  // The command and its global options, e.g. {"podman", "--root", "/x"}.
  std::vector<std::string> command;
  // The words that start a build after the global options: "build", or
  // e.g. {"buildx", "build", "--builder", "remote", "--load"} for a
  // BuildKit builder on another machine.
  std::vector<std::string> build_command = {"build"};
};

// The checksum label of the image `tag`; nullopt when the engine has no
// such image or the image has no such label.
std::optional<std::string> ImageChecksum(const Engine& engine,
                                         const std::string& tag);

// The image ID of `ref` ("sha256:..."); nullopt when the engine has no
// such image.
std::optional<std::string> ImageId(const Engine& engine,
                                   const std::string& ref);

// What an engine command that is not a build did.
struct CommandResult {
  std::vector<std::string> argv;
  int exit_code = 0;
  std::string last_line;  // of its output, for a one-line message
  std::string output;     // all of it
};

// Runs the engine with `args` after its global options, both output
// streams captured.  Fails only when the engine cannot be started.
Expected<CommandResult> RunCommand(const Engine& engine,
                                   const std::vector<std::string>& args);

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
