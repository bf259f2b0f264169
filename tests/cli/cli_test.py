#!/usr/bin/env python3
"""Command-line tests of qemu-docker-images: exit status, exact stderr,
which files are written and when.

Usage: cli_test.py --helper PATH --case NAME   (or --list)
Exit status: 0 pass, 1 fail, 77 skipped (a tool the case needs is missing).

Every case runs in a fresh temporary folder and calls the helper with paths
relative to it, so the file names in the expected messages are stable.
"""

import json
import os
import re
import shutil
import subprocess
import sys

PREFIX = "qemu-docker-images: error: "
OLD_TIME = "2001-02-03 04:05:06"

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from helper_testing import (  # noqa: E402
    Skipped, TempFolder, cases_of, check, check_equal, run_one_case)


class Folder(TempFolder):
    """A temporary folder, with the helper run inside it."""

    def run(self, *args, prefix=()):
        result = subprocess.run(list(prefix) + [self.helper] + list(args),
                                cwd=self.root, capture_output=True)
        return result.returncode, result.stdout.decode(), \
            result.stderr.decode()

    def run_ok(self, *args):
        code, out, err = self.run(*args)
        check(code == 0 and err == "",
              "%s: exit %d, stderr %r" % (" ".join(args), code, err))
        return out

    def make_old(self, *names):
        subprocess.run(["touch", "-d", OLD_TIME] +
                       [self.path(name) for name in names], check=True)

    def mtime_ns(self, name):
        return os.stat(self.path(name)).st_mtime_ns

    def listing(self, folder):
        return sorted(os.listdir(self.path(folder)))


def snapshot(folder, names):
    return {name: (folder.read(name), folder.mtime_ns(name)) for name in names}


def check_untouched(folder, before, what):
    for name, (content, mtime) in before.items():
        check(folder.read(name) == content,
              "%s rewrote the content of %s" % (what, name))
        check(folder.mtime_ns(name) == mtime,
              "%s changed the mtime of %s" % (what, name))


# A two-level chain with one copied file.
BASE = """\
# The base of the chain.
FROM debian:bookworm-slim

RUN apt-get update && \\
    apt-get install -y make
ENV LEVEL base
"""

TOP = """\
FROM qemu/base
# A standalone comment.
COPY tool.sh /usr/local/bin/tool.sh
RUN /usr/local/bin/tool.sh
"""

OUTPUTS = ["out/flat.docker", "out/image.stamp", "out/image.d"]
FLATTEN = ["flatten", "top.docker", "-o", OUTPUTS[0], "--stamp", OUTPUTS[1],
           "--depfile", OUTPUTS[2]]


def write_chain(folder):
    folder.write("base.docker", BASE)
    folder.write("top.docker", TOP)
    folder.write("top.docker.d/tool.sh", "#!/bin/sh\necho tool\n", 0o755)
    os.makedirs(folder.path("out"), exist_ok=True)


def flatten_with_old_outputs(folder):
    """Writes the outputs once and backdates them."""
    write_chain(folder)
    folder.run_ok(*FLATTEN)
    folder.make_old(*OUTPUTS)
    return snapshot(folder, OUTPUTS)


# Cases: flatten outputs ----------------------------------------------------


def case_flatten_writes_outputs(folder):
    write_chain(folder)
    check_equal(folder.run(*FLATTEN), (0, "", ""), "flatten exit, out, err")
    flat = folder.read(OUTPUTS[0]).decode()
    check_equal(flat, folder.run_ok("flatten", "top.docker"),
                "-o output against standard output")
    stamp = folder.read(OUTPUTS[1]).decode()
    check_equal(stamp, folder.run_ok("checksum", "top.docker").split()[0]
                + "\n", "stamp against checksum")
    depfile = folder.read(OUTPUTS[2]).decode()
    check(depfile.startswith("out/image.stamp:"),
          "the depfile's target is not the stamp:\n" + depfile)
    check(not re.search(r"^FROM qemu/", flat, re.M),
          "the flattened file still names qemu/base:\n" + flat)
    check_equal(folder.listing("out"), sorted(os.path.basename(name)
                                              for name in OUTPUTS),
                "files of the output folder")


def case_flatten_unchanged_keeps_mtimes(folder):
    before = flatten_with_old_outputs(folder)
    check_equal(folder.run(*FLATTEN), (0, "", ""), "second flatten")
    check_untouched(folder, before, "a second run with no change")
    check_equal(folder.listing("out"), sorted(os.path.basename(name)
                                              for name in OUTPUTS),
                "files of the output folder")


def case_flatten_comment_edit_keeps_outputs(folder):
    before = flatten_with_old_outputs(folder)
    folder.write("base.docker",
                 BASE.replace("ENV LEVEL", "# a new comment\n\nENV LEVEL"))
    folder.write("top.docker",
                 TOP.replace("# A standalone comment.", "# Another one."))
    check_equal(folder.run(*FLATTEN), (0, "", ""), "flatten after comments")
    check_untouched(folder, before, "a comment-only edit")


def case_flatten_instruction_edit_rewrites(folder):
    before = flatten_with_old_outputs(folder)
    folder.write("base.docker", BASE.replace("ENV LEVEL base",
                                             "ENV LEVEL base2"))
    check_equal(folder.run(*FLATTEN), (0, "", ""), "flatten after an edit")
    for name in OUTPUTS[:2]:
        check(folder.read(name) != before[name][0],
              "an instruction edit left %s's content as it was" % name)
        check(folder.mtime_ns(name) != before[name][1],
              "an instruction edit left %s's mtime as it was" % name)
    check("ENV LEVEL base2\n" in folder.read(OUTPUTS[0]).decode(),
          "the edited instruction is not in the output")
    # The inputs did not change, so neither does the depfile.
    check_untouched(folder, {OUTPUTS[2]: before[OUTPUTS[2]]},
                    "an instruction edit")


# Cases: errors leave the outputs alone ---------------------------------------


def check_error(folder, files, message, prefix=(), extra=()):
    """Runs flatten on top.docker over pre-existing outputs and expects
    exit status 1, exactly `message` on stderr, and no output touched."""
    os.makedirs(folder.path("out"), exist_ok=True)
    for name in OUTPUTS:
        folder.write(name, "previous content of %s\n" % name)
    folder.make_old(*OUTPUTS)
    for name, content in files.items():
        folder.write(name, content)
    before = snapshot(folder, OUTPUTS)
    code, out, err = folder.run(*FLATTEN, *extra, prefix=prefix)
    check_equal((code, out), (1, ""), "exit status and standard output")
    if isinstance(message, str):
        check_equal(err, PREFIX + message + "\n", "stderr")
    else:
        check(message.fullmatch(err),
              "stderr:\n  expected a match of %r\n  actual   %r" % (
                  message.pattern, err))
    check_untouched(folder, before, "a failing flatten")
    check_equal(folder.listing("out"), sorted(os.path.basename(name)
                                              for name in OUTPUTS),
                "files of the output folder")


def case_error_missing_base(folder):
    check_error(folder, {"top.docker": "# top\nFROM qemu/missing\n"},
                "top.docker:2: local base image 'missing' has no Dockerfile:"
                " no missing.docker in .; add the file or name its folder"
                " with --search-dir")


def case_error_cycle(folder):
    check_error(folder, {"top.docker": "FROM qemu/b\nRUN true\n",
                         "b.docker": "FROM qemu/top\n"},
                "./b.docker:1: dependency cycle: top -> b -> top; an image"
                " cannot be built on itself, so remove one of these bases")


def case_error_cycle_three(folder):
    check_error(folder, {"top.docker": "FROM qemu/b\n",
                         "b.docker": "FROM qemu/c\n",
                         "c.docker": "FROM debian\n\nFROM qemu:top\n"},
                "./c.docker:3: dependency cycle: top -> b -> c -> top; an"
                " image cannot be built on itself, so remove one of these"
                " bases")


def case_error_dotdot_base(folder):
    folder.write("x.docker", "FROM debian\n")
    check_error(folder, {"top.docker": "# escape\n\nFROM qemu/../x\n"},
                "top.docker:3: 'qemu/../x' cannot name a local image: not a"
                " valid image reference; name a Dockerfile of the search"
                " folders")


def case_error_unterminated_heredoc(folder):
    check_error(folder, {"top.docker": "FROM debian\nRUN true\n"
                                       "RUN <<EOF\necho hi\n"},
                "top.docker:3: heredoc 'EOF' is not terminated; end its body"
                " with a line that holds only 'EOF'")


def case_error_nul_byte(folder):
    check_error(folder, {"top.docker": b"FROM debian\nRUN echo \0\n"},
                "top.docker:2: contains a NUL byte, so it is not a text file;"
                " check that this is the Dockerfile you meant")


def case_error_nul_byte_in_base(folder):
    check_error(folder, {"top.docker": "FROM qemu/base\n",
                         "base.docker": b"FROM debian\n\nRUN \0\n"},
                "./base.docker:3: contains a NUL byte, so it is not a text"
                " file; check that this is the Dockerfile you meant")


def as_nobody(folder):
    """A command prefix that drops root, so that mode 000 means unreadable."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise Skipped("running as root and setpriv is not installed")
    # The unprivileged helper must reach the folder and the other files.
    for root, dirs, files in os.walk(folder.root):
        os.chmod(root, 0o755)
    return (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups")


def case_error_unreadable_dockerfile(folder):
    folder.write("top.docker", "FROM debian\n", 0o000)
    check_error(folder, {}, "top.docker: cannot be read: Permission denied;"
                " check that it exists and is readable",
                prefix=as_nobody(folder))


def case_error_unreadable_base(folder):
    # The base exists but cannot be read: the message must name the FROM
    # line that asks for it, as every message names a file and line.
    folder.write("base.docker", "FROM debian\n", 0o000)
    check_error(folder, {"top.docker": "# top\nFROM qemu/base\n"},
                re.compile(re.escape(PREFIX + "top.docker:2: ") +
                           r"[^\n]*base\.docker[^\n]*Permission denied"
                           r"[^\n]*\n"),
                prefix=as_nobody(folder))


def case_error_unreadable_copied_file(folder):
    # The same for a COPY source: the message must name the COPY line.
    folder.write("top.docker.d/tool.sh", "echo\n", 0o000)
    check_error(folder, {"top.docker": "FROM debian\n"
                                       "COPY tool.sh /tool.sh\n"},
                re.compile(re.escape(PREFIX + "top.docker:2: ") +
                           r"[^\n]*tool\.sh[^\n]*Permission denied"
                           r"[^\n]*\n"),
                prefix=as_nobody(folder))


def case_error_dockerfile_is_folder(folder):
    os.makedirs(folder.path("top.docker"))
    check_error(folder, {}, "top.docker: cannot be read: Is a directory;"
                " check that it exists and is readable")


# Cases: usage errors ------------------------------------------------------


def check_usage_error(folder, args, message):
    write_chain(folder)
    code, out, err = folder.run(*args)
    check_equal((code, out, err), (2, "", PREFIX + message + "\n"),
                "exit status, standard output and stderr")
    check_equal(folder.listing("out"), [], "files of the output folder")


def case_usage_unknown_option(folder):
    check_usage_error(folder, ["flatten", "--bogus", "top.docker",
                               "-o", "out/flat.docker"],
                      "the following argument was not expected: --bogus;"
                      " run with --help for the usage")


def case_usage_missing_dockerfile(folder):
    check_usage_error(folder, ["flatten", "-o", "out/flat.docker"],
                      "DOCKERFILE is required; run with --help for the usage")


def case_usage_bad_user(folder):
    # The user goes into a RUN line, so a shell character is refused.
    check_usage_error(folder, ["flatten", "--add-user", "x;rm:1",
                               "top.docker", "-o", "out/flat.docker"],
                      "user 'x;rm:1' is not NAME:UID; give a user name of "
                      "letters, digits, '.', '_' and '-' and a numeric uid")


def case_usage_run_mount_missing(folder):
    check_usage_error(folder, ["run", "--mount", "no-such-folder", "/src",
                               "--", "qemu/top", "true"],
                      "mount source 'no-such-folder' is not a folder; name "
                      "an existing folder")


def case_build_pre_script_fails(folder):
    """A failing NAME.pre script stops the build with its output quoted,
    before the engine is asked to build, and leaves no image stamp."""
    write_chain(folder)
    folder.write("top.pre", "#!/bin/sh\necho cannot prepare\nexit 1\n",
                 0o755)
    folder.run_ok("flatten", "top.docker", "--stamp", "out/checksum")
    code, out, err = folder.run("build", "top.docker", "--stamp",
                                "out/checksum", "--image-stamp", "out/image",
                                "--engine", "false")
    check_equal((code, out, err), (1, "", PREFIX + "top.pre exited with "
                                   "status 1; fix the script (exit 3 skips "
                                   "the image); its output:\ncannot "
                                   "prepare\n"),
                "build with a failing pre script")
    check(not os.path.exists(folder.path("out/image")), "an image stamp")


# Cases: checksum, parse, graph --------------------------------------------


def checksum_lines(out, files):
    lines = out.splitlines()
    check_equal(len(lines), len(files), "number of checksum lines")
    sums = []
    for line, file in zip(lines, files):
        check(re.fullmatch(r"[0-9a-f]{32}  " + re.escape(file), line),
              "checksum line %r is not '<32 hex>  %s'" % (line, file))
        sums.append(line[:32])
    return sums


def case_checksum_order(folder):
    write_chain(folder)
    folder.write("other.docker", "FROM alpine\nRUN true\n")
    files = ["top.docker", "base.docker", "other.docker"]
    forward = checksum_lines(folder.run_ok("checksum", *files), files)
    backward = checksum_lines(folder.run_ok("checksum", *files[::-1]),
                              files[::-1])
    check_equal(backward, forward[::-1], "checksums in reverse order")
    check_equal(len(set(forward)), 3, "number of distinct checksums")
    alone = checksum_lines(folder.run_ok("checksum", "base.docker"),
                           ["base.docker"])
    check_equal(alone[0], forward[1], "checksum of base.docker alone")


def case_checksum_options_before_files(folder):
    # A repeatable option written before the Dockerfiles must not swallow
    # them: docker build users write --build-arg A=1 first.
    write_chain(folder)
    folder.write("other.docker", "FROM alpine\nARG A\nRUN echo $A\n")
    files = ["other.docker", "base.docker"]
    for option in (["--build-arg", "A=1"], ["--search-dir", "."]):
        code, out, err = folder.run("checksum", *option, *files)
        check_equal((code, err), (0, ""), "checksum %s exit and stderr" %
                    " ".join(option))
        checksum_lines(out, files)


def case_checksum_base_identity(folder):
    """--base-identity pins an external base of the chain: its file's
    identity is hashed and is an input; a pin of an image that no image
    of the chain stands on changes nothing."""
    write_chain(folder)
    plain = checksum_lines(folder.run_ok("checksum", "top.docker"),
                           ["top.docker"])[0]
    folder.write("ext.id", "sha256:1111\n")
    pin = ["--base-identity", "debian:bookworm-slim=ext.id"]
    first = checksum_lines(folder.run_ok("checksum", *pin, "top.docker"),
                           ["top.docker"])[0]
    check(first != plain, "the pin did not change the checksum")
    other = checksum_lines(folder.run_ok(
        "checksum", "--base-identity", "alpine=ext.id", "top.docker"),
        ["top.docker"])[0]
    check_equal(other, plain, "checksum with a pin of an unused base")
    folder.write("ext.id", "sha256:2222\n")
    second = checksum_lines(folder.run_ok("checksum", *pin, "top.docker"),
                            ["top.docker"])[0]
    check(second not in (plain, first), "a new identity kept the checksum")
    folder.run_ok(*FLATTEN, *pin)
    with open(folder.path(OUTPUTS[2])) as f:
        check("ext.id" in f.read(), "the depfile does not list ext.id")
    os.remove(folder.path("ext.id"))
    code, _, err = folder.run("checksum", *pin, "top.docker")
    check_equal(code, 1, "exit status without the identity file")
    check("base.docker:2: the identity of external base "
          "'debian:bookworm-slim' is unknown" in err, "message: " + err)


PARSE_INPUT = """\
# syntax=docker/dockerfile:1
FROM debian:12 AS build
# a comment
RUN echo a \\
    b
COPY --chown=1:2 ["x y", "/z"]
RUN <<EOF
echo hi
EOF
CMD ["sh", "-c", "true"]
"""


def instruction(keyword, line, end_line, args, exec_form=None, flags=(),
                heredocs=()):
    return {"keyword": keyword, "line": line, "end_line": end_line,
            "args": args, "exec_form": exec_form, "flags": list(flags),
            "heredocs": list(heredocs)}


PARSE_EXPECTED = {
    "file": "small.docker",
    "escape": "\\",
    "directives": [{"line": 1, "name": "syntax",
                    "value": "docker/dockerfile:1"}],
    "instructions": [
        instruction("from", 2, 2, "debian:12 AS build"),
        instruction("run", 4, 5, "echo a     b"),
        instruction("copy", 6, 6, '["x y", "/z"]', ["x y", "/z"],
                    ["--chown=1:2"]),
        instruction("run", 7, 9, "<<EOF", heredocs=[
            {"name": "EOF", "body": "echo hi\n", "expand": True,
             "strip_tabs": False}]),
        instruction("cmd", 10, 10, '["sh", "-c", "true"]',
                    ["sh", "-c", "true"]),
    ],
}


def case_parse_json(folder):
    folder.write("small.docker", PARSE_INPUT)
    out = folder.run_ok("parse", "--json", "small.docker")
    check_equal(json.loads(out), PARSE_EXPECTED, "parse --json")


def write_graph_folder(folder, copied="tool data.txt"):
    write_chain(folder)
    folder.write("leaf.docker", 'FROM qemu:top\nCOPY ["%s", "/x"]\n' % copied)
    folder.write("leaf.docker.d/" + copied, "data\n")


def check_graph_cmake(folder, copied):
    write_graph_folder(folder, copied)
    check_equal(folder.run("graph", "--format", "cmake", "-o", "graph.cmake"),
                (0, "", ""), "graph --format cmake")
    folder.write("print.cmake",
                 "include(\"${CMAKE_CURRENT_LIST_DIR}/graph.cmake\")\n"
                 "message(\"images=${QDI_IMAGES}\")\n"
                 "message(\"leaf=${QDI_IMAGE_leaf_BASES}\")\n"
                 "message(\"top=${QDI_IMAGE_top_BASES}\")\n"
                 "message(\"files=${QDI_IMAGE_leaf_CONTEXT_FILES}\")\n")
    result = subprocess.run(["cmake", "-P", "print.cmake"], cwd=folder.root,
                            capture_output=True, text=True)
    check_equal((result.returncode, result.stdout, result.stderr),
                (0, "", "images=base;leaf;top\nleaf=top\ntop=base\n"
                 "files=./leaf.docker.d/%s\n" % copied),
                "cmake -P on the graph")


def case_graph_cmake(folder):
    check_graph_cmake(folder, "tool data.txt")


def case_graph_cmake_name_ends_in_bracket(folder):
    # A context file whose name ends in ']' must not close CMake's bracket
    # argument early.
    check_graph_cmake(folder, "x]")


def write_states(folder):
    """A build folder's stamps: base current, top stale, leaf not there."""
    for name, text in [("state/base/checksum", "aaa\n"),
                       ("state/base/image", "aaa\ndocker\n"),
                       ("state/top/checksum", "bbb\n"),
                       ("state/top/image", "old\ndocker\n")]:
        folder.write(name, text)


def case_graph_state_text(folder):
    write_graph_folder(folder)
    write_states(folder)
    out = folder.run_ok("graph", "--format", "text", "--state-dir", "state")
    check_equal(out, "IMAGE  STATE    LOCAL BASES  EXTERNAL BASES\n"
                "base   current  -            debian:bookworm-slim\n"
                "top    stale    base         -\n", "graph --format text")
    folder.write("state/top/image", "bbb\ndocker\nskipped\n")
    out = folder.run_ok("graph", "--format", "text", "--state-dir", "state")
    check("top    skipped" in out, "a skipped image is not shown so:\n" + out)


def case_graph_state_dot(folder):
    write_graph_folder(folder)
    write_states(folder)
    out = folder.run_ok("graph", "--format", "dot", "--state-dir", "state")
    for line in ['"base" [shape=box, style=filled, fillcolor=palegreen, '
                 'label="base\\ncurrent"];',
                 '"top" [shape=box, style=filled, fillcolor=salmon, '
                 'label="top\\nstale"];',
                 '"top" -> "base";']:
        check(line in out, "no line %s in:\n%s" % (line, out))
    check('"leaf" [' not in out, "an image of no build is shown:\n" + out)
    dot = shutil.which("dot")
    if dot is not None:
        result = subprocess.run([dot, "-Tcanon"], input=out,
                                capture_output=True, text=True)
        check_equal((result.returncode, result.stderr), (0, ""), "dot")


def case_graph_state_virtual_images(folder):
    # Two images of a build made from one file that needs an extra file
    # none is given here (QEMU's debian-toolchain.docker, built only as
    # debian-nios2-cross and debian-microblaze-cross): both are listed,
    # in the order given, and the file's own name, no image of the build,
    # is not; its missing COPY source is no error, since no context file
    # is shown.
    write_graph_folder(folder)
    folder.write("tool.docker", "FROM qemu:base\nADD build-tool.sh /\n")
    write_states(folder)
    for name, text in [("state/tool-b/checksum", "ccc\n"),
                       ("state/tool-b/image", "ccc\ndocker\n"),
                       ("state/tool-a/checksum", "ddd\n")]:
        folder.write(name, text)
    out = folder.run_ok("graph", "--format", "text", "--state-dir", "state",
                        "--virtual-image", "tool-b", "tool.docker",
                        "--virtual-image", "tool-a", "./tool.docker")
    check_equal(out, "IMAGE   STATE    LOCAL BASES  EXTERNAL BASES\n"
                "base    current  -            debian:bookworm-slim\n"
                "tool-b  current  base         -\n"
                "tool-a  stale    base         -\n"
                "top     stale    base         -\n",
                "graph --format text with virtual images")
    code, out, err = folder.run("graph", "--format", "text",
                                "--virtual-image", "tool-a", "out/x.docker")
    check_equal((code, out, err),
                (2, "", "qemu-docker-images: error: virtual image 'tool-a': "
                 "out/x.docker is not a Dockerfile of the search folders; "
                 "give its folder with --search-dir\n"),
                "a virtual image of a file outside the search folders")


def case_graph_edges_out(folder):
    # The edges file written beside another format holds the same edges
    # as --format edges: the module's configure step depends on it.
    write_graph_folder(folder)
    folder.run_ok("graph", "--format", "cmake", "-o", "graph.cmake",
                  "--edges-out", "edges.txt")
    check_equal(folder.read("edges.txt").decode(),
                folder.run_ok("graph", "--format", "edges"),
                "--edges-out next to --format cmake")


def case_graph_dot(folder):
    dot = shutil.which("dot")
    if dot is None:
        raise Skipped("graphviz's dot is not installed")
    write_graph_folder(folder)
    out = folder.run_ok("graph", "--format", "dot")
    result = subprocess.run([dot, "-Tcanon"], input=out, capture_output=True,
                            text=True)
    check_equal((result.returncode, result.stderr), (0, ""),
                "dot on the graph")
    for edge in ('"leaf" -> "top"', '"top" -> "base"'):
        check(edge in out, "no edge %s in:\n%s" % (edge, out))


# Cases: depfile -----------------------------------------------------------


def depfile_entries(text):
    """The prerequisites of the depfile's first rule, unescaped."""
    rule = text.split("\n\n")[0].replace("\\\n", " ")
    target, _, prerequisites = rule.partition(": ")
    words = re.findall(r"(?:\\.|\$\$|[^\s\\$])+", prerequisites)
    return target, [re.sub(r"\\(.)", r"\1", w).replace("$$", "$")
                    for w in words]


def case_depfile_lists_inputs(folder):
    write_chain(folder)
    folder.write("extra.txt", "extra\n")
    folder.write("top.docker", TOP + "COPY extra.txt /extra.txt\n")
    folder.run_ok(*FLATTEN, "--extra-file", "extra.txt")
    target, entries = depfile_entries(folder.read(OUTPUTS[2]).decode())
    check_equal(target, OUTPUTS[1], "depfile target")
    normal = {os.path.normpath(entry) for entry in entries}
    for needed in ("base.docker", "top.docker", "top.docker.d/tool.sh",
                   "extra.txt"):
        check(needed in normal, "the depfile does not list %s: %s" % (
            needed, sorted(normal)))


def case_depfile_base_stamp(folder):
    """With --base-stamp, the base's stamp stands for the base's files."""
    write_chain(folder)
    folder.run_ok(*FLATTEN, "--base-stamp", "base=out/base.stamp")
    _, entries = depfile_entries(folder.read(OUTPUTS[2]).decode())
    normal = {os.path.normpath(entry) for entry in entries}
    check("out/base.stamp" in normal and "base.docker" not in normal,
          "the depfile names the base's files, not its stamp: %s" % (
              sorted(normal)))
    check("top.docker" in normal and "top.docker.d/tool.sh" in normal,
          "the depfile lost the image's own inputs: %s" % sorted(normal))


def case_base_stamp_needs_name_and_file(folder):
    write_chain(folder)
    code, _, err = folder.run(*FLATTEN, "--base-stamp", "base")
    check_equal(code, 2, "exit status")
    check("--base-stamp 'base' is not NAME=FILE" in err,
          "unexpected message: %s" % err)


def case_depfile_escapes_for_make(folder):
    weird = "a b#c$d.txt"
    write_chain(folder)
    folder.write("top.docker.d/" + weird, "weird\n")
    folder.write("top.docker", TOP + 'COPY ["a b#c\\\\$d.txt", "/w"]\n')
    folder.run_ok(*FLATTEN)
    target, entries = depfile_entries(folder.read(OUTPUTS[2]).decode())
    check("top.docker.d/" + weird in entries,
          "the depfile does not list %r: %s" % (weird, entries))
    folder.write("Makefile", "%s:\n\ttouch $@\ninclude %s\n" % (
        OUTPUTS[1], OUTPUTS[2]))
    everything = ["base.docker", "top.docker", "top.docker.d",
                  "top.docker.d/tool.sh", "top.docker.d/" + weird]
    folder.make_old(*everything)
    make = ["make", "--no-print-directory", "-q", OUTPUTS[1]]
    up_to_date = subprocess.run(make, cwd=folder.root, capture_output=True,
                                text=True)
    check_equal((up_to_date.returncode, up_to_date.stderr), (0, ""),
                "make -q before touching %r" % weird)
    subprocess.run(["touch", folder.path("top.docker.d/" + weird)],
                   check=True)
    stale = subprocess.run(["make", "-n", OUTPUTS[1]], cwd=folder.root,
                           capture_output=True, text=True)
    check_equal((stale.returncode, stale.stdout, stale.stderr),
                (0, "touch %s\n" % OUTPUTS[1], ""),
                "make -n after touching %r" % weird)


def stale_for_make(folder):
    """Whether make, given the depfile, would rebuild the stamp."""
    folder.write("Makefile", "%s:\n\ttouch $@\ninclude %s\n" % (
        OUTPUTS[1], OUTPUTS[2]))
    result = subprocess.run(["make", "--no-print-directory", "-q",
                             OUTPUTS[1]], cwd=folder.root,
                            capture_output=True, text=True)
    check(result.returncode in (0, 1) and result.stderr == "",
          "make -q: exit %d, stderr %r" % (result.returncode, result.stderr))
    return result.returncode == 1


def check_new_files_seen(folder, entries, seen, unseen):
    """Adds each file of `seen` and `unseen` in turn, with every input made
    old before, and checks which ones make the stamp stale."""
    inputs = [entry for entry in entries if os.path.exists(folder.path(entry))]
    for name in seen + unseen:
        folder.make_old(OUTPUTS[1])
        subprocess.run(["touch", "-d", "2000-01-01"] +
                       [folder.path(entry) for entry in inputs], check=True)
        check(not stale_for_make(folder), "stale before adding " + name)
        folder.write(name, "new\n")
        check_equal(stale_for_make(folder), name in seen,
                    "stale after adding %s (inputs: %s)" % (name, inputs))
        os.remove(folder.path(name))


def case_depfile_watches_context_folders(folder):
    """In a real context folder, a file new in a folder that a COPY takes
    whole (at any depth), or in the folder where a COPY's wildcard looks,
    makes the image stale: the depfile names those folders, whose
    timestamps change.  A file new elsewhere in the context does not."""
    if not shutil.which("make"):
        raise Skipped("make is not installed")
    write_chain(folder)
    folder.write("ctx/tool.sh", "echo tool\n")
    folder.write("ctx/tree/sub/a.txt", "a\n")
    folder.write("ctx/conf/one.conf", "1\n")
    folder.write("ctx/other/x.txt", "x\n")
    folder.write("top.docker", TOP + "COPY tree /tree\n"
                 "COPY conf/*.conf /etc/\n")
    folder.run_ok(*FLATTEN, "--context", "ctx")
    _, entries = depfile_entries(folder.read(OUTPUTS[2]).decode())
    normal = {os.path.normpath(entry) for entry in entries}
    for needed in ("ctx/tree", "ctx/tree/sub", "ctx/conf",
                   "ctx/tree/sub/a.txt", "ctx/conf/one.conf"):
        check(needed in normal, "the depfile does not list %s: %s" % (
            needed, sorted(normal)))
    for unwanted in ("ctx", "ctx/other", "ctx/other/x.txt"):
        check(unwanted not in normal, "the depfile lists %s: %s" % (
            unwanted, sorted(normal)))
    check_new_files_seen(
        folder, entries,
        seen=["ctx/tree/b.txt", "ctx/tree/sub/b.txt", "ctx/conf/two.conf"],
        unseen=["ctx/other/y.txt", "ctx/loose.txt"])


def case_depfile_watches_docker_d_folders(folder):
    """The same for the staged context: NAME.docker.d and every folder
    below it."""
    if not shutil.which("make"):
        raise Skipped("make is not installed")
    write_chain(folder)
    folder.write("top.docker.d/sub/deep/a.txt", "a\n")
    folder.write("top.docker", TOP + "COPY sub /sub\n")
    folder.run_ok(*FLATTEN)
    _, entries = depfile_entries(folder.read(OUTPUTS[2]).decode())
    normal = {os.path.normpath(entry) for entry in entries}
    for needed in ("top.docker.d", "top.docker.d/sub",
                   "top.docker.d/sub/deep"):
        check(needed in normal, "the depfile does not list %s: %s" % (
            needed, sorted(normal)))
    check_new_files_seen(
        folder, entries,
        seen=["top.docker.d/new.txt", "top.docker.d/sub/deep/b.txt"],
        unseen=["loose.txt"])


def case_sigkill_while_writing(folder):
    """A helper killed at any moment leaves each output either as it was
    or complete, never half-written."""
    import random
    import signal
    import time
    lines = "".join("RUN echo %d with some text to make it longer\n" % i
                    for i in range(200000))
    folder.write("big.docker", "FROM scratch\n" + lines)
    args = ["flatten", "big.docker", "-o", "out.docker", "--stamp",
            "stamp", "--depfile", "deps.d"]
    folder.run_ok(*args)
    old = {name: folder.read(name) for name in ["out.docker", "stamp"]}
    folder.write("big.docker", "FROM scratch\n" + lines + "RUN new\n")
    new_out = folder.run_ok("flatten", "big.docker")
    kills = 0
    for attempt in range(20):
        for name, data in old.items():
            folder.write(name, data)
        process = subprocess.Popen([folder.helper] + args, cwd=folder.root)
        time.sleep(random.uniform(0.0, 0.6))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += process.returncode == -signal.SIGKILL
        out = folder.read("out.docker")
        check(out in (old["out.docker"], new_out.encode()),
              "attempt %d: out.docker is neither old nor new (%d bytes)"
              % (attempt, len(out)))
        stamp = folder.read("stamp")
        check(len(stamp) == 33 and stamp.endswith(b"\n"),
              "attempt %d: the stamp is damaged: %r" % (attempt, stamp))
    check(kills > 0, "the helper was never killed while running")


CASES = cases_of(globals())


def main():
    return run_one_case(CASES, Folder, "qdi-cli-")


if __name__ == "__main__":
    sys.exit(main())
