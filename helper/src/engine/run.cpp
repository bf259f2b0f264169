#include "engine/run.hpp"

#include <iostream>

#include "engine/process.hpp"

namespace qdi::engine {

namespace {

std::string VolumeSpec(const Mount& mount) {
  return mount.host + ":" + mount.container + (mount.read_only ? ":ro" : "");
}

// The options that "run" takes alike in docker, podman and buildah.
void AddRunOptions(const RunRequest& request, const char* workdir_option,
                   std::vector<std::string>* argv) {
  for (const Mount& mount : request.mounts) {
    argv->insert(argv->end(), {"-v", VolumeSpec(mount)});
  }
  if (!request.workdir.empty()) {
    argv->insert(argv->end(), {workdir_option, request.workdir});
  }
  if (!request.user.empty()) {
    argv->insert(argv->end(), {"--user", request.user});
  }
  for (const std::string& env : request.env) {
    argv->insert(argv->end(), {"-e", env});
  }
}

// buildah takes Podman's global store options (--root, --runroot,
// --storage-driver), so the engine's options are kept.
Engine BuildahOf(const Engine& engine) {
  Engine buildah = engine;
  buildah.command.front() = "buildah";
  return buildah;
}

Expected<std::string> MakeContainer(const Engine& buildah,
                                    const std::string& image) {
  std::vector<std::string> argv = buildah.command;
  argv.insert(argv.end(), {"from", "--quiet", "--pull=never", image});
  Expected<ProcessResult> made = RunProcess(argv, Output::kCapture);
  if (!made) return made.error();
  std::string name = made->output.substr(0, made->output.find('\n'));
  if (made->exit_code != 0 || name.empty()) {
    return Error{"cannot make a working container of '" + image + "' (" +
                 DescribeCommand(argv) + " exited with status " +
                 std::to_string(made->exit_code) +
                 "); build the image first, e.g. with its docker-IMAGE target"};
  }
  return name;
}

Expected<int> RunWithBuildah(const Engine& engine, const RunRequest& request) {
  Engine buildah = BuildahOf(engine);
  Expected<std::string> container = MakeContainer(buildah, request.image);
  if (!container) return container.error();
  std::vector<std::string> argv = buildah.command;
  argv.insert(argv.end(), {"run", "--isolation", "chroot"});
  AddRunOptions(request, "--workingdir", &argv);
  argv.push_back(*container);
  argv.push_back("--");
  argv.insert(argv.end(), request.command.begin(), request.command.end());
  Expected<ProcessResult> ran = RunProcess(argv, Output::kInherit);
  std::vector<std::string> remove = buildah.command;
  remove.insert(remove.end(), {"rm", *container});
  Expected<ProcessResult> removed = RunProcess(remove, Output::kCaptureQuietly);
  if (!ran) return ran.error();
  if (!removed || removed->exit_code != 0) {
    std::cerr << "qemu-docker-images: warning: cannot remove the working "
              << "container " << *container << "; remove it with "
              << DescribeCommand(remove) << "\n";
  }
  return ran->exit_code;
}

}  // namespace

std::vector<std::string> RunCommand(const Engine& engine,
                                    const RunRequest& request) {
  std::vector<std::string> argv = engine.command;
  // Never pull: an image missing here must be built, not fetched.
  argv.insert(argv.end(), {"run", "--rm", "--pull", "never"});
  AddRunOptions(request, "-w", &argv);
  argv.push_back(request.image);
  argv.insert(argv.end(), request.command.begin(), request.command.end());
  return argv;
}

Expected<int> RunInImage(const Engine& engine, Runner runner,
                         const RunRequest& request) {
  if (runner == Runner::kBuildah) return RunWithBuildah(engine, request);
  Expected<ProcessResult> ran =
      RunProcess(RunCommand(engine, request), Output::kInherit);
  if (!ran) return ran.error();
  return ran->exit_code;
}

}  // namespace qdi::engine
