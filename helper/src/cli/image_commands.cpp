#include "cli/image_commands.hpp"

#include <filesystem>
#include <iostream>

#include "context/context.hpp"
#include "core/evaluate.hpp"
#include "core/pre_script.hpp"
#include "engine/engine.hpp"
#include "engine/process.hpp"
#include "engine/proxy.hpp"
#include "flatten/flattener.hpp"
#include "util/files.hpp"

namespace qdi::cli {

namespace {

namespace fs = std::filesystem;

Expected<std::string> ReadChecksum(const std::string& stamp) {
  Expected<std::string> text = util::ReadFile(stamp);
  if (!text) return text.error();
  std::string checksum = text->substr(0, text->find('\n'));
  if (checksum.empty()) {
    return ErrorAt(stamp, 1, "holds no checksum; delete it and build again");
  }
  return checksum;
}

Status RemoveStamp(const std::string& path) {
  std::error_code error;
  fs::remove(path, error);
  if (error) {
    return Error{"cannot remove '" + path + "': " + error.message() +
                 "; check the build folder"};
  }
  return Ok{};
}

// The build context for a layered build of `image`: its real folder, or
// a fresh folder holding its staged files, as QEMU's docker.py made it.
Expected<std::string> PrepareContext(const graph::Graph& graph,
                                     const graph::Image& image,
                                     const std::string& work_dir) {
  Expected<context::Context> context = context::ContextOf(graph, image);
  if (!context) return ErrorAt(image.path, 0, context.error().message);
  if (context->root()) return *context->root();
  std::string dir = work_dir + "/context";
  Status written = core::WriteContext(context->StagedFiles(), dir);
  if (!written) return written.error();
  return dir;
}

Status ResetWorkDir(const std::string& dir) {
  std::error_code error;
  fs::remove_all(dir, error);
  if (!error) fs::create_directories(dir, error);
  if (error) {
    return Error{"cannot prepare the folder '" + dir + "': " + error.message() +
                 "; check the build folder"};
  }
  return Ok{};
}

std::vector<std::string> EngineBuildArgs(const graph::Graph& graph,
                                         const graph::Image& image,
                                         bool pass_proxy) {
  std::vector<std::string> args;
  dockerfile::Variables given = graph.ReadOptionsOf(image.name).build_args;
  for (const auto& [name, value] : given) args.push_back(name + "=" + value);
  if (!pass_proxy) return args;
  for (const std::string& proxy : engine::ProxyBuildArgs()) {
    // A value given as a build argument wins over the environment's.
    if (given.count(proxy.substr(0, proxy.find('='))) == 0) {
      args.push_back(proxy);
    }
  }
  return args;
}

// Runs the image's NAME.pre script, if it has one, in the folder that
// becomes the staged context, before the staged files are copied there,
// as docker.py did.  With a real context folder it runs in an unused
// folder: only its exit status counts.
Expected<core::PreOutcome> RunPre(const graph::Image& image,
                                  const std::string& work_dir, bool verbose) {
  std::optional<std::string> script = core::PreScriptOf(image);
  if (!script) return core::PreOutcome::kBuild;
  if (Status made = ResetWorkDir(work_dir + "/context"); !made) {
    return made.error();
  }
  return core::RunPreScript(*script, work_dir + "/context", verbose,
                            work_dir + "/pre.log");
}

Expected<core::PreOutcome> BuildWithEngine(const graph::Graph& graph,
                                           const graph::Image& image,
                                           const BuildOptions& options,
                                           const engine::Engine& engine,
                                           engine::BuildRequest request) {
  std::string work_dir = options.work_dir.empty()
                             ? options.image_stamp + ".work"
                             : options.work_dir;
  if (Status reset = ResetWorkDir(work_dir); !reset) return reset.error();
  Expected<std::string> text =
      flatten::LayeredText(graph, image, options.tag_prefix);
  if (!text) return text.error();
  request.dockerfile = work_dir + "/Dockerfile";
  Expected<bool> written = util::WriteFileIfChanged(request.dockerfile, *text);
  if (!written) return written.error();
  Expected<core::PreOutcome> pre = RunPre(image, work_dir, options.verbose);
  if (!pre || *pre == core::PreOutcome::kSkip) return pre;
  Expected<std::string> context = PrepareContext(graph, image, work_dir);
  if (!context) return context.error();
  request.context_dir = *context;
  request.log_file = work_dir + "/build.log";
  request.build_args = EngineBuildArgs(graph, image, options.pass_proxy);
  Status built = engine::Build(engine, request);
  if (!built) return built.error();
  return core::PreOutcome::kBuild;
}

}  // namespace

void AddEngineOptions(CLI::App* command, EngineOptions* engine) {
  command->add_option("--engine", engine->engine,
                      "docker, podman or the path of a docker-compatible "
                      "command (default: docker)");
  command->add_option("--engine-arg", engine->engine_args,
                      "A global option of the engine, such as podman's "
                      "--root DIR (repeatable)");
}

engine::Engine MakeEngine(const EngineOptions& options) {
  engine::Engine engine{{options.engine}};
  engine.command.insert(engine.command.end(), options.engine_args.begin(),
                        options.engine_args.end());
  return engine;
}

CLI::App* AddBuildCommand(CLI::App* app, SharedOptions* shared,
                          EngineOptions* engine, BuildOptions* options) {
  CLI::App* command = app->add_subcommand(
      "build",
      "Make one image current in the engine, building it only if "
      "the engine lacks an image with its checksum");
  command->add_option("DOCKERFILE", options->dockerfile)->required();
  command
      ->add_option("--stamp", options->stamp,
                   "The checksum stamp written by flatten --stamp")
      ->required();
  command
      ->add_option("--image-stamp", options->image_stamp,
                   "Written once the engine has the image")
      ->required();
  command->add_option("--tag", options->tag, "The image's tag");
  command->add_option("--tag-prefix", options->tag_prefix,
                      "Tags are PREFIX + NAME, for this image and its local "
                      "bases (default: qemu/)");
  command->add_option("--work-dir", options->work_dir,
                      "Where the layered Dockerfile, the staged context "
                      "and the engine's log go");
  command->add_option("--build-flag", options->build_flags,
                      "An extra option of the engine's build (repeatable)");
  command->add_flag("--no-cache", options->no_cache,
                    "Build without the engine's cache");
  command->add_flag("-v,--verbose", options->verbose,
                    "Say why the image is built and show the engine's output");
  command->add_flag("!--no-proxy-args", options->pass_proxy,
                    "Do not pass the environment's http_proxy, https_proxy, "
                    "ftp_proxy, no_proxy, all_proxy (and upper-case) to the "
                    "build");
  command->add_flag("--touch-when-current", options->touch_when_current,
                    "Update the image stamp's time even when nothing "
                    "changed, for build tools without restat (Make)");
  AddEngineOptions(command, engine);
  AddSharedOptions(command, shared);
  return command;
}

CLI::App* AddCheckCommand(CLI::App* app, EngineOptions* engine,
                          CheckOptions* options) {
  CLI::App* command = app->add_subcommand(
      "check", "Remove the image stamps of images that the engine lacks");
  command->add_option("IMAGE_STAMP=TAG", options->images)->required();
  command->add_flag("-v,--verbose", options->verbose,
                    "Also name the images that are present");
  AddEngineOptions(command, engine);
  return command;
}

// What the image stamp records: the checksum the engine's image carries,
// and which engine has it, so that switching engines is noticed.
std::string ImageStampText(const std::string& checksum,
                           const engine::Engine& engine) {
  return checksum + "\n" + engine::DescribeCommand(engine.command) + "\n";
}

// An image whose NAME.pre script exited with 3 is recorded as skipped, so
// that the next build neither runs the script nor asks the engine again
// until the checksum, which covers the script, changes.
std::string SkippedStampText(const std::string& stamp_text) {
  return stamp_text + "skipped\n";
}

bool IsSkippedStamp(const std::string& recorded) {
  const std::string kSkipped = "\nskipped\n";
  return recorded.size() >= kSkipped.size() &&
         recorded.compare(recorded.size() - kSkipped.size(), kSkipped.size(),
                          kSkipped) == 0;
}

namespace {

// Whether the image stamp already records `stamp_text`, made current or
// skipped, so that the engine need not be asked.
bool UnchangedSinceRecorded(const BuildOptions& options,
                            const std::string& stamp_text,
                            const std::string& tag) {
  Expected<std::string> recorded = util::ReadFile(options.image_stamp);
  if (!recorded ||
      (*recorded != stamp_text && *recorded != SkippedStampText(stamp_text))) {
    return false;
  }
  if (options.verbose) {
    std::cerr << "qemu-docker-images: " << tag << ": unchanged since it "
              << "was last "
              << (IsSkippedStamp(*recorded) ? "skipped" : "made current")
              << " (checksum " << stamp_text.substr(0, stamp_text.find('\n'))
              << ")\n";
  }
  return true;
}

// Says in one line that the NAME.pre script skipped the image, and gives
// what its image stamp records then.
std::string ReportSkipped(const graph::Image& image, const std::string& tag,
                          const std::string& stamp_text) {
  std::cout << "qemu-docker-images: " << tag
            << ": skipped: " << *core::PreScriptOf(image)
            << " exited with status 3\n";
  return SkippedStampText(stamp_text);
}

}  // namespace

Status RunBuild(const SharedOptions& shared,
                const EngineOptions& engine_options,
                const BuildOptions& options) {
  Expected<graph::Settings> settings = MakeSettings(shared);
  if (!settings) return settings.error();
  graph::Graph graph(std::move(settings.value()));
  Expected<const graph::Image*> image = graph.LoadFile(options.dockerfile);
  if (!image) return image.error();
  Expected<std::string> checksum = ReadChecksum(options.stamp);
  if (!checksum) return checksum.error();
  engine::Engine engine = MakeEngine(engine_options);
  std::string tag =
      options.tag.empty() ? options.tag_prefix + (*image)->name : options.tag;

  // Two builds of one build folder at once (two terminals, or an IDE and
  // a terminal) take turns here: the second finds the image current.
  Expected<util::FileLock> lock = util::LockFile(options.image_stamp + ".lock");
  if (!lock) return lock.error();

  // The build tool runs this step whenever the Dockerfiles were looked at;
  // when nothing the image is made of changed, the engine is not asked.
  std::string stamp_text = ImageStampText(*checksum, engine);
  if (UnchangedSinceRecorded(options, stamp_text, tag)) {
    if (!options.touch_when_current) return Ok{};
    return util::TouchFile(options.image_stamp);
  }
  // Without its stamp an interrupted or failed build is tried again.
  if (Status removed = RemoveStamp(options.image_stamp); !removed) {
    return removed;
  }

  engine::BuildRequest request;
  request.tag = tag;
  request.checksum = *checksum;
  std::optional<std::string> present = engine::ImageChecksum(engine, tag);
  if (options.verbose) {
    std::cerr << "qemu-docker-images: " << tag << ": checksum " << *checksum
              << ", the engine has "
              << (present ? *present : std::string("no such image"))
              << (present == *checksum ? ": current, not built\n"
                                       : ": building\n");
  }
  if (present != *checksum) {
    request.flags = options.build_flags;
    request.no_cache = options.no_cache;
    request.verbose = options.verbose;
    Expected<core::PreOutcome> built =
        BuildWithEngine(graph, **image, options, engine, request);
    if (!built) return built.error();
    if (*built == core::PreOutcome::kSkip) {
      stamp_text = ReportSkipped(**image, tag, stamp_text);
    }
  }
  Expected<bool> written =
      util::WriteFileIfChanged(options.image_stamp, stamp_text);
  if (!written) return written.error();
  return Ok{};
}

Status RunCheck(const EngineOptions& engine_options,
                const CheckOptions& options) {
  engine::Engine engine = MakeEngine(engine_options);
  for (const std::string& item : options.images) {
    size_t equals = item.rfind('=');
    if (equals == std::string::npos) {
      return Error{"'" + item + "' is not IMAGE_STAMP=TAG", true};
    }
    std::string stamp = item.substr(0, equals);
    std::string tag = item.substr(equals + 1);
    Expected<std::string> recorded = util::ReadFile(stamp);
    // Never built, or skipped by its NAME.pre script: nothing to forget.
    if (!recorded || IsSkippedStamp(*recorded)) continue;
    std::string checksum = recorded->substr(0, recorded->find('\n'));
    if (engine::ImageChecksum(engine, tag) == checksum) {
      if (options.verbose) std::cout << tag << ": present\n";
      continue;
    }
    std::cout << tag << ": missing from " << engine_options.engine
              << " or built from other sources; the next build rebuilds "
                 "it\n";
    if (Status removed = RemoveStamp(stamp); !removed) return removed;
  }
  return Ok{};
}

}  // namespace qdi::cli
