#!/bin/sh
# Installs the dependencies, builds everything in ./build and runs every
# test under ctest.  This is the README's test command and what CI runs.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${QDI_BUILD_DIR:-$top/build}

sh "$top/tests/setup-debian.sh"
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build"
ctest --test-dir "$build" --output-on-failure -j 2
