#pragma once

// The command line of qemu-docker-images: flatten, checksum, parse and
// graph.  Run() returns the exit status: 0 on success, 1 for bad input
// (Dockerfiles, files), 2 for a wrong command line.

namespace qdi::cli {

int Run(int argc, char** argv);

}  // namespace qdi::cli
