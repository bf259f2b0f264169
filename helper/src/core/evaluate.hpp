#pragma once

// Everything an image is made of, gathered once: the flattened text, the
// context files of every image in its chain, the checksum over all of it,
// and the list of files a build tool must watch.

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <unordered_map>
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
  // The same, for each image of the chain on its own, by image name.
  std::map<std::string, std::vector<std::string>> own_inputs;
  // The union of the chain's contexts, the context of the flattened file.
  std::vector<context::ContextFile> context_files;
};

// What is hashed of one context file besides its name: a symlink's
// target, or a file's mode and bytes.  The bytes of a small file are kept,
// so that a file that many images' chains copy is read once.
struct FileFields {
  std::optional<std::string> symlink;
  std::string mode;
  uint64_t size = 0;
  std::optional<std::string> bytes;
};

// Evaluates images of one loaded graph.  What it learns about an image's
// own inputs (its context and the files it copies) is kept, so that the
// images above a base in a folder do not find the base's files again.
class Evaluator {
 public:
  // When `trace` is set, every hashed field is written to it, one per
  // line.  Without `keep_text` the buildable text is not kept, only hashed
  // from, so that a checksum never holds a whole flattened file.
  Evaluator(const graph::Graph& graph, std::ostream* trace, bool keep_text);

  // Evaluates `top`, loaded in the graph.
  Expected<Evaluation> Evaluate(const graph::Image& top);

  // The checksum of each of `tops`, or the error that stopped it, in the
  // same order.  Without a trace the images are evaluated on all cores.
  std::vector<Expected<std::string>> Checksums(
      const std::vector<const graph::Image*>& tops);

 private:
  struct OwnInputs {
    std::vector<context::ContextFile> files;
    std::vector<Expected<FileFields>> fields;  // one per file
    // Folders whose new entries the image would copy, sorted.
    std::vector<std::string> folders;
    std::optional<std::string> pre_script;
  };
  // The checksum of `top`; the rest of its evaluation goes into `*kept`
  // when it is given, which a folder's checksum does without.
  Expected<std::string> Hash(const graph::Image& top, Evaluation* kept);
  // Lists what a build tool must watch for `image`, one image of the
  // chain: its Dockerfile, its NAME.pre script, its folders and its files.
  static void KeepInputs(const graph::Image& image, const OwnInputs& inputs,
                         Evaluation* kept);
  Expected<const OwnInputs*> InputsOf(const graph::Image& image);
  Expected<OwnInputs> FindInputs(const graph::Image& image) const;
  void FindAllInputs(const std::vector<const graph::Image*>& tops,
                     size_t threads);

  const graph::Graph& graph_;
  std::ostream* trace_;
  bool keep_text_;
  // Filled on demand, or for every image at once before several threads
  // evaluate (they then only read it).  Failures are kept too.
  std::unordered_map<const graph::Image*, Expected<OwnInputs>> inputs_;
};

// Evaluates `top`, loaded in `graph`, keeping the flattened text.
Expected<Evaluation> Evaluate(const graph::Graph& graph,
                              const graph::Image& top, std::ostream* trace);

// What a build tool must watch for `top` when some of its local bases
// have steps of their own: `top`'s own inputs and, for each local base,
// the base's checksum stamp where `stamps` names one (a stamp is rewritten
// exactly when that base's checksum changes, which covers everything below
// it), else the base's own inputs and so on down.  With no stamps this is
// `evaluation.inputs`, in the same order.
std::vector<std::string> InputsAbove(
    const graph::Graph& graph, const graph::Image& top,
    const Evaluation& evaluation,
    const std::map<std::string, std::string>& stamps);

// Copies `files` into the folder `dir`, which is created; the result is a
// build context in which the flattened Dockerfile builds.
Status WriteContext(const std::vector<context::ContextFile>& files,
                    const std::string& dir);

}  // namespace qdi::core
