#pragma once

// Parses Dockerfile text the way BuildKit's frontend does: parser
// directives only at the top, the escape character they choose, line
// continuations with comment and blank lines inside them dropped, heredocs
// whose bodies are kept verbatim, case-insensitive keywords, flags, and the
// JSON form.  Errors name "path:line:".

#include <string>
#include <string_view>
#include <vector>

#include "dockerfile/syntax.hpp"
#include "util/expected.hpp"
#include "util/files.hpp"

namespace qdi::dockerfile {

// Parses `text`, read from `path` (used in messages only).  Refuses text
// that is not UTF-8 or holds NUL bytes, since Docker would misread it.
Expected<Dockerfile> Parse(std::string_view text, const std::string& path);

// Parse, taking `text` over instead of copying it: the instructions'
// sources point into it.
Expected<Dockerfile> ParseBuffer(std::string text, const std::string& path);
Expected<Dockerfile> ParseBuffer(util::FileBytes text, const std::string& path);

// Splits `text` at unquoted whitespace, keeping quotes and escapes as they
// are.  Flags, heredoc markers and "FROM image AS name" are found this way.
std::vector<std::string_view> RawWords(std::string_view text, char escape);

// RawWords(text, escape).front(), or "" when there is no word, without
// splitting the rest: a long legacy "ENV NAME value ..." needs only its name.
std::string_view FirstRawWord(std::string_view text, char escape);

// Reads and parses the file at `path`.
Expected<Dockerfile> ParseFile(const std::string& path);

}  // namespace qdi::dockerfile
