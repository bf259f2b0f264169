#include "core/evaluate.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_set>

#include <sys/stat.h>

#include "core/pre_script.hpp"
#include "hash/hasher.hpp"
#include "util/files.hpp"
#include "util/parallel.hpp"

namespace qdi::core {

namespace fs = std::filesystem;
using context::ContextFile;
using hash::Tag;

namespace {

// Version 2 hashes the canonical text as one field per instruction, so
// that it can be hashed as it is produced; version 1 hashed it whole.
constexpr std::string_view kFormat = "qemu-docker-images checksum 2";

// Hashes each canonical piece as one text field as the flattener produces
// it, and keeps the buildable text only when asked to.
class HashingSink : public flatten::Sink {
 public:
  HashingSink(hash::Hasher* hasher, flatten::Flattened* keep)
      : hasher_(hasher), keep_(keep) {}

  void Add(std::string_view canonical, std::string_view text) override {
    hasher_->Add(Tag::kText, canonical);
    if (keep_ != nullptr) {
      keep_->canonical += canonical;
      keep_->text += text;
    }
  }
  void AddTextOnly(std::string_view text) override {
    if (keep_ != nullptr) keep_->text += text;
  }
  bool KeepsText() const override { return keep_ != nullptr; }

 private:
  hash::Hasher* hasher_;
  flatten::Flattened* keep_;
};

// Files up to this size are read once and kept for every image whose
// chain copies them, up to a total per image, so that a `COPY .` of a big
// context folder is not held in memory; the rest are read as they are
// hashed.
constexpr uint64_t kKeptFileBytes = 64 * 1024;
constexpr uint64_t kKeptBytesPerImage = 1024 * 1024;

// Finds what HashFile hashes of one context file: a symlink's target or a
// file's permission bits and bytes, which is what COPY puts in the image.
// The bytes are read now when they fit in `*budget`, which they use up.
Expected<FileFields> ReadFileFields(const graph::Image& image,
                                    const ContextFile& file, uint64_t* budget) {
  struct stat info {};
  int result = file.follow ? stat(file.path.c_str(), &info)
                           : lstat(file.path.c_str(), &info);
  if (result != 0 && errno == ENOENT && lstat(file.path.c_str(), &info) == 0) {
    // Docker follows a symlink named as a COPY source, so one that points
    // nowhere fails the build; "No such file" alone would puzzle the user.
    std::error_code error;
    return ErrorAt(image.path, file.line,
                   "copied file " + file.path + " is a symlink to '" +
                       fs::read_symlink(file.path, error).string() +
                       "', which does not exist; fix or remove the symlink");
  }
  if (result != 0) {
    return ErrorAt(image.path, file.line,
                   "copied file " + file.path +
                       " cannot be read: " + std::strerror(errno) +
                       "; check that it exists and is readable");
  }
  FileFields fields;
  if (S_ISLNK(info.st_mode)) {
    std::error_code error;
    fields.symlink = fs::read_symlink(file.path, error).string();
    return fields;
  }
  fields.mode = std::to_string(info.st_mode & 07777);
  fields.size = static_cast<uint64_t>(info.st_size);
  if (fields.size <= kKeptFileBytes && fields.size <= *budget) {
    Expected<std::string> bytes = hash::ReadFileData(file.path, fields.size);
    if (!bytes) return ErrorAt(image.path, file.line, bytes.error().message);
    fields.bytes = std::move(bytes.value());
    *budget -= fields.size;
  }
  return fields;
}

// Hashes one context file: its name, then its fields.
Status AddFile(const graph::Image& image, const ContextFile& file,
               const FileFields& fields, hash::Hasher* hasher) {
  hasher->Add(Tag::kFileName, file.name);
  if (fields.symlink) {
    hasher->Add(Tag::kSymlink, *fields.symlink);
    return Ok{};
  }
  hasher->Add(Tag::kFileMode, fields.mode);
  if (fields.bytes) {
    hasher->AddFileBytes(file.path, *fields.bytes);
    return Ok{};
  }
  Status data = hasher->AddFileData(file.path, fields.size);
  if (!data) return ErrorAt(image.path, file.line, data.error().message);
  return Ok{};
}

Status HashFile(const graph::Image& image, const ContextFile& file,
                hash::Hasher* hasher) {
  uint64_t budget = 0;  // hashed once: nothing is worth keeping
  Expected<FileFields> fields = ReadFileFields(image, file, &budget);
  if (!fields) return fields.error();
  return AddFile(image, file, *fields, hasher);
}

// Only build arguments that a Dockerfile declares with ARG can change its
// image, so only those are hashed; proxy variables and unused values are not.
void HashBuildArgs(const graph::Graph& graph, const graph::Image& image,
                   hash::Hasher* hasher) {
  const graph::ReadOptions& options = graph.ReadOptionsOf(image);
  std::vector<std::string> names = image.arg_names;
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    auto given = options.build_args.find(name);
    if (given == options.build_args.end()) continue;
    hasher->Add(Tag::kArgName, name);
    hasher->Add(Tag::kArgValue, given->second);
  }
}

// A NAME.pre script prepares the context, so its bytes and mode are part
// of what the image is made of; hashed as a file named after the script.
Status HashPreScript(const graph::Image& image, const std::string& script,
                     hash::Hasher* hasher) {
  hasher->Add(Tag::kPreScript, fs::path(script).filename().string());
  return HashFile(image, {"", script, true, 0}, hasher);
}

// A name taken from two contexts must be the same file, or the flattened
// file's single context could not serve both.
Status MergeContext(const graph::Image& image,
                    const std::vector<ContextFile>& files,
                    std::map<std::string, ContextFile>* merged) {
  for (const ContextFile& file : files) {
    auto [it, added] = merged->emplace(file.name, file);
    if (added || it->second.path == file.path) continue;
    Expected<std::string> ours = util::ReadFile(file.path);
    Expected<std::string> theirs = util::ReadFile(it->second.path);
    if (ours && theirs && *ours == *theirs) continue;
    return ErrorAt(image.path, 0,
                   "context file '" + file.name + "' is " + file.path +
                       " here but " + it->second.path +
                       " for another image of the chain; the flattened "
                       "file has one context, so rename one of them");
  }
  return Ok{};
}

// With pinned external bases, the identity of each one that the chain
// stands on is part of what the image is made of.  It is read from a file
// that `identify` writes, so that checking a checksum asks no engine; the
// file is an input of the first image of the chain that stands on it.
// TODO: the build still names the base by its tag, so a base pulled anew
// between `identify` and the build is built on under the old identity;
// writing the pinned image ID into the FROM line would close that gap.
Status HashExternalBases(const graph::Graph& graph,
                         const std::vector<const graph::Image*>& chain,
                         hash::Hasher* hasher, Evaluation* kept) {
  const auto& files = graph.settings().base_identities;
  std::set<std::string> seen;
  for (const graph::Image* image : chain) {
    for (const graph::Stage& stage : image->stages) {
      if (stage.base.kind != graph::Ref::Kind::kExternal) continue;
      auto file = files.find(stage.base.image);
      if (file == files.end() || !seen.insert(file->first).second) continue;
      Expected<std::string> identity = util::ReadFile(file->second);
      if (!identity) {
        return ErrorAt(image->path, image->file.instructions[stage.from].line,
                       "the identity of external base '" + file->first +
                           "' is unknown (" + identity.error().message +
                           "); build the target docker-images-check-bases");
      }
      hasher->Add(Tag::kBaseName, file->first);
      hasher->Add(Tag::kBaseIdentity,
                  identity->substr(0, identity->find('\n')));
      if (kept != nullptr) {
        kept->own_inputs[image->name].push_back(file->second);
        kept->inputs.push_back(file->second);
      }
    }
  }
  return Ok{};
}

}  // namespace

Evaluator::Evaluator(const graph::Graph& graph, std::ostream* trace,
                     bool keep_text)
    : graph_(graph), trace_(trace), keep_text_(keep_text) {}

Expected<const Evaluator::OwnInputs*> Evaluator::InputsOf(
    const graph::Image& image) {
  auto found = inputs_.find(&image);
  if (found == inputs_.end()) {
    found = inputs_.emplace(&image, FindInputs(image)).first;
  }
  if (!found->second) return found->second.error();
  return &*found->second;
}

Expected<Evaluator::OwnInputs> Evaluator::FindInputs(
    const graph::Image& image) const {
  OwnInputs inputs;
  Expected<context::Context> context = context::ContextOf(graph_, image);
  if (!context) return ErrorAt(image.path, 0, context.error().message);
  // A file added to a folder that a COPY takes whole, or in which a COPY's
  // wildcard looks, changes what the image copies; a build tool notices
  // by the folder's timestamp.  NAME.docker.d is watched even beside a
  // real context folder, as it is whenever it exists.
  if (!context->root()) {
    inputs.folders = context->staged_folders();
  } else if (graph_.listings().KindOf(image.path + ".d") ==
             util::FileKind::kDirectory) {
    inputs.folders.push_back(image.path + ".d");
  }
  auto files = context::CopiedFiles(graph_, image, *context, &inputs.folders);
  if (!files) return files.error();
  inputs.files = std::move(files.value());
  std::sort(inputs.folders.begin(), inputs.folders.end());
  inputs.folders.erase(
      std::unique(inputs.folders.begin(), inputs.folders.end()),
      inputs.folders.end());
  uint64_t budget = kKeptBytesPerImage;
  for (const ContextFile& file : inputs.files) {
    inputs.fields.push_back(ReadFileFields(image, file, &budget));
  }
  inputs.pre_script = PreScriptOf(graph_, image);
  return inputs;
}

// Finds the inputs of every image that `tops` stand on, on `threads`
// threads, so that evaluations running side by side afterwards only read
// shared state.  (The graph linked each loaded image to its settings.)
void Evaluator::FindAllInputs(const std::vector<const graph::Image*>& tops,
                              size_t threads) {
  // Every image that some top stands on, once; walking the bases beats
  // building each top's chain, which ran on one core.
  std::vector<const graph::Image*> images;
  std::unordered_set<const graph::Image*> seen;
  std::vector<const graph::Image*> pending(tops.begin(), tops.end());
  while (!pending.empty()) {
    const graph::Image* image = pending.back();
    pending.pop_back();
    if (!seen.insert(image).second || inputs_.count(image)) continue;
    images.push_back(image);
    pending.insert(pending.end(), image->base_images.begin(),
                   image->base_images.end());
  }
  std::vector<std::optional<Expected<OwnInputs>>> found(images.size());
  util::ParallelFor(images.size(), threads,
                    [&](size_t i) { found[i] = FindInputs(*images[i]); });
  for (size_t i = 0; i < images.size(); ++i) {
    inputs_.emplace(images[i], std::move(*found[i]));
  }
}

std::vector<Expected<std::string>> Evaluator::Checksums(
    const std::vector<const graph::Image*>& tops) {
  // A trace lists the fields of one image after another.
  size_t threads = trace_ != nullptr ? 1 : util::ThreadsFor(tops.size());
  if (threads > 1) FindAllInputs(tops, threads);
  std::vector<Expected<std::string>> checksums(tops.size(), Error{});
  util::ParallelFor(tops.size(), threads, [&](size_t i) {
    checksums[i] = Hash(*tops[i], /*kept=*/nullptr);
  });
  return checksums;
}

Expected<Evaluation> Evaluator::Evaluate(const graph::Image& top) {
  Evaluation result;
  Expected<std::string> checksum = Hash(top, &result);
  if (!checksum) return checksum.error();
  result.checksum = std::move(checksum.value());
  return result;
}

void Evaluator::KeepInputs(const graph::Image& image, const OwnInputs& inputs,
                           Evaluation* kept) {
  std::vector<std::string>& own = kept->own_inputs[image.name];
  own.push_back(image.path);
  if (inputs.pre_script) own.push_back(*inputs.pre_script);
  own.insert(own.end(), inputs.folders.begin(), inputs.folders.end());
  for (const ContextFile& file : inputs.files) own.push_back(file.path);
  kept->inputs.insert(kept->inputs.end(), own.begin(), own.end());
}

Expected<std::string> Evaluator::Hash(const graph::Image& top,
                                      Evaluation* kept) {
  hash::Hasher hasher;
  hasher.SetTrace(trace_);
  hasher.Add(Tag::kFormat, kFormat);
  HashingSink sink(&hasher,
                   keep_text_ && kept != nullptr ? &kept->flattened : nullptr);
  if (Status status = flatten::FlattenInto(graph_, top, &sink); !status) {
    return status.error();
  }

  std::map<std::string, ContextFile> merged;
  std::vector<const graph::Image*> chain = graph_.Chain(top);
  for (const graph::Image* image : chain) {
    hasher.Add(Tag::kImage, image->name);
    HashBuildArgs(graph_, *image, &hasher);
    Expected<const OwnInputs*> found = InputsOf(*image);
    if (!found) return found.error();
    const OwnInputs& inputs = **found;
    if (inputs.pre_script) {
      Status status = HashPreScript(*image, *inputs.pre_script, &hasher);
      if (!status) return status.error();
    }
    for (size_t i = 0; i < inputs.files.size(); ++i) {
      const Expected<FileFields>& fields = inputs.fields[i];
      if (!fields) return fields.error();
      Status status = AddFile(*image, inputs.files[i], *fields, &hasher);
      if (!status) return status.error();
    }
    if (Status status = MergeContext(*image, inputs.files, &merged); !status) {
      return status.error();
    }
    if (kept != nullptr) {
      KeepInputs(*image, inputs, kept);
    }
  }
  Status pinned = HashExternalBases(graph_, chain, &hasher, kept);
  if (!pinned) return pinned.error();
  if (kept != nullptr) {
    for (auto& [name, file] : merged) kept->context_files.push_back(file);
  }
  return hasher.HexDigest();
}

Expected<Evaluation> Evaluate(const graph::Graph& graph,
                              const graph::Image& top, std::ostream* trace) {
  return Evaluator(graph, trace, /*keep_text=*/true).Evaluate(top);
}

namespace {

void AddInputsAbove(const graph::Graph& graph, const graph::Image& image,
                    const Evaluation& evaluation,
                    const std::map<std::string, std::string>& stamps,
                    std::set<std::string>* seen,
                    std::vector<std::string>* out) {
  if (!seen->insert(image.name).second) return;
  for (const std::string& base : image.local_bases) {
    auto stamp = stamps.find(base);
    if (stamp != stamps.end()) {
      if (seen->insert(base).second) out->push_back(stamp->second);
    } else {
      AddInputsAbove(graph, *graph.Find(base), evaluation, stamps, seen, out);
    }
  }
  const std::vector<std::string>& own = evaluation.own_inputs.at(image.name);
  out->insert(out->end(), own.begin(), own.end());
}

}  // namespace

std::vector<std::string> InputsAbove(
    const graph::Graph& graph, const graph::Image& top,
    const Evaluation& evaluation,
    const std::map<std::string, std::string>& stamps) {
  std::set<std::string> seen;
  std::vector<std::string> inputs;
  AddInputsAbove(graph, top, evaluation, stamps, &seen, &inputs);
  return inputs;
}

Status WriteContext(const std::vector<ContextFile>& files,
                    const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  for (const ContextFile& file : files) {
    fs::path target = fs::path(dir) / file.name;
    if (!error) fs::create_directories(target.parent_path(), error);
    if (error) break;
    auto options = fs::copy_options::overwrite_existing;
    if (!file.follow) options |= fs::copy_options::copy_symlinks;
    fs::copy(file.path, target, options, error);
    if (error) break;
  }
  if (error) {
    return Error{"cannot write the context folder '" + dir +
                 "': " + error.message() + "; check the folder"};
  }
  return Ok{};
}

}  // namespace qdi::core
