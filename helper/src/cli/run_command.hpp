#pragma once

// The `run` command: runs a command in a container of an image, which is
// what the module's tests inside images (QemuDockerImages_AddTest) run.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/image_commands.hpp"
#include "util/expected.hpp"

namespace qdi::cli {

struct RunOptions {
  std::string image;
  std::string runner = "engine";  // or "buildah"
  StringPairs mounts;             // host, container
  StringPairs read_only_mounts;
  std::string workdir;
  std::string user;
  std::vector<std::string> env;
  std::vector<std::string> command;
};

CLI::App* AddRunCommand(CLI::App* app, EngineOptions* engine,
                        RunOptions* options);

// The command's exit status, or why it could not start.
Expected<int> RunRun(const EngineOptions& engine, const RunOptions& options);

}  // namespace qdi::cli
