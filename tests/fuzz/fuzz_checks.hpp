#pragma once

// What the fuzz targets assert about parsed Dockerfiles.  A broken
// property aborts, so libFuzzer keeps the input that showed it.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "dockerfile/syntax.hpp"

namespace qdi::fuzz {

[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "property violated: %s\n", what.c_str());
  std::abort();
}

inline void Check(bool condition, const std::string& what) {
  if (!condition) Fail(what);
}

// The parts of an instruction that decide what Docker does with it.
inline bool SameInstruction(const dockerfile::Instruction& a,
                            const dockerfile::Instruction& b) {
  if (a.keyword != b.keyword || a.flags != b.flags || a.args != b.args ||
      a.exec_form != b.exec_form || a.heredocs.size() != b.heredocs.size() ||
      a.trigger.size() != b.trigger.size()) {
    return false;
  }
  for (size_t i = 0; i < a.heredocs.size(); ++i) {
    if (a.heredocs[i].name != b.heredocs[i].name ||
        a.heredocs[i].body != b.heredocs[i].body) {
      return false;
    }
  }
  for (size_t i = 0; i < a.trigger.size(); ++i) {
    if (!SameInstruction(a.trigger[i], b.trigger[i])) return false;
  }
  return true;
}

inline void CheckSameInstructions(const dockerfile::Dockerfile& original,
                                  const dockerfile::Dockerfile& again,
                                  const std::string& what) {
  Check(original.instructions.size() == again.instructions.size(),
        what + ": instruction count differs");
  for (size_t i = 0; i < original.instructions.size(); ++i) {
    Check(SameInstruction(original.instructions[i], again.instructions[i]),
          what + ": instruction " + std::to_string(i) + " differs");
  }
}

}  // namespace qdi::fuzz
