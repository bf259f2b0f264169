#include "cli/graph_output.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "context/context.hpp"
#include "core/pre_script.hpp"

namespace qdi::cli {

namespace {

std::vector<std::string> ExternalBases(const graph::Image& image) {
  std::vector<std::string> bases;
  for (const graph::Stage& stage : image.stages) {
    if (stage.base.kind != graph::Ref::Kind::kExternal) continue;
    if (std::find(bases.begin(), bases.end(), stage.base.image) ==
        bases.end()) {
      bases.push_back(stage.base.image);
    }
  }
  return bases;
}

// CMake bracket arguments take any text; the bracket only has to be
// longer than any "]=...=]" inside it.
std::string Bracket(const std::string& text) {
  std::string equals;
  // The bracket must not close early, also where the text ends in ']'.
  auto closes = [&](const std::string& bracket) {
    return (text + bracket).find(bracket) < text.size();
  };
  while (closes("]" + equals + "]")) equals += "=";
  return "[" + equals + "[" + text + "]" + equals + "]";
}

std::string CMakeList(const std::vector<std::string>& items) {
  std::string list;
  for (const std::string& item : items) {
    list += (list.empty() ? "" : ";") + item;
  }
  return Bracket(list);
}

std::string DotQuote(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

// Colours a reader tells apart also in grey: light for current, dark for
// stale.
std::string StateStyle(const std::string& state) {
  std::string fill = state == "current" ? "palegreen"
                     : state == "stale" ? "salmon"
                                        : "lightgrey";
  return ", style=filled, fillcolor=" + fill;
}

std::string ImageNode(const std::string& name,
                      const std::map<std::string, std::string>& states) {
  auto state = states.find(name);
  if (state == states.end()) return "  " + DotQuote(name) + " [shape=box];\n";
  // The state goes on a second line: DOT's "\n" inside the quotes.
  std::string label = DotQuote(name);
  label.insert(label.size() - 1, "\\n" + state->second);
  return "  " + DotQuote(name) + " [shape=box" + StateStyle(state->second) +
         ", label=" + label + "];\n";
}

std::string Legend() {
  std::string dot =
      "  subgraph cluster_legend {\n    label=\"legend\";\n"
      "    fontname=\"Helvetica\";\n";
  for (const char* state : {"current", "stale", "skipped"}) {
    dot += std::string("    \"legend ") + state + "\" [shape=box" +
           StateStyle(state) + ", label=\"" + state + " image\"];\n";
  }
  return dot +
         "    \"legend external\" [shape=ellipse, style=dashed, "
         "label=\"external base\"];\n  }\n";
}

bool MayReadContext(const dockerfile::Instruction& instruction) {
  if (instruction.keyword == "copy" || instruction.keyword == "add") {
    return true;
  }
  return std::any_of(
      instruction.flags.begin(), instruction.flags.end(),
      [](const std::string& flag) { return flag.rfind("--mount", 0) == 0; });
}

}  // namespace

bool ReadsContext(const graph::Graph& graph, const graph::Image& image) {
  for (const dockerfile::Instruction& instruction : image.file.instructions) {
    if (MayReadContext(instruction)) return true;
    for (const dockerfile::Instruction& trigger : instruction.trigger) {
      if (MayReadContext(trigger)) return true;
    }
  }
  for (const std::string& name : image.local_bases) {
    const graph::Image* base = graph.Find(name);
    if (base == nullptr) return true;
    for (const dockerfile::Instruction& instruction : base->file.instructions) {
      for (const dockerfile::Instruction& trigger : instruction.trigger) {
        if (MayReadContext(trigger)) return true;
      }
    }
  }
  return false;
}

Expected<std::vector<GraphEntry>> DescribeGraph(
    const graph::Graph& graph, const std::vector<const graph::Image*>& images,
    bool with_context_files) {
  std::vector<GraphEntry> entries;
  for (const graph::Image* image : images) {
    GraphEntry entry{image,
                     image->name,
                     ExternalBases(*image),
                     {},
                     ReadsContext(graph, *image),
                     core::PreScriptOf(graph, *image).has_value()};
    if (!with_context_files) {
      entries.push_back(std::move(entry));
      continue;
    }
    Expected<context::Context> context = context::ContextOf(graph, *image);
    if (!context) return ErrorAt(image->path, 0, context.error().message);
    auto files = context::CopiedFiles(graph, *image, *context);
    if (!files) return files.error();
    for (const auto& file : *files) entry.context_files.push_back(file.path);
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string GraphJson(const std::vector<GraphEntry>& entries) {
  nlohmann::json images = nlohmann::json::array();
  for (const GraphEntry& entry : entries) {
    images.push_back({{"name", entry.name},
                      {"file", entry.image->path},
                      {"local_bases", entry.image->local_bases},
                      {"external_bases", entry.external_bases},
                      {"context_files", entry.context_files}});
  }
  return nlohmann::json{{"images", images}}.dump(2) + "\n";
}

std::string GraphDot(const std::vector<GraphEntry>& entries,
                     const std::map<std::string, std::string>& states) {
  // Bases on the left: QEMU's folders have dozens of images on one base,
  // which read as a column, where a row would be thousands of pixels wide.
  std::string dot = "digraph images {\n  rankdir=RL;\n";
  if (!states.empty()) {
    dot += "  node [fontname=\"Helvetica\"];\n" + Legend();
  }
  for (const GraphEntry& entry : entries) {
    std::string name = DotQuote(entry.name);
    dot += ImageNode(entry.name, states);
    for (const std::string& base : entry.image->local_bases) {
      dot += "  " + name + " -> " + DotQuote(base) + ";\n";
    }
    for (const std::string& base : entry.external_bases) {
      dot += "  " + DotQuote(base) + " [shape=ellipse, style=dashed];\n";
      dot += "  " + name + " -> " + DotQuote(base) + " [style=dashed];\n";
    }
  }
  return dot + "}\n";
}

std::string GraphCMake(const std::vector<GraphEntry>& entries) {
  std::string script =
      "# Written by qemu-docker-images graph --format cmake.\n";
  std::vector<std::string> names;
  for (const GraphEntry& entry : entries) {
    const std::string& name = entry.name;
    names.push_back(name);
    std::string prefix = "set(QDI_IMAGE_" + name;
    script += prefix + "_FILE " + Bracket(entry.image->path) + ")\n";
    script += prefix + "_BASES " + CMakeList(entry.image->local_bases) + ")\n";
    script += prefix + "_EXTERNAL " + CMakeList(entry.external_bases) + ")\n";
    script +=
        prefix + "_CONTEXT_FILES " + CMakeList(entry.context_files) + ")\n";
    script += prefix + "_READS_CONTEXT " +
              (entry.reads_context ? "TRUE" : "FALSE") + ")\n";
  }
  return script + "set(QDI_IMAGES " + CMakeList(names) + ")\n";
}

std::string GraphEdges(const std::vector<GraphEntry>& entries,
                       bool with_external) {
  std::string text;
  for (const GraphEntry& entry : entries) {
    text += entry.name + ":";
    for (const std::string& base : entry.image->local_bases) {
      text += " " + base;
    }
    if (with_external) {
      text += " |";
      for (const std::string& base : entry.external_bases) text += " " + base;
    }
    // The module adds a NAME.pre script to its image's inputs at configure
    // time, so a script that appears or goes must run CMake again.
    if (entry.has_pre_script) text += " (pre script)";
    // The module gives only such images a depfile, so a first or last
    // COPY must run CMake again too.
    if (entry.reads_context) text += " (reads context)";
    text += "\n";
  }
  return text;
}

}  // namespace qdi::cli
