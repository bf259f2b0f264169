#include <malloc.h>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  // Each thread's heap otherwise grows by a few pages at a time, one
  // mprotect() each: 1,900 of them in a folder's checksum of 5,000 images.
  // The helper is short-lived, so holding 16 MB more is no loss.
  mallopt(M_TOP_PAD, 16 << 20);
  return qdi::cli::Run(argc, argv);
}
