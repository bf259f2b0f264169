#pragma once

// QEMU's NAME.pre convention: an executable script beside NAME.docker that
// prepares the staged build context before the build (QEMU's
// debian-bootstrap.pre runs debootstrap there).  Exit status 3 means "do
// not build this image here", any other non-zero status is a failure.
// The script's bytes are part of the image's checksum; what it writes into
// the context cannot be known before it runs, so that is not.

#include <optional>
#include <string>

#include "graph/graph.hpp"
#include "graph/image.hpp"
#include "util/expected.hpp"

namespace qdi::core {

inline constexpr int kPreScriptSkips = 3;

// The path of `image`'s script, when there is one.  `graph` answers from
// its listing of the Dockerfile's folder.
std::optional<std::string> PreScriptOf(const graph::Graph& graph,
                                       const graph::Image& image);

enum class PreOutcome { kBuild, kSkip };

// Runs `script` in the folder `dir`; its output goes to ours when
// `verbose`, else to `log_file`.
Expected<PreOutcome> RunPreScript(const std::string& script,
                                  const std::string& dir, bool verbose,
                                  const std::string& log_file);

}  // namespace qdi::core
