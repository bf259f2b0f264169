#include "engine/engine.hpp"

#include <iostream>

#include "engine/process.hpp"
#include "util/files.hpp"

namespace qdi::engine {

namespace {

std::string TrimEnd(std::string text) {
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// The last `count` lines of a log, for an error message.
std::string Tail(const std::string& text, int count) {
  size_t start = text.size();
  for (int lines = 0; start > 0 && lines <= count; --start) {
    if (text[start - 1] == '\n') ++lines;
  }
  return text.substr(start == 0 ? 0 : start + 1);
}

}  // namespace

std::optional<std::string> ImageChecksum(const Engine& engine,
                                         const std::string& tag) {
  std::vector<std::string> argv = engine.command;
  argv.insert(argv.end(), {"image", "inspect", "--format",
                           std::string("{{ index .Config.Labels \"") +
                               kChecksumLabel + "\" }}",
                           tag});
  Expected<ProcessResult> result =
      RunProcess(argv, Output::kCaptureQuietly, /*log_file=*/"");
  if (!result || result->exit_code != 0) return std::nullopt;
  std::string label = TrimEnd(result->output);
  if (label.empty() || label == "<no value>") return std::nullopt;
  return label;
}

std::optional<std::string> ImageId(const Engine& engine,
                                   const std::string& ref) {
  std::vector<std::string> argv = engine.command;
  argv.insert(argv.end(), {"image", "inspect", "--format", "{{.Id}}", ref});
  Expected<ProcessResult> result =
      RunProcess(argv, Output::kCaptureQuietly, /*log_file=*/"");
  if (!result || result->exit_code != 0) return std::nullopt;
  std::string id = TrimEnd(result->output);
  if (id.empty()) return std::nullopt;
  return id;
}

Expected<CommandResult> RunCommand(const Engine& engine,
                                   const std::vector<std::string>& args) {
  CommandResult command;
  command.argv = engine.command;
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  Expected<ProcessResult> result =
      RunProcess(command.argv, Output::kCaptureAll, /*log_file=*/"");
  if (!result) return result.error();
  command.exit_code = result->exit_code;
  command.output = std::move(result->output);
  std::string last = TrimEnd(Tail(command.output, 1));
  command.last_line = last.substr(last.rfind('\n') + 1);
  return command;
}

std::vector<std::string> BuildCommand(const Engine& engine,
                                      const BuildRequest& request) {
  std::vector<std::string> argv = engine.command;
  argv.insert(argv.end(), engine.build_command.begin(),
              engine.build_command.end());
  if (request.no_cache) argv.push_back("--no-cache");
  argv.insert(argv.end(), request.flags.begin(), request.flags.end());
  argv.insert(argv.end(), {"-t", request.tag, "--label",
                           std::string(kChecksumLabel) + "=" + request.checksum,
                           "-f", request.dockerfile});
  for (const std::string& arg : request.build_args) {
    argv.insert(argv.end(), {"--build-arg", arg});
  }
  argv.push_back(request.context_dir);
  return argv;
}

Status Build(const Engine& engine, const BuildRequest& request) {
  std::vector<std::string> argv = BuildCommand(engine, request);
  if (request.verbose) std::cerr << DescribeCommand(argv) << "\n";
  Output output = request.verbose ? Output::kInherit : Output::kLogFile;
  Expected<ProcessResult> result = RunProcess(argv, output, request.log_file);
  if (!result) return result.error();
  if (result->exit_code == 0) return Ok{};
  std::string message = "building " + request.tag + " failed (" +
                        DescribeCommand(argv) + " exited with status " +
                        std::to_string(result->exit_code) + ")";
  if (!request.verbose) {
    Expected<std::string> log = util::ReadFile(request.log_file);
    if (log)
      message += "; the end of " + request.log_file + ":\n" + Tail(*log, 20);
  }
  return Error{message};
}

}  // namespace qdi::engine
