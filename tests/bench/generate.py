#!/usr/bin/env python3
"""Makes the inputs of the benchmark suite.

Usage:
    generate.py folder N OUT     N images shaped like QEMU's folder
    generate.py big BYTES FILE   one Dockerfile of about BYTES bytes
    generate.py chain DEPTH OUT  images c0 <- c1 <- ... <- c(DEPTH-1)
    generate.py shaped SRC OUT ROOTFS
                                 the local-base edges of folder SRC, as
                                 images that a real engine builds from
                                 the busybox tarball ROOTFS
    generate.py rootfs FILE      a tarball of /bin/busybox and a few applets
    generate.py floor DIR OUT    a plain CMake project with the custom
                                 commands of DIR's images, and no helper

Everything is deterministic: the same arguments give the same bytes, so
that two runs of the suite measure the same work.
"""

import os
import random
import re
import shutil
import sys
import tarfile

# What one image installs: QEMU's Dockerfiles are mostly a package list
# and an apt-get or dnf line with continuations, which is what the parser
# and the flattener spend their time on.
PACKAGES = [
    "bc", "bison", "build-essential", "ca-certificates", "ccache", "clang",
    "dbus", "flex", "gcovr", "genisoimage", "gettext", "git", "glusterfs",
    "libaio-dev", "libattr1-dev", "libbrlapi-dev", "libbz2-dev", "libcacard",
    "libcap-ng-dev", "libcurl4-gnutls-dev", "libdrm-dev", "libepoxy-dev",
    "libfdt-dev", "libffi-dev", "libgbm-dev", "libgnutls28-dev", "libgtk-3",
    "libibverbs-dev", "libiscsi-dev", "libjemalloc-dev", "libjpeg-dev",
    "liblzo2-dev", "libncursesw5-dev", "libnfs-dev", "libnuma-dev",
    "libpixman-1-dev", "libpng-dev", "librbd-dev", "librdmacm-dev",
    "libsasl2-dev", "libsdl2-dev", "libseccomp-dev", "libsnappy-dev",
    "libspice-protocol", "libssh-dev", "libusb-1.0-0-dev", "libvdeplug-dev",
    "libvte-2.91-dev", "libxen-dev", "libzstd-dev", "make", "ninja-build",
    "python3-yaml", "python3-sphinx", "sparse", "texinfo", "xfslibs-dev",
]
EXTERNAL_ROOTS = ["debian:11-slim", "debian:10-slim", "ubuntu:20.04",
                  "fedora:33", "centos:8", "opensuse/leap:15.2"]
# Share of the images at depth 0 (roots), 1, 2 and 3: QEMU's folders have
# a few roots, most images one level above a root, and a few chains of
# three or four (debian-win64-cross -> debian9-mxe -> debian9).
DEPTH_SHARES = [0.04, 0.5, 0.3, 0.16]


def write(path, text, mode=None):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as out:
        out.write(text)
    if mode is not None:
        os.chmod(path, mode)


def install_block(rng, count):
    """A RUN line with continuations that installs `count` packages."""
    names = rng.sample(PACKAGES, min(count, len(PACKAGES)))
    lines = ["RUN apt-get update && \\",
             "    DEBIAN_FRONTEND=noninteractive apt-get install -y \\"]
    lines += ["        %s \\" % name for name in names]
    lines.append("    && rm -rf /var/lib/apt/lists/*")
    return "\n".join(lines) + "\n"


def image_text(rng, name, base, copied):
    """The Dockerfile of one image standing on `base`."""
    parts = ["#\n# Docker image %s, generated for the benchmarks\n#\n"
             % name, "FROM %s\n" % base, "\n"]
    parts.append("ENV PACKAGES %s\n" % " ".join(rng.sample(PACKAGES, 6)))
    parts.append(install_block(rng, rng.randint(4, 14)))
    if copied:
        parts.append("COPY %s /usr/local/bin/%s\n" % (copied, copied))
        parts.append("RUN /usr/local/bin/%s\n" % copied)
    parts.append("ENV QEMU_CONFIGURE_OPTS --target-list=%s-softmmu\n" % name)
    return "".join(parts)


def assign_levels(count, rng):
    """Image i's depth, roots first; at least one root and one per level
    below the deepest used, so every non-root has a parent."""
    levels = []
    for depth, share in enumerate(DEPTH_SHARES):
        levels += [depth] * max(1, round(count * share))
    levels = sorted(levels[:count])
    while len(levels) < count:
        levels.append(1)
    return levels


def cmd_folder(count, out):
    rng = random.Random(count)
    levels = assign_levels(count, rng)
    by_depth = {}
    for index, depth in enumerate(levels):
        name = "img%05d-d%d" % (index, depth)
        if depth == 0:
            base = rng.choice(EXTERNAL_ROOTS)
        else:
            base = "qemu/" + rng.choice(by_depth[depth - 1])
        by_depth.setdefault(depth, []).append(name)
        # One image in eight copies a small script from its NAME.docker.d/
        # folder, as QEMU's cross-toolchain images do.
        copied = None
        if index % 8 == 3:
            copied = "setup-%s.sh" % name
            write(os.path.join(out, name + ".docker.d", copied),
                  "#!/bin/sh\necho %s\n" % name, 0o755)
        write(os.path.join(out, name + ".docker"),
              image_text(rng, name, base, copied))


def cmd_big(size, path):
    """One Dockerfile of about `size` bytes: many RUN lines with
    continuations, as a long generated install script would be."""
    rng = random.Random(size)
    with open(path, "w") as out:
        out.write("FROM debian:11-slim\n")
        written = 0
        block = 0
        while written < size:
            text = install_block(rng, 8).replace(
                "apt-get update", "apt-get update # step %d" % block)
            out.write(text)
            written += len(text)
            block += 1


def cmd_chain(depth, out):
    rng = random.Random(depth)
    for index in range(depth):
        base = "debian:11-slim" if index == 0 else "qemu/c%d" % (index - 1)
        name = "c%d" % index
        write(os.path.join(out, name + ".docker"),
              image_text(rng, name, base, None))


def cmd_shaped(source, out, rootfs):
    """Each image of `source` keeps its local bases; a root becomes FROM
    scratch with the busybox tarball, so a real engine builds the folder
    with no registry."""
    local = re.compile(r"^\s*FROM\s+qemu[:/]([A-Za-z0-9_.-]+)", re.I | re.M)
    for entry in sorted(os.listdir(source)):
        if not entry.endswith(".docker"):
            continue
        name = entry[:-len(".docker")]
        with open(os.path.join(source, entry)) as dockerfile:
            bases = local.findall(dockerfile.read())
        if bases:
            head = "FROM qemu/%s\n" % bases[0]
        else:
            head = "FROM scratch\nADD rootfs.tar /\n"
            folder = os.path.join(out, name + ".docker.d")
            os.makedirs(folder, exist_ok=True)
            shutil.copyfile(rootfs, os.path.join(folder, "rootfs.tar"))
        write(os.path.join(out, entry),
              "# %s, shaped like QEMU's\n%sRUN echo %s > /etc/%s\n"
              % (name, head, name, name))


def cmd_rootfs(path):
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox):
        sys.exit("generate.py: error: busybox is not installed; "
                 "apt-get install busybox-static")
    with tarfile.open(path, "w") as tar:
        for folder in ["bin", "etc", "tmp"]:
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        tar.add(busybox, "bin/busybox")
        for applet in ["sh", "echo", "cat", "ls"]:
            info = tarfile.TarInfo("bin/" + applet)
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)


FLOOR_PROJECT = """\
cmake_minimum_required(VERSION 3.20)
project(QdiBenchFloor NONE)
# The floor of a no-op build: the module's shape (two steps per image,
# the second after its bases' second, a target per image) with steps
# that only touch a stamp.
file(STRINGS "${CMAKE_CURRENT_SOURCE_DIR}/images.txt" lines)
set(all "")
set(edges "")
foreach(line IN LISTS lines)
  string(REPLACE " " ";" fields "${line}")
  list(POP_FRONT fields image)
  set(bases "")
  foreach(base IN LISTS fields)
    list(APPEND bases "${CMAKE_BINARY_DIR}/${base}.image")
  endforeach()
  add_custom_command(OUTPUT "${CMAKE_BINARY_DIR}/${image}.flat"
    COMMAND "${CMAKE_COMMAND}" -E touch "${CMAKE_BINARY_DIR}/${image}.flat"
    DEPENDS "${CMAKE_SOURCE_DIR}/images.txt")
  add_custom_command(OUTPUT "${CMAKE_BINARY_DIR}/${image}.image"
    COMMAND "${CMAKE_COMMAND}" -E touch "${CMAKE_BINARY_DIR}/${image}.image"
    DEPENDS "${CMAKE_BINARY_DIR}/${image}.flat" ${bases})
  add_custom_target(floor-${image} DEPENDS "${CMAKE_BINARY_DIR}/${image}.image")
  list(APPEND all floor-${image})
  foreach(base IN LISTS fields)
    list(APPEND edges "floor-${image}" "floor-${base}")
  endforeach()
endforeach()
# Target-level edges too, as the module adds them: Make runs one sub-make
# per target, which is much of a no-op build's cost there.
while(edges)
  list(POP_FRONT edges image base)
  add_dependencies(${image} ${base})
endwhile()
add_custom_target(floor-all ALL)
add_dependencies(floor-all ${all})
"""


def cmd_floor(folder, out):
    """The floor project for the images of `folder`, with their edges."""
    local = re.compile(r"^\s*FROM\s+qemu[:/]([A-Za-z0-9_.-]+)", re.I | re.M)
    lines = []
    for entry in sorted(os.listdir(folder)):
        if entry.endswith(".docker"):
            with open(os.path.join(folder, entry)) as dockerfile:
                bases = local.findall(dockerfile.read())
            lines.append(" ".join([entry[:-len(".docker")]] + bases))
    write(os.path.join(out, "images.txt"), "\n".join(lines) + "\n")
    write(os.path.join(out, "CMakeLists.txt"), FLOOR_PROJECT)


def main(argv):
    commands = {
        "folder": (2, lambda a: cmd_folder(int(a[0]), a[1])),
        "big": (2, lambda a: cmd_big(int(a[0]), a[1])),
        "chain": (2, lambda a: cmd_chain(int(a[0]), a[1])),
        "shaped": (3, lambda a: cmd_shaped(a[0], a[1], a[2])),
        "rootfs": (1, lambda a: cmd_rootfs(a[0])),
        "floor": (2, lambda a: cmd_floor(a[0], a[1])),
    }
    if len(argv) < 1 or argv[0] not in commands \
            or len(argv) - 1 != commands[argv[0]][0]:
        sys.exit(__doc__)
    commands[argv[0]][1](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
