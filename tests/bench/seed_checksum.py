#!/usr/bin/env python3
"""The checksum of QEMU's docker.py after the seed patch, for comparison.

Usage:
    seed_checksum.py DOCKERFILE...
        prints "<sha1>  <file>" for each file
    seed_checksum.py --check TAG DOCKERFILE [--engine CMD]
        exits 0 when the engine's image TAG carries the file's checksum in
        its com.qemu.dockerfile-checksum label, else 1

It is written from the text of the seed patch ("docker: Improved image
checksum", 2017), not copied from docker.py: blank lines and lines that
start with "#" are dropped, a line "FROM qemu:NAME" (or the later spelling
"FROM qemu/NAME") is replaced, recursively, by the same processing of
NAME.docker from the same folder, and the checksum is the SHA-1 hex digest
of the UTF-8 result, as docker.py's _text_checksum computed it.  Like the
seed, it reads a base again for every image that stands on it and keeps
nothing between calls, and --check is what docker.py's
image_matches_dockerfile() did for one image, in one process.
"""

import hashlib
import os
import subprocess
import sys

LABEL = "com.qemu.dockerfile-checksum"
LOCAL_PREFIXES = ("FROM qemu:", "FROM qemu/")


def read_local_dockerfile(folder, name):
    with open(os.path.join(folder, name + ".docker"), "r") as dockerfile:
        return dockerfile.read()


def preprocess(text, folder):
    """The seed's _dockerfile_preprocess.  Only a line that starts exactly
    with the prefix is inlined, as in the patch: "from qemu:x", a leading
    space or "FROM qemu/x AS y" are kept as written."""
    out = ""
    for line in text.splitlines():
        if len(line.strip()) == 0 or line.startswith("#"):
            continue
        prefix = next((p for p in LOCAL_PREFIXES if line.startswith(p)), None)
        if prefix is not None:
            base = read_local_dockerfile(folder, line[len(prefix):])
            out += preprocess(base, folder)
            continue
        out += line + "\n"
    return out


def text_checksum(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def file_checksum(path):
    with open(path, "r") as dockerfile:
        text = dockerfile.read()
    return text_checksum(preprocess(text, os.path.dirname(path)))


def image_label(engine, tag):
    """What docker.py's get_image_dockerfile_checksum asked the engine."""
    output = subprocess.check_output(
        engine + ["image", "inspect", "--format",
                  '{{ index .Config.Labels "%s" }}' % LABEL, tag],
        stderr=subprocess.DEVNULL)
    return output.decode("utf-8").strip()


def check(argv):
    engine = ["docker"]
    if "--engine" in argv:
        at = argv.index("--engine")
        engine = argv[at + 1].split()
        del argv[at:at + 2]
    if len(argv) != 2:
        sys.exit(__doc__)
    tag, path = argv
    try:
        label = image_label(engine, tag)
    except (subprocess.CalledProcessError, OSError):
        return 1
    return 0 if label == file_checksum(path) else 1


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        sys.exit(__doc__)
    if argv[0] == "--check":
        return check(argv[1:])
    lines = ["%s  %s\n" % (file_checksum(path), path) for path in argv]
    sys.stdout.write("".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
