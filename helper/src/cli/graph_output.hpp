#pragma once

// The image graph of the search folders in three shapes: JSON for tools,
// DOT for people, and a CMake script for the module's configure step.

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

Expected<std::vector<GraphEntry>> DescribeGraph(
    const graph::Graph& graph, const std::vector<const graph::Image*>& images);

std::string GraphJson(const std::vector<GraphEntry>& entries);
std::string GraphDot(const std::vector<GraphEntry>& entries);
std::string GraphCMake(const std::vector<GraphEntry>& entries);

}  // namespace qdi::cli
