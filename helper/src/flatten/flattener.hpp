#pragma once

// Turns an image and its local bases into one Dockerfile that builds on its
// own.  Each local base becomes stages of the output, ending in a stage
// named "base.NAME", and the stages above it start "FROM base.NAME"; Docker
// treats that exactly like the layered "FROM qemu/NAME", ONBUILD triggers
// included.  The README lists every rule.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.hpp"
#include "util/expected.hpp"

namespace qdi::flatten {

struct Flattened {
  // The buildable Dockerfile: instructions as written where nothing had
  // to change, with a comment before each inlined file.
  std::string text;
  // One line per instruction in a normal form, heredoc bodies after their
  // instruction, no comments: comment and blank-line edits leave it as is.
  std::string canonical;
};

// Receives the flattened file as it is produced, so that a checksum can
// hash it without the whole text ever being held in memory.
class Sink {
 public:
  virtual ~Sink() = default;
  // One piece of the canonical form, an instruction's or the directives',
  // and what the buildable text holds for it; each ends in '\n'.
  virtual void Add(std::string_view canonical, std::string_view text) = 0;
  // A line of the buildable text only, such as a comment.
  virtual void AddTextOnly(std::string_view text) = 0;
  // False when the buildable text is dropped, as in a checksum, so that
  // lines of it alone need not be put together.
  virtual bool KeepsText() const { return true; }
};

// Feeds the flattened form of `top` to `sink`, directives first.
Status FlattenInto(const graph::Graph& graph, const graph::Image& top,
                   Sink* sink);

// Both forms of `top`, as strings.
Expected<Flattened> Flatten(const graph::Graph& graph, const graph::Image& top);

// `image`'s own Dockerfile for a layered build, where each local base is an
// image of the engine tagged `tag_prefix` + NAME: local references are
// rewritten to those tags and everything else is kept as written.
Expected<std::string> LayeredText(const graph::Graph& graph,
                                  const graph::Image& image,
                                  const std::string& tag_prefix);

// The instruction that ends an image with `settings.user` ("NAME:UID")
// added to it, when one is set: QEMU's --add-current-user, which lets a
// container write files its user owns.  Both outputs above end the image
// with it, so it is part of the checksum.
std::optional<std::string> UserInstruction(
    const graph::ImageSettings& settings);

// The normal form of one instruction, as used in `canonical`.
std::string CanonicalText(const dockerfile::Instruction& instruction);

// Appends CanonicalText(instruction) to `out`.
void AppendCanonical(const dockerfile::Instruction& instruction,
                     std::string* out);

}  // namespace qdi::flatten
