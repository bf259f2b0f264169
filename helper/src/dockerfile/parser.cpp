#include "dockerfile/parser.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "util/files.hpp"

namespace qdi::dockerfile {

const Directive* Dockerfile::FindDirective(const std::string& name) const {
  for (const Directive& directive : directives) {
    if (directive.name == name) return &directive;
  }
  return nullptr;
}

namespace {

constexpr std::array<std::string_view, 18> kKeywords = {
    "add",    "arg",   "cmd",         "copy",  "entrypoint", "env",
    "expose", "from",  "healthcheck", "label", "maintainer", "onbuild",
    "run",    "shell", "stopsignal",  "user",  "volume",     "workdir"};

bool IsKnownKeyword(std::string_view keyword) {
  return std::find(kKeywords.begin(), kKeywords.end(), keyword) !=
         kKeywords.end();
}

// Instructions whose arguments may start heredocs, per the reference.
bool AllowsHeredocs(std::string_view keyword) {
  return keyword == "run" || keyword == "copy" || keyword == "add";
}

// Instructions for which a leading '[' means the JSON form.
bool AllowsExecForm(std::string_view keyword) {
  static const std::set<std::string_view> kJsonKeywords = {
      "run", "cmd", "entrypoint", "shell", "copy", "add", "volume"};
  return kJsonKeywords.count(keyword) > 0;
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

std::string_view TrimLeft(std::string_view text) {
  size_t start = text.find_first_not_of(" \t");
  return start == std::string_view::npos ? std::string_view{}
                                         : text.substr(start);
}

std::string_view Trim(std::string_view text) {
  text = TrimLeft(text);
  size_t end = text.find_last_not_of(" \t");
  return end == std::string_view::npos ? text : text.substr(0, end + 1);
}

bool IsComment(std::string_view line) {
  std::string_view trimmed = TrimLeft(line);
  return !trimmed.empty() && trimmed.front() == '#';
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  return lower;
}

// Length of the UTF-8 sequence starting at `text[i]`, or 0 when invalid.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  // Overlong three- and four-byte forms and UTF-16 surrogates.
  if (lead == 0xE0 && byte(i + 1) < 0xA0) return 0;
  if (lead == 0xED && byte(i + 1) >= 0xA0) return 0;
  if (lead == 0xF0 && byte(i + 1) < 0x90) return 0;
  if (lead == 0xF4 && byte(i + 1) >= 0x90) return 0;
  return length;
}

Status CheckIsText(std::string_view text, const std::string& path) {
  int line = 1;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\0') {
      return ErrorAt(path, line,
                     "contains a NUL byte, so it is not a text file; "
                     "check that this is the Dockerfile you meant");
    }
    size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      return ErrorAt(path, line,
                     "is not valid UTF-8; save the file as UTF-8 text");
    }
    if (text[i] == '\n') ++line;
    i += length;
  }
  return Ok{};
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

// Walks the lines of one file, producing directives and then instructions.
class Parser {
 public:
  Parser(std::vector<std::string_view> lines, std::string path)
      : lines_(std::move(lines)), path_(std::move(path)) {}

  Expected<Dockerfile> Run();

 private:
  Status ReadDirectives();
  Status AddDirective(const std::string& name, const std::string& value);
  Status ReadInstruction();
  std::string JoinContinuation(int* end_line);
  bool EndsWithEscape(std::string_view line, std::string_view* before) const;
  Status ReadHeredocs(Instruction* instruction);
  Status ReadHeredocBody(Heredoc* heredoc, const Instruction& owner);
  std::string SourceOf(int first, int last) const;

  std::vector<std::string_view> lines_;
  std::string path_;
  size_t next_ = 0;  // index of the next unread line
  Dockerfile file_;
};

Expected<Dockerfile> Parser::Run() {
  file_.path = path_;
  if (Status status = ReadDirectives(); !status) return status.error();
  while (next_ < lines_.size()) {
    std::string_view line = lines_[next_];
    if (IsBlank(line) || IsComment(line)) {
      ++next_;
      continue;
    }
    if (Status status = ReadInstruction(); !status) return status.error();
  }
  return std::move(file_);
}

// Directives are comments of the form "# name=value" at the very top; the
// first line that is anything else, an unknown name included, ends them.
// Whitespace before the '#' is allowed, as BuildKit strips it first.
Status Parser::ReadDirectives() {
  static const RE2 kDirective(
      R"(^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$)");
  for (; next_ < lines_.size(); ++next_) {
    std::string name;
    std::string value;
    std::string_view line = TrimLeft(lines_[next_]);
    if (!RE2::FullMatch(line, kDirective, &name, &value)) break;
    name = Lower(name);
    if (name != "syntax" && name != "escape" && name != "check") break;
    if (Status status = AddDirective(name, value); !status) return status;
  }
  return Ok{};
}

Status Parser::AddDirective(const std::string& name, const std::string& value) {
  int line = static_cast<int>(next_) + 1;
  if (file_.FindDirective(name) != nullptr) {
    return ErrorAt(
        path_, line,
        "parser directive '" + name + "' is set twice; keep only one of them");
  }
  if (name == "escape") {
    if (value != "\\" && value != "`") {
      return ErrorAt(
          path_, line,
          "invalid escape character '" + value + "'; use '\\' or '`'");
    }
    file_.escape = value[0];
  }
  file_.directives.push_back(Directive{name, value, line});
  return Ok{};
}

// An escaped escape character at the end ("dir c:\\") does not continue
// the line, as in BuildKit.
bool Parser::EndsWithEscape(std::string_view line,
                            std::string_view* before) const {
  size_t end = line.find_last_not_of(" \t");
  if (end == std::string_view::npos || line[end] != file_.escape ||
      (end > 0 && line[end - 1] == file_.escape)) {
    return false;
  }
  *before = line.substr(0, end);
  return true;
}

// Joins a logical line the way Docker does: the escape character at the end
// of a line is removed and the next line appended directly; blank and
// comment lines inside the continuation are dropped.
std::string Parser::JoinContinuation(int* end_line) {
  std::string joined;
  bool continues = true;
  bool first = true;
  while (continues && next_ < lines_.size()) {
    std::string_view line = lines_[next_++];
    if (!first && (IsBlank(line) || IsComment(line))) continue;
    first = false;
    *end_line = static_cast<int>(next_);
    std::string_view before;
    continues = EndsWithEscape(line, &before);
    joined.append(continues ? before : line);
  }
  return joined;
}

std::string Parser::SourceOf(int first, int last) const {
  std::string source;
  for (int line = first; line <= last; ++line) {
    std::string_view text = lines_[static_cast<size_t>(line - 1)];
    source.append(text);
    // A line that still ends in '\r' had one more, taken as part of a CRLF
    // ending; put it back, so that the source parses to the same line.
    if (!text.empty() && text.back() == '\r') source.push_back('\r');
    source.push_back('\n');
  }
  return source;
}

}  // namespace

std::vector<std::string_view> RawWords(std::string_view text, char escape) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i == text.size()) break;
    size_t start = i;
    char quote = 0;
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (c == escape && quote != '\'' && i + 1 < text.size()) {
        ++i;
      } else if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == ' ' || c == '\t') {
        break;
      }
    }
    words.push_back(text.substr(start, i - start));
  }
  return words;
}

namespace {

// Moves leading "--name[=value]" words of `args` into `flags`; a bare "--"
// ends them, as in BuildKit.
std::string ExtractFlags(std::string_view args, char escape,
                         std::vector<std::string>* flags) {
  std::string_view rest = Trim(args);
  while (rest.substr(0, 2) == "--") {
    std::string_view word = RawWords(rest, escape).front();
    rest = TrimLeft(rest.substr(word.size()));
    if (word == "--") break;
    flags->emplace_back(word);
  }
  return std::string(rest);
}

std::optional<std::vector<std::string>> ParseExecForm(std::string_view args) {
  if (args.empty() || args.front() != '[') return std::nullopt;
  nlohmann::json parsed =
      nlohmann::json::parse(args, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) return std::nullopt;
  std::vector<std::string> words;
  for (const nlohmann::json& item : parsed) {
    if (!item.is_string()) return std::nullopt;
    words.push_back(item.get<std::string>());
  }
  return words;
}

// Splits "keyword args" into its parts; `line` is for messages.
Expected<Instruction> SplitInstruction(std::string_view text, char escape,
                                       const std::string& path, int line) {
  text = TrimLeft(text);
  size_t space = text.find_first_of(" \t");
  Instruction instruction;
  instruction.keyword = Lower(text.substr(0, space));
  if (!IsKnownKeyword(instruction.keyword)) {
    return ErrorAt(path, line,
                   "unknown instruction '" +
                       std::string(text.substr(0, space)) +
                       "'; see the Dockerfile reference for the list");
  }
  std::string_view rest =
      space == std::string_view::npos ? "" : text.substr(space);
  instruction.args = ExtractFlags(rest, escape, &instruction.flags);
  if (AllowsExecForm(instruction.keyword)) {
    instruction.exec_form = ParseExecForm(instruction.args);
  }
  return instruction;
}

Status CheckTrigger(const Instruction& trigger, const std::string& path,
                    int line) {
  const std::string& keyword = trigger.keyword;
  if (keyword == "onbuild") {
    return ErrorAt(path, line,
                   "'ONBUILD ONBUILD' is not allowed; remove the inner "
                   "ONBUILD");
  }
  if (keyword == "from" || keyword == "maintainer") {
    return ErrorAt(
        path, line,
        "'ONBUILD " + keyword + "' is not allowed as a trigger; remove it");
  }
  return Ok{};
}

Status Parser::ReadInstruction() {
  int first = static_cast<int>(next_) + 1;
  int end_line = first;
  std::string logical = JoinContinuation(&end_line);
  Expected<Instruction> split =
      SplitInstruction(logical, file_.escape, path_, first);
  if (!split) return split.error();
  Instruction instruction = std::move(split.value());
  instruction.line = first;
  instruction.end_line = end_line;

  if (instruction.keyword == "onbuild") {
    Expected<Instruction> trigger =
        SplitInstruction(instruction.args, file_.escape, path_, first);
    if (!trigger) return trigger.error();
    if (Status ok = CheckTrigger(*trigger, path_, first); !ok) return ok;
    trigger->line = first;
    trigger->end_line = end_line;
    instruction.trigger.push_back(std::move(trigger.value()));
  }
  if (Status status = ReadHeredocs(&instruction); !status) return status;
  instruction.source = SourceOf(first, instruction.end_line);
  file_.instructions.push_back(std::move(instruction));
  return Ok{};
}

// Finds "<<NAME", "<<-NAME", "<<'NAME'" and "<<\"NAME\"" words in the
// arguments and reads one body per marker from the lines that follow.
Status Parser::ReadHeredocs(Instruction* instruction) {
  Instruction* target = instruction->trigger.empty()
                            ? instruction
                            : &instruction->trigger.front();
  if (!AllowsHeredocs(target->keyword) || target->exec_form) return Ok{};
  // Most instructions have no heredoc; splitting their words and matching
  // each against the marker was most of the parser's time.
  if (target->args.find("<<") == std::string::npos) return Ok{};
  static const RE2 kMarker(R"(^[0-9]*<<(-?)([^<]+)$)");
  for (std::string_view word : RawWords(target->args, file_.escape)) {
    std::string dash;
    std::string name;
    if (!RE2::FullMatch(word, kMarker, &dash, &name)) continue;
    Heredoc heredoc;
    heredoc.strip_tabs = !dash.empty();
    if (name.size() >= 2 && (name.front() == '"' || name.front() == '\'') &&
        name.back() == name.front()) {
      name = name.substr(1, name.size() - 2);
      heredoc.expand = false;
    }
    heredoc.name = name;
    if (Status status = ReadHeredocBody(&heredoc, *instruction); !status) {
      return status;
    }
    instruction->end_line = target->end_line = static_cast<int>(next_);
    target->heredocs.push_back(std::move(heredoc));
  }
  return Ok{};
}

Status Parser::ReadHeredocBody(Heredoc* heredoc, const Instruction& owner) {
  while (next_ < lines_.size()) {
    std::string_view line = lines_[next_++];
    if (heredoc->strip_tabs) {
      line.remove_prefix(std::min(line.find_first_not_of('\t'), line.size()));
    }
    if (line == heredoc->name) return Ok{};
    heredoc->body.append(line);
    heredoc->body.push_back('\n');
  }
  return ErrorAt(path_, owner.line,
                 "heredoc '" + heredoc->name +
                     "' is not terminated; end its body with a line that "
                     "holds only '" +
                     heredoc->name + "'");
}

}  // namespace

Expected<Dockerfile> Parse(std::string_view text, const std::string& path) {
  if (Status status = CheckIsText(text, path); !status) return status.error();
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (text.substr(0, 3) == kByteOrderMark) text.remove_prefix(3);
  return Parser(SplitLines(text), path).Run();
}

Expected<Dockerfile> ParseFile(const std::string& path) {
  Expected<std::string> text = util::ReadFile(path);
  if (!text) return text.error();
  return Parse(*text, path);
}

}  // namespace qdi::dockerfile
