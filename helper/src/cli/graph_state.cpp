#include "cli/graph_state.hpp"

#include <algorithm>
#include <filesystem>

#include "cli/image_commands.hpp"
#include "util/files.hpp"

namespace qdi::cli {

namespace fs = std::filesystem;

namespace {

std::string FirstLine(const std::string& path) {
  Expected<std::string> text = util::ReadFile(path);
  if (!text) return "";
  return text->substr(0, text->find('\n'));
}

std::string StateOf(const std::string& dir) {
  std::string checksum = FirstLine(dir + "/checksum");
  Expected<std::string> recorded = util::ReadFile(dir + "/image");
  if (checksum.empty() || !recorded ||
      recorded->substr(0, recorded->find('\n')) != checksum) {
    return "stale";
  }
  return IsSkippedStamp(*recorded) ? "skipped" : "current";
}

std::string Join(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& word : words)
    text += (text.empty() ? "" : " ") + word;
  return text.empty() ? "-" : text;
}

std::string Pad(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

}  // namespace

ImageStates ReadImageStates(const std::string& state_dir,
                            const std::vector<GraphEntry>& entries) {
  ImageStates states;
  for (const GraphEntry& entry : entries) {
    std::string dir = state_dir + "/" + entry.name;
    std::error_code error;
    if (fs::is_directory(dir, error)) states[entry.name] = StateOf(dir);
  }
  return states;
}

std::vector<GraphEntry> EntriesWithState(std::vector<GraphEntry> entries,
                                         const ImageStates& states) {
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [&](const GraphEntry& entry) {
                                 return states.count(entry.name) == 0;
                               }),
                entries.end());
  return entries;
}

std::string GraphText(const std::vector<GraphEntry>& entries,
                      const ImageStates& states) {
  size_t name_width = 5;
  size_t bases_width = 11;
  for (const GraphEntry& entry : entries) {
    name_width = std::max(name_width, entry.name.size());
    bases_width = std::max(bases_width, Join(entry.image->local_bases).size());
  }
  std::string text = Pad("IMAGE", name_width) + "  STATE    " +
                     Pad("LOCAL BASES", bases_width) + "  EXTERNAL BASES\n";
  for (const GraphEntry& entry : entries) {
    auto state = states.find(entry.name);
    text += Pad(entry.name, name_width) + "  " +
            Pad(state == states.end() ? "-" : state->second, 7) + "  " +
            Pad(Join(entry.image->local_bases), bases_width) + "  " +
            Join(entry.external_bases) + "\n";
  }
  return text;
}

}  // namespace qdi::cli
