#!/bin/sh
# Runs the benchmark suite and prints its results as a markdown table,
# also written to BUILD_DIR/bench-results.md.
#
#   sh tests/bench/run-benchmarks.sh [BUILD_DIR]
#
# BUILD_DIR (default: build) holds a Release build of the helper.
# QDI_BENCH_QUICK=1 leaves out the 5,000-image folder and the 100 MB
# Dockerfile, for a smoke test.  Nothing here fails on speed: a run exits
# non-zero only when a step could not be carried out.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
exec python3 "$here/bench.py" "$build"
