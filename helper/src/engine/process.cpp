#include "engine/process.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace qdi::engine {

namespace {

// posix_spawn's file actions, freed on every path out.
class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t count = read(fd, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) break;
    text.append(buffer, static_cast<size_t>(count));
  }
  return text;
}

int WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

Error StartError(const std::vector<std::string>& argv, int error) {
  return Error{"cannot run '" + argv.front() + "': " + std::strerror(error) +
               "; check that it is installed and on PATH"};
}

}  // namespace

Expected<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                   Output output, const std::string& log_file,
                                   const std::string& working_dir) {
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);

  FileActions actions;
  int pipe_fds[2] = {-1, -1};
  bool capture = output == Output::kCapture ||
                 output == Output::kCaptureQuietly ||
                 output == Output::kCaptureAll;
  if (capture) {
    if (pipe(pipe_fds) != 0) return StartError(argv, errno);
    posix_spawn_file_actions_addclose(actions.get(), pipe_fds[0]);
    posix_spawn_file_actions_adddup2(actions.get(), pipe_fds[1], 1);
    if (output == Output::kCaptureAll) {
      posix_spawn_file_actions_adddup2(actions.get(), pipe_fds[1], 2);
    }
    posix_spawn_file_actions_addclose(actions.get(), pipe_fds[1]);
  }
  if (output == Output::kCaptureQuietly) {
    posix_spawn_file_actions_addopen(actions.get(), 2, "/dev/null", O_WRONLY,
                                     0);
  } else if (output == Output::kLogFile) {
    posix_spawn_file_actions_addopen(actions.get(), 1, log_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(actions.get(), 1, 2);
  }
  // Last, so that a relative log file is still opened where we are.
  if (!working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(actions.get(), working_dir.c_str());
  }

  pid_t pid = 0;
  int error =
      posix_spawnp(&pid, args[0], actions.get(), nullptr, args.data(), environ);
  ProcessResult result;
  if (capture) {
    close(pipe_fds[1]);
    if (error == 0) result.output = ReadAll(pipe_fds[0]);
    close(pipe_fds[0]);
  }
  if (error != 0) return StartError(argv, error);
  result.exit_code = WaitFor(pid);
  return result;
}

std::string DescribeCommand(const std::vector<std::string>& argv) {
  std::string text;
  for (const std::string& arg : argv) {
    bool plain =
        !arg.empty() &&
        arg.find_first_of(" \t\n'\"\\$;&|<>()*?[]{}`") == std::string::npos;
    text += (text.empty() ? "" : " ") + (plain ? arg : "'" + arg + "'");
  }
  return text;
}

}  // namespace qdi::engine
