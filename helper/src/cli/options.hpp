#pragma once

// Command-line options shared by the commands that read images, and how
// they become graph settings.

#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "graph/graph.hpp"
#include "util/expected.hpp"

namespace qdi::cli {

using StringPairs = std::vector<std::pair<std::string, std::string>>;

// Options that every image-reading command shares.
struct SharedOptions {
  std::vector<std::string> search_dirs;
  std::vector<std::string> prefixes;
  std::vector<std::string> build_args;
  std::vector<std::string> extra_files;
  std::string context;
  StringPairs image_extra_files;
  StringPairs image_contexts;
  std::vector<std::string> image_build_args;  // NAME:KEY=VALUE
  std::vector<std::string> base_identities;   // REF=FILE
  std::vector<std::string> executables;
  StringPairs image_executables;
  std::string user;         // NAME:UID
  StringPairs image_users;  // image, NAME:UID
  bool debug_hash = false;
};

void AddSharedOptions(CLI::App* command, SharedOptions* options);

// Makes every repeatable option of `app`'s commands take one value per
// occurrence, so that "--build-arg A=1 x.docker" cannot swallow the
// Dockerfiles that follow.
void OneValuePerOccurrence(CLI::App* app);

Expected<graph::Settings> MakeSettings(const SharedOptions& options);

}  // namespace qdi::cli
