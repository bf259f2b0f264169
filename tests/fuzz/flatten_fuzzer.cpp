// Fuzzes loading, flattening and checksumming a chain of up to three
// Dockerfiles.  The input is split at lines holding only "%%" into a.docker,
// b.docker and c.docker of one folder (created once per process), which
// refer to each other as qemu/a, qemu/b and qemu/c; a.docker is the top.
// a.docker.d and b.docker.d hold a few files for COPY to take.
//
// Properties: nothing crashes; a top with no local base flattens to a file
// that parses back to its own instructions; a comment line inserted
// between two instructions of any file of the chain leaves the checksum
// as it was.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "core/evaluate.hpp"
#include "dockerfile/parser.hpp"
#include "fuzz_checks.hpp"
#include "graph/graph.hpp"

namespace {

namespace fs = std::filesystem;
using qdi::fuzz::Check;

void WriteFile(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// One folder per process, so that parallel fuzzing jobs do not collide.
const fs::path& Folder() {
  static const fs::path folder = [] {
    std::string pattern =
        (fs::temp_directory_path() / "qdi-fuzz-XXXXXX").string();
    Check(mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    fs::create_directories(fs::path(pattern) / "a.docker.d" / "sub");
    fs::create_directories(fs::path(pattern) / "b.docker.d");
    WriteFile(fs::path(pattern) / "a.docker.d" / "x.sh", "echo x\n");
    WriteFile(fs::path(pattern) / "a.docker.d" / "sub" / "y.txt", "y\n");
    WriteFile(fs::path(pattern) / "b.docker.d" / "x.sh", "echo x\n");
    return fs::path(pattern);
  }();
  return folder;
}

std::vector<std::string_view> SplitInput(std::string_view text) {
  constexpr std::string_view kSeparator = "\n%%\n";
  std::vector<std::string_view> parts;
  while (parts.size() < 2) {
    size_t at = text.find(kSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(text.substr(0, at + 1));
    text.remove_prefix(at + kSeparator.size());
  }
  parts.push_back(text);
  return parts;
}

void WriteChain(const std::vector<std::string_view>& parts) {
  const char* names[] = {"a.docker", "b.docker", "c.docker"};
  for (size_t i = 0; i < 3; ++i) {
    std::error_code error;
    if (i < parts.size()) {
      WriteFile(Folder() / names[i], parts[i]);
    } else {
      fs::remove(Folder() / names[i], error);
    }
  }
}

qdi::Expected<qdi::core::Evaluation> EvaluateTop(qdi::graph::Graph* graph) {
  auto top = graph->LoadFile((Folder() / "a.docker").string());
  if (!top) return top.error();
  return qdi::core::Evaluate(*graph, **top, nullptr);
}

qdi::graph::Settings FuzzSettings() {
  qdi::graph::Settings settings;
  settings.search_dirs = {Folder().string()};
  return settings;
}

// A stage named by number is given a name in the output, so such files
// legitimately change their FROM and --from text; they are left out.
bool NamesStageByNumber(const qdi::dockerfile::Dockerfile& file) {
  for (const auto& instruction : file.instructions) {
    for (const std::string& flag : instruction.flags) {
      size_t at = flag.find("from=");
      if (at == std::string::npos) continue;
      size_t end = flag.find(',', at);
      std::string value = flag.substr(at + 5, end - (at + 5));
      if (!value.empty() &&
          value.find_first_not_of("0123456789") == std::string::npos) {
        return true;
      }
    }
  }
  return false;
}

// Docker compares stage names without case, and the flattener writes a
// "--from=" stage name in lower case; the rest must stay as it was.
qdi::dockerfile::Dockerfile LowerFromFlags(qdi::dockerfile::Dockerfile file) {
  for (auto& instruction : file.instructions) {
    for (std::string& flag : instruction.flags) {
      if (flag.find("from=") == std::string::npos) continue;
      for (char& c : flag) c = static_cast<char>(std::tolower(c));
    }
  }
  return file;
}

void CheckFlattenRoundTrip(const qdi::graph::Image& top,
                           const std::string& text) {
  if (NamesStageByNumber(top.file)) return;
  auto again = qdi::dockerfile::Parse(text, "flattened.docker");
  Check(again.has_value(), "flattened text does not parse: " +
                               (again ? "" : again.error().message));
  qdi::fuzz::CheckSameInstructions(LowerFromFlags(top.file),
                                   LowerFromFlags(*again), "flattened text");
}

// The offset just past line `line` (1-based) of `text`.
size_t EndOfLine(std::string_view text, int line) {
  size_t offset = 0;
  for (int i = 0; i < line; ++i) offset = text.find('\n', offset) + 1;
  return offset;
}

// Inserts a comment after one instruction of one file of the chain, chosen
// by `seed`, and checks that the checksum stays `checksum`.
void CheckCommentEdit(const qdi::graph::Graph& graph,
                      std::vector<std::string_view> parts,
                      const std::string& checksum, size_t seed) {
  std::vector<const qdi::graph::Image*> chain = graph.Chain(*graph.Find("a"));
  const qdi::graph::Image& image = *chain[seed % chain.size()];
  const auto& instructions = image.file.instructions;
  if (instructions.size() < 2) return;
  const auto& before = instructions[seed % (instructions.size() - 1)];
  size_t part = static_cast<size_t>(image.name[0] - 'a');
  std::string text(parts[part]);
  text.insert(EndOfLine(text, before.end_line), "# fuzz: a comment\n");
  parts[part] = text;
  WriteChain(parts);

  qdi::graph::Graph edited(FuzzSettings());
  auto evaluation = EvaluateTop(&edited);
  Check(evaluation.has_value(),
        "a comment edit made evaluation fail: " +
            (evaluation ? "" : evaluation.error().message));
  Check(evaluation->checksum == checksum,
        "a comment edit changed the checksum");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts = SplitInput(input);
  WriteChain(parts);

  qdi::graph::Graph graph(FuzzSettings());
  auto evaluation = EvaluateTop(&graph);
  if (!evaluation) return 0;
  const qdi::graph::Image& top = *graph.Find("a");
  if (graph.Chain(top).size() == 1) {
    CheckFlattenRoundTrip(top, evaluation->flattened.text);
  }
  CheckCommentEdit(graph, parts, evaluation->checksum,
                   std::hash<std::string_view>{}(input));
  return 0;
}
