#include "cli/image_commands.hpp"

#include <filesystem>
#include <iostream>

#include "context/context.hpp"
#include "core/evaluate.hpp"
#include "core/pre_script.hpp"
#include "engine/engine.hpp"
#include "engine/process.hpp"
#include "engine/proxy.hpp"
#include "engine/registry.hpp"
#include "flatten/flattener.hpp"
#include "util/files.hpp"

namespace qdi::cli {

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

namespace {

namespace fs = std::filesystem;

engine::Engine MakeBuildEngine(const EngineOptions& engine_options,
                               const BuildOptions& options) {
  engine::Engine engine = MakeEngine(engine_options);
  if (!options.build_command.empty()) {
    engine.build_command = options.build_command;
  }
  return engine;
}

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
  dockerfile::Variables given = graph.ReadOptionsOf(image).build_args;
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
Expected<core::PreOutcome> RunPre(const graph::Graph& graph,
                                  const graph::Image& image,
                                  const std::string& work_dir, bool verbose) {
  std::optional<std::string> script = core::PreScriptOf(graph, image);
  if (!script) return core::PreOutcome::kBuild;
  if (Status made = ResetWorkDir(work_dir + "/context"); !made) {
    return made.error();
  }
  return core::RunPreScript(*script, work_dir + "/context", verbose,
                            work_dir + "/pre.log");
}

// The image's own Dockerfile, its local bases named by their tags, in its
// own context: the engine must have the bases.
Status PrepareLayered(const graph::Graph& graph, const graph::Image& image,
                      const BuildOptions& options, const std::string& work_dir,
                      engine::BuildRequest* request) {
  Expected<std::string> text =
      flatten::LayeredText(graph, image, options.tag_prefix);
  if (!text) return text.error();
  Expected<bool> written = util::WriteFileIfChanged(request->dockerfile, *text);
  if (!written) return written.error();
  Expected<std::string> context = PrepareContext(graph, image, work_dir);
  if (!context) return context.error();
  request->context_dir = *context;
  return Ok{};
}

// The flattened Dockerfile in the union of the chain's contexts: it needs
// no local image, so a builder on another machine can build it.
Status PrepareFlattened(const graph::Graph& graph, const graph::Image& image,
                        const std::string& work_dir,
                        engine::BuildRequest* request) {
  Expected<core::Evaluation> evaluation =
      core::Evaluate(graph, image, /*trace=*/nullptr);
  if (!evaluation) return evaluation.error();
  Expected<bool> written =
      util::WriteFileIfChanged(request->dockerfile, evaluation->flattened.text);
  if (!written) return written.error();
  request->context_dir = work_dir + "/context";
  return core::WriteContext(evaluation->context_files, request->context_dir);
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
  Expected<core::PreOutcome> pre =
      RunPre(graph, image, work_dir, options.verbose);
  if (!pre || *pre == core::PreOutcome::kSkip) return pre;
  request.dockerfile = work_dir + "/Dockerfile";
  Status prepared =
      options.flattened
          ? PrepareFlattened(graph, image, work_dir, &request)
          : PrepareLayered(graph, image, options, work_dir, &request);
  if (!prepared) return prepared.error();
  request.log_file = work_dir + "/build.log";
  request.build_args = EngineBuildArgs(graph, image, options.pass_proxy);
  Status built = engine::Build(engine, request);
  if (!built) return built.error();
  return core::PreOutcome::kBuild;
}

void AddRegistryOptions(CLI::App* command, BuildOptions* options) {
  command->add_option("--registry", options->registry,
                      "A registry (HOST[:PORT][/PATH]) to pull the image "
                      "from before building it");
  command->add_option("--registry-repository", options->registry_repository,
                      "The image's repository in the registry (default: "
                      "qemu/ and the image's name)");
  command->add_option("--registry-flag", options->registry_flags,
                      "An option of the engine's pull and push, such as "
                      "--tls-verify=false (repeatable)");
  command->add_flag("--push", options->push,
                    "Push the image to the registry after building it");
  command->add_flag("--strict-push", options->strict_push,
                    "Fail when that push fails, instead of saying so");
}

void Say(const std::string& tag, const std::string& text) {
  std::cerr << "qemu-docker-images: " << tag << ": " << text << "\n";
}

engine::Registry MakeRegistry(const BuildOptions& options,
                              const graph::Image& image) {
  engine::Registry registry;
  registry.address = options.registry;
  registry.repository = options.registry_repository.empty()
                            ? "qemu/" + image.name
                            : options.registry_repository;
  registry.flags = options.registry_flags;
  return registry;
}

// True when the registry cache had the image, which `tag` now names.  A
// cache that cannot help is a reason to build, never an error.
bool PullFromRegistry(const engine::Engine& engine,
                      const engine::Registry& registry,
                      const BuildOptions& options, const std::string& tag,
                      const std::string& checksum) {
  using Kind = engine::PullResult::Kind;
  engine::PullResult pulled =
      engine::PullCached(engine, registry, checksum, tag);
  std::string ref = engine::CachedRef(registry, checksum);
  if (pulled.kind == Kind::kPulled) {
    if (options.verbose) Say(tag, ref + ": pulled, not built");
    return true;
  }
  if (pulled.kind == Kind::kMissing) {
    if (options.verbose) Say(tag, ref + " is not in the registry: building");
  } else if (pulled.kind == Kind::kWrongLabel) {
    Say(tag, "not using " + pulled.detail + " from the registry, since " +
                 "its checksum should be " + checksum + "; building it");
  } else {
    Say(tag,
        "cannot pull from the registry (" + pulled.detail + "); building it");
  }
  return false;
}

// A failed push leaves a good image that other machines build again; it
// fails the step only when the user asked for strict pushing.
Status PushToRegistry(const engine::Engine& engine,
                      const engine::Registry& registry,
                      const BuildOptions& options, const std::string& tag,
                      const std::string& checksum) {
  Status pushed = engine::PushBuilt(engine, registry, checksum, tag);
  if (pushed) {
    if (options.verbose)
      Say(tag, "pushed " + engine::CachedRef(registry, checksum));
    return Ok{};
  }
  if (options.strict_push) {
    return Error{"pushing " + tag + " to the registry failed (" +
                 pushed.error().message +
                 "); check the registry, or switch strict pushing off "
                 "(QEMU_DOCKER_IMAGES_REGISTRY_STRICT_PUSH, --strict-push)"};
  }
  Say(tag, "pushing to the registry failed (" + pushed.error().message +
               "); the image is built, but other machines build it too");
  return Ok{};
}

void SayWhatTheEngineHas(const std::string& tag, const std::string& checksum,
                         const std::optional<std::string>& present,
                         bool has_registry) {
  std::string next = present == checksum ? "current, not built"
                     : has_registry      ? "asking the registry"
                                         : "building";
  Say(tag, "checksum " + checksum + ", the engine has " +
               (present ? *present : std::string("no such image")) + ": " +
               next);
}

// Asks the engine, then the registry cache, and builds only when neither
// has the image.  An image found in the engine is pushed too, since a
// strict push that failed leaves it there, built but not shared.  An image
// that its NAME.pre script skipped is neither built nor pushed.
Expected<core::PreOutcome> MakeCurrent(const graph::Graph& graph,
                                       const graph::Image& image,
                                       const BuildOptions& options,
                                       const engine::Engine& engine,
                                       const std::string& tag,
                                       const std::string& checksum) {
  bool has_registry = !options.registry.empty();
  engine::Registry registry = MakeRegistry(options, image);
  std::optional<std::string> present = engine::ImageChecksum(engine, tag);
  if (options.verbose) {
    SayWhatTheEngineHas(tag, checksum, present, has_registry);
  }
  if (present != checksum) {
    if (has_registry &&
        PullFromRegistry(engine, registry, options, tag, checksum)) {
      return core::PreOutcome::kBuild;
    }
    engine::BuildRequest request;
    request.tag = tag;
    request.checksum = checksum;
    request.flags = options.build_flags;
    request.no_cache = options.no_cache;
    request.verbose = options.verbose;
    Expected<core::PreOutcome> built =
        BuildWithEngine(graph, image, options, engine, request);
    if (!built || *built == core::PreOutcome::kSkip) return built;
  }
  if (has_registry && options.push) {
    Status pushed = PushToRegistry(engine, registry, options, tag, checksum);
    if (!pushed) return pushed.error();
  }
  return core::PreOutcome::kBuild;
}

}  // namespace

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
  command->add_option("--build-command", options->build_command,
                      "A word that replaces the engine's 'build', such as "
                      "buildx, build, --builder, NAME, --load (repeatable)");
  command->add_flag("--flattened", options->flattened,
                    "Build the flattened Dockerfile in the union of the "
                    "chain's contexts, with no local base image");
  AddRegistryOptions(command, options);
  AddEngineOptions(command, engine);
  AddSharedOptions(command, shared);
  return command;
}

CLI::App* AddIdentifyCommand(CLI::App* app, EngineOptions* engine,
                             IdentifyOptions* options) {
  CLI::App* command = app->add_subcommand(
      "identify",
      "Write the image ID of each external base to its file, rewriting "
      "the file only when the ID changed");
  command->add_option("REF=FILE", options->bases)->required();
  command->add_flag("--pull", options->pull,
                    "Pull each base first, to see an update in its registry");
  command->add_option("--pull-flag", options->pull_flags,
                      "An option of the engine's pull (repeatable)");
  command->add_flag("-v,--verbose", options->verbose,
                    "Also name the bases that did not change");
  AddEngineOptions(command, engine);
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
std::string ReportSkipped(const graph::Graph& graph, const graph::Image& image,
                          const std::string& tag,
                          const std::string& stamp_text) {
  std::cout << "qemu-docker-images: " << tag
            << ": skipped: " << *core::PreScriptOf(graph, image)
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
  engine::Engine engine = MakeBuildEngine(engine_options, options);
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

  Expected<core::PreOutcome> current =
      MakeCurrent(graph, **image, options, engine, tag, *checksum);
  if (!current) return current.error();
  if (*current == core::PreOutcome::kSkip) {
    stamp_text = ReportSkipped(graph, **image, tag, stamp_text);
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

namespace {

constexpr const char* kAbsent = "absent";

void PullBase(const engine::Engine& engine, const IdentifyOptions& options,
              const std::string& ref) {
  std::vector<std::string> args = {"pull"};
  args.insert(args.end(), options.pull_flags.begin(), options.pull_flags.end());
  args.push_back(ref);
  Expected<engine::CommandResult> pulled = engine::RunCommand(engine, args);
  if (options.verbose && pulled && pulled->exit_code != 0) {
    std::cerr << "qemu-docker-images: " << ref << ": the pull failed ("
              << pulled->last_line << "); asking the engine as it is\n";
  }
}

// What the engine knows `ref` as.  A missing base is pulled, as the build
// would pull it; one that cannot be had is recorded as absent, so that it
// changes the checksums once it appears.
std::string IdentityOf(const engine::Engine& engine,
                       const IdentifyOptions& options, const std::string& ref) {
  if (options.pull) PullBase(engine, options, ref);
  std::optional<std::string> id = engine::ImageId(engine, ref);
  if (!id && !options.pull) {
    PullBase(engine, options, ref);
    id = engine::ImageId(engine, ref);
  }
  if (id) return *id;
  std::cerr << "qemu-docker-images: external base " << ref
            << " is not in the engine and cannot be pulled; its images are "
               "checksummed with it absent until it is there\n";
  return kAbsent;
}

std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace

Status RunIdentify(const EngineOptions& engine_options,
                   const IdentifyOptions& options) {
  engine::Engine engine = MakeEngine(engine_options);
  for (const std::string& item : options.bases) {
    size_t equals = item.find('=');
    if (equals == std::string::npos || equals == 0) {
      return Error{"'" + item + "' is not REF=FILE", true};
    }
    std::string ref = item.substr(0, equals);
    std::string file = item.substr(equals + 1);
    std::string identity = IdentityOf(engine, options, ref);
    Expected<std::string> old = util::ReadFile(file);
    Expected<bool> written = util::WriteFileIfChanged(file, identity + "\n");
    if (!written) return written.error();
    if (*written && old) {
      std::cout << "qemu-docker-images: external base " << ref
                << " changed (it was " << FirstLine(*old) << ", it is "
                << identity << "); the images above it are rebuilt at the "
                << "next build\n";
    } else if (!*written && options.verbose) {
      std::cout << ref << ": unchanged, " << identity << "\n";
    }
  }
  return Ok{};
}

}  // namespace qdi::cli
