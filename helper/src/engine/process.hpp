#pragma once

// Starts programs with an argument vector, never through a shell, so that a
// build argument or tag holding ';', '$(...)', quotes or spaces reaches the
// program unchanged.

#include <string>
#include <vector>

#include "util/expected.hpp"

namespace qdi::engine {

enum class Output {
  kCapture,         // standard output is returned, standard error inherited
  kCaptureQuietly,  // standard output is returned, standard error dropped
  kCaptureAll,      // both are returned, interleaved as written
  kInherit,         // both go where ours go
  kLogFile,         // both go to a log file
};

struct ProcessResult {
  int exit_code = 0;   // 128 + N when killed by signal N
  std::string output;  // the kCapture kinds only
};

// Runs `argv` (argv[0] is looked up in PATH) and waits for it, in the
// folder `working_dir` when one is given.  Fails only when the program
// cannot be started.
Expected<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                   Output output,
                                   const std::string& log_file = "",
                                   const std::string& working_dir = "");

// Joins `argv` for messages, quoting words a reader could misread.
std::string DescribeCommand(const std::vector<std::string>& argv);

}  // namespace qdi::engine
