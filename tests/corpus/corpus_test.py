#!/usr/bin/env python3
"""End-to-end tests of qemu-docker-images on the QEMU Dockerfile corpus.

Each case copies one corpus folder into a fresh temporary folder (the corpus
itself is read-only and shared), runs the helper on the copy, edits the copy
and checks which checksums moved.  The chains written in the corpus READMEs
are hard-coded below, so that a bug in the helper's graph is caught by
comparing the two rather than trusted.

Usage: corpus_test.py --helper PATH --corpus DIR --case NAME
Exit status: 0 pass, 1 fail, 77 skipped (corpus folder missing).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
HEX32 = re.compile(r"^[0-9a-f]{32}$")


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


# The local chains of each snapshot, as its README lists them: base -> the
# images built directly on it.
README_EDGES = {
    "qemu-2017": {
        "debian8": ["debian8-mxe", "debian-powerpc-cross"],
        "debian8-mxe": ["debian-win32-cross", "debian-win64-cross"],
        "debian9": [
            "debian-amd64", "debian-arm64-cross", "debian-armel-cross",
            "debian-armhf-cross", "debian-mips-cross", "debian-mips64el-cross",
            "debian-mipsel-cross", "debian-ppc64el-cross",
            "debian-s390x-cross", "debian",
        ],
    },
    "qemu-2020": {
        "debian9": ["debian9-mxe", "debian-tricore-cross"],
        "debian9-mxe": ["debian-win32-cross", "debian-win64-cross"],
        "debian11": ["debian-arm64-test-cross"],
        "debian10": ["debian-amd64"] + [
            "debian-%s-cross" % arch for arch in (
                "all-test", "alpha", "amd64", "arm64", "armel", "armhf",
                "hppa", "m68k", "mips", "mips64", "mips64el", "mipsel",
                "powerpc", "ppc64", "ppc64el", "riscv64", "s390x", "sh4",
                "sparc64")
        ],
    },
    "qemu-2021": {
        "debian11": ["debian-arm64-test-cross", "debian-powerpc-test-cross"],
        "debian10": ["debian-amd64", "debian-toolchain",
                     "debian-hexagon-cross"] + [
            "debian-%s-cross" % arch for arch in (
                "all-test", "alpha", "amd64", "arm64", "armel", "armhf",
                "hppa", "m68k", "mips", "mips64", "mips64el", "mipsel",
                "ppc64el", "s390x", "sh4", "sparc64")
        ],
    },
}

# The longest local chain of a snapshot (base first), as its README gives
# it.  qemu-2021's chains are multi-stage, so its instructions are rewritten
# (COPY --from=0) and do not compare line for line.
DEEPEST_CHAIN = {
    "qemu-2017": ["debian8", "debian8-mxe", "debian-win64-cross"],
    "qemu-2020": ["debian9", "debian9-mxe", "debian-win64-cross"],
}


def context_options(year, folder):
    """The build context QEMU's Makefile gave the images of each snapshot."""
    if year == "qemu-2017":
        return ["--image-extra-file", "debian-powerpc-cross",
                os.path.join(folder, "debian-apt-fake.sh")]
    if year == "qemu-2021":
        return ["--image-extra-file", "debian-toolchain",
                os.path.join(folder, "debian-nios2-cross.d",
                             "build-toolchain.sh")]
    return []


class Corpus:
    """One corpus folder copied to a temporary folder that the case owns."""

    def __init__(self, helper, corpus_root, year, temp_root):
        self.helper = helper
        self.year = year
        self.folder = os.path.join(temp_root, year)
        shutil.copytree(os.path.join(corpus_root, year, "dockerfiles"),
                        self.folder)
        # The shared corpus is read-only; the copy must be editable.
        for root, dirs, files in os.walk(self.folder):
            for name in dirs + files:
                path = os.path.join(root, name)
                os.chmod(path, os.stat(path).st_mode | 0o200)

    def images(self):
        return sorted(name[:-len(".docker")]
                      for name in os.listdir(self.folder)
                      if name.endswith(".docker"))

    def path(self, name):
        return os.path.join(self.folder, name)

    def run(self, *args):
        return subprocess.run([self.helper] + list(args), cwd=self.folder,
                              capture_output=True)

    def run_ok(self, *args):
        result = self.run(*args)
        check(result.returncode == 0 and result.stderr == b"",
              "%s %s: exit %d, stderr:\n%s" % (
                  os.path.basename(self.helper), " ".join(args),
                  result.returncode, result.stderr.decode(errors="replace")))
        return result.stdout.decode()

    def checksums(self):
        """Checksums every image of the folder with one helper process."""
        files = [name + ".docker" for name in self.images()]
        out = self.run_ok("checksum",
                          *context_options(self.year, self.folder),
                          "--", *files)
        lines = out.splitlines()
        check(len(lines) == len(files),
              "checksum printed %d lines for %d files:\n%s" % (
                  len(lines), len(files), out))
        sums = {}
        for line, file in zip(lines, files):
            digest, _, printed = line.partition("  ")
            check(HEX32.match(digest) and printed == file,
                  "bad checksum line %r, expected '<32 hex>  %s'" % (
                      line, file))
            sums[file[:-len(".docker")]] = digest
        return sums

    def graph_edges(self):
        text = self.run_ok("graph", "--format", "json",
                           *context_options(self.year, self.folder))
        edges = {}
        for image in json.loads(text)["images"]:
            for base in image["local_bases"]:
                edges.setdefault(base, set()).add(image["name"])
        return edges


def above(edges, base):
    """The base and every image built on it, directly or not."""
    found = {base}
    pending = [base]
    while pending:
        for child in edges.get(pending.pop(), ()):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def readme_edges(year):
    return {base: set(children)
            for base, children in README_EDGES[year].items()}


def instruction_lines(text):
    """(first, last) 0-based line numbers of each instruction of a file.

    The corpus has no indented or lower-case instructions, no heredocs and
    no comments inside continuations (see the READMEs), so a line that does
    not start with '#' or a blank starts an instruction, and a final '\\'
    continues it.
    """
    lines = text.split("\n")
    spans = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            i += 1
            continue
        first = i
        while lines[i].endswith("\\") and i + 1 < len(lines):
            i += 1
        spans.append((first, i))
        i += 1
    return spans


def last_run(text):
    spans = [(a, b) for a, b in instruction_lines(text)
             if text.split("\n")[a].startswith("RUN ")]
    check(spans, "no RUN instruction to edit")
    return spans[-1]


def edit_instruction(path):
    """Appends a word to the last line of the last RUN instruction."""
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    lines = text.split("\n")
    _, last = last_run(text)
    lines[last] += " qdi-corpus-edit"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(lines))


def edit_comment(path):
    """Adds a comment line and a blank line before the last RUN."""
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    lines = text.split("\n")
    first, _ = last_run(text)
    lines[first:first] = ["# comment added by the corpus test", ""]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(lines))


def flip_byte(path):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    check(data, "%s is empty" % path)
    data[len(data) // 2] ^= 0x01
    with open(path, "wb") as f:
        f.write(bytes(data))


def changed(before, after):
    check(before.keys() == after.keys(), "the set of images changed")
    return {name for name in before if before[name] != after[name]}


def describe(names):
    return ", ".join(sorted(names)) or "(none)"


# Cases ---------------------------------------------------------------------


def case_checksum(env, year):
    """Every image flattens and checksums, and both agree."""
    corpus = env.corpus(year)
    sums = corpus.checksums()
    check(len(set(sums.values())) == len(sums),
          "two different images share a checksum")
    stamp_dir = os.path.join(env.temp, "stamps")
    os.mkdir(stamp_dir)
    for name in corpus.images():
        out = os.path.join(stamp_dir, name + ".flat")
        stamp = os.path.join(stamp_dir, name + ".stamp")
        corpus.run_ok("flatten", *context_options(year, corpus.folder),
                      "-o", out, "--stamp", stamp, "--", name + ".docker")
        with open(stamp) as f:
            check(f.read() == sums[name] + "\n",
                  "flatten --stamp of %s disagrees with checksum" % name)
        with open(out, encoding="utf-8") as f:
            flat = f.read()
        check(re.search(r"^FROM ", flat, re.M),
              "flattened %s has no FROM" % name)
        check(not re.search(r"^FROM qemu[/:]", flat, re.M),
              "flattened %s still names a local base:\n%s" % (name, flat))


def case_graph(env, year):
    """The helper's graph has exactly the README's local edges."""
    corpus = env.corpus(year)
    graph = corpus.graph_edges()
    expected = readme_edges(year)
    check(graph == expected,
          "graph --format json local edges differ from the README:\n"
          "  graph:  %s\n  README: %s" % (
              sorted((b, sorted(c)) for b, c in graph.items()),
              sorted((b, sorted(c)) for b, c in expected.items())))


def affected_sets(corpus):
    """Base -> the images its change rebuilds; graph and README must agree."""
    graph = corpus.graph_edges()
    expected = readme_edges(corpus.year)
    result = {}
    for base in expected:
        from_graph = above(graph, base)
        from_readme = above(expected, base)
        check(from_graph == from_readme,
              "images above %s: graph says {%s}, README says {%s}" % (
                  base, describe(from_graph), describe(from_readme)))
        result[base] = from_readme
    return result


def case_instruction_edit(env, year):
    """Editing a base's RUN changes the base and exactly the images above."""
    for base, expected in sorted(affected_sets(env.corpus(year)).items()):
        corpus = env.corpus(year)
        before = corpus.checksums()
        edit_instruction(corpus.path(base + ".docker"))
        moved = changed(before, corpus.checksums())
        check(moved == expected,
              "editing the last RUN of %s changed {%s}; expected {%s}" % (
                  base, describe(moved), describe(expected)))


def case_comment_edit(env, year):
    """Adding a comment and a blank line to a base changes no checksum."""
    for base in sorted(README_EDGES[year]):
        corpus = env.corpus(year)
        before = corpus.checksums()
        edit_comment(corpus.path(base + ".docker"))
        moved = changed(before, corpus.checksums())
        check(not moved, "a comment in %s changed {%s}" % (
            base, describe(moved)))


def source_instructions(path):
    """Instruction lines of a file, FROM lines apart, in file order."""
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    lines = text.split("\n")
    result = []
    for first, last in instruction_lines(text):
        if not lines[first].startswith("FROM "):
            result.extend(lines[first:last + 1])
    return result


def case_flatten_order(env, year):
    """The deepest image flattens to its chain's instructions, base first."""
    corpus = env.corpus(year)
    chain = DEEPEST_CHAIN[year]
    expected = []
    for name in chain:
        expected += source_instructions(corpus.path(name + ".docker"))
    flat = corpus.run_ok("flatten", *context_options(year, corpus.folder),
                         "--", chain[-1] + ".docker")
    lines = [line for line in flat.split("\n")
             if line.strip() and not line.startswith("#")]
    froms = [line for line in lines if line.startswith("FROM ")]
    body = [line for line in lines if not line.startswith("FROM ")]
    check(body == expected,
          "flattened %s does not hold %s's instruction lines in order:\n"
          "--- expected\n%s\n--- actual\n%s" % (
              chain[-1], " then ".join(chain), "\n".join(expected),
              "\n".join(body)))
    check(len(froms) == len(chain),
          "flattened %s has %d FROM lines, expected %d:\n%s" % (
              chain[-1], len(froms), len(chain), "\n".join(froms)))
    with open(corpus.path(chain[0] + ".docker"), encoding="utf-8") as f:
        first_from = re.search(r"^FROM (\S+)", f.read(), re.M).group(1)
    check(froms[0].split()[1] == first_from,
          "the first FROM is %r, expected the base's %r" % (
              froms[0], first_from))


COPIED_FILES = {
    "qemu-2017": [("debian-apt-fake.sh", {"debian-powerpc-cross"})],
    "qemu-2021": [
        ("debian-hexagon-cross.docker.d/build-toolchain.sh",
         {"debian-hexagon-cross"}),
        ("debian-nios2-cross.d/build-toolchain.sh", {"debian-toolchain"}),
    ],
}


def case_copied_file_edit(env, year):
    """One changed byte of a copied file changes only the image copying it."""
    for relative, expected in COPIED_FILES[year]:
        corpus = env.corpus(year)
        before = corpus.checksums()
        flip_byte(corpus.path(relative))
        moved = changed(before, corpus.checksums())
        check(moved == expected,
              "editing %s changed {%s}; expected {%s}" % (
                  relative, describe(moved), describe(expected)))


YEARS = ("qemu-2017", "qemu-2020", "qemu-2021")
CASES = {}
for _year in YEARS:
    _short = _year[len("qemu-"):]
    for _kind, _function in (("checksum", case_checksum),
                             ("graph", case_graph),
                             ("instruction-edit", case_instruction_edit),
                             ("comment-edit", case_comment_edit)):
        CASES["%s-%s" % (_kind, _short)] = (_function, _year)
    if _year in DEEPEST_CHAIN:
        CASES["flatten-order-" + _short] = (case_flatten_order, _year)
    if _year in COPIED_FILES:
        CASES["copied-file-edit-" + _short] = (case_copied_file_edit, _year)


class Env:
    def __init__(self, helper, corpus_root, temp):
        self.helper = helper
        self.corpus_root = corpus_root
        self.temp = temp
        self.count = 0

    def corpus(self, year):
        self.count += 1
        root = os.path.join(self.temp, "copy%d" % self.count)
        os.mkdir(root)
        return Corpus(self.helper, self.corpus_root, year, root)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--helper")
    parser.add_argument("--corpus")
    parser.add_argument("--case")
    parser.add_argument("--list", action="store_true",
                        help="print the case names and exit")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    if not (args.helper and args.corpus and args.case):
        parser.error("--helper, --corpus and --case are required")
    if args.case not in CASES:
        print("unknown case %r; known: %s" % (args.case, " ".join(CASES)),
              file=sys.stderr)
        return 2
    function, year = CASES[args.case]
    if not os.path.isdir(os.path.join(args.corpus, year, "dockerfiles")):
        print("skipped: no corpus folder %s" % os.path.join(args.corpus, year))
        return SKIP
    helper = os.path.abspath(args.helper)
    corpus_root = os.path.abspath(args.corpus)
    with tempfile.TemporaryDirectory(prefix="qdi-corpus-") as temp:
        try:
            function(Env(helper, corpus_root, temp), year)
        except Failure as failure:
            print("FAIL %s: %s" % (args.case, failure), file=sys.stderr)
            return 1
    print("PASS %s" % args.case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
