// Fuzzes qdi::dockerfile::Parse.  Besides not crashing or hanging, a
// parsed file must be consistent: line numbers in order and in range, and
// the directives plus each instruction's `source` must parse back to the
// same instructions, since the flattener copies `source` verbatim.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dockerfile/parser.hpp"
#include "fuzz_checks.hpp"

namespace {

using qdi::fuzz::Check;

void CheckLines(const qdi::dockerfile::Dockerfile& file, int line_count) {
  int previous = 0;
  for (const auto& instruction : file.instructions) {
    Check(instruction.line > previous, "instruction lines not increasing");
    Check(instruction.line <= instruction.end_line, "end_line before line");
    Check(instruction.end_line <= line_count, "end_line past the end");
    previous = instruction.end_line;
  }
}

std::string Reassemble(const qdi::dockerfile::Dockerfile& file) {
  std::string text;
  for (const auto& directive : file.directives) {
    text += "# " + directive.name + "=" + directive.value + "\n";
  }
  for (const auto& instruction : file.instructions) text += instruction.source;
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = qdi::dockerfile::Parse(text, "fuzz.docker");
  if (!parsed) {
    Check(!parsed.error().message.empty(), "empty error message");
    return 0;
  }
  int line_count = 1;
  for (char c : text) line_count += c == '\n';
  CheckLines(*parsed, line_count);

  auto again = qdi::dockerfile::Parse(Reassemble(*parsed), "again.docker");
  Check(again.has_value(), "reassembled source does not parse: " +
                               (again ? "" : again.error().message));
  Check(again->escape == parsed->escape, "escape character differs");
  qdi::fuzz::CheckSameInstructions(*parsed, *again, "reassembled source");
  return 0;
}
