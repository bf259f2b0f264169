#pragma once

// The JSON dump of what the parser understood, for `parse --json`.

#include <string>

#include "dockerfile/syntax.hpp"

namespace qdi::cli {

std::string ParseJson(const dockerfile::Dockerfile& file);

}  // namespace qdi::cli
