#pragma once

// The build context of one image and the files its COPY and ADD
// instructions take from it.  QEMU built each image in an empty staging
// folder holding only the files it was given, so a context is either such
// a set of staged files or, for projects that have one, a real folder.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "util/expected.hpp"

namespace qdi::context {

struct ContextFile {
  std::string name;     // its path inside the context, '/'-separated
  std::string path;     // where it is on disk
  bool follow = false;  // named directly: a symlink is copied as its target
  int line = 0;  // the line of the COPY or ADD that copies it, for messages
};

class Context {
 public:
  // The staged context: each extra file at the root, the files of the
  // Dockerfile's "NAME.docker.d/" folder, if there is one, and each
  // executable with its shared libraries (see executable.hpp).
  // `listings` says whether the folder is there.
  static Expected<Context> Staged(const std::vector<std::string>& extra_files,
                                  const std::string& docker_d,
                                  const std::vector<std::string>& executables,
                                  const util::FolderListings& listings);
  static Context Folder(std::string root);

  // The files that a COPY or ADD source copies, sorted by name; in a real
  // context folder, the folders whose new entries it would also copy are
  // added to `folders`.  The error has no location; the caller adds
  // "file:line:".
  Expected<std::vector<ContextFile>> Resolve(
      const std::string& source, std::vector<std::string>* folders) const;

  // The root of a real context folder, if this is one.
  const std::optional<std::string>& root() const { return root_; }

  // The folders of a staged context: "NAME.docker.d/", each folder below
  // it and each folder given as an extra file, with those below it.
  const std::vector<std::string>& staged_folders() const { return folders_; }

  // Every staged file, for building the context folder of a staged context.
  std::vector<ContextFile> StagedFiles() const;

  // A short description for messages: the folder or "the staged files".
  std::string Describe() const;

 private:
  Expected<std::vector<ContextFile>> ResolveStaged(
      const std::string& name) const;
  Expected<std::vector<ContextFile>> ResolveFolder(
      const std::string& name, std::vector<std::string>* folders) const;

  std::optional<std::string> root_;
  std::map<std::string, std::string> staged_;  // name in context -> path
  std::vector<std::string> folders_;
};

// The context `image` is built in, under `graph`'s settings.
Expected<Context> ContextOf(const graph::Graph& graph,
                            const graph::Image& image);

// Every context file that `image`'s COPY and ADD instructions copy (URLs,
// heredocs and --from sources excluded), sorted by name, without repeats.
// In a real context folder, the folders in which a new file would be
// copied too are added to `folders`, when given.
Expected<std::vector<ContextFile>> CopiedFiles(
    const graph::Graph& graph, const graph::Image& image,
    const Context& context, std::vector<std::string>* folders = nullptr);

}  // namespace qdi::context
