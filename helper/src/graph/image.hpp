#pragma once

// One Dockerfile seen as an image: its stages, what each stage builds on
// (scratch, an external image, an earlier stage, or a local image of our
// folders), its global ARGs and the local images it needs.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dockerfile/shell_words.hpp"
#include "dockerfile/syntax.hpp"
#include "util/expected.hpp"

namespace qdi::graph {

// What FROM, COPY --from or RUN --mount=from= point at.
struct Ref {
  enum class Kind { kScratch, kExternal, kStage, kLocal };
  Kind kind = Kind::kExternal;
  std::string image;  // the expanded text, as written after expansion
  std::string local;  // kLocal: the local image's name
  size_t stage = 0;   // kStage: index of the stage in the same file
};

struct Stage {
  std::string name;  // the alias, lower case; empty when there is none
  size_t from = 0;   // index of its FROM instruction
  size_t end = 0;    // one past its last instruction
  Ref base;
};

struct ReadOptions;
struct ImageSettings;

struct Image {
  std::string name;  // "debian8-mxe" for debian8-mxe.docker
  std::string path;
  dockerfile::Dockerfile file;
  std::vector<Stage> stages;
  size_t first_from = 0;  // instructions before it are global ARGs
  // Global ARG values after defaults and --build-arg are applied.
  dockerfile::Variables global_values;
  // Every name declared by an ARG anywhere in the file.
  std::vector<std::string> arg_names;
  // Local images named by FROM, COPY --from or RUN --mount, in order.
  std::vector<std::string> local_bases;
  // The first line that names each of local_bases, for messages.
  std::map<std::string, int> local_base_lines;

  // Set by the Graph that loaded the image, so that walking a chain or
  // asking what an image is built with looks nothing up by name (in a
  // folder's checksum such lookups were a sixth of the time): the images
  // of local_bases, in the same order, and the image's settings.
  std::vector<const Image*> base_images;
  const ReadOptions* read_options = nullptr;
  const ImageSettings* settings = nullptr;
};

// Everything that decides how one image's Dockerfile is read.
struct ReadOptions {
  std::vector<std::string> prefixes = {"qemu/", "qemu:"};
  dockerfile::Variables build_args;
};

// Builds the stage view of `file`.  Errors name the file and line: a missing
// FROM, an invalid image reference, a stage name that is reused.
Expected<Image> AnalyzeImage(dockerfile::Dockerfile file, std::string name,
                             const ReadOptions& options);

// Classifies the value of FROM, COPY --from or RUN --mount from=, as seen
// from stage `current` of `image` (stages before it can be named).
Expected<Ref> ClassifyRef(const std::string& text, const Image& image,
                          size_t current, const ReadOptions& options,
                          bool numeric_allowed);

// The value of the "from=" field of a RUN --mount flag, if any.
std::optional<std::string> MountFrom(const std::string& flag);

// The value of "--name=value" in `flags`, if present.
std::optional<std::string> FlagValue(const std::vector<std::string>& flags,
                                     const std::string& name);

// "ARG A=1 B" as (name, default) pairs; the default keeps its raw text.
std::vector<std::pair<std::string, std::optional<std::string>>> ArgDecls(
    const dockerfile::Instruction& arg, char escape);

}  // namespace qdi::graph
