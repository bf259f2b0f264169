#!/usr/bin/env python3
"""Bad and extreme inputs for qemu-docker-images: broken chains, names that
climb out of the folder, malformed text, huge files, deep chains, wide
folders, odd COPY sources and file names.

Usage: badinput_test.py --helper PATH --case NAME   (or --list)
Exit status: 0 pass, 1 fail, 77 skipped (a tool the case needs is missing).

Each failing case runs "flatten top.docker -o OUT --stamp S --depfile D" in
a fresh temporary folder over outputs that already exist, and asserts exit
status 1, the exact error line on stderr, and that the outputs keep their
bytes and mtimes and that nothing else appears beside them.
"""

import os
import re
import resource
import shutil
import subprocess
import sys
import time

PREFIX = "qemu-docker-images: error: "
OLD_TIME = 981173106  # 2001-02-03, older than anything a test writes
OUTPUTS = ["out/flat.docker", "out/image.stamp", "out/image.d"]
FLATTEN = ["flatten", "top.docker", "-o", OUTPUTS[0], "--stamp", OUTPUTS[1],
           "--depfile", OUTPUTS[2]]

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from helper_testing import (  # noqa: E402
    Skipped, TempFolder, cases_of, check, check_equal, run_one_case)


class Folder(TempFolder):
    """A temporary folder, with the helper run inside it."""

    def run(self, *args, prefix=(), stack=None, timed=False):
        """Runs the helper; `stack` limits its stack to that many bytes and
        `timed` measures it with /usr/bin/time (then the last stderr line
        is "SECONDS KILOBYTES", removed from the returned stderr)."""
        def limit_stack():
            resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))
        command = list(prefix) + [self.helper] + list(args)
        if timed:
            command = ["/usr/bin/time", "-f", "%e %M"] + command
        result = subprocess.run(command, cwd=self.root, capture_output=True,
                                preexec_fn=limit_stack if stack else None)
        err = result.stderr.decode(errors="replace")
        measured = None
        if timed:
            lines = err.splitlines(keepends=True)
            seconds, kilobytes = lines[-1].split()
            measured = (float(seconds), int(kilobytes))
            err = "".join(lines[:-1])
        out = result.stdout.decode(errors="replace")
        if timed:
            return result.returncode, out, err, measured
        return result.returncode, out, err

    def run_ok(self, *args, **kwargs):
        code, out, err, *rest = self.run(*args, **kwargs)
        check(code == 0 and err == "",
              "%s: exit %d, stderr %r" % (" ".join(args), code, err[-2000:]))
        return (out, *rest) if rest else out


def prepare_outputs(folder):
    """Writes the outputs as an earlier run would have, backdated."""
    for name in OUTPUTS:
        folder.write(name, "previous content of %s\n" % name)
        os.utime(folder.path(name), (OLD_TIME, OLD_TIME))
    return {name: (folder.read(name), os.stat(folder.path(name)).st_mtime_ns)
            for name in OUTPUTS}


def check_untouched(folder, before):
    for name, (content, mtime) in before.items():
        check(folder.read(name) == content,
              "a failing flatten rewrote the content of %s" % name)
        check(os.stat(folder.path(name)).st_mtime_ns == mtime,
              "a failing flatten changed the mtime of %s" % name)
    check_equal(sorted(os.listdir(folder.path("out"))),
                sorted(os.path.basename(name) for name in OUTPUTS),
                "files of the output folder")


def check_error(folder, files, message, prefix=()):
    """Flattens top.docker over existing outputs: exit status 1, exactly
    `message` (after the prefix) on stderr, outputs untouched."""
    for name, content in files.items():
        folder.write(name, content)
    before = prepare_outputs(folder)
    code, out, err = folder.run(*FLATTEN, prefix=prefix)
    check_equal((code, out), (1, ""), "exit status and standard output")
    if isinstance(message, str):
        check_equal(err, PREFIX + message + "\n", "stderr")
    else:
        check(message.fullmatch(err),
              "stderr:\n  expected a match of %r\n  actual   %r" % (
                  message.pattern, err))
    check_untouched(folder, before)


def flatten_ok(folder, files):
    """Flattens top.docker over existing outputs and expects success."""
    for name, content in files.items():
        folder.write(name, content)
    prepare_outputs(folder)
    folder.run_ok(*FLATTEN)
    return folder.read(OUTPUTS[0]).decode()


# Cases: the chain --------------------------------------------------------

def case_missing_base(folder):
    check_error(folder, {"top.docker": "FROM debian\n\nFROM qemu/gone\n"},
                "top.docker:3: local base image 'gone' has no Dockerfile: no"
                " gone.docker in .; add the file or name its folder with"
                " --search-dir")


def cycle_message(where, names):
    return ("%s: dependency cycle: %s; an image cannot be built on itself,"
            " so remove one of these bases" % (where, " -> ".join(names)))


def case_cycle_1(folder):
    check_error(folder, {"top.docker": "# itself\nFROM qemu/top\n"},
                cycle_message("top.docker:2", ["top", "top"]))


def case_cycle_2(folder):
    check_error(folder, {"top.docker": "FROM qemu/b\n",
                         "b.docker": "FROM debian\nCOPY --from=qemu:top"
                                     " / /\n"},
                cycle_message("./b.docker:2", ["top", "b", "top"]))


def case_cycle_5(folder):
    names = ["top", "b", "c", "d", "e"]
    files = {}
    for name, base in zip(names, names[1:] + ["top"]):
        files[name + ".docker"] = "FROM qemu/%s\nRUN true\n" % base
    check_error(folder, files,
                cycle_message("./e.docker:1", names + ["top"]))


def invalid_base(folder, reference):
    folder.write("x.docker", "FROM debian\n")
    check_error(folder, {"top.docker": "FROM debian\n\nFROM %s\n" % reference},
                "top.docker:3: '%s' cannot name a local image: not a valid"
                " image reference; name a Dockerfile of the search folders"
                % reference)


def case_base_climbs_out(folder):
    invalid_base(folder, "qemu/../../etc/passwd")


def case_base_absolute_after_prefix(folder):
    invalid_base(folder, "qemu//etc/passwd")


def case_base_empty_name(folder):
    invalid_base(folder, "qemu/")


# Cases: the text ----------------------------------------------------------

def case_unterminated_heredoc(folder):
    check_error(folder, {"top.docker": "FROM debian\nRUN <<EOF\necho hi\n"
                                       "EOF \n"},
                "top.docker:2: heredoc 'EOF' is not terminated; end its body"
                " with a line that holds only 'EOF'")


def case_continuation_at_eof(folder):
    # Docker accepts a last instruction that ends in the escape character
    # (the continuation just ends with the file), and so does the helper.
    text = flatten_ok(folder, {"top.docker": "FROM debian\nRUN true \\"})
    check_equal(text, "FROM debian\nRUN true \\\n", "flattened file")


def case_unknown_directive(folder):
    # Docker reads an unknown directive as a comment, and it ends the
    # directives: the escape line after it is a comment too.
    text = flatten_ok(folder, {"top.docker": "# unknown=1\n# escape=`\n"
                                             "FROM debian\nRUN a \\\n b\n"})
    check_equal(text, "FROM debian\nRUN a \\\n b\n", "flattened file")


def case_duplicate_directive(folder):
    check_error(folder, {"top.docker": "# escape=`\n# Escape=`\n"
                                       "FROM debian\n"},
                "top.docker:2: parser directive 'escape' is set twice; keep"
                " only one of them")


def case_escape_conflict(folder):
    check_error(folder, {"top.docker": "# escape=`\nFROM qemu/mid\n",
                         "mid.docker": "# escape=`\nFROM qemu/base\n",
                         "base.docker": "FROM debian\n"},
                "./mid.docker:1: escape character '`' differs from '\\' in"
                " ./base.docker; use one escape character in a whole chain")


def case_nul_byte(folder):
    check_error(folder, {"top.docker": "FROM qemu/base\n",
                         "base.docker": b"FROM debian\nRUN true\n\0\n"},
                "./base.docker:3: contains a NUL byte, so it is not a text"
                " file; check that this is the Dockerfile you meant")


def case_invalid_utf8(folder):
    check_error(folder, {"top.docker": b"FROM debian\n# caf\xc3\n"
                                       b"RUN true\n"},
                "top.docker:2: is not valid UTF-8; save the file as UTF-8"
                " text")


# Cases: size ------------------------------------------------------------

def write_huge(path, megabytes):
    """Half a heredoc body, half one-line instructions, `megabytes` MiB."""
    half = megabytes * 1024 * 1024 // 2
    body = "echo " + "x" * 90 + "\n"
    run = "RUN echo " + "y" * 86 + "\n"
    with open(path, "w") as f:
        f.write("FROM debian\nRUN <<EOF\n")
        f.write(body * (half // len(body)))
        f.write("EOF\n")
        f.write(run * (half // len(run)))


def case_huge_file(folder):
    write_huge(folder.path("top.docker"), 100)
    prepare_outputs(folder)
    _, (seconds, kilobytes) = folder.run_ok(*FLATTEN, timed=True)
    size = os.path.getsize(folder.path("top.docker"))
    print("100 MB file: %.1f s, peak memory %d MB" % (
        seconds, kilobytes // 1024))
    check(abs(os.path.getsize(folder.path(OUTPUTS[0])) - size) < 100,
          "the flattened file is not the size of the input")
    # About seven copies of the text are alive at the peak (text, lines,
    # instructions, sources, canonical form, output); more means a leak or
    # a quadratic copy crept in.
    check(kilobytes < 12 * size // 1024,
          "peak memory %d MB for a %d MB file" % (kilobytes // 1024,
                                                  size >> 20))


def write_deep_chain(folder, depth):
    folder.write("i0.docker", "FROM debian\nRUN echo 0\n")
    for i in range(1, depth):
        folder.write("i%d.docker" % i,
                     "FROM qemu/i%d\nRUN echo %d\n" % (i - 1, i))
    return "i%d.docker" % (depth - 1)


def case_deep_chain(folder):
    # 1,000 images, each on the one before.  Loading and flattening recurse
    # once per level, so the same chain must also pass with a 1 MB stack.
    timings = {}
    for depth in (250, 1000):
        top = write_deep_chain(folder, depth)
        best = None
        for _ in range(3):
            start = time.perf_counter()
            folder.run_ok("flatten", top, "-o", "flat")
            seconds = time.perf_counter() - start
            best = seconds if best is None else min(best, seconds)
        timings[depth] = best
        flat = folder.read("flat").decode()
        check_equal(len(re.findall(r"^RUN echo", flat, re.M)), depth,
                    "RUN lines in the flattened chain of %d" % depth)
    folder.run_ok("flatten", top, "-o", "flat-1m", stack=1 << 20)
    check_equal(folder.read("flat-1m"), folder.read("flat"),
                "output with a 1 MB stack")
    ratio = timings[1000] / timings[250]
    print("chain of 250: %.3f s, of 1000: %.3f s, ratio %.1f" % (
        timings[250], timings[1000], ratio))
    # Linear is 4 (less while process start-up dominates); quadratic
    # would be 16.
    check(ratio < 8 or timings[1000] < 0.5,
          "time grows faster than linearly: ratio %.1f" % ratio)


def case_wide_folder(folder):
    # 10,000 images in one folder, each on the one at half its number, so
    # that every image has a short chain and many share bases.
    names = []
    for i in range(10000):
        base = "debian" if i == 0 else "qemu/n%d" % (i // 2)
        folder.write("n%d.docker" % i, "FROM %s\nRUN echo %d\n" % (base, i))
        names.append("n%d.docker" % i)
    out, (seconds, kilobytes) = folder.run_ok("checksum", *names, timed=True)
    lines = out.splitlines()
    check_equal(len(lines), 10000, "checksum lines")
    check_equal(len({line.split()[0] for line in lines}), 10000,
                "distinct checksums")
    print("checksum of 10,000 images: %.1f s, %d MB" % (seconds,
                                                        kilobytes >> 10))
    out, (seconds, kilobytes) = folder.run_ok("graph", "--format", "edges",
                                              timed=True)
    edges = set(out.splitlines())
    check("n9999: n4999" in edges,
          "graph output lacks the edge of n9999:\n%s" % out[:500])
    print("graph of 10,000 images: %.1f s, %d MB" % (seconds,
                                                     kilobytes >> 10))


# Cases: the output folder -------------------------------------------------

class SmallFileSystem:
    """A tmpfs of `kilobytes` mounted on the output folder; read-only once
    `freeze` is called.  Needs root; otherwise the case is skipped."""

    def __init__(self, folder, kilobytes):
        self.path = folder.path("out")
        self.kilobytes = kilobytes

    def __enter__(self):
        mount = shutil.which("mount")
        result = subprocess.run(
            [mount or "mount", "-t", "tmpfs", "-o",
             "size=%dk" % self.kilobytes, "qdi-badinput", self.path],
            capture_output=True, text=True) if mount else None
        if result is None or result.returncode != 0:
            raise Skipped("cannot mount a tmpfs here: %s" % (
                result.stderr.strip() if result else "no mount command"))
        return self

    def freeze(self):
        subprocess.run(["mount", "-o", "remount,ro", self.path], check=True)

    def __exit__(self, *exc):
        subprocess.run(["umount", self.path], check=True)


def write_big_top(folder, kilobytes):
    line = "RUN echo " + "z" * 90 + "\n"
    folder.write("top.docker",
                 "FROM debian\n" + line * (kilobytes * 1024 // len(line)))


def case_full_disk(folder):
    # The depfile fits, the flattened file does not: neither replaces the
    # old one, and no temporary file is left behind.
    write_big_top(folder, 512)
    with SmallFileSystem(folder, 128):
        check_error(folder, {}, "out/flat.docker: cannot be written: No"
                    " space left on device; free some space or choose"
                    " another output folder")


def case_read_only_folder(folder):
    with SmallFileSystem(folder, 1024) as small:
        folder.write("top.docker", "FROM debian\nRUN true\n")
        before = prepare_outputs(folder)
        small.freeze()
        code, out, err = folder.run(*FLATTEN)
        check_equal((code, out), (1, ""), "exit status and standard output")
        check_equal(err, PREFIX + "out/image.d: cannot be written: Read-only"
                    " file system; check that its folder is writable\n",
                    "stderr")
        check_untouched(folder, before)


# Cases: copied files ------------------------------------------------------

COPY_TOP = "FROM debian\nRUN true\nCOPY %s /dst/\n"


def case_copied_file_missing(folder):
    folder.write("top.docker.d/present.txt", "here\n")
    check_error(folder, {"top.docker": COPY_TOP % "absent.txt"},
                "top.docker:3: COPY source 'absent.txt' is not in the staged"
                " build context (the --extra-file files and the .docker.d"
                " folder); add the file or fix the source")


def as_nobody(folder):
    """A command prefix that drops root, so that mode 000 means unreadable."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise Skipped("running as root and setpriv is not installed")
    os.chmod(folder.root, 0o777)
    for root, dirs, files in os.walk(folder.root):
        os.chmod(root, 0o777)
    return (setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups")


def case_copied_file_unreadable(folder):
    folder.write("top.docker.d/secret.txt", "secret\n", 0o000)
    folder.write("top.docker", COPY_TOP % "secret.txt")
    prepare_outputs(folder)
    prefix = as_nobody(folder)
    check_error(folder, {}, "top.docker:3: top.docker.d/secret.txt: cannot"
                " be read: Permission denied; check that it exists and is"
                " readable", prefix=prefix)


def case_copied_file_dangling_symlink(folder):
    # Docker follows a symlink named as a COPY source and fails when it
    # points nowhere; so does the helper, saying what the link is.
    folder.symlink("nowhere.txt", "top.docker.d/link.txt")
    check_error(folder, {"top.docker": COPY_TOP % "link.txt"},
                "top.docker:3: copied file top.docker.d/link.txt is a symlink"
                " to 'nowhere.txt', which does not exist; fix or remove the"
                " symlink")


def case_copied_file_symlink_loop(folder):
    folder.symlink("loop-b", "top.docker.d/loop-a")
    folder.symlink("loop-a", "top.docker.d/loop-b")
    check_error(folder, {"top.docker": COPY_TOP % "loop-a"},
                "top.docker:3: copied file top.docker.d/loop-a cannot be"
                " read: Too many levels of symbolic links; check that it"
                " exists and is readable")


def case_copy_source_escapes_context(folder):
    folder.write("x", "outside\n")
    check_error(folder, {"top.docker": COPY_TOP % "../x"},
                "top.docker:3: '../x' is outside the build context; COPY and"
                " ADD can only take files of the context")


def case_copied_folder_symlinks(folder):
    # Inside a copied folder a symlink is copied as a symlink, named by its
    # own path: one to a file outside must not be named "../file" (which
    # made --context-out write outside its folder), one in a loop not "".
    folder.write("outside.txt", "outside\n")
    folder.symlink("../outside.txt", "top.docker.d/link")
    folder.symlink("loop-b", "top.docker.d/loop-a")
    folder.symlink("loop-a", "top.docker.d/loop-b")
    flatten_ok(folder, {"top.docker": COPY_TOP % "."})
    folder.run_ok(*FLATTEN, "--context-out", "ctx")
    check_equal(sorted(os.listdir(folder.path("ctx"))),
                ["link", "loop-a", "loop-b"], "files of the context")
    check_equal(os.readlink(folder.path("ctx/link")), "../outside.txt",
                "the copied symlink")
    check_equal(folder.read("outside.txt"), b"outside\n", "outside.txt")
    deps = folder.read(OUTPUTS[2]).decode()
    for name in ("link", "loop-a", "loop-b"):
        check("top.docker.d/%s " % name in deps.replace("\n", " "),
              "the depfile does not list %s:\n%s" % (name, deps))


# Cases: file names in the depfile -------------------------------------------

ODD_NAMES = ["with space.txt", "hash#mark.txt", "dollar$sign.txt",
             "colon:name.txt", "caf\u00e9 \u00fcber.txt"]


def json_word(name):
    return '"%s"' % name.replace("\\", "\\\\").replace("$", "\\\\$")


def write_odd_names(folder):
    for name in ODD_NAMES:
        folder.write("top.docker.d/" + name, name + "\n")
    sources = ", ".join(json_word(name) for name in ODD_NAMES)
    folder.write("top.docker", "FROM debian\nCOPY [%s, \"/dst/\"]\n" % sources)
    for root, dirs, files in os.walk(folder.root):
        for name in dirs + files:
            os.utime(os.path.join(root, name), (OLD_TIME, OLD_TIME))


def touch_later(path):
    """Makes `path` newer than anything just built, even on a file system
    whose clock only moves every few milliseconds."""
    time.sleep(0.05)
    os.utime(path, None)


def check_rebuilds(folder, tool, is_current, rebuild):
    check(is_current(), "%s: not current after the first build" % tool)
    for name in ODD_NAMES + ["top.docker"]:
        path = "top.docker" if name == "top.docker" else \
            "top.docker.d/" + name
        touch_later(folder.path(path))
        check(not is_current(), "%s: touching %r does not make the stamp"
              " stale" % (tool, name))
        rebuild()
        check(is_current(), "%s: not current after rebuilding for %r" % (
            tool, name))


def run_tool(folder, *command):
    return subprocess.run(list(command), cwd=folder.root,
                          capture_output=True, text=True)


def case_odd_names_ninja(folder):
    ninja = shutil.which("ninja")
    if ninja is None:
        raise Skipped("ninja is not installed")
    write_odd_names(folder)
    # "&& touch" because the helper keeps an unchanged stamp as it is.
    folder.write("build.ninja", (
        "rule flatten\n"
        "  command = %s flatten top.docker --stamp $out --depfile $out.d"
        " && touch $out\n"
        "  depfile = $out.d\n  deps = gcc\n"
        "build image.stamp: flatten top.docker\n") % folder.helper)

    def build():
        result = run_tool(folder, ninja)
        check(result.returncode == 0, "ninja failed: %s" % result.stdout)

    def is_current():
        result = run_tool(folder, ninja, "-n", "-d", "explain")
        check(result.returncode == 0, "ninja -n failed: %s" % result.stdout)
        return "no work to do" in result.stdout

    build()
    deps = run_tool(folder, ninja, "-t", "deps").stdout
    for name in ODD_NAMES:
        check("top.docker.d/" + name in deps,
              "ninja did not read %r from the depfile:\n%s" % (name, deps))
    check_rebuilds(folder, "ninja", is_current, build)


def case_odd_names_make(folder):
    make = shutil.which("make")
    if make is None:
        raise Skipped("make is not installed")
    write_odd_names(folder)
    folder.write("Makefile", (
        "image.stamp:\n"
        "\t%s flatten top.docker --stamp $@ --depfile $@.d && touch $@\n"
        "-include image.stamp.d\n") % folder.helper)

    def build():
        result = run_tool(folder, make, "--no-print-directory")
        check(result.returncode == 0, "make failed: %s" % result.stderr)

    def is_current():
        result = run_tool(folder, make, "--no-print-directory", "-q")
        check(result.returncode in (0, 1), "make -q failed: %s%s" % (
            result.stdout, result.stderr))
        return result.returncode == 0

    build()
    check_rebuilds(folder, "make", is_current, build)


CASES = cases_of(globals())


def folder_with_out(helper, temp):
    os.makedirs(os.path.join(temp, "out"))
    return Folder(helper, temp)


def main():
    return run_one_case(CASES, folder_with_out, "qdi-badinput-")


if __name__ == "__main__":
    sys.exit(main())
