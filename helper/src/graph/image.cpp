#include "graph/image.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <re2/re2.h>

#include "dockerfile/parser.hpp"
#include "graph/reference.hpp"

namespace qdi::graph {

namespace {

using dockerfile::Instruction;

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(c));
  return text;
}

bool IsNumber(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
}

void AddUnique(std::vector<std::string>* list, const std::string& item) {
  if (std::find(list->begin(), list->end(), item) == list->end()) {
    list->push_back(item);
  }
}

void AddLocalBase(Image* image, const std::string& name, int line) {
  AddUnique(&image->local_bases, name);
  image->local_base_lines.emplace(name, line);
}

// Applies the global ARGs in order: each default may use the ones before
// it, and a --build-arg of a declared name replaces its default.
Status ApplyGlobalArgs(Image* image, const ReadOptions& options) {
  for (size_t i = 0; i < image->first_from; ++i) {
    const Instruction& arg = image->file.instructions[i];
    for (auto& [name, raw] : ArgDecls(arg, image->file.escape)) {
      auto given = options.build_args.find(name);
      if (given != options.build_args.end()) {
        image->global_values[name] = given->second;
        continue;
      }
      if (!raw) continue;
      Expected<std::string> value = dockerfile::ExpandWord(
          *raw, image->file.escape, image->global_values);
      if (!value) {
        return ErrorAt(image->path, arg.line, value.error().message);
      }
      image->global_values[name] = *value;
    }
  }
  return Ok{};
}

Status CheckGlobalPart(const Image& image) {
  for (size_t i = 0; i < image.first_from; ++i) {
    const Instruction& instruction = image.file.instructions[i];
    if (instruction.keyword != "arg") {
      return ErrorAt(image.path, instruction.line,
                     "'" + instruction.keyword +
                         "' comes before the first FROM; only ARG may "
                         "come first, so move it after a FROM");
    }
  }
  if (image.first_from == image.file.instructions.size()) {
    return ErrorAt(image.path, 0,
                   "has no FROM instruction; a Dockerfile must start a "
                   "stage with FROM");
  }
  return Ok{};
}

Expected<Stage> ReadFromLine(const Image& image, size_t index,
                             const ReadOptions& options) {
  const Instruction& from = image.file.instructions[index];
  std::vector<std::string_view> words =
      dockerfile::RawWords(from.args, image.file.escape);
  bool has_alias = words.size() == 3 && Lower(std::string(words[1])) == "as";
  if (words.size() != 1 && !has_alias) {
    return ErrorAt(image.path, from.line,
                   "FROM takes an image and an optional 'AS name', not '" +
                       from.args + "'");
  }
  Stage stage;
  stage.from = index;
  if (has_alias) {
    static const RE2 kStageName(R"([a-z][a-z0-9-_\.]*)");
    stage.name = Lower(std::string(words[2]));
    if (!RE2::FullMatch(stage.name, kStageName)) {
      return ErrorAt(image.path, from.line,
                     "'" + std::string(words[2]) +
                         "' is not a valid stage name; start it with a "
                         "letter and use letters, digits, '-', '_', '.'");
    }
  }
  Expected<std::string> text =
      dockerfile::ExpandWord(words[0], image.file.escape, image.global_values);
  if (!text) return ErrorAt(image.path, from.line, text.error().message);
  Expected<Ref> base = ClassifyRef(*text, image, image.stages.size(), options,
                                   /*numeric_allowed=*/false);
  if (!base) return ErrorAt(image.path, from.line, base.error().message);
  stage.base = *base;
  return stage;
}

Status CheckUniqueName(const Image& image, const Stage& stage) {
  if (stage.name.empty()) return Ok{};
  for (const Stage& earlier : image.stages) {
    if (earlier.name == stage.name) {
      return ErrorAt(image.path, image.file.instructions[stage.from].line,
                     "stage name '" + stage.name +
                         "' is used twice; give each stage its own name");
    }
  }
  return Ok{};
}

Status ReadStages(Image* image, const ReadOptions& options) {
  const auto& instructions = image->file.instructions;
  for (size_t i = image->first_from; i < instructions.size(); ++i) {
    if (instructions[i].keyword != "from") continue;
    if (!image->stages.empty()) image->stages.back().end = i;
    Expected<Stage> stage = ReadFromLine(*image, i, options);
    if (!stage) return stage.error();
    if (Status unique = CheckUniqueName(*image, *stage); !unique) {
      return unique;
    }
    if (stage->base.kind == Ref::Kind::kLocal) {
      AddLocalBase(image, stage->base.local, instructions[i].line);
    }
    image->stages.push_back(std::move(stage.value()));
  }
  image->stages.back().end = instructions.size();
  return Ok{};
}

// The other places that can name a stage or an image: COPY/ADD --from= and
// RUN --mount=...,from=...; local images named there are bases too.
Status ReadCopyAndMountRefs(Image* image, const ReadOptions& options) {
  for (size_t s = 0; s < image->stages.size(); ++s) {
    const Stage& stage = image->stages[s];
    for (size_t i = stage.from + 1; i < stage.end; ++i) {
      const Instruction& instruction = image->file.instructions[i];
      std::vector<std::string> values;
      if (auto from = FlagValue(instruction.flags, "from")) {
        values.push_back(*from);
      }
      for (const std::string& flag : instruction.flags) {
        if (auto from = MountFrom(flag)) values.push_back(*from);
      }
      for (const std::string& value : values) {
        Expected<Ref> ref = ClassifyRef(value, *image, s, options, true);
        if (!ref)
          return ErrorAt(image->path, instruction.line, ref.error().message);
        if (ref->kind == Ref::Kind::kLocal) {
          AddLocalBase(image, ref->local, instruction.line);
        }
      }
    }
  }
  return Ok{};
}

void CollectArgNames(Image* image) {
  for (const Instruction& instruction : image->file.instructions) {
    if (instruction.keyword != "arg") continue;
    for (auto& [name, raw] : ArgDecls(instruction, image->file.escape)) {
      AddUnique(&image->arg_names, name);
    }
  }
}

}  // namespace

std::optional<std::string> FlagValue(const std::vector<std::string>& flags,
                                     const std::string& name) {
  std::string prefix = "--" + name + "=";
  for (const std::string& flag : flags) {
    if (flag.compare(0, prefix.size(), prefix) == 0) {
      return flag.substr(prefix.size());
    }
  }
  return std::nullopt;
}

std::optional<std::string> MountFrom(const std::string& flag) {
  const std::string prefix = "--mount=";
  if (flag.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string_view fields(flag);
  fields.remove_prefix(prefix.size());
  while (!fields.empty()) {
    size_t comma = fields.find(',');
    std::string_view field = fields.substr(0, comma);
    if (field.substr(0, 5) == "from=") return std::string(field.substr(5));
    if (comma == std::string_view::npos) break;
    fields.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::optional<std::string>>> ArgDecls(
    const Instruction& arg, char escape) {
  std::vector<std::pair<std::string, std::optional<std::string>>> decls;
  for (std::string_view word : dockerfile::RawWords(arg.args, escape)) {
    size_t equals = word.find('=');
    if (equals == std::string_view::npos) {
      decls.emplace_back(std::string(word), std::nullopt);
    } else {
      decls.emplace_back(std::string(word.substr(0, equals)),
                         std::string(word.substr(equals + 1)));
    }
  }
  return decls;
}

Expected<Ref> ClassifyRef(const std::string& text, const Image& image,
                          size_t current, const ReadOptions& options,
                          bool numeric_allowed) {
  Ref ref;
  ref.image = text;
  std::string lower = Lower(text);
  for (size_t s = 0; s < current && s < image.stages.size(); ++s) {
    if (!image.stages[s].name.empty() && image.stages[s].name == lower) {
      ref.kind = Ref::Kind::kStage;
      ref.stage = s;
      return ref;
    }
  }
  if (numeric_allowed && IsNumber(text)) {
    // from_chars, unlike stoul, reports a number too large instead of
    // throwing.
    size_t index = 0;
    auto parsed =
        std::from_chars(text.data(), text.data() + text.size(), index);
    if (parsed.ec != std::errc() || index >= current) {
      return Error{"stage index " + text +
                   " does not name an earlier stage; use a smaller index"};
    }
    ref.kind = Ref::Kind::kStage;
    ref.stage = index;
    return ref;
  }
  if (text == "scratch") {
    ref.kind = Ref::Kind::kScratch;
    return ref;
  }
  if (auto local = LocalImageName(text, options.prefixes)) {
    if (!*local) {
      return Error{"'" + text +
                   "' cannot name a local image: " + local->error().message +
                   "; name a Dockerfile of the search folders"};
    }
    ref.kind = Ref::Kind::kLocal;
    ref.local = local->value();
    return ref;
  }
  if (!IsValidReference(text)) {
    return Error{"'" + text +
                 "' is not a valid image reference; check its spelling "
                 "and the ARGs it uses"};
  }
  return ref;
}

Expected<Image> AnalyzeImage(dockerfile::Dockerfile file, std::string name,
                             const ReadOptions& options) {
  Image image;
  image.name = std::move(name);
  image.path = file.path;
  image.file = std::move(file);
  const auto& instructions = image.file.instructions;
  while (image.first_from < instructions.size() &&
         instructions[image.first_from].keyword != "from") {
    ++image.first_from;
  }
  if (Status status = CheckGlobalPart(image); !status) return status.error();
  if (Status status = ApplyGlobalArgs(&image, options); !status) {
    return status.error();
  }
  if (Status status = ReadStages(&image, options); !status) {
    return status.error();
  }
  if (Status status = ReadCopyAndMountRefs(&image, options); !status) {
    return status.error();
  }
  CollectArgNames(&image);
  return image;
}

}  // namespace qdi::graph
