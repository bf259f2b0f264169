#include "dockerfile/shell_words.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>

namespace qdi::dockerfile {
namespace {

// Length of the UTF-8 sequence starting at text[pos].  BuildKit reads runes,
// so '?' in a pattern and the character after an escape are whole
// characters, not bytes.  Malformed sequences count one byte at a time.
size_t CharLength(std::string_view text, size_t pos) {
  auto lead = static_cast<unsigned char>(text[pos]);
  size_t length = 1;
  if (lead >= 0xF0) {
    length = 4;
  } else if (lead >= 0xE0) {
    length = 3;
  } else if (lead >= 0xC0) {
    length = 2;
  }
  if (pos + length > text.size()) return 1;
  for (size_t i = 1; i < length; ++i) {
    if ((static_cast<unsigned char>(text[pos + i]) & 0xC0) != 0x80) return 1;
  }
  return length;
}

bool IsCharStart(std::string_view text, size_t pos) {
  if (pos >= text.size()) return true;
  return (static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80;
}

// Go's unicode.IsSpace, which BuildKit splits words on: ASCII white space
// plus NEL and NO-BREAK SPACE.
bool IsSpace(std::string_view ch) {
  if (ch.size() == 1) {
    return ch[0] == ' ' || (ch[0] >= '\t' && ch[0] <= '\r');
  }
  return ch == "\xC2\x85" || ch == "\xC2\xA0";
}

// The operators ${NAME<op>word} knows besides '/'.
bool IsOperator(char c) {
  return std::string_view("-+?#%").find(c) != std::string_view::npos;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsNameChar(char c) {
  return IsDigit(c) || c == '_' || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

// The one-character names POSIX calls special parameters.
bool IsSpecialName(char c) {
  return std::string_view("@*#?-$!0").find(c) != std::string_view::npos;
}

// Quotes text for an error message much as Go's %q does, so the user sees
// roughly the rendering BuildKit shows.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
      out += hex;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Collects words the way BuildKit's ProcessWords does: text that may be
// split (unquoted characters and unquoted expansions) ends a word at white
// space, text that may not (quoted or escaped) never does, and a word is
// only kept when it is not empty.
class WordSplitter {
 public:
  void AddSplittable(std::string_view text) {
    for (size_t pos = 0; pos < text.size();) {
      size_t length = CharLength(text, pos);
      AddChar(text.substr(pos, length));
      pos += length;
    }
  }

  void AddLiteral(std::string_view text) {
    word_ += text;
    in_word_ = true;
  }

  std::vector<std::string> Finish() {
    if (!word_.empty()) words_.push_back(std::move(word_));
    return std::move(words_);
  }

 private:
  void AddChar(std::string_view ch) {
    if (!IsSpace(ch)) {
      AddLiteral(ch);
      return;
    }
    // White space right after an empty quoted string ends nothing.
    if (!in_word_ || word_.empty()) return;
    words_.push_back(std::move(word_));
    word_.clear();
    in_word_ = false;
  }

  std::string word_;
  bool in_word_ = false;
  std::vector<std::string> words_;
};

// A shell pattern as ${NAME#p}, ${NAME%p} and ${NAME/p/r} use it.
struct PatternToken {
  enum Kind { kLiteral, kAnyChar, kAnyString };
  Kind kind;
  char byte = 0;
};
using Pattern = std::vector<PatternToken>;

// Reads BuildKit's pattern syntax.  A backslash before '}' or '/' only kept
// the lexer from ending the pattern there and is dropped; before '*', '?'
// or '\' it makes that character literal; anything else is an error.
Expected<Pattern> CompilePattern(std::string_view text) {
  Pattern pattern;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '*') {
      pattern.push_back({PatternToken::kAnyString});
    } else if (c == '?') {
      pattern.push_back({PatternToken::kAnyChar});
    } else if (c != '\\') {
      pattern.push_back({PatternToken::kLiteral, c});
    } else if (i + 1 < text.size() &&
               (text[i + 1] == '}' || text[i + 1] == '/')) {
      continue;
    } else if (i + 1 < text.size() &&
               std::string_view("*?\\").find(text[i + 1]) !=
                   std::string_view::npos) {
      pattern.push_back({PatternToken::kLiteral, text[++i]});
    } else {
      return Error{"invalid escape in pattern " + Quote(text)};
    }
  }
  return pattern;
}

// Positions in value where a match of pattern starting at start can end;
// ends[i] is true when value[start, i) matches.
std::vector<bool> MatchEnds(const Pattern& pattern, std::string_view value,
                            size_t start) {
  std::vector<bool> ends(value.size() + 1, false);
  ends[start] = true;
  for (const PatternToken& token : pattern) {
    std::vector<bool> next(value.size() + 1, false);
    for (size_t i = 0; i <= value.size(); ++i) {
      if (!ends[i]) continue;
      if (token.kind == PatternToken::kAnyString) {
        for (size_t j = i; j <= value.size(); ++j) {
          if (IsCharStart(value, j)) next[j] = true;
        }
        break;
      }
      if (i == value.size()) continue;
      if (token.kind == PatternToken::kAnyChar) {
        next[i + CharLength(value, i)] = true;
      } else if (value[i] == token.byte) {
        next[i + 1] = true;
      }
    }
    ends = std::move(next);
  }
  return ends;
}

// ${NAME#p} and ${NAME##p}: drops the shortest or longest matching prefix.
std::string TrimPrefix(const std::string& value, const Pattern& pattern,
                       bool longest) {
  std::vector<bool> ends = MatchEnds(pattern, value, 0);
  auto first = std::find(ends.begin(), ends.end(), true);
  if (first == ends.end()) return value;
  auto last = std::find(ends.rbegin(), ends.rend(), true);
  size_t end = longest ? static_cast<size_t>(ends.rend() - last) - 1
                       : static_cast<size_t>(first - ends.begin());
  return value.substr(end);
}

// ${NAME%p} and ${NAME%%p}: drops the shortest or longest matching suffix,
// trying start positions from the end (shortest) or the front (longest).
std::string TrimSuffix(const std::string& value, const Pattern& pattern,
                       bool longest) {
  size_t size = value.size();
  for (size_t k = 0; k <= size; ++k) {
    size_t start = longest ? k : size - k;
    if (!IsCharStart(value, start)) continue;
    if (MatchEnds(pattern, value, start)[size]) return value.substr(0, start);
  }
  return value;
}

struct Match {
  size_t start;
  size_t end;
};

// The leftmost match at or after from, extended as far as it goes, as Go's
// regexp finds it for the greedy expression BuildKit builds.
std::optional<Match> FindMatch(const Pattern& pattern, std::string_view value,
                               size_t from) {
  for (size_t start = from; start <= value.size(); ++start) {
    if (!IsCharStart(value, start)) continue;
    std::vector<bool> ends = MatchEnds(pattern, value, start);
    auto last = std::find(ends.rbegin(), ends.rend(), true);
    if (last == ends.rend()) continue;
    return Match{start, static_cast<size_t>(ends.rend() - last) - 1};
  }
  return std::nullopt;
}

// ${NAME/p/r} and ${NAME//p/r}.  Replacing every match follows Go's
// ReplaceAllString: an empty match right after the previous match is not
// replaced, and the search always moves on by at least one character.  The
// replacement is inserted literally; Go would also expand "$1" in it.
std::string Replace(const std::string& value, const Pattern& pattern,
                    std::string_view replacement, bool all) {
  std::string out;
  size_t copied = 0;
  size_t search = 0;
  while (search <= value.size()) {
    std::optional<Match> match = FindMatch(pattern, value, search);
    if (!match) break;
    out.append(value, copied, match->start - copied);
    if (match->end > copied || match->start == 0) out += replacement;
    copied = match->end;
    if (!all) break;

    size_t step = search < value.size() ? CharLength(value, search) : 1;
    search = std::max(search + step, match->end);
  }
  return out + value.substr(copied);
}

// Reads one text left to right, expanding as it goes; one method per
// construct, named after it.  Without variables it only records which names
// the text uses and ignores the failures that depend on values.
class Lexer {
 public:
  Lexer(std::string_view text, char escape, const Variables* vars)
      : text_(text), escape_(escape), vars_(vars) {}

  Expected<std::string> Expand(WordSplitter* words) {
    return Text(std::nullopt, false, words);
  }

  const std::vector<std::string>& referenced() const { return referenced_; }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  std::string_view NextChar() {
    std::string_view ch = text_.substr(pos_, CharLength(text_, pos_));
    pos_ += ch.size();
    return ch;
  }

  Error Fail(std::string_view what) const {
    return Error{std::string(what) + " in " + Quote(text_)};
  }

  Expected<std::string> Text(std::optional<char> stop, bool raw,
                             WordSplitter* words);
  Expected<std::string> TextUntil(char stop, bool raw,
                                  std::string_view missing);
  Status Step(std::string& out, WordSplitter* words);
  void Escaped(std::string& out, WordSplitter* words);
  Expected<std::string> SingleQuoted();
  Expected<std::string> DoubleQuoted();
  void EscapedInQuotes(std::string& out);
  Expected<std::string> Dollar();
  Expected<std::string> Braced();
  Expected<std::string> Modified(const std::string& name, std::string_view op,
                                 bool colon);
  Expected<std::string> Required(const std::string& name,
                                 const std::string& message, bool colon);
  Expected<std::string> Trimmed(const std::string& name,
                                const std::string& word, char op);
  Expected<std::string> Replaced(const std::string& name);
  std::string Name();
  const std::string* Lookup(const std::string& name) const;

  std::string_view text_;
  char escape_;
  const Variables* vars_;
  size_t pos_ = 0;
  // Inside patterns and replacements BuildKit keeps escape characters, so
  // that the pattern reader still sees "\*"; quoted text inherits this.
  bool raw_ = false;
  std::vector<std::string> referenced_;
};

// Reads up to the unquoted, unescaped stop character (consumed), or to the
// end of the text.  Running out of text before stop is an error whose
// message the caller words.
Expected<std::string> Lexer::Text(std::optional<char> stop, bool raw,
                                  WordSplitter* words) {
  bool outer_raw = std::exchange(raw_, raw);
  std::string out;
  while (!AtEnd() && Peek() != stop) {
    Status status = Step(out, words);
    if (!status) {
      raw_ = outer_raw;
      return status.error();
    }
  }
  raw_ = outer_raw;
  if (!stop) return out;
  if (AtEnd()) return Fail("unexpected end");
  ++pos_;
  return out;
}

// The words inside ${...}.  As in BuildKit, any failure that leaves the
// text exhausted (an unterminated quote included) is reported as the
// missing delimiter, which is the more likely mistake.
Expected<std::string> Lexer::TextUntil(char stop, bool raw,
                                       std::string_view missing) {
  Expected<std::string> word = Text(stop, raw, nullptr);
  if (!word && AtEnd()) return Fail(missing);
  return word;
}

// One construct of unquoted text.  Expansions may be split into words,
// quoted text may not.
Status Lexer::Step(std::string& out, WordSplitter* words) {
  char c = Peek();
  if (c == '$' || c == '\'' || c == '"') {
    Expected<std::string> part = c == '$'   ? Dollar()
                                 : c == '"' ? DoubleQuoted()
                                            : SingleQuoted();
    if (!part) return part.error();
    out += *part;
    if (words && c == '$') words->AddSplittable(*part);
    if (words && c != '$') words->AddLiteral(*part);
  } else if (c == escape_) {
    Escaped(out, words);
  } else {
    std::string_view ch = NextChar();
    out += ch;
    if (words) words->AddSplittable(ch);
  }
  return Ok{};
}

// Outside quotes the escape character makes the next character literal.
// At the very end there is nothing to escape and it is dropped.
void Lexer::Escaped(std::string& out, WordSplitter* words) {
  ++pos_;
  if (raw_) {
    out += escape_;
    if (words) words->AddLiteral(std::string_view(&escape_, 1));
  }
  if (AtEnd()) return;
  std::string_view ch = NextChar();
  out += ch;
  if (words) words->AddLiteral(ch);
}

Expected<std::string> Lexer::SingleQuoted() {
  size_t close = text_.find('\'', pos_ + 1);
  if (close == std::string_view::npos) {
    pos_ = text_.size();
    return Fail("unterminated single quote");
  }
  std::string out(text_.substr(pos_ + 1, close - pos_ - 1));
  pos_ = close + 1;
  return out;
}

Expected<std::string> Lexer::DoubleQuoted() {
  ++pos_;
  std::string out;
  while (!AtEnd() && Peek() != '"') {
    if (Peek() == '$') {
      Expected<std::string> value = Dollar();
      if (!value) return value;
      out += *value;
    } else if (Peek() == escape_) {
      EscapedInQuotes(out);
    } else {
      out += NextChar();
    }
  }
  if (AtEnd()) return Fail("unterminated double quote");
  ++pos_;
  return out;
}

// Inside double quotes the escape character only escapes '"', '$' and
// itself.  Before anything else BuildKit keeps it (twice in raw mode, where
// it is kept once anyway), and the next character is read normally.
void Lexer::EscapedInQuotes(std::string& out) {
  ++pos_;
  if (raw_) out += escape_;
  if (AtEnd()) return;
  char next = Peek();
  if (next == '"' || next == '$' || next == escape_) {
    out += next;
    ++pos_;
  } else {
    out += escape_;
  }
}

// $NAME, ${...}, or a literal '$' when no name follows.
Expected<std::string> Lexer::Dollar() {
  ++pos_;
  if (!AtEnd() && Peek() == '{') {
    ++pos_;
    return Braced();
  }
  std::string name = Name();
  if (name.empty()) return std::string("$");
  const std::string* value = Lookup(name);
  return value ? *value : std::string();
}

// What follows "${": a name, then '}' or an operator.
Expected<std::string> Lexer::Braced() {
  if (AtEnd()) return Fail("missing '}'");
  if (Peek() == '{' || Peek() == '}' || Peek() == ':') {
    return Fail("bad substitution");
  }
  std::string name = Name();
  if (AtEnd()) return Fail("missing '}'");

  std::string_view op = NextChar();
  if (op == "}") {
    const std::string* value = Lookup(name);
    return value ? *value : std::string();
  }
  if (op == "/") return Replaced(name);
  if (op != ":") return Modified(name, op, false);

  // BuildKit would read on for a '}' and then reject the operator ":}";
  // the text most likely meant an empty ${NAME:}.
  if (AtEnd()) return Fail("missing '}'");
  if (Peek() == '}') return Fail("bad substitution");
  return Modified(name, NextChar(), true);
}

// The operators that take one word: - + ? # % and their ':' variants.  As in
// BuildKit, an unknown operator after ':' is only rejected once its word has
// been read, and the word is expanded even when the value makes it unused.
Expected<std::string> Lexer::Modified(const std::string& name,
                                      std::string_view op, bool colon) {
  bool known = op.size() == 1 && IsOperator(op[0]);
  std::string shown = (colon ? ":" : "") + std::string(op);
  if (!known && !colon) return Fail("unsupported modifier " + Quote(shown));
  bool pattern = op == "#" || op == "%";
  Expected<std::string> word = TextUntil('}', pattern, "missing '}'");
  if (!word) return word;
  if (!known) return Fail("unsupported modifier " + Quote(shown));
  if (!vars_) return std::string();

  const std::string* value = Lookup(name);
  bool empty = !value || (colon && value->empty());
  if (op == "-") return empty ? *word : *value;
  if (op == "+") return empty ? std::string() : *word;
  if (op == "?") return Required(name, *word, colon);
  return Trimmed(name, *word, op[0]);
}

// ${NAME?message}: BuildKit's wording, with the user's message when given.
Expected<std::string> Lexer::Required(const std::string& name,
                                      const std::string& message, bool colon) {
  const std::string* value = Lookup(name);
  if (value && !(colon && value->empty())) return *value;
  std::string what = message;
  if (what.empty()) {
    what = value ? "is not allowed to be empty" : "is not allowed to be unset";
  }
  return Error{name + ": " + what};
}

// ${NAME#p} ${NAME##p} ${NAME%p} ${NAME%%p}: a doubled operator asks for
// the longest match.
Expected<std::string> Lexer::Trimmed(const std::string& name,
                                     const std::string& word, char op) {
  bool longest = !word.empty() && word[0] == op;
  Expected<Pattern> pattern =
      CompilePattern(std::string_view(word).substr(longest ? 1 : 0));
  if (!pattern) return Fail(pattern.error().message);

  const std::string* found = Lookup(name);
  std::string value = found ? *found : std::string();
  if (op == '#') return TrimPrefix(value, *pattern, longest);
  return TrimSuffix(value, *pattern, longest);
}

// ${NAME/p/r} and ${NAME//p/r}.  BuildKit requires the second '/'.
Expected<std::string> Lexer::Replaced(const std::string& name) {
  bool all = !AtEnd() && Peek() == '/';
  if (all) ++pos_;
  Expected<std::string> pattern = TextUntil('/', true, "missing '/'");
  if (!pattern) return pattern;
  Expected<std::string> replacement = TextUntil('}', true, "missing '}'");
  if (!replacement) return replacement;
  if (!vars_) return std::string();

  Expected<Pattern> compiled = CompilePattern(*pattern);
  if (!compiled) return Fail(compiled.error().message);
  const std::string* found = Lookup(name);
  std::string value = found ? *found : std::string();
  return Replace(value, *compiled, *replacement, all);
}

// A name after '$': a run of digits, one special character, or a letter or
// '_' followed by letters, digits and '_'.  Every name read is recorded,
// because every one is looked up.
//
// TODO: BuildKit also accepts non-ASCII letters and digits in names
// ($café); here such a name ends at its first non-ASCII byte, so those
// rare Dockerfiles expand differently.
std::string Lexer::Name() {
  size_t start = pos_;
  if (!AtEnd() && IsDigit(Peek())) {
    while (!AtEnd() && IsDigit(Peek())) ++pos_;
  } else if (!AtEnd() && IsSpecialName(Peek())) {
    ++pos_;
  } else {
    while (!AtEnd() && IsNameChar(Peek())) ++pos_;
  }
  std::string name(text_.substr(start, pos_ - start));
  bool seen = std::find(referenced_.begin(), referenced_.end(), name) !=
              referenced_.end();
  if (!name.empty() && !seen) referenced_.push_back(name);
  return name;
}

const std::string* Lexer::Lookup(const std::string& name) const {
  if (!vars_) return nullptr;
  auto found = vars_->find(name);
  return found == vars_->end() ? nullptr : &found->second;
}

}  // namespace

Expected<std::string> ExpandWord(std::string_view text, char escape,
                                 const Variables& vars) {
  // With no quote, escape or '$' there is nothing to remove or expand, and
  // ExpandWord keeps whitespace: the text is the word.  Most ENV and ARG
  // values are such, and lexing them was a tenth of a folder's checksum.
  bool plain = std::none_of(text.begin(), text.end(), [escape](char c) {
    return c == '$' || c == '\'' || c == '"' || c == escape;
  });
  if (plain) return std::string(text);
  return Lexer(text, escape, &vars).Expand(nullptr);
}

Expected<std::vector<std::string>> ExpandWords(std::string_view text,
                                               char escape,
                                               const Variables& vars) {
  WordSplitter words;
  Expected<std::string> expanded = Lexer(text, escape, &vars).Expand(&words);
  if (!expanded) return expanded.error();
  return words.Finish();
}

std::vector<std::string> ReferencedVariables(std::string_view text,
                                             char escape) {
  Lexer lexer(text, escape, nullptr);
  static_cast<void>(lexer.Expand(nullptr));
  return lexer.referenced();
}

}  // namespace qdi::dockerfile
