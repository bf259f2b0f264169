#include "util/expected.hpp"

namespace qdi {

Error ErrorAt(const std::string& file, int line, const std::string& what) {
  if (line > 0) return Error{file + ":" + std::to_string(line) + ": " + what};
  if (!file.empty()) return Error{file + ": " + what};
  return Error{what};
}

}  // namespace qdi
