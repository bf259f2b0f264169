#include "core/evaluate.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include <sys/stat.h>

#include "core/pre_script.hpp"
#include "hash/hasher.hpp"
#include "util/files.hpp"

namespace qdi::core {

namespace fs = std::filesystem;
using context::ContextFile;
using hash::Tag;

namespace {

constexpr std::string_view kFormat = "qemu-docker-images checksum 1";

// Hashes one context file: its name, then a symlink's target or a file's
// permission bits and bytes, which is what COPY puts in the image.
Status HashFile(const graph::Image& image, const ContextFile& file,
                hash::Hasher* hasher) {
  hasher->Add(Tag::kFileName, file.name);
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
  if (S_ISLNK(info.st_mode)) {
    std::error_code error;
    hasher->Add(Tag::kSymlink, fs::read_symlink(file.path, error).string());
    return Ok{};
  }
  hasher->Add(Tag::kFileMode, std::to_string(info.st_mode & 07777));
  Status data =
      hasher->AddFileData(file.path, static_cast<uint64_t>(info.st_size));
  if (!data) return ErrorAt(image.path, file.line, data.error().message);
  return Ok{};
}

// Only build arguments that a Dockerfile declares with ARG can change its
// image, so only those are hashed; proxy variables and unused values are not.
void HashBuildArgs(const graph::Graph& graph, const graph::Image& image,
                   hash::Hasher* hasher) {
  graph::ReadOptions options = graph.ReadOptionsOf(image.name);
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
// that `identify` writes, so that checking a checksum asks no engine.
// TODO: the build still names the base by its tag, so a base pulled anew
// between `identify` and the build is built on under the old identity;
// writing the pinned image ID into the FROM line would close that gap.
Status HashExternalBases(const graph::Graph& graph,
                         const std::vector<const graph::Image*>& chain,
                         hash::Hasher* hasher,
                         std::vector<std::string>* inputs) {
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
      inputs->push_back(file->second);
    }
  }
  return Ok{};
}

}  // namespace

Expected<Evaluation> Evaluate(const graph::Graph& graph,
                              const graph::Image& top, std::ostream* trace) {
  Evaluation result;
  Expected<flatten::Flattened> flattened = flatten::Flatten(graph, top);
  if (!flattened) return flattened.error();
  result.flattened = std::move(flattened.value());

  hash::Hasher hasher;
  hasher.SetTrace(trace);
  hasher.Add(Tag::kFormat, kFormat);
  hasher.Add(Tag::kText, result.flattened.canonical);
  std::map<std::string, ContextFile> merged;
  std::vector<const graph::Image*> chain = graph.Chain(top);
  for (const graph::Image* image : chain) {
    result.inputs.push_back(image->path);
    hasher.Add(Tag::kImage, image->name);
    HashBuildArgs(graph, *image, &hasher);
    if (std::optional<std::string> pre = PreScriptOf(*image)) {
      if (Status status = HashPreScript(*image, *pre, &hasher); !status) {
        return status.error();
      }
      result.inputs.push_back(*pre);
    }
    // A file added to a NAME.docker.d folder can change what "COPY ." takes;
    // the folder's own timestamp tells a build tool that one was.
    // TODO: a real --context folder is not listed the same way, so a file
    // added deep inside it is only noticed once another input changes.
    std::error_code error;
    if (fs::is_directory(image->path + ".d", error)) {
      result.inputs.push_back(image->path + ".d");
    }
    Expected<context::Context> context = context::ContextOf(graph, *image);
    if (!context) return ErrorAt(image->path, 0, context.error().message);
    auto files = context::CopiedFiles(graph, *image, *context);
    if (!files) return files.error();
    for (const ContextFile& file : *files) {
      if (Status status = HashFile(*image, file, &hasher); !status) {
        return status.error();
      }
      result.inputs.push_back(file.path);
    }
    if (Status status = MergeContext(*image, *files, &merged); !status) {
      return status.error();
    }
  }
  Status pinned = HashExternalBases(graph, chain, &hasher, &result.inputs);
  if (!pinned) return pinned.error();
  for (auto& [name, file] : merged) result.context_files.push_back(file);
  result.checksum = hasher.HexDigest();
  return result;
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
