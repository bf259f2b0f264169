#!/bin/sh
# Builds the libFuzzer targets with clang 14 in BUILD_DIR and runs each for
# SECONDS (default 45), then prints how many inputs each one ran.
#
#   sh tests/fuzz/run-fuzz.sh build-fuzz          # 45 s per target
#   sh tests/fuzz/run-fuzz.sh build-fuzz 3600     # a longer run: 1 h each
#
# The corpus (in BUILD_DIR/corpus/TARGET) is kept between runs, so a
# longer run continues where the last one stopped.  It is seeded from
# tests/fuzz/seeds and from the QEMU Dockerfiles of the shared corpus
# (QDI_CORPUS_DIR, default ../shared/corpus beside the clone), copied at
# run time.  A crash leaves BUILD_DIR/crash-* or leak-* files and makes
# this script fail; replay one with BUILD_DIR/TARGET FILE.
# Needs: apt-get install clang libclang-rt-14-dev cmake ninja-build
# pkg-config libre2-dev libxxhash-dev nlohmann-json3-dev libcli11-dev
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [SECONDS]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
mkdir -p "$1"
build=$(cd "$1" && pwd)
seconds=${2:-45}
corpus_dir=${QDI_CORPUS_DIR:-$top/../shared/corpus}
cxx=${QDI_FUZZ_CXX:-clang++-14}

cmake -S "$here" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=None >"$build/configure.log" ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build"

# Seeds: every QEMU Dockerfile alone, and the hand-written ones.  The
# flatten target also gets each hand-written chain (parts split at "%%").
for target in parse_fuzzer flatten_fuzzer; do
  mkdir -p "$build/corpus/$target"
  cp "$here"/seeds/* "$build/corpus/$target/"
  for file in "$corpus_dir"/*/dockerfiles/*.docker; do
    [ -f "$file" ] || continue
    year=$(basename "$(dirname "$(dirname "$file")")")
    cp "$file" "$build/corpus/$target/$year-$(basename "$file")"
  done
done

status=0
for target in parse_fuzzer flatten_fuzzer; do
  log="$build/$target.log"
  # -timeout: one input that runs 10 s is a hang.  -max_len keeps inputs
  # about as large as the largest real Dockerfiles.
  (cd "$build" && ASAN_OPTIONS=detect_leaks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "./$target" -max_total_time="$seconds" -timeout=10 -max_len=16384 \
    -dict="$here/dockerfile.dict" -print_final_stats=1 \
    "corpus/$target" >"$log" 2>&1) || status=1
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "$target: ${runs:-?} executions in ${seconds} s"
  if [ $status -ne 0 ]; then
    tail -n 60 "$log"
    break
  fi
done
exit $status
