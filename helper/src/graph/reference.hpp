#pragma once

// Image references as Docker reads them ("registry:5000/ns/name:tag@digest")
// and the rule that maps some of them to Dockerfiles of our own folders:
// "<prefix>NAME" or "<prefix>NAME:latest" names NAME.docker.

#include <optional>
#include <string>
#include <vector>

#include "util/expected.hpp"

namespace qdi::graph {

// True when `text` is a valid reference in Docker's grammar.
bool IsValidReference(const std::string& text);

// True when `name` can be a local image: one lower-case path component.
bool IsValidLocalName(const std::string& name);

// If `image` starts with one of `prefixes`, returns the local image name it
// designates, or an error message (without location) saying why the name
// cannot be local: not a reference, a sub-folder, a tag other than latest.
// Returns nullopt for images that are not ours.
std::optional<Expected<std::string>> LocalImageName(
    const std::string& image, const std::vector<std::string>& prefixes);

}  // namespace qdi::graph
