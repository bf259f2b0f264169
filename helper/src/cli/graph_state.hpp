#pragma once

// The state of each image in a build folder of the CMake module, read off
// its stamps, for the picture and the listing of the image graph: an image
// is current when its image stamp records the checksum its checksum stamp
// holds, and stale otherwise (never built, built from other inputs, or
// forgotten by the check target).

#include <map>
#include <string>
#include <vector>

#include "cli/graph_output.hpp"

namespace qdi::cli {

// Image name -> "current", "stale" or "skipped" (its NAME.pre script said
// so), for each entry that has a folder DIR/NAME; images without one are
// not images of that build and are left out.
using ImageStates = std::map<std::string, std::string>;

ImageStates ReadImageStates(const std::string& state_dir,
                            const std::vector<GraphEntry>& entries);

// Keeps only the entries that `states` names.
std::vector<GraphEntry> EntriesWithState(std::vector<GraphEntry> entries,
                                         const ImageStates& states);

// One line per image: its name, state, local and external bases, in
// aligned columns, for a terminal.
std::string GraphText(const std::vector<GraphEntry>& entries,
                      const ImageStates& states);

}  // namespace qdi::cli
