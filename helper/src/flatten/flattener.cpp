#include "flatten/flattener.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "graph/image.hpp"

namespace qdi::flatten {

namespace {

// A file may end without a newline; an appended line must not join it.
void EndLine(std::string* text) {
  if (!text->empty() && text->back() != '\n') *text += "\n";
}

using dockerfile::Instruction;
using graph::Image;
using graph::Ref;

// Writes `value` as one double-quoted Dockerfile word.
std::string Quote(const std::string& value, char escape) {
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '$' || c == escape) quoted += escape;
    quoted += c;
  }
  return quoted + "\"";
}

// The directives of the chain, which must agree wherever they are set.
class DirectiveMerger {
 public:
  Status Add(const Image& image);
  std::string Text() const;

 private:
  struct Seen {
    std::string value;
    std::string where;
  };
  std::map<std::string, Seen> seen_;
  const Image* escape_image_ = nullptr;
};

Status DirectiveMerger::Add(const Image& image) {
  const auto& file = image.file;
  if (escape_image_ && escape_image_->file.escape != file.escape) {
    const auto* own = file.FindDirective("escape");
    return ErrorAt(image.path, own ? own->line : 1,
                   std::string("escape character '") + file.escape +
                       "' differs from '" + escape_image_->file.escape +
                       "' in " + escape_image_->path +
                       "; use one escape character in a whole chain");
  }
  escape_image_ = &image;
  for (const auto& directive : file.directives) {
    auto [it, added] =
        seen_.emplace(directive.name,
                      Seen{directive.value,
                           image.path + ":" + std::to_string(directive.line)});
    if (!added && it->second.value != directive.value) {
      return ErrorAt(image.path, directive.line,
                     "parser directive '" + directive.name + "=" +
                         directive.value + "' conflicts with '" +
                         it->second.value + "' at " + it->second.where +
                         "; give it one value in a whole chain");
    }
  }
  return Ok{};
}

std::string DirectiveMerger::Text() const {
  std::string text;
  for (const char* name : {"syntax", "escape", "check"}) {
    auto found = seen_.find(name);
    if (found != seen_.end()) {
      text += "# " + found->first + "=" + found->second.value + "\n";
    }
  }
  return text;
}

// Builds the output one stage at a time; each local image is emitted once,
// before the first stage that needs it.
class Emitter {
 public:
  Emitter(const graph::Graph& graph, const Image& top, char escape, Sink* sink)
      : graph_(graph), top_(top), escape_(escape), sink_(sink) {}

  Status EmitTop();

 private:
  Status EmitImage(const Image& image);
  std::vector<std::string> AliasesOf(const Image& image);
  std::set<size_t> IndexedStages(const Image& image) const;
  std::string Unique(std::string alias);
  Status EmitBases(const Image& image);
  Status EmitStage(const Image& image, size_t index,
                   const std::vector<std::string>& aliases);
  Expected<std::string> Target(const Image& image, size_t stage,
                               const std::string& text,
                               const std::vector<std::string>& aliases);
  Expected<std::optional<Instruction>> Rewrite(
      const Image& image, size_t stage, const Instruction& instruction,
      const std::vector<std::string>& aliases);
  Instruction RewriteFrom(const Image& image, size_t stage,
                          const std::vector<std::string>& aliases);
  bool RewriteArg(const Image& image, Instruction* arg) const;
  void FireTriggers(const graph::Stage& stage);
  void Write(const Instruction& instruction, bool verbatim);

  const graph::Graph& graph_;
  const Image& top_;
  char escape_;
  std::map<std::string, std::string> emitted_;  // image name -> alias
  std::string emitted_name_;  // the alias of the image being emitted
  std::set<std::string> used_aliases_;
  Sink* sink_;
  std::string canonical_;  // reused, so that Write allocates nothing
};

Status Emitter::EmitTop() {
  for (const auto& stage : top_.stages) used_aliases_.insert(stage.name);
  for (size_t i = 0; i < top_.first_from; ++i) {
    Write(top_.file.instructions[i], /*verbatim=*/true);
  }
  return EmitImage(top_);
}

std::string Emitter::Unique(std::string alias) {
  std::string candidate = alias;
  for (int n = 2; used_aliases_.count(candidate) > 0; ++n) {
    candidate = alias + "." + std::to_string(n);
  }
  used_aliases_.insert(candidate);
  return candidate;
}

// Stages of `image` that an instruction names by number.
std::set<size_t> Emitter::IndexedStages(const Image& image) const {
  std::set<size_t> indexed;
  for (const Instruction& instruction : image.file.instructions) {
    // Most instructions have no flags; this runs for every image of a
    // chain each time the chain is flattened.
    if (instruction.flags.empty()) continue;
    std::vector<std::string> values;
    if (auto from = graph::FlagValue(instruction.flags, "from")) {
      values.push_back(*from);
    }
    for (const std::string& flag : instruction.flags) {
      if (auto from = graph::MountFrom(flag)) values.push_back(*from);
    }
    for (const std::string& value : values) {
      if (!value.empty() &&
          std::all_of(value.begin(), value.end(), ::isdigit)) {
        indexed.insert(std::stoul(value));
      }
    }
  }
  return indexed;
}

// The top file keeps its stage names; inlined stages are renamed so that
// names from different files cannot collide.  An unnamed stage that is
// referred to by number gets a name, since numbers shift once files join.
std::vector<std::string> Emitter::AliasesOf(const Image& image) {
  std::vector<std::string> aliases;
  std::set<size_t> indexed = IndexedStages(image);
  bool top = &image == &top_;
  for (size_t i = 0; i < image.stages.size(); ++i) {
    const std::string& name = image.stages[i].name;
    if (top && !name.empty()) {
      aliases.push_back(name);
    } else if (top) {
      aliases.push_back(indexed.count(i) ? Unique("stage." + std::to_string(i))
                                         : "");
    } else if (i + 1 == image.stages.size()) {
      aliases.push_back(Unique("base." + image.name));
    } else {
      std::string own = name.empty() ? std::to_string(i) : name;
      aliases.push_back(Unique("base." + image.name + "." + own));
    }
  }
  return aliases;
}

Status Emitter::EmitImage(const Image& image) {
  if (Status status = EmitBases(image); !status) return status;
  std::vector<std::string> aliases = AliasesOf(image);
  if (&image != &top_ && sink_->KeepsText()) {
    sink_->AddTextOnly("# qemu-docker-images: " + image.name + " from " +
                       image.path + "\n");
  }
  emitted_name_ = aliases.back();
  for (size_t i = 0; i < image.stages.size(); ++i) {
    if (Status status = EmitStage(image, i, aliases); !status) return status;
  }
  if (std::optional<std::string> user =
          UserInstruction(graph_.SettingsOf(image))) {
    // Every instruction's source ends its line, so the user's line is one
    // of its own in both forms.
    std::string line = *user + "\n";
    sink_->Add(line, line);
  }
  emitted_[image.name] = aliases.back();
  return Ok{};
}

// Every local image that `image` names comes before its first stage; an
// image needed twice is emitted once and named twice.
Status Emitter::EmitBases(const Image& image) {
  for (const Image* base : image.base_images) {
    if (emitted_.count(base->name)) continue;
    if (Status status = EmitImage(*base); !status) return status;
  }
  return Ok{};
}

Status Emitter::EmitStage(const Image& image, size_t index,
                          const std::vector<std::string>& aliases) {
  const graph::Stage& stage = image.stages[index];
  bool final_inlined = &image != &top_ && index + 1 == image.stages.size();
  for (size_t i = stage.from; i < stage.end; ++i) {
    const Instruction& instruction = image.file.instructions[i];
    if (final_inlined && instruction.keyword == "onbuild") {
      if (!sink_->KeepsText()) continue;
      sink_->AddTextOnly("# qemu-docker-images: fired below each FROM " +
                         emitted_name_ + ": " + CanonicalText(instruction) +
                         "\n");
      continue;
    }
    Expected<std::optional<Instruction>> rewritten =
        Rewrite(image, index, instruction, aliases);
    if (!rewritten) return rewritten.error();
    if (*rewritten) {
      Write(**rewritten, /*verbatim=*/false);
    } else {
      Write(instruction, /*verbatim=*/true);
    }
    if (i == stage.from) FireTriggers(stage);
  }
  return Ok{};
}

// A local base's ONBUILD triggers are written out right after each FROM
// that stands on it, where Docker fires them in the layered build, and the
// base's stage does not register them: builders disagree on whether
// triggers fire for "FROM <stage>", and in which descendants.
void Emitter::FireTriggers(const graph::Stage& stage) {
  if (stage.base.kind != Ref::Kind::kLocal) return;
  const Image& base = *graph_.Find(stage.base.local);
  const graph::Stage& last = base.stages.back();
  for (size_t i = last.from + 1; i < last.end; ++i) {
    const Instruction& instruction = base.file.instructions[i];
    if (instruction.keyword == "onbuild") {
      Write(instruction.trigger.front(), /*verbatim=*/false);
    }
  }
}

// What a stage or image reference becomes in the output.
Expected<std::string> Emitter::Target(const Image& image, size_t stage,
                                      const std::string& text,
                                      const std::vector<std::string>& aliases) {
  Expected<Ref> ref =
      graph::ClassifyRef(text, image, stage, graph_.ReadOptionsOf(image),
                         /*numeric_allowed=*/true);
  if (!ref) return ref.error();
  if (ref->kind == Ref::Kind::kLocal) return emitted_.at(ref->local);
  if (ref->kind == Ref::Kind::kStage && !aliases[ref->stage].empty()) {
    return aliases[ref->stage];
  }
  return text;
}

Expected<std::optional<Instruction>> Emitter::Rewrite(
    const Image& image, size_t stage, const Instruction& instruction,
    const std::vector<std::string>& aliases) {
  bool inlined = &image != &top_;
  const graph::Stage& own = image.stages[stage];
  if (instruction.keyword == "from") {
    bool keep = !inlined && own.base.kind != Ref::Kind::kLocal &&
                aliases[stage] == own.name;
    if (keep) return std::optional<Instruction>();
    return std::optional<Instruction>(RewriteFrom(image, stage, aliases));
  }
  bool arg = inlined && instruction.keyword == "arg";
  // Only an inlined ARG and the flags that name stages can change; most
  // instructions have neither and are not copied.
  if (!arg && instruction.flags.empty()) return std::optional<Instruction>();
  Instruction copy = instruction;
  bool changed = arg && RewriteArg(image, &copy);
  for (std::string& flag : copy.flags) {
    std::string value;
    if (auto from = graph::FlagValue({flag}, "from")) {
      value = *from;
    } else if (auto mount = graph::MountFrom(flag)) {
      value = *mount;
    } else {
      continue;
    }
    Expected<std::string> target = Target(image, stage, value, aliases);
    if (!target)
      return ErrorAt(image.path, instruction.line, target.error().message);
    if (*target == value) continue;
    size_t at = flag.find("from=" + value);
    flag.replace(at + 5, value.size(), *target);
    changed = true;
  }
  if (!changed) return std::optional<Instruction>();
  return std::optional<Instruction>(std::move(copy));
}

Instruction Emitter::RewriteFrom(const Image& image, size_t stage,
                                 const std::vector<std::string>& aliases) {
  const graph::Stage& own = image.stages[stage];
  Instruction from = image.file.instructions[own.from];
  std::string base = own.base.image;
  if (own.base.kind == Ref::Kind::kLocal) {
    base = emitted_.at(own.base.local);
  } else if (own.base.kind == Ref::Kind::kStage) {
    base = aliases[own.base.stage];
  }
  const std::string& alias = aliases[stage];
  from.args = base + (alias.empty() ? "" : " AS " + alias);
  return from;
}

// In an inlined file, "ARG NAME" inside a stage took its value from the
// file's global ARG, which the output no longer has; write it out.
bool Emitter::RewriteArg(const Image& image, Instruction* arg) const {
  bool changed = false;
  std::string args;
  for (auto& [name, raw] : graph::ArgDecls(*arg, image.file.escape)) {
    auto global = image.global_values.find(name);
    std::string decl = name + (raw ? "=" + *raw : "");
    if (!raw && global != image.global_values.end()) {
      decl = name + "=" + Quote(global->second, escape_);
      changed = true;
    } else if (!raw && top_.global_values.count(name) > 0) {
      // The top file's global ARGs head the output; the layered build of
      // this file never saw that default, so it must not leak in.
      decl = name + "=\"\"";
      changed = true;
    }
    args += (args.empty() ? "" : " ") + decl;
  }
  if (changed) arg->args = args;
  return changed;
}

void Emitter::Write(const Instruction& instruction, bool verbatim) {
  canonical_.clear();
  AppendCanonical(instruction, &canonical_);
  canonical_ += '\n';
  sink_->Add(canonical_, verbatim ? instruction.source : canonical_);
}

// Collects both forms as strings.
class StringSink : public Sink {
 public:
  void Add(std::string_view canonical, std::string_view text) override {
    out_.canonical += canonical;
    out_.text += text;
  }
  void AddTextOnly(std::string_view text) override { out_.text += text; }
  Flattened Result() { return std::move(out_); }

 private:
  Flattened out_;
};

}  // namespace

std::optional<std::string> UserInstruction(
    const graph::ImageSettings& settings) {
  if (!settings.user) return std::nullopt;
  size_t colon = settings.user->find(':');
  std::string name = settings.user->substr(0, colon);
  std::string uid = settings.user->substr(colon + 1);
  // QEMU's line; images without useradd (busybox, scratch-built ones)
  // get the user written into /etc/passwd and /etc/group.
  return "RUN id " + name + " >/dev/null 2>&1 || useradd -u " + uid + " -U " +
         name + " || { echo " + name + ":x:" + uid + ":" + uid + "::/home/" +
         name + ":/bin/sh >> /etc/passwd && echo " + name + ":x:" + uid +
         ": >> /etc/group; }";
}

void AppendCanonical(const Instruction& instruction, std::string* out) {
  size_t start = out->size();
  out->append(instruction.keyword);
  for (size_t i = start; i < out->size(); ++i) {
    (*out)[i] = static_cast<char>(std::toupper((*out)[i]));
  }
  for (const std::string& flag : instruction.flags) {
    *out += ' ';
    *out += flag;
  }
  if (!instruction.args.empty()) {
    *out += ' ';
    *out += instruction.args;
  }
  const auto& heredocs = instruction.trigger.empty()
                             ? instruction.heredocs
                             : instruction.trigger.front().heredocs;
  for (const auto& heredoc : heredocs) {
    *out += '\n';
    *out += heredoc.body;
    *out += heredoc.name;
  }
}

std::string CanonicalText(const Instruction& instruction) {
  std::string text;
  AppendCanonical(instruction, &text);
  return text;
}

Status FlattenInto(const graph::Graph& graph, const Image& top, Sink* sink) {
  DirectiveMerger directives;
  for (const Image* image : graph.Chain(top)) {
    if (Status status = directives.Add(*image); !status) return status;
  }
  std::string head = directives.Text();
  if (!head.empty()) sink->Add(head, head);
  Emitter emitter(graph, top, top.file.escape, sink);
  return emitter.EmitTop();
}

Expected<Flattened> Flatten(const graph::Graph& graph, const Image& top) {
  StringSink sink;
  if (Status status = FlattenInto(graph, top, &sink); !status) {
    return status.error();
  }
  return sink.Result();
}

namespace {

// Rewrites the local references of one instruction of stage `stage` to
// engine tags; false when there is none.
Expected<bool> TagLocalRefs(const graph::Graph& graph, const Image& image,
                            size_t stage, const std::string& tag_prefix,
                            Instruction* instruction) {
  bool changed = false;
  const graph::ReadOptions& options = graph.ReadOptionsOf(image);
  if (instruction->keyword == "from") {
    const graph::Stage& own = image.stages[stage];
    if (own.base.kind != Ref::Kind::kLocal) return false;
    instruction->args = tag_prefix + own.base.local +
                        (own.name.empty() ? "" : " AS " + own.name);
    return true;
  }
  for (std::string& flag : instruction->flags) {
    auto value = graph::FlagValue({flag}, "from");
    if (!value) value = graph::MountFrom(flag);
    if (!value) continue;
    Expected<Ref> ref = graph::ClassifyRef(*value, image, stage, options, true);
    if (!ref)
      return ErrorAt(image.path, instruction->line, ref.error().message);
    if (ref->kind != Ref::Kind::kLocal) continue;
    size_t at = flag.find("from=" + *value);
    flag.replace(at + 5, value->size(), tag_prefix + ref->local);
    changed = true;
  }
  return changed;
}

}  // namespace

Expected<std::string> LayeredText(const graph::Graph& graph, const Image& image,
                                  const std::string& tag_prefix) {
  std::string text;
  for (const auto& directive : image.file.directives) {
    text += "# " + directive.name + "=" + directive.value + "\n";
  }
  size_t stage = 0;
  const auto& instructions = image.file.instructions;
  for (size_t i = 0; i < instructions.size(); ++i) {
    while (stage + 1 < image.stages.size() &&
           image.stages[stage + 1].from <= i) {
      ++stage;
    }
    Instruction copy = instructions[i];
    Expected<bool> changed =
        i < image.first_from
            ? Expected<bool>(false)
            : TagLocalRefs(graph, image, stage, tag_prefix, &copy);
    if (!changed) return changed.error();
    if (*changed) {
      text += CanonicalText(copy) + "\n";
    } else {
      text += copy.source;
    }
  }
  if (std::optional<std::string> user =
          UserInstruction(graph.SettingsOf(image))) {
    EndLine(&text);
    text += *user + "\n";
  }
  return text;
}

}  // namespace qdi::flatten
