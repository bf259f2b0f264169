#pragma once

// The syntax tree of one Dockerfile, as the Dockerfile reference defines it:
// parser directives, then instructions with their flags, arguments, JSON
// (exec) form and heredocs.  Nothing here knows about stages or images; that
// is the job of the layers above.

#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/files.hpp"

namespace qdi::dockerfile {

struct Directive {
  std::string name;  // lower case: "syntax", "escape" or "check"
  std::string value;
  int line = 0;
};

struct Heredoc {
  std::string name;         // the delimiter, quotes removed
  bool strip_tabs = false;  // "<<-": leading tabs removed from the body
  bool expand = true;       // false when the delimiter was quoted
  std::string body;         // every line ends with '\n'
};

struct Instruction {
  std::string keyword;             // lower case, as in "from"
  int line = 0;                    // first line of the instruction
  int end_line = 0;                // last line, heredoc terminators included
  std::vector<std::string> flags;  // as written: "--from=build"
  std::string args;  // continuation lines joined, comments removed, trimmed
  std::optional<std::vector<std::string>> exec_form;  // the JSON form
  std::vector<Heredoc> heredocs;
  // ONBUILD holds the instruction it registers; empty for everything else.
  std::vector<Instruction> trigger;
  // The source lines line..end_line, with '\n' endings; a CRLF ending's
  // '\r' is dropped, and put back where the line still ended in '\r'.
  // It points into the SourceBuffer of the Dockerfile it was parsed from,
  // which must outlive it.
  std::string_view source;
};

// The bytes that instructions' `source` views point into: the file's text,
// and the lines whose endings had to change, rewritten.  Views keep it
// from being copied line by line: a 100 MB file is held once.
struct SourceBuffer {
  util::FileBytes text;
  // A list never moves its strings, and unlike a deque an empty one
  // allocates nothing: most files have no line to rewrite.
  std::list<std::string> rewritten;
};

struct Dockerfile {
  std::string path;
  char escape = '\\';
  std::vector<Directive> directives;
  std::vector<Instruction> instructions;
  // Shared by copies of this Dockerfile, so that their views stay valid.
  std::shared_ptr<SourceBuffer> buffer;

  const Directive* FindDirective(const std::string& name) const;
};

}  // namespace qdi::dockerfile
