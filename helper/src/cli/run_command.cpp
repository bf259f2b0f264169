#include "cli/run_command.hpp"

#include <filesystem>

#include "engine/run.hpp"

namespace qdi::cli {

namespace fs = std::filesystem;

CLI::App* AddRunCommand(CLI::App* app, EngineOptions* engine,
                        RunOptions* options) {
  CLI::App* command = app->add_subcommand(
      "run", "Run a command in a container of an image; exit with its status");
  command->add_option("IMAGE", options->image, "The image's tag")->required();
  command->add_option("COMMAND", options->command, "After --")->required();
  command
      ->add_option("--runner", options->runner,
                   "engine (its run --rm) or buildah (buildah run with "
                   "chroot isolation, for Podman)")
      ->check(CLI::IsMember({"engine", "buildah"}));
  command->add_option("--mount", options->mounts,
                      "HOST CONTAINER: bind-mount a folder (repeatable)");
  command->add_option("--mount-ro", options->read_only_mounts,
                      "HOST CONTAINER: bind-mount a folder read-only");
  command->add_option("--workdir", options->workdir,
                      "The command's working folder in the container");
  command->add_option("--user", options->user, "Run as this user");
  command->add_option("--env", options->env, "NAME=VALUE (repeatable)");
  AddEngineOptions(command, engine);
  return command;
}

Expected<int> RunRun(const EngineOptions& engine_options,
                     const RunOptions& options) {
  engine::RunRequest request{options.image, {},          options.workdir,
                             options.user,  options.env, options.command};
  for (const auto* list : {&options.mounts, &options.read_only_mounts}) {
    for (const auto& [host, container] : *list) {
      std::error_code error;
      if (!fs::is_directory(host, error)) {
        return Error{"mount source '" + host +
                         "' is not a folder; name an existing folder",
                     true};
      }
      bool read_only = list == &options.read_only_mounts;
      request.mounts.push_back({host, container, read_only});
    }
  }
  engine::Runner runner = options.runner == "buildah" ? engine::Runner::kBuildah
                                                      : engine::Runner::kEngine;
  return engine::RunInImage(MakeEngine(engine_options), runner, request);
}

}  // namespace qdi::cli
