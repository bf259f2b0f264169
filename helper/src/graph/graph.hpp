#pragma once

// The images of the search folders and the local-base edges between them.
// Loading an image loads every local image it needs, once, and refuses
// missing bases and dependency cycles with the whole cycle in the message.

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "graph/image.hpp"
#include "util/expected.hpp"
#include "util/folder_listings.hpp"

namespace qdi::graph {

// What one image is built with, besides its Dockerfile.
struct ImageSettings {
  std::vector<std::string> extra_files;  // staged at the context's root
  std::optional<std::string> context;    // a real folder instead
  dockerfile::Variables build_args;      // on top of the global ones
  // Executables staged with the shared libraries they load (QEMU's
  // --include-executable).
  std::vector<std::string> executables;
  // "NAME:UID" of a user added at the end of the image (QEMU's
  // --add-current-user).
  std::optional<std::string> user;
};

struct Settings {
  std::vector<std::string> search_dirs;  // empty: the top file's folder
  std::vector<std::string> prefixes = {"qemu/", "qemu:"};
  dockerfile::Variables build_args;
  std::map<std::string, ImageSettings> per_image;  // by image name
  ImageSettings top;  // for the image named on the command line
  // External base image -> the file that holds its identity (image ID);
  // when set, the checksums cover it, so that an update of the base makes
  // the images above it stale.
  std::map<std::string, std::string> base_identities;
};

// The image name of a Dockerfile path: "a/debian10.docker" -> "debian10".
std::string ImageNameOf(const std::string& path);

class Graph {
 public:
  explicit Graph(Settings settings);

  // Loads the Dockerfile at `path` and, recursively, its local bases.
  Expected<const Image*> LoadFile(const std::string& path);

  // Loads several files; the settings for the command line's images (the
  // `top` settings) apply to each of them, also where one is a base of
  // another.
  Expected<std::vector<const Image*>> LoadFiles(
      const std::vector<std::string>& paths);

  // `top`'s local bases, transitively, bases before the images above
  // them, and `top` last.  Each image appears once.
  std::vector<const Image*> Chain(const Image& top) const;

  // A loaded image by name, or nullptr.
  const Image* Find(const std::string& name) const;

  // What `image` is built with: its own settings, else the defaults.
  const ImageSettings& SettingsOf(const Image& image) const;
  // Built once per name and kept; valid until the next LoadFiles.
  const ReadOptions& ReadOptionsOf(const std::string& name) const;
  // The same for a loaded image, without a lookup.
  const ReadOptions& ReadOptionsOf(const Image& image) const;

  const Settings& settings() const { return settings_; }

  // Answers which files exist in the folders this graph looks in, from one
  // listing per folder, taken when first asked.
  const util::FolderListings& listings() const { return listings_; }

 private:
  // `requester` names the image whose FROM line led here, for messages.
  Expected<const Image*> Load(const std::string& name, const std::string& path,
                              const Image* requester);
  void ReadAhead(const std::vector<std::string>& paths);
  Status LoadBases(const Image& image);
  bool IsLoadedFromSearchDirs(const std::string& base) const;
  Expected<std::string> FindDockerfile(const Image& requester,
                                       const std::string& base) const;
  Error CycleError(const Image& requester, const std::string& base) const;
  void AddToChain(const Image& image, std::vector<const Image*>* chain) const;
  const ImageSettings& FindSettings(const std::string& name) const;
  void LinkSettings();

  Settings settings_;
  // Hashed rather than ordered: a folder's checksum looks names up about a
  // hundred times per image, and ordered lookups of names that share a
  // long prefix showed in its profile.
  std::unordered_set<std::string> top_names_;
  std::unordered_map<std::string, std::unique_ptr<Image>> images_;
  std::vector<std::string> visiting_;  // the load stack, for cycles
  // Files of the command line parsed ahead on all cores, by path (hashed,
  // as above); Load takes them from here, in its own order.
  std::unordered_map<std::string, std::unique_ptr<Image>> read_ahead_;
  // ReadOptionsOf's answers: it is asked for each instruction that names
  // a stage, and copying the settings' maps each time showed in profiles.
  mutable std::unordered_map<std::string, ReadOptions> read_options_;
  util::FolderListings listings_;
};

}  // namespace qdi::graph
