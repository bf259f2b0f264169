#pragma once

// The commands that talk to the container engine: `build` makes one image
// current (asking the engine first, then the registry cache when there is
// one, building only when it must), `check` forgets the images that the
// engine no longer has, and `identify` records which image each external
// base is, for checksums that pin them.

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
  // Replaces "build" in the engine's command, e.g. buildx build --load.
  std::vector<std::string> build_command;
  // Build from the flattened Dockerfile and the union of the chain's
  // contexts, for builders that cannot see the engine's local images.
  bool flattened = false;
  std::string registry;             // the registry cache; empty: none
  std::string registry_repository;  // default: "qemu/" + the image's name
  std::vector<std::string> registry_flags;  // options of pull and push
  bool push = false;         // push what was built to the registry
  bool strict_push = false;  // a failed push fails the step
  bool pass_proxy = true;    // the environment's proxy variables
};

struct CheckOptions {
  std::vector<std::string> images;  // "IMAGE-STAMP=TAG"
  bool verbose = false;
};

struct IdentifyOptions {
  std::vector<std::string> bases;  // "REF=FILE"
  bool pull = false;               // pull each base before asking
  std::vector<std::string> pull_flags;
  bool verbose = false;
};

// --engine and --engine-arg, and the engine they name.
void AddEngineOptions(CLI::App* command, EngineOptions* engine);
engine::Engine MakeEngine(const EngineOptions& options);

CLI::App* AddBuildCommand(CLI::App* app, SharedOptions* shared,
                          EngineOptions* engine, BuildOptions* options);
CLI::App* AddCheckCommand(CLI::App* app, EngineOptions* engine,
                          CheckOptions* options);

CLI::App* AddIdentifyCommand(CLI::App* app, EngineOptions* engine,
                             IdentifyOptions* options);

Status RunBuild(const SharedOptions& shared, const EngineOptions& engine,
                const BuildOptions& options);
Status RunCheck(const EngineOptions& engine, const CheckOptions& options);
Status RunIdentify(const EngineOptions& engine, const IdentifyOptions& options);

// Whether an image stamp records an image that its NAME.pre script
// skipped rather than one the engine has.
bool IsSkippedStamp(const std::string& recorded);

}  // namespace qdi::cli
