#pragma once

// The image graph of the search folders in three shapes: JSON for tools,
// DOT for people, and a CMake script for the module's configure step.

#include <map>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "util/expected.hpp"

namespace qdi::cli {

struct GraphEntry {
  const graph::Image* image = nullptr;
  std::string name;  // the image's name, or a virtual image's
  std::vector<std::string> external_bases;
  std::vector<std::string> context_files;  // paths on disk
  // Whether its build may read files of its context (see ReadsContext).
  bool reads_context = false;
  bool has_pre_script = false;  // a NAME.pre script beside its Dockerfile
};

// Whether building `image` may read files of its build context: a COPY or
// ADD, a --mount flag, or such an ONBUILD trigger of a local base that
// fires in it.  Coarse on purpose (COPY --from counts too): the module
// leaves the depfile out only where this is false, and a no-op build then
// has one file fewer to read per image.
bool ReadsContext(const graph::Graph& graph, const graph::Image& image);

// With `with_context_files` false, no COPY source is resolved, so a missing
// context file is not an error here.
Expected<std::vector<GraphEntry>> DescribeGraph(
    const graph::Graph& graph, const std::vector<const graph::Image*>& images,
    bool with_context_files);

std::string GraphJson(const std::vector<GraphEntry>& entries);
// With `states` (image name -> current, stale or skipped), each image is
// coloured and labelled by its state, and a legend is added.
std::string GraphDot(const std::vector<GraphEntry>& entries,
                     const std::map<std::string, std::string>& states = {});
std::string GraphCMake(const std::vector<GraphEntry>& entries);
// "name: base1 base2" per image, whether it has a NAME.pre script and
// whether it reads its context: it changes only when the set of images, a
// local-base edge, a script's presence or ReadsContext changes, so the
// module's configure step depends on it.  With
// `with_external`, " | ext1 ext2" follows the local bases: the external
// bases, which the module pins when it pins external bases.
std::string GraphEdges(const std::vector<GraphEntry>& entries,
                       bool with_external = false);

}  // namespace qdi::cli
