#pragma once

// An executable staged in a build context together with the shared
// libraries it loads, as QEMU's --include-executable staged a QEMU binary
// for images of another architecture: the executable at usr/bin/NAME and
// each library at the path the host's dynamic loader finds it at, so that
// "ADD . /" puts a working copy into the image.

#include <string>
#include <vector>

#include "util/expected.hpp"

namespace qdi::context {

struct StagedPath {
  std::string name;  // inside the context, '/'-separated, no leading '/'
  std::string path;  // on disk, symlinks resolved
};

// The files of `executable`, the executable first.  The libraries are the
// ones ldd(1) lists; a static executable has none.
Expected<std::vector<StagedPath>> ExecutableFiles(
    const std::string& executable);

// The library paths of one line of ldd's output: nothing for the vDSO,
// which has no file; an error for a library that is not found.
Expected<std::vector<std::string>> LddPaths(const std::string& output);

}  // namespace qdi::context
