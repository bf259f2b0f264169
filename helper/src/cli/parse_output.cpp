#include "cli/parse_output.hpp"

#include <nlohmann/json.hpp>

namespace qdi::cli {

namespace {

using nlohmann::json;

json InstructionJson(const dockerfile::Instruction& instruction) {
  json heredocs = json::array();
  for (const auto& heredoc : instruction.heredocs) {
    heredocs.push_back({{"name", heredoc.name},
                        {"strip_tabs", heredoc.strip_tabs},
                        {"expand", heredoc.expand},
                        {"body", heredoc.body}});
  }
  json result = {{"keyword", instruction.keyword},
                 {"line", instruction.line},
                 {"end_line", instruction.end_line},
                 {"flags", instruction.flags},
                 {"args", instruction.args},
                 {"exec_form", nullptr},
                 {"heredocs", heredocs}};
  if (instruction.exec_form) result["exec_form"] = *instruction.exec_form;
  if (!instruction.trigger.empty()) {
    result["trigger"] = InstructionJson(instruction.trigger.front());
  }
  return result;
}

}  // namespace

std::string ParseJson(const dockerfile::Dockerfile& file) {
  json directives = json::array();
  for (const auto& directive : file.directives) {
    directives.push_back({{"name", directive.name},
                          {"value", directive.value},
                          {"line", directive.line}});
  }
  json instructions = json::array();
  for (const auto& instruction : file.instructions) {
    instructions.push_back(InstructionJson(instruction));
  }
  json result = {{"file", file.path},
                 {"escape", std::string(1, file.escape)},
                 {"directives", directives},
                 {"instructions", instructions}};
  return result.dump(2) + "\n";
}

}  // namespace qdi::cli
