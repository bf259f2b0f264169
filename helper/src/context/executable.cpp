#include "context/executable.hpp"

#include <filesystem>

#include "engine/process.hpp"

namespace qdi::context {

namespace fs = std::filesystem;

namespace {

std::string Trim(const std::string& text) {
  size_t start = text.find_first_not_of(" \t");
  if (start == std::string::npos) return "";
  return text.substr(start, text.find_last_not_of(" \t\r") + 1 - start);
}

// "libc.so.6 => /lib/libc.so.6 (0x...)" or "/lib64/ld.so (0x...)" gives
// the path; "linux-vdso.so.1 (0x...)" gives nothing.
std::string PathOfLine(const std::string& line) {
  size_t arrow = line.find("=> ");
  std::string rest = arrow == std::string::npos ? line : line.substr(arrow + 3);
  rest = rest.substr(0, rest.find(" ("));
  return rest.rfind('/', 0) == 0 ? rest : "";
}

}  // namespace

Expected<std::vector<std::string>> LddPaths(const std::string& output) {
  std::vector<std::string> paths;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = std::min(output.find('\n', start), output.size());
    std::string line = Trim(output.substr(start, end - start));
    start = end + 1;
    if (line.find("=> not found") != std::string::npos) {
      return Error{"the shared library '" + line.substr(0, line.find(' ')) +
                   "' is not found"};
    }
    std::string path = PathOfLine(line);
    if (!path.empty()) paths.push_back(path);
  }
  return paths;
}

Expected<std::vector<StagedPath>> ExecutableFiles(
    const std::string& executable) {
  std::error_code error;
  fs::path resolved = fs::canonical(executable, error);
  if (error || !fs::is_regular_file(resolved, error)) {
    return Error{"executable '" + executable +
                 "' does not exist; build it first or fix the path"};
  }
  std::vector<StagedPath> files = {
      {"usr/bin/" + fs::path(executable).filename().string(),
       resolved.string()}};
  // ldd fails ("not a dynamic executable") for static executables and
  // scripts, which need no library.
  Expected<engine::ProcessResult> ldd = engine::RunProcess(
      {"ldd", resolved.string()}, engine::Output::kCaptureQuietly);
  if (!ldd) return ldd.error();
  if (ldd->exit_code != 0) return files;
  Expected<std::vector<std::string>> paths = LddPaths(ldd->output);
  if (!paths) {
    return Error{"executable '" + executable + "': " + paths.error().message +
                 "; install it or fix the library path"};
  }
  for (const std::string& path : *paths) {
    fs::path real = fs::canonical(path, error);
    if (error) return Error{"library '" + path + "' cannot be read"};
    files.push_back({path.substr(1), real.string()});
  }
  return files;
}

}  // namespace qdi::context
