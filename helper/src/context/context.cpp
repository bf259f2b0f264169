#include "context/context.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <fnmatch.h>
#include <glob.h>

#include "context/executable.hpp"
#include "dockerfile/parser.hpp"
#include "dockerfile/shell_words.hpp"

namespace qdi::context {

namespace fs = std::filesystem;
using dockerfile::Instruction;

namespace {

bool HasGlob(const std::string& text) {
  return text.find_first_of("*?[") != std::string::npos;
}

// Makes a COPY source relative to the context root: "/a/./b" -> "a/b".
// A source that climbs above the root is refused, as Docker refuses it.
Expected<std::string> NormalizeSource(const std::string& source) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= source.size()) {
    size_t slash = std::min(source.find('/', start), source.size());
    std::string part = source.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part != "..") {
      parts.push_back(part);
    } else if (parts.empty()) {
      return Error{"'" + source +
                   "' is outside the build context; COPY and ADD can "
                   "only take files of the context"};
    } else {
      parts.pop_back();
    }
  }
  std::string name;
  for (const std::string& part : parts)
    name += (name.empty() ? "" : "/") + part;
  return name;
}

// Adds every file and symlink under `dir`, named "prefix/relative/path",
// and `dir` and each folder below it to `folders`: a file added to any of
// them changes the folder's timestamp, which a build tool can watch.
Status WalkFolder(const fs::path& dir, const std::string& prefix,
                  std::vector<ContextFile>* out,
                  std::vector<std::string>* folders) {
  std::error_code error;
  folders->push_back(dir.string());
  fs::recursive_directory_iterator it(dir, error);
  for (; !error && it != fs::recursive_directory_iterator();
       it.increment(error)) {
    if (it->is_directory(error) && !it->is_symlink(error)) {
      folders->push_back(it->path().string());
      continue;
    }
    // Lexically: fs::relative resolves symlinks, which names a link to a
    // file elsewhere "../file" and a link in a loop "".
    std::string relative = it->path().lexically_relative(dir).string();
    out->push_back({prefix.empty() ? relative : prefix + "/" + relative,
                    it->path().string(), false});
  }
  if (error) {
    return Error{"cannot list '" + dir.string() + "': " + error.message()};
  }
  return Ok{};
}

// One named path: a folder is copied with all it holds, anything else as
// itself, following a symlink as Docker does for a source named directly.
Status AddPath(const fs::path& path, const std::string& name,
               std::vector<ContextFile>* out,
               std::vector<std::string>* folders) {
  std::error_code error;
  fs::file_status status = fs::status(path, error);
  if (error) {
    return Error{"cannot read '" + path.string() + "': " + error.message()};
  }
  if (fs::is_directory(status)) return WalkFolder(path, name, out, folders);
  out->push_back({name, path.string(), true});
  return Ok{};
}

// The folder below `root` in which a glob's first wildcard matches: "a/*.sh"
// looks in "a", so a new "a/new.sh" changes that folder's timestamp.
std::string GlobFolder(const fs::path& root, const std::string& name) {
  size_t wildcard = name.find_first_of("*?[");
  size_t slash = name.rfind('/', wildcard);
  if (slash == std::string::npos) return root.string();
  return (root / name.substr(0, slash)).string();
}

void SortUnique(std::vector<ContextFile>* files) {
  std::sort(files->begin(), files->end(),
            [](const ContextFile& a, const ContextFile& b) {
              return a.name < b.name;
            });
  files->erase(std::unique(files->begin(), files->end(),
                           [](const ContextFile& a, const ContextFile& b) {
                             return a.name == b.name;
                           }),
               files->end());
}

std::string EscapeGlob(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

bool IsRemote(const std::string& source) {
  return source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0 ||
         source.rfind("git@", 0) == 0;
}

bool IsHeredocMarker(const std::string& word) {
  return word.find("<<") != std::string::npos;
}

}  // namespace

Expected<Context> Context::Staged(const std::vector<std::string>& extra_files,
                                  const std::string& docker_d,
                                  const std::vector<std::string>& executables,
                                  const util::FolderListings& listings) {
  Context context;
  std::vector<ContextFile> files;
  for (const std::string& extra : extra_files) {
    std::string name = fs::path(extra).filename().string();
    if (Status status = AddPath(extra, name, &files, &context.folders_);
        !status) {
      return Error{"extra file: " + status.error().message +
                   "; check the --extra-file paths"};
    }
  }
  if (listings.KindOf(docker_d) == util::FileKind::kDirectory) {
    if (Status status = WalkFolder(docker_d, "", &files, &context.folders_);
        !status) {
      return status.error();
    }
  }
  for (const ContextFile& file : files) {
    context.staged_.emplace(file.name, file.path);
  }
  for (const std::string& executable : executables) {
    Expected<std::vector<StagedPath>> staged = ExecutableFiles(executable);
    if (!staged) return staged.error();
    for (const StagedPath& file : *staged) {
      context.staged_.emplace(file.name, file.path);
    }
  }
  return context;
}

Context Context::Folder(std::string root) {
  Context context;
  context.root_ = std::move(root);
  return context;
}

std::vector<ContextFile> Context::StagedFiles() const {
  std::vector<ContextFile> files;
  for (const auto& [name, path] : staged_) files.push_back({name, path, true});
  return files;
}

std::string Context::Describe() const {
  if (root_) return "the context folder " + *root_;
  return "the staged build context (the --extra-file files and the "
         ".docker.d folder)";
}

Expected<std::vector<ContextFile>> Context::Resolve(
    const std::string& source, std::vector<std::string>* folders) const {
  Expected<std::string> name = NormalizeSource(source);
  if (!name) return name.error();
  Expected<std::vector<ContextFile>> files =
      root_ ? ResolveFolder(*name, folders) : ResolveStaged(*name);
  // "." is the context itself, which exists even when it is empty.
  if (files && files->empty() && !name->empty()) {
    return Error{"COPY source '" + source + "' is not in " + Describe() +
                 "; add the file or fix the source"};
  }
  return files;
}

Expected<std::vector<ContextFile>> Context::ResolveStaged(
    const std::string& name) const {
  std::vector<ContextFile> files;
  for (const auto& [staged_name, path] : staged_) {
    bool match = name.empty() || staged_name == name ||
                 staged_name.rfind(name + "/", 0) == 0 ||
                 (HasGlob(name) && fnmatch(name.c_str(), staged_name.c_str(),
                                           FNM_PATHNAME) == 0);
    if (match) files.push_back({staged_name, path, staged_name == name});
  }
  return files;
}

Expected<std::vector<ContextFile>> Context::ResolveFolder(
    const std::string& name, std::vector<std::string>* folders) const {
  std::vector<ContextFile> files;
  fs::path root(*root_);
  if (!HasGlob(name)) {
    std::error_code error;
    fs::path path = name.empty() ? root : root / name;
    if (!fs::exists(fs::symlink_status(path, error))) return files;
    if (Status status = AddPath(path, name, &files, folders); !status) {
      return status.error();
    }
    SortUnique(&files);
    return files;
  }
  // A new match is a new entry in the folder of the first wildcard.
  // TODO: a wildcard in a deeper part ("a/*/b") is watched only there and
  // in the folders of its matches, so a "b" new in a folder of "a" that
  // held none is noticed only once another input of the image changes.
  folders->push_back(GlobFolder(root, name));
  std::string pattern = EscapeGlob(root.string()) + "/" + name;
  glob_t matches{};
  if (glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches) == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      fs::path path(matches.gl_pathv[i]);
      std::string relative =
          path.lexically_normal().lexically_relative(root).generic_string();
      folders->push_back(path.parent_path().string());
      if (Status status = AddPath(path, relative, &files, folders); !status) {
        globfree(&matches);
        return status.error();
      }
    }
  }
  globfree(&matches);
  SortUnique(&files);
  return files;
}

Expected<Context> ContextOf(const graph::Graph& graph,
                            const graph::Image& image) {
  const graph::ImageSettings& settings = graph.SettingsOf(image);
  if (settings.context) return Context::Folder(*settings.context);
  return Context::Staged(settings.extra_files, image.path + ".d",
                         settings.executables, graph.listings());
}

namespace {

// Follows ARG and ENV through one stage, so that a COPY source such as
// "$SRC/file" expands as Docker would expand it.
class StageScope {
 public:
  StageScope(const graph::Image& image, const graph::ReadOptions& options)
      : image_(image), options_(options) {}

  Status Apply(const Instruction& instruction);
  const dockerfile::Variables& values() const { return values_; }

 private:
  Status ApplyArg(const Instruction& arg);
  Status ApplyEnv(const Instruction& env);
  Status Set(const std::string& name, const std::string& raw, int line);

  const graph::Image& image_;
  const graph::ReadOptions& options_;
  dockerfile::Variables values_;
};

Status StageScope::Apply(const Instruction& instruction) {
  if (instruction.keyword == "arg") return ApplyArg(instruction);
  if (instruction.keyword == "env") return ApplyEnv(instruction);
  return Ok{};
}

Status StageScope::ApplyArg(const Instruction& arg) {
  for (auto& [name, raw] : graph::ArgDecls(arg, image_.file.escape)) {
    auto given = options_.build_args.find(name);
    auto global = image_.global_values.find(name);
    if (given != options_.build_args.end()) {
      values_[name] = given->second;
    } else if (raw) {
      if (Status status = Set(name, *raw, arg.line); !status) return status;
    } else if (global != image_.global_values.end()) {
      values_[name] = global->second;
    }
  }
  return Ok{};
}

Status StageScope::ApplyEnv(const Instruction& env) {
  std::string_view first =
      dockerfile::FirstRawWord(env.args, image_.file.escape);
  if (first.empty()) return Ok{};
  if (first.find('=') == std::string_view::npos) {
    // The legacy form "ENV name value with spaces".
    std::string name(first);
    std::string rest = env.args.substr(env.args.find(name) + name.size());
    return Set(name, rest, env.line);
  }
  for (std::string_view word :
       dockerfile::RawWords(env.args, image_.file.escape)) {
    size_t equals = word.find('=');
    if (equals == std::string_view::npos) continue;
    Status status = Set(std::string(word.substr(0, equals)),
                        std::string(word.substr(equals + 1)), env.line);
    if (!status) return status;
  }
  return Ok{};
}

Status StageScope::Set(const std::string& name, const std::string& raw,
                       int line) {
  std::string_view trimmed(raw);
  while (!trimmed.empty() && (trimmed[0] == ' ' || trimmed[0] == '\t')) {
    trimmed.remove_prefix(1);
  }
  Expected<std::string> value =
      dockerfile::ExpandWord(trimmed, image_.file.escape, values_);
  if (!value) return ErrorAt(image_.path, line, value.error().message);
  values_[name] = std::move(value.value());
  return Ok{};
}

Expected<std::vector<std::string>> CopyWords(const graph::Image& image,
                                             const Instruction& copy,
                                             const StageScope& scope) {
  if (!copy.exec_form) {
    auto words =
        dockerfile::ExpandWords(copy.args, image.file.escape, scope.values());
    if (!words) return ErrorAt(image.path, copy.line, words.error().message);
    return words;
  }
  std::vector<std::string> words;
  for (const std::string& raw : *copy.exec_form) {
    auto word = dockerfile::ExpandWord(raw, image.file.escape, scope.values());
    if (!word) return ErrorAt(image.path, copy.line, word.error().message);
    words.push_back(*word);
  }
  return words;
}

Status AddCopySources(const graph::Image& image, const Instruction& copy,
                      const StageScope& scope, const Context& context,
                      std::vector<ContextFile>* out,
                      std::vector<std::string>* folders) {
  Expected<std::vector<std::string>> words = CopyWords(image, copy, scope);
  if (!words) return words.error();
  if (words->size() < 2) {
    return ErrorAt(image.path, copy.line,
                   "COPY and ADD need a source and a destination");
  }
  words->pop_back();  // the destination
  for (const std::string& source : *words) {
    if (IsHeredocMarker(source)) continue;
    if (copy.keyword == "add" && IsRemote(source)) continue;
    Expected<std::vector<ContextFile>> files = context.Resolve(source, folders);
    if (!files) return ErrorAt(image.path, copy.line, files.error().message);
    for (ContextFile& file : *files) file.line = copy.line;
    out->insert(out->end(), files->begin(), files->end());
  }
  return Ok{};
}

}  // namespace

Expected<std::vector<ContextFile>> CopiedFiles(
    const graph::Graph& graph, const graph::Image& image,
    const Context& context, std::vector<std::string>* folders) {
  const graph::ReadOptions& options = graph.ReadOptionsOf(image);
  std::vector<std::string> unused;
  if (folders == nullptr) folders = &unused;
  std::vector<ContextFile> files;
  for (const graph::Stage& stage : image.stages) {
    StageScope scope(image, options);
    for (size_t i = stage.from + 1; i < stage.end; ++i) {
      const Instruction& instruction = image.file.instructions[i];
      if (Status status = scope.Apply(instruction); !status) {
        return status.error();
      }
      bool copies =
          instruction.keyword == "copy" || instruction.keyword == "add";
      if (!copies || graph::FlagValue(instruction.flags, "from")) continue;
      Status status =
          AddCopySources(image, instruction, scope, context, &files, folders);
      if (!status) return status.error();
    }
  }
  SortUnique(&files);
  return files;
}

}  // namespace qdi::context
