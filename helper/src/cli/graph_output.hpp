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
  std::vector<std::string> external_bases;
  std::vector<std::string> context_files;  // paths on disk
};

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
// "name: base1 base2" per image, and whether it has a NAME.pre script: it
// changes only when the set of images, a local-base edge or a script's
// presence changes, so the module's configure step depends on it.  With
// `with_external`, " | ext1 ext2" follows the local bases: the external
// bases, which the module pins when it pins external bases.
std::string GraphEdges(const std::vector<GraphEntry>& entries,
                       bool with_external = false);

}  // namespace qdi::cli
