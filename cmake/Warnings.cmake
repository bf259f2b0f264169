# One INTERFACE target carries the project's warning flags, so that every
# target of ours opts in by linking it and third-party code is left alone.

include_guard(GLOBAL)

add_library(qdi_warnings INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(qdi_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wold-style-cast)
endif()
