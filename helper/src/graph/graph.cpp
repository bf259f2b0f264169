#include "graph/graph.hpp"

#include <algorithm>
#include <filesystem>

#include "dockerfile/parser.hpp"
#include "util/files.hpp"
#include "util/parallel.hpp"

namespace qdi::graph {

namespace fs = std::filesystem;

// As fs::path's stem and extension would say, without building a path:
// a folder's checksum names every file twice.
std::string ImageNameOf(const std::string& path) {
  constexpr std::string_view kExtension = ".docker";
  std::string_view name(path);
  name.remove_prefix(std::min(name.rfind('/') + 1, name.size()));
  if (name.size() > kExtension.size() && name.ends_with(kExtension)) {
    name.remove_suffix(kExtension.size());
  }
  return std::string(name);
}

Graph::Graph(Settings settings) : settings_(std::move(settings)) {}

Expected<const Image*> Graph::LoadFile(const std::string& path) {
  Expected<std::vector<const Image*>> images = LoadFiles({path});
  if (!images) return images.error();
  return images->front();
}

Expected<std::vector<const Image*>> Graph::LoadFiles(
    const std::vector<std::string>& paths) {
  if (settings_.search_dirs.empty() && !paths.empty()) {
    std::string folder = fs::path(paths.front()).parent_path().string();
    settings_.search_dirs.push_back(folder.empty() ? "." : folder);
  }
  for (const std::string& path : paths) top_names_.insert(ImageNameOf(path));
  read_options_.clear();  // the new top names change the answers
  ReadAhead(paths);
  std::vector<const Image*> images;
  for (const std::string& path : paths) {
    Expected<const Image*> image = Load(ImageNameOf(path), path, nullptr);
    if (!image) {
      read_ahead_.clear();
      LinkSettings();
      return image.error();
    }
    images.push_back(*image);
  }
  read_ahead_.clear();  // files that were loaded from another path
  LinkSettings();
  return images;
}

// The settings of every loaded image, again: new top names change them.
void Graph::LinkSettings() {
  for (auto& [name, image] : images_) {
    image->settings = &FindSettings(name);
    image->read_options = &ReadOptionsOf(name);
  }
}

const Image* Graph::Find(const std::string& name) const {
  auto found = images_.find(name);
  return found == images_.end() ? nullptr : found->second.get();
}

const ImageSettings& Graph::SettingsOf(const Image& image) const {
  return image.settings ? *image.settings : FindSettings(image.name);
}

const ImageSettings& Graph::FindSettings(const std::string& name) const {
  auto found = settings_.per_image.find(name);
  if (found != settings_.per_image.end()) return found->second;
  static const ImageSettings kDefaults;
  return top_names_.count(name) ? settings_.top : kDefaults;
}

const ReadOptions& Graph::ReadOptionsOf(const Image& image) const {
  return image.read_options ? *image.read_options : ReadOptionsOf(image.name);
}

const ReadOptions& Graph::ReadOptionsOf(const std::string& name) const {
  auto cached = read_options_.find(name);
  if (cached != read_options_.end()) return cached->second;
  ReadOptions options;
  options.prefixes = settings_.prefixes;
  options.build_args = settings_.build_args;
  const ImageSettings* own = top_names_.count(name) ? &settings_.top : nullptr;
  auto found = settings_.per_image.find(name);
  if (found != settings_.per_image.end()) own = &found->second;
  if (own != nullptr) {
    for (const auto& [key, value] : own->build_args) {
      options.build_args[key] = value;
    }
  }
  return read_options_.emplace(name, std::move(options)).first->second;
}

namespace {

// (fs::path(folder) / name).string() for a plain file name, without
// building paths, which showed in the profile of a folder's checksum.
std::string PathIn(const std::string& folder, const std::string& name) {
  if (folder.empty() || folder.back() == '/') return folder + name;
  return folder + "/" + name;
}

// Whether two paths name one file in the same words, but for leading
// "./": the files of the command line are often given as "NAME.docker"
// while the search folder "." finds "./NAME.docker".
bool SamePath(std::string_view a, std::string_view b) {
  while (a.starts_with("./")) a.remove_prefix(2);
  while (b.starts_with("./")) b.remove_prefix(2);
  return a == b;
}

// Reads and analyzes one Dockerfile.  Load recurses once per level of a
// chain, so this stays out of its frame: the parsed values then sit on the
// stack once, not once per level, and a chain 1,000 images deep loads
// within a 1 MB stack (about 0.5 KB per level remains).
[[gnu::noinline]] Expected<std::unique_ptr<Image>> ReadImage(
    const Graph& graph, const std::string& name, const std::string& path,
    const Image* requester) {
  Expected<util::FileBytes> text = util::ReadFileBytes(path);
  if (!text && requester != nullptr) {
    return ErrorAt(requester->path, requester->local_base_lines.at(name),
                   "local base image '" + name + "': " + text.error().message);
  }
  if (!text) return text.error();
  Expected<dockerfile::Dockerfile> file =
      dockerfile::ParseBuffer(std::move(text.value()), path);
  if (!file) return file.error();
  Expected<Image> image =
      AnalyzeImage(std::move(file.value()), name, graph.ReadOptionsOf(name));
  if (!image) return image.error();
  return std::make_unique<Image>(std::move(image.value()));
}

}  // namespace

// Reading and parsing each file is independent of the others, and in a
// folder's checksum it is a third of the work, so the files named on the
// command line are read on all cores first.  Only successes are kept: a
// file that fails is read again by Load, which words the error as before.
void Graph::ReadAhead(const std::vector<std::string>& paths) {
  size_t threads = util::ThreadsFor(paths.size());
  if (threads <= 1) return;
  // ReadImage asks for these; filled here, the cache is only read below.
  for (const std::string& path : paths) ReadOptionsOf(ImageNameOf(path));
  std::vector<std::unique_ptr<Image>> read(paths.size());
  util::ParallelFor(paths.size(), threads, [&](size_t i) {
    std::string name = ImageNameOf(paths[i]);
    if (images_.count(name)) return;
    Expected<std::unique_ptr<Image>> image =
        ReadImage(*this, name, paths[i], nullptr);
    if (image) read[i] = std::move(image.value());
  });
  for (size_t i = 0; i < paths.size(); ++i) {
    if (read[i]) read_ahead_.emplace(paths[i], std::move(read[i]));
  }
}

Expected<const Image*> Graph::Load(const std::string& name,
                                   const std::string& path,
                                   const Image* requester) {
  if (auto found = images_.find(name); found != images_.end()) {
    return found->second.get();
  }
  Expected<std::unique_ptr<Image>> image = std::unique_ptr<Image>();
  if (auto ahead = read_ahead_.find(path); ahead != read_ahead_.end()) {
    image = std::move(ahead->second);
    read_ahead_.erase(ahead);
  } else {
    image = ReadImage(*this, name, path, requester);
  }
  if (!image) return image.error();

  visiting_.push_back(name);
  Status bases = LoadBases(**image);
  visiting_.pop_back();
  if (!bases) return bases.error();
  for (const std::string& base : (*image)->local_bases) {
    (*image)->base_images.push_back(Find(base));
  }
  const Image* result = image->get();
  images_.emplace(name, std::move(image.value()));
  return result;
}

Status Graph::LoadBases(const Image& image) {
  for (const std::string& base : image.local_bases) {
    if (std::find(visiting_.begin(), visiting_.end(), base) !=
        visiting_.end()) {
      return CycleError(image, base);
    }
    if (IsLoadedFromSearchDirs(base)) continue;
    Expected<std::string> path = FindDockerfile(image, base);
    if (!path) return path.error();
    Expected<const Image*> loaded = Load(base, *path, &image);
    if (!loaded) return loaded.error();
  }
  return Ok{};
}

// A base loaded from one of the search folders would be found there again
// and loaded from the cache, so its file need not be looked for: in a
// folder's checksum that was one stat() per image.
bool Graph::IsLoadedFromSearchDirs(const std::string& base) const {
  const Image* loaded = Find(base);
  if (loaded == nullptr) return false;
  for (const std::string& folder : settings_.search_dirs) {
    if (SamePath(PathIn(folder, base + ".docker"), loaded->path)) return true;
  }
  return false;
}

Expected<std::string> Graph::FindDockerfile(const Image& requester,
                                            const std::string& base) const {
  std::string looked_in;
  for (const std::string& folder : settings_.search_dirs) {
    std::string candidate = (fs::path(folder) / (base + ".docker")).string();
    if (listings_.KindOf(candidate) == util::FileKind::kRegular) {
      return candidate;
    }
    looked_in += (looked_in.empty() ? "" : ", ") + folder;
  }
  return ErrorAt(requester.path, requester.local_base_lines.at(base),
                 "local base image '" + base + "' has no Dockerfile: no " +
                     base + ".docker in " + looked_in +
                     "; add the file or name its folder with --search-dir");
}

Error Graph::CycleError(const Image& requester, const std::string& base) const {
  auto start = std::find(visiting_.begin(), visiting_.end(), base);
  std::string cycle;
  for (auto it = start; it != visiting_.end(); ++it) cycle += *it + " -> ";
  cycle += base;
  return ErrorAt(requester.path, requester.local_base_lines.at(base),
                 "dependency cycle: " + cycle +
                     "; an image cannot be built on itself, so remove one "
                     "of these bases");
}

std::vector<const Image*> Graph::Chain(const Image& top) const {
  std::vector<const Image*> chain;
  AddToChain(top, &chain);
  return chain;
}

void Graph::AddToChain(const Image& image,
                       std::vector<const Image*>* chain) const {
  if (std::find(chain->begin(), chain->end(), &image) != chain->end()) return;
  for (const Image* base : image.base_images) AddToChain(*base, chain);
  chain->push_back(&image);
}

}  // namespace qdi::graph
