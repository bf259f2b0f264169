#!/bin/sh
# Installs what building and testing qemu-docker-images needs on Debian 12,
# from Debian's own packages.  Safe to run again: apt-get skips what is
# already there.  Needs root (or sudo).
set -eu

packages="cmake ninja-build make g++ pkg-config libre2-dev libxxhash-dev
  xxhash libgtest-dev libcli11-dev nlohmann-json3-dev python3 graphviz
  busybox-static podman buildah clang-14 libclang-rt-14-dev time
  libbenchmark-dev docker-registry"

missing=""
for package in $packages; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
    grep -q "install ok installed" || missing="$missing $package"
done
[ -z "$missing" ] && exit 0

as_root=""
[ "$(id -u)" -eq 0 ] || as_root="sudo"
$as_root apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq $missing
