#include "core/pre_script.hpp"

#include <filesystem>

#include "engine/process.hpp"
#include "util/files.hpp"

namespace qdi::core {

namespace fs = std::filesystem;

std::optional<std::string> PreScriptOf(const graph::Graph& graph,
                                       const graph::Image& image) {
  std::string script = fs::path(image.path).replace_extension(".pre").string();
  if (graph.listings().KindOf(script) != util::FileKind::kRegular) {
    return std::nullopt;
  }
  return script;
}

Expected<PreOutcome> RunPreScript(const std::string& script,
                                  const std::string& dir, bool verbose,
                                  const std::string& log_file) {
  std::error_code error;
  std::string path = fs::absolute(script, error).string();
  engine::Output output =
      verbose ? engine::Output::kInherit : engine::Output::kLogFile;
  Expected<engine::ProcessResult> result =
      engine::RunProcess({path}, output, log_file, dir);
  if (!result) return result.error();
  if (result->exit_code == 0) return PreOutcome::kBuild;
  if (result->exit_code == kPreScriptSkips) return PreOutcome::kSkip;
  std::string message = script + " exited with status " +
                        std::to_string(result->exit_code) +
                        "; fix the script (exit 3 skips the image)";
  if (!verbose) {
    Expected<std::string> log = util::ReadFile(log_file);
    while (log && !log->empty() && log->back() == '\n') log->pop_back();
    if (log && !log->empty()) message += "; its output:\n" + *log;
  }
  return Error{message};
}

}  // namespace qdi::core
