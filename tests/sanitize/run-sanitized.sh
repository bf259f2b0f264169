#!/bin/sh
# Builds the helper and the unit tests with GCC's sanitizers in BUILD_DIR (a
# folder of its own, not the normal build) and runs the unit, cli and corpus
# tests under ctest.  Any finding aborts the process that has it, so it
# fails its test.
#
#   sh tests/sanitize/run-sanitized.sh build-asan
#   QDI_SANITIZE=thread sh tests/sanitize/run-sanitized.sh build-tsan
#
# QDI_SANITIZE is "address" (the default: AddressSanitizer with
# UndefinedBehaviorSanitizer) or "thread" (ThreadSanitizer, for the folder
# checksum that runs on all cores).  Extra ctest arguments may follow
# BUILD_DIR, e.g. -R cli.error.
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [CTEST_ARGS...]" >&2
  exit 2
fi
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
shift

case ${QDI_SANITIZE:-address} in
  address)
    flags="-fsanitize=address,undefined -fno-omit-frame-pointer"
    flags="$flags -fno-sanitize-recover=all"
    build_type=Debug
    ;;
  thread)
    # Optimized, or the threaded tests take minutes under TSan.
    flags="-fsanitize=thread -fno-omit-frame-pointer"
    build_type=RelWithDebInfo
    ;;
  *)
    echo "$0: QDI_SANITIZE is '$QDI_SANITIZE'; use address or thread" >&2
    exit 2
    ;;
esac
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=$build_type \
  -DCMAKE_CXX_COMPILER=g++ -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags"
cmake --build "$build" --target qemu-docker-images qdi_unit_tests

# halt_on_error and abort_on_error make every finding end the process with
# a failing status; detect_leaks reports leaks at exit as findings too.
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1
ASAN_OPTIONS=$ASAN_OPTIONS:strict_string_checks=1:check_initialization_order=1
ASAN_OPTIONS=$ASAN_OPTIONS:detect_stack_use_after_return=1
UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1
export ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS
ctest --test-dir "$build" -L 'unit|cli|corpus' --output-on-failure -j 2 "$@"
