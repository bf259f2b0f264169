#pragma once

// The Dockerfile "shell lexer": the quote removal, escape processing,
// variable expansion and word splitting that BuildKit applies to instruction
// arguments ("environment replacement").  An image's identity depends on the
// exact result, so every rule here follows BuildKit's frontend, quirks
// included, rather than POSIX sh:
//
// - Single quotes keep everything literally.  Inside double quotes the escape
//   character escapes only '"', '$' and itself; before any other character
//   both characters are kept.  Outside quotes it makes the next character
//   literal and is removed; a trailing one is dropped.
// - $NAME and ${NAME} expand to the value, or to nothing when unset.  A name
//   is [A-Za-z_][A-Za-z0-9_]*, a run of digits ($1, $12), or one of the
//   special characters @ * # ? - $ ! 0.  Positional and special names are
//   looked up like any other and are normally unset, so "$1" expands to "".
//   '$' before any other character is a literal '$'.
// - ${NAME:-w} ${NAME-w} ${NAME:+w} ${NAME+w} ${NAME:?w} ${NAME?w} behave as
//   in sh, except that w is always expanded (so ${A:-${B?}} fails when B is
//   unset even if A is set).  ${NAME#p} ${NAME##p} ${NAME%p} ${NAME%%p}
//   remove the shortest or longest matching prefix or suffix, and
//   ${NAME/p/r} ${NAME//p/r} replace the first or every longest match.
//   Patterns know '*', '?' and backslash escapes of '*', '?' and '\'; the
//   escape character is kept in patterns and replacements (BuildKit keeps it,
//   and reads pattern escapes as backslashes whatever the escape character).
// - Word splitting happens on unquoted whitespace, including whitespace that
//   comes from an unquoted expansion.  Empty words are dropped, even quoted
//   ones: `COPY "" dst` has one word, as in BuildKit.
//
// Error messages are lowercase, carry no file or line (the caller prefixes
// "file:line: ") and quote the processed text, except for ${NAME?message},
// whose message is the user's own: "NAME: message".

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/expected.hpp"

namespace qdi::dockerfile {

// Values visible to an expansion; a name that is absent is unset.
using Variables = std::map<std::string, std::string, std::less<>>;

// One word, as FROM's image or an ARG/ENV value is processed: quotes
// removed, escapes applied, variables expanded, whitespace kept.
Expected<std::string> ExpandWord(std::string_view text, char escape,
                                 const Variables& vars);

// Shell-form arguments split into words as COPY/ADD sources are: like
// ExpandWord, then split on unquoted whitespace.
Expected<std::vector<std::string>> ExpandWords(std::string_view text,
                                               char escape,
                                               const Variables& vars);

// Names of the variables the text refers to (in ${A:-$B} both A and B), in
// order of first appearance, without duplicates; used to decide which build
// arguments an image depends on.  These are exactly the names an expansion
// looks up, so positional and special names ("1", "#") are included.  Never
// fails: on malformed text it returns what it found before the error.
std::vector<std::string> ReferencedVariables(std::string_view text,
                                             char escape);

}  // namespace qdi::dockerfile
