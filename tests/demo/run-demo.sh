#!/bin/sh
# The README's first command.  Installs what is needed, builds and installs
# the helper and the module into build/install, then builds the demo's
# QEMU-shaped images with the real engine (Docker when its daemon answers,
# else Podman) and builds again to show that nothing is left to do.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/build"
demo="$build/demo"

sh "$top/tests/setup-debian.sh"
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" --target qemu-docker-images
cmake --install "$build" --prefix "$build/install"

engine_options=""
if ! docker info >/dev/null 2>&1; then
  # Podman on these machines needs vfs storage and chroot isolation
  # (shared/ENGINES.md); the demo keeps its store in the build folder, and
  # its runroot in /tmp, since Podman refuses one of over 50 characters.
  podman_args="--root;$demo/podman/storage"
  podman_args="$podman_args;--runroot;/tmp/qemu-docker-images-demo"
  podman_args="$podman_args;--storage-driver;vfs"
  engine_options="-DQEMU_DOCKER_IMAGES_ENGINE=podman
    -DQEMU_DOCKER_IMAGES_ENGINE_ARGS=$podman_args
    -DQEMU_DOCKER_IMAGES_BUILD_FLAGS=--isolation=chroot"
fi
# shellcheck disable=SC2086
cmake -S "$top/tests/demo" -B "$demo" -G Ninja \
  -DCMAKE_PREFIX_PATH="$build/install" $engine_options
cmake --build "$demo" --target docker-images-help
cmake --build "$demo" --target docker-debian-win64-cross
echo "== The same build again: every image is current, so nothing runs."
cmake --build "$demo" --target docker-debian-win64-cross
