#pragma once

// Everything an image is made of, gathered once: the flattened text, the
// context files of every image in its chain, the checksum over all of it,
// and the list of files a build tool must watch.

#include <ostream>
#include <string>
#include <vector>

#include "context/context.hpp"
#include "flatten/flattener.hpp"
#include "graph/graph.hpp"
#include "util/expected.hpp"

namespace qdi::core {

struct Evaluation {
  flatten::Flattened flattened;
  std::string checksum;  // 32 hex digits of XXH3-128
  // The Dockerfiles of the chain and every copied context file.
  std::vector<std::string> inputs;
  // The union of the chain's contexts, the context of the flattened file.
  std::vector<context::ContextFile> context_files;
};

// Evaluates `top`, loaded in `graph`.  When `trace` is set, every hashed
// field is written to it, one per line.
Expected<Evaluation> Evaluate(const graph::Graph& graph,
                              const graph::Image& top, std::ostream* trace);

// Copies `files` into the folder `dir`, which is created; the result is a
// build context in which the flattened Dockerfile builds.
Status WriteContext(const std::vector<context::ContextFile>& files,
                    const std::string& dir);

}  // namespace qdi::core
