#pragma once

// The commands that talk to the container engine: `build` makes one image
// current (asking the engine first, building only when it must) and
// `check` forgets the images that the engine no longer has.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/options.hpp"
#include "engine/engine.hpp"
#include "util/expected.hpp"

namespace qdi::cli {

struct EngineOptions {
  std::string engine = "docker";
  std::vector<std::string> engine_args;  // global options of the engine
};

struct BuildOptions {
  std::string dockerfile;
  std::string stamp;        // the checksum written by `flatten --stamp`
  std::string image_stamp;  // written once the engine has the image
  std::string tag;          // default: tag_prefix + the image's name
  std::string tag_prefix = "qemu/";
  std::string work_dir;  // default: image_stamp + ".work"
  std::vector<std::string> build_flags;
  bool no_cache = false;
  bool verbose = false;
  bool touch_when_current = false;
  bool pass_proxy = true;  // the environment's proxy variables
};

struct CheckOptions {
  std::vector<std::string> images;  // "IMAGE-STAMP=TAG"
  bool verbose = false;
};

// --engine and --engine-arg, and the engine they name.
void AddEngineOptions(CLI::App* command, EngineOptions* engine);
engine::Engine MakeEngine(const EngineOptions& options);

CLI::App* AddBuildCommand(CLI::App* app, SharedOptions* shared,
                          EngineOptions* engine, BuildOptions* options);
CLI::App* AddCheckCommand(CLI::App* app, EngineOptions* engine,
                          CheckOptions* options);

Status RunBuild(const SharedOptions& shared, const EngineOptions& engine,
                const BuildOptions& options);
Status RunCheck(const EngineOptions& engine, const CheckOptions& options);

// Whether an image stamp records an image that its NAME.pre script
// skipped rather than one the engine has.
bool IsSkippedStamp(const std::string& recorded);

}  // namespace qdi::cli
