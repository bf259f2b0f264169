#include "dockerfile/parser.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

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
  for (std::string_view json :
       {"run", "cmd", "entrypoint", "shell", "copy", "add", "volume"}) {
    if (keyword == json) return true;
  }
  return false;
}

// The whitespace helpers loop themselves: find_first_not_of(" \t") calls
// memchr once per character, a quarter of a big file's parse.
bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimLeft(std::string_view text) {
  size_t start = 0;
  while (start < text.size() && IsSpace(text[start])) ++start;
  return text.substr(start);
}

std::string_view TrimRight(std::string_view text) {
  size_t end = text.size();
  while (end > 0 && IsSpace(text[end - 1])) --end;
  return text.substr(0, end);
}

std::string_view Trim(std::string_view text) {
  return TrimRight(TrimLeft(text));
}

// Blank and comment lines are skipped alike, between instructions and
// inside continuations.
bool IsBlankOrComment(std::string_view line) {
  std::string_view trimmed = TrimLeft(line);
  return trimmed.empty() || trimmed.front() == '#';
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

int LineAt(std::string_view text, size_t offset) {
  auto end = text.begin() + static_cast<std::ptrdiff_t>(offset);
  return 1 + static_cast<int>(std::count(text.begin(), end, '\n'));
}

// True when none of the 32 bytes at `p` is above 0x7F: most of a
// Dockerfile is ASCII, checked four words at a time.
bool IsAsciiBlock(const char* p) {
  uint64_t words[4];
  std::memcpy(words, p, sizeof words);
  constexpr uint64_t kHigh = 0x8080808080808080;
  return ((words[0] | words[1] | words[2] | words[3]) & kHigh) == 0;
}

// Says what is wrong at the first byte that is not UTF-8 text.  NUL
// bytes are found by memchr, which scans far faster than a loop; the loop
// then only has to tell ASCII from the rest, up to the first NUL.
Status CheckIsText(std::string_view text, const std::string& path) {
  const void* nul = std::memchr(text.data(), '\0', text.size());
  size_t end = nul ? static_cast<const char*>(nul) - text.data() : text.size();
  for (size_t i = 0; i < end;) {
    if (i + 32 <= end && IsAsciiBlock(text.data() + i)) {
      i += 32;
      continue;
    }
    size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      return ErrorAt(path, LineAt(text, i),
                     "is not valid UTF-8; save the file as UTF-8 text");
    }
    i += length;
  }
  if (nul != nullptr) {
    return ErrorAt(path, LineAt(text, end),
                   "contains a NUL byte, so it is not a text file; "
                   "check that this is the Dockerfile you meant");
  }
  return Ok{};
}

// An upper bound on the instructions of `text`: lines that start with
// neither a blank nor '#'.  Reserving that many keeps the instructions
// from being moved as they grow, which for a big file doubled their
// memory for a moment.
size_t EstimateInstructions(std::string_view text) {
  size_t count = 0;
  for (size_t start = 0; start < text.size();) {
    char c = text[start];
    if (c != ' ' && c != '\t' && c != '#' && c != '\n' && c != '\r') ++count;
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return count;
}

// Walks the lines of one file, producing directives and then instructions.
// Lines are views of the text, read one at a time.
class Parser {
 public:
  Parser(std::shared_ptr<SourceBuffer> buffer, std::string_view text,
         std::string path)
      : text_(text), path_(std::move(path)) {
    file_.buffer = std::move(buffer);
  }

  Expected<Dockerfile> Run();

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  size_t LineEnd();
  std::string_view PeekLine();
  std::string_view NextLine();
  Status ReadDirectives();
  Status AddDirective(const std::string& name, const std::string& value);
  Status ReadInstruction();
  std::string JoinContinuation(int* end_line, size_t* end_pos);
  bool EndsWithEscape(std::string_view line, std::string_view* before) const;
  Status ReadHeredocs(Instruction* instruction, size_t* end_pos);
  Status ReadHeredocBody(Heredoc* heredoc, const Instruction& owner);
  std::string_view SourceOf(size_t start, size_t end);

  std::string_view text_;
  std::string path_;
  size_t pos_ = 0;   // offset of the next unread line
  size_t next_ = 0;  // index of the next unread line
  // Where the line at end_of_ ends, so that a line peeked at and then read
  // is searched for its '\n' once.
  size_t end_of_ = std::string_view::npos;
  size_t end_ = 0;
  std::vector<std::string_view> pieces_;  // reused by JoinContinuation
  Dockerfile file_;
};

// The offset of the '\n' that ends the line at pos_, or the text's size.
size_t Parser::LineEnd() {
  if (end_of_ != pos_) {
    end_of_ = pos_;
    end_ = std::min(text_.find('\n', pos_), text_.size());
  }
  return end_;
}

// The line at pos_, without its '\n' and one '\r' before it.
std::string_view Parser::PeekLine() {
  std::string_view line = text_.substr(pos_, LineEnd() - pos_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string_view Parser::NextLine() {
  std::string_view line = PeekLine();
  pos_ = std::min(LineEnd() + 1, text_.size());
  ++next_;
  return line;
}

Expected<Dockerfile> Parser::Run() {
  file_.path = path_;
  file_.instructions.reserve(EstimateInstructions(text_));
  if (Status status = ReadDirectives(); !status) return status.error();
  while (!AtEnd()) {
    std::string_view line = PeekLine();
    if (IsBlankOrComment(line)) {
      NextLine();
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
  for (; !AtEnd(); NextLine()) {
    std::string name;
    std::string value;
    std::string_view line = TrimLeft(PeekLine());
    // Only a comment with a '=' can be a directive; RE2 need not see
    // anything else, such as the comments that head most Dockerfiles.
    if (line.empty() || line.front() != '#') break;
    if (line.find('=') == std::string_view::npos) break;
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
  std::string_view trimmed = TrimRight(line);
  size_t size = trimmed.size();
  if (size == 0 || trimmed[size - 1] != file_.escape ||
      (size > 1 && trimmed[size - 2] == file_.escape)) {
    return false;
  }
  *before = line.substr(0, size - 1);
  return true;
}

// Joins a logical line the way Docker does: the escape character at the end
// of a line is removed and the next line appended directly; blank and
// comment lines inside the continuation are dropped.
std::string Parser::JoinContinuation(int* end_line, size_t* end_pos) {
  // The pieces are found first and copied once into a string of their
  // size: appending line by line grew and copied it several times.
  pieces_.clear();
  size_t size = 0;
  bool continues = true;
  bool first = true;
  while (continues && !AtEnd()) {
    std::string_view line = NextLine();
    if (!first && IsBlankOrComment(line)) continue;
    first = false;
    *end_line = static_cast<int>(next_);
    *end_pos = pos_;
    std::string_view before;
    continues = EndsWithEscape(line, &before);
    pieces_.push_back(continues ? before : line);
    size += pieces_.back().size();
  }
  std::string joined;
  joined.reserve(size);
  for (std::string_view piece : pieces_) joined.append(piece);
  return joined;
}

// The bytes start..end of the text, when they already have the form of
// `source`; else that form, kept in the buffer.
std::string_view Parser::SourceOf(size_t start, size_t end) {
  std::string_view raw = text_.substr(start, end - start);
  bool plain = !raw.empty() && raw.back() == '\n' &&
               raw.find('\r') == std::string_view::npos;
  if (plain) return raw;
  std::string source;
  while (!raw.empty()) {
    size_t newline = raw.find('\n');
    std::string_view line = raw.substr(0, newline);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    source.append(line);
    // A line that still ends in '\r' had one more, taken as part of a CRLF
    // ending; put it back, so that the source parses to the same line.
    if (!line.empty() && line.back() == '\r') source.push_back('\r');
    source.push_back('\n');
    raw.remove_prefix(newline == std::string_view::npos ? raw.size()
                                                        : newline + 1);
  }
  return file_.buffer->rewritten.emplace_back(std::move(source));
}

// The word that starts at or after `*i`, which is left past its end: words
// end at unquoted blanks, and quotes and escapes are kept as written.
std::string_view NextRawWord(std::string_view text, char escape, size_t* i) {
  while (*i < text.size() && (text[*i] == ' ' || text[*i] == '\t')) ++*i;
  size_t start = *i;
  char quote = 0;
  for (; *i < text.size(); ++*i) {
    char c = text[*i];
    if (c == escape && quote != '\'' && *i + 1 < text.size()) {
      ++*i;
    } else if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == ' ' || c == '\t') {
      break;
    }
  }
  return text.substr(start, *i - start);
}

}  // namespace

std::vector<std::string_view> RawWords(std::string_view text, char escape) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (true) {
    std::string_view word = NextRawWord(text, escape, &i);
    if (word.empty()) break;
    words.push_back(word);
  }
  return words;
}

std::string_view FirstRawWord(std::string_view text, char escape) {
  size_t i = 0;
  return NextRawWord(text, escape, &i);
}

namespace {

// Moves leading "--name[=value]" words of `args` into `flags`, a bare "--"
// ending them as in BuildKit, and returns the rest, trimmed.
std::string_view ExtractFlags(std::string_view args, char escape,
                              std::vector<std::string>* flags) {
  std::string_view rest = Trim(args);
  while (rest.substr(0, 2) == "--") {
    std::string_view word = FirstRawWord(rest, escape);
    rest = TrimLeft(rest.substr(word.size()));
    if (word == "--") break;
    flags->emplace_back(word);
  }
  return rest;
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

// Splits "keyword args" into its parts; `line` is for messages.  The
// arguments are cut out of `logical` in place, so that its bytes are not
// copied again.
Expected<Instruction> SplitInstruction(std::string logical, char escape,
                                       const std::string& path, int line) {
  std::string_view text = TrimLeft(logical);
  size_t space = 0;
  while (space < text.size() && !IsSpace(text[space])) ++space;
  if (space == text.size()) space = std::string_view::npos;
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
  std::string_view args = ExtractFlags(rest, escape, &instruction.flags);
  size_t offset = args.empty() ? 0 : args.data() - logical.data();
  logical.resize(offset + args.size());
  logical.erase(0, offset);
  instruction.args = std::move(logical);
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
  size_t start = pos_;
  size_t end_pos = pos_;
  std::string logical = JoinContinuation(&end_line, &end_pos);
  Expected<Instruction> split =
      SplitInstruction(std::move(logical), file_.escape, path_, first);
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
  if (Status status = ReadHeredocs(&instruction, &end_pos); !status) {
    return status;
  }
  instruction.source = SourceOf(start, end_pos);
  file_.instructions.push_back(std::move(instruction));
  return Ok{};
}

// Finds "<<NAME", "<<-NAME", "<<'NAME'" and "<<\"NAME\"" words in the
// arguments and reads one body per marker from the lines that follow.
Status Parser::ReadHeredocs(Instruction* instruction, size_t* end_pos) {
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
    *end_pos = pos_;
    target->heredocs.push_back(std::move(heredoc));
  }
  return Ok{};
}

Status Parser::ReadHeredocBody(Heredoc* heredoc, const Instruction& owner) {
  while (!AtEnd()) {
    std::string_view line = NextLine();
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
  return ParseBuffer(std::string(text), path);
}

Expected<Dockerfile> ParseBuffer(std::string text, const std::string& path) {
  return ParseBuffer(util::FileBytes(std::move(text)), path);
}

Expected<Dockerfile> ParseBuffer(util::FileBytes text,
                                 const std::string& path) {
  if (Status status = CheckIsText(text.view(), path); !status) {
    return status.error();
  }
  auto buffer = std::make_shared<SourceBuffer>();
  buffer->text = std::move(text);
  std::string_view view = buffer->text.view();
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (view.substr(0, 3) == kByteOrderMark) view.remove_prefix(3);
  return Parser(std::move(buffer), view, path).Run();
}

Expected<Dockerfile> ParseFile(const std::string& path) {
  Expected<util::FileBytes> text = util::ReadFileBytes(path);
  if (!text) return text.error();
  return ParseBuffer(std::move(text.value()), path);
}

}  // namespace qdi::dockerfile
