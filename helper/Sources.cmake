# The helper's sources, relative to helper/src, in two lists: the core that
# reads, flattens and hashes Dockerfiles, and the command line and engine
# calls built on it.  The main build and the fuzz targets (tests/fuzz,
# which compile the core alone with clang) both read this file, so a new
# source is listed once.

set(QDI_CORE_SOURCES
  context/context.cpp
  context/executable.cpp
  core/evaluate.cpp
  core/pre_script.cpp
  dockerfile/parser.cpp
  dockerfile/shell_words.cpp
  engine/process.cpp
  flatten/flattener.cpp
  graph/graph.cpp
  graph/image.cpp
  graph/reference.cpp
  hash/hasher.cpp
  util/expected.cpp
  util/files.cpp
  util/folder_listings.cpp
  util/parallel.cpp
)

set(QDI_CLI_SOURCES
  cli/commands.cpp
  cli/graph_output.cpp
  cli/graph_state.cpp
  cli/image_commands.cpp
  cli/options.cpp
  cli/parse_output.cpp
  cli/run_command.cpp
  engine/engine.cpp
  engine/registry.cpp
  engine/proxy.cpp
  engine/run.cpp
)
