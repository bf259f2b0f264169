#!/usr/bin/env python3
"""The invalidation matrix of the QemuDockerImages module: which images a
build rebuilds after each kind of change, under Ninja and Unix Makefiles.

Usage: matrix_test.py --helper PATH --case NAME --generator ninja|make
                      [--modules DIR] [--corpus DIR] [--cmake PATH] [--keep]
       matrix_test.py --list      (prints CASE.GENERATOR per test)
Exit status: 0 pass, 1 fail, 77 skipped (the generator's tool or the
corpus is missing).

Each case copies a folder of Dockerfiles into a temporary project that
includes the module, points the module at tests/module/fake-engine (a
docker stand-in that logs every call and keeps its images in a JSON
file), builds every image once, makes the row's change and builds again.
The assertions are on the engine's log: which `build` calls a build made,
and in which order.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from helper_testing import (  # noqa: E402
    Failure, Skipped, check, check_equal)

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixtures", "chain")
PREFIX = "qemu/"
FIXTURE_IMAGES = {"argimg", "base", "mid", "other", "top1", "top2"}
CHAIN = {"base", "mid", "top1", "top2"}
TIMEOUT = 300
# What the helper says when a FROM line changed under Make, whose build
# files cannot be regenerated in the middle of a build.
RUN_AGAIN = "run the build again"

PROJECT = """\
cmake_minimum_required(VERSION 3.20)
project(QdiModuleMatrix NONE)
list(APPEND CMAKE_MODULE_PATH "{modules}")
include(QemuDockerImages)
{body}"""

# argimg gets its own options before the folder is added; the cache
# variable lets a case change the value by reconfiguring.
FIXTURE_BODY = """\
set(QEMU_DOCKER_IMAGES_TEST_VERSION 1 CACHE STRING "VERSION of argimg")
QemuDockerImages_Add(argimg DOCKERFILE images/argimg.docker
  BUILD_ARGS VERSION=${QEMU_DOCKER_IMAGES_TEST_VERSION})
QemuDockerImages_AddDirectory(images)
"""

# debian-bootstrap is `FROM scratch` + `ADD . /` over a context that
# QEMU's debian-bootstrap.pre makes with debootstrap (as root, from the
# network, with a qemu-user binary for binfmt_misc).  The module does not
# run .pre scripts, so there is no context to give it, with the stand-in
# or with a real engine; nothing stands on it.  Every other image of the
# folder has external bases only, which the stand-in accepts unpulled.
CORPUS_BODY = """\
QemuDockerImages_AddDirectory(images EXCLUDE debian-bootstrap)
"""


def clean_environment(extra=None):
    """Our environment without what would change the builds: a parent
    make's job server, or a stand-in switch from the caller."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
           and not name.startswith("QDI_FAKE_ENGINE_")}
    env.update(extra or {})
    return env


def built_tags(calls):
    """The images that `build` calls made, prefix removed, in call order."""
    tags = []
    for call in calls:
        is_build = call[:1] == ["build"] or call[:2] == ["buildx", "build"]
        if is_build and "-t" in call:
            tag = call[call.index("-t") + 1]
            tags.append(tag[len(PREFIX):] if tag.startswith(PREFIX) else tag)
    return tags


def inspected_tags(calls):
    return [call[-1] for call in calls if call[:2] == ["image", "inspect"]]


class Run:
    """One build: its exit status, its output and the engine calls it made."""

    def __init__(self, command, code, output, calls):
        self.command, self.code, self.output = command, code, output
        self.calls = calls

    def builds(self):
        return built_tags(self.calls)

    def describe(self):
        return "%s: exit %d, engine calls:\n%s\noutput:\n%s" % (
            " ".join(self.command), self.code,
            "\n".join(json.dumps(call) for call in self.calls) or "(none)",
            self.output)


class Project:
    """A temporary CMake project over a copy of a Dockerfile folder, with
    its build folder and the stand-in engine's store and log."""

    def __init__(self, options, root, generator):
        self.options = options
        self.generator = generator
        self.src = os.path.join(root, "src")
        self.images = os.path.join(self.src, "images")
        self.build_dir = os.path.join(root, "build")
        self.store = os.path.join(root, "engine", "state.json")
        self.log = os.path.join(root, "engine", "calls.jsonl")
        os.makedirs(os.path.dirname(self.store))

    # Files -------------------------------------------------------------------

    def create(self, dockerfiles, body):
        shutil.copytree(dockerfiles, self.images)
        self.set_body(body)

    def set_body(self, body):
        with open(os.path.join(self.src, "CMakeLists.txt"), "w") as f:
            f.write(PROJECT.format(modules=self.options.modules, body=body))

    def image_file(self, name):
        return os.path.join(self.images, name)

    def edit(self, name, old, new):
        path = self.image_file(name)
        with open(path) as f:
            text = f.read()
        check(old in text, "%s does not contain %r" % (name, old))
        with open(path, "w") as f:
            f.write(text.replace(old, new, 1))

    def write(self, name, text):
        with open(self.image_file(name), "w") as f:
            f.write(text)

    def image_stamp(self, image, build_dir=None):
        return os.path.join(build_dir or self.build_dir, "qemu-docker-images",
                            image, "image")

    def local_edges(self):
        """(base, image) for each `FROM qemu/base` line of the folder."""
        edges = set()
        for name in os.listdir(self.images):
            if name.endswith(".docker"):
                with open(self.image_file(name), encoding="utf-8") as f:
                    for base in re.findall(r"^FROM\s+qemu/(\S+)", f.read(),
                                           re.M | re.I):
                        edges.add((base, name[:-len(".docker")]))
        return edges

    # The engine --------------------------------------------------------------

    def engine_args(self):
        return ["--state", self.store, "--log", self.log]

    def engine(self, *args):
        subprocess.run([self.options.fake_engine] + self.engine_args() +
                       list(args), check=True, capture_output=True)

    def read_store(self):
        with open(self.store) as f:
            return json.load(f)

    def read_calls(self):
        try:
            with open(self.log) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def check_store_consistent(self):
        """Every image was built on the current version of its local
        bases, as a rebuild in dependency order leaves them."""
        store = self.read_store()
        for tag, image in sorted(store.items()):
            for base, base_id in sorted(image["bases"].items()):
                check(base in store and store[base]["id"] == base_id,
                      "%s was built on an older %s than the store has now:"
                      "\n%s" % (tag, base, json.dumps(store, indent=1)))

    # CMake and the build tool ------------------------------------------------

    def configure(self, *definitions, build_dir=None):
        generator = {"ninja": "Ninja", "make": "Unix Makefiles"}
        command = [self.options.cmake, "-S", self.src,
                   "-B", build_dir or self.build_dir,
                   "-G", generator[self.generator],
                   "-DQEMU_DOCKER_IMAGES_HELPER=" + self.options.helper,
                   "-DQEMU_DOCKER_IMAGES_ENGINE=" + self.options.fake_engine,
                   "-DQEMU_DOCKER_IMAGES_ENGINE_ARGS=" +
                   ";".join(self.engine_args())] + list(definitions)
        result = subprocess.run(command, capture_output=True, text=True,
                                env=clean_environment(), timeout=TIMEOUT)
        check(result.returncode == 0, "%s: exit %d:\n%s%s" % (
            " ".join(command), result.returncode, result.stdout,
            result.stderr))

    def build(self, target="docker-images", env=None, build_dir=None):
        command = [self.options.cmake, "--build", build_dir or self.build_dir,
                   "--target", target, "-j%d" % self.options.jobs]
        start = len(self.read_calls())
        result = subprocess.run(command, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                env=clean_environment(env), timeout=TIMEOUT)
        return Run(command, result.returncode, result.stdout,
                   self.read_calls()[start:])

    def build_ok(self, target="docker-images", env=None, build_dir=None):
        run = self.build(target, env, build_dir)
        check(run.code == 0, "the build failed: " + run.describe())
        return run

    def tool_command(self, target="docker-images"):
        """The build tool itself, so that a signal reaches its group."""
        tool = {"ninja": "ninja", "make": "make"}[self.generator]
        return [shutil.which(tool), "-C", self.build_dir,
                "-j%d" % self.options.jobs, target]


# Assertions ------------------------------------------------------------------


def check_builds(run, expected, edges, what):
    """The run built exactly `expected`, each once, a base before any image
    on it.  Images that do not depend on each other may come in any order,
    since the builds run two at a time."""
    tags = run.builds()
    check(sorted(tags) == sorted(expected),
          "%s: expected builds of %s (in dependency order), got %s\n%s"
          % (what, sorted(expected), tags, run.describe()))
    for base, image in sorted(edges):
        if base in tags and image in tags:
            check(tags.index(base) < tags.index(image),
                  "%s: %s was built before its base %s: %s\n%s"
                  % (what, image, base, tags, run.describe()))


def check_no_builds(run, what):
    check_equal(run.builds(), [], what + ": build calls")


def set_up(options, root, generator):
    """The fixture project, configured and built once from an empty store."""
    project = Project(options, root, generator)
    project.create(FIXTURE, FIXTURE_BODY)
    project.configure()
    run = project.build_ok()
    check_builds(run, FIXTURE_IMAGES, project.local_edges(), "first build")
    project.check_store_consistent()
    return project


def change_base_instruction(project):
    project.edit("base.docker", "ADD rootfs.txt /",
                 "ADD rootfs.txt /\nENV BASE_EDITED 1")


# Cases: edits ----------------------------------------------------------------


def case_nothing(project):
    run = project.build_ok()
    check_equal(run.calls, [], "engine calls of a build with no change")


def case_reconfigure(project):
    """Running CMake again with nothing changed regenerates the build
    files, which must not make the next build ask the engine anything."""
    project.configure()
    run = project.build_ok()
    check_equal(run.calls, [], "engine calls of a build after a re-run of "
                "CMake with no change")


def case_touch(project):
    os.utime(project.image_file("base.docker"))
    os.utime(project.image_file("top1.docker"))
    check_no_builds(project.build_ok(), "after touching base and top1")


def case_comment(project):
    project.edit("base.docker", "FROM scratch",
                 "# A new comment.\n\nFROM scratch\n\n# And another.")
    check_no_builds(project.build_ok(),
                    "after a comment and blank lines in base")


def case_instruction_base(project):
    change_base_instruction(project)
    run = project.build_ok()
    check_builds(run, CHAIN, project.local_edges(),
                 "after an instruction edit in base")
    project.check_store_consistent()


def case_copied_file(project):
    path = project.image_file("mid.docker.d/extra.txt")
    with open(path, "r+b") as f:
        first = f.read(1)
        f.seek(0)
        f.write(b"A" if first != b"A" else b"B")
    run = project.build_ok()
    check_builds(run, {"mid", "top1", "top2"}, project.local_edges(),
                 "after a one-byte edit of mid.docker.d/extra.txt")
    project.check_store_consistent()


def case_first_copy(project):
    """Only images whose Dockerfile reads its context get a depfile (a
    no-op build reads every depfile).  other copies nothing; its first
    COPY runs CMake again, so edits of the copied file are seen from then
    on, and once the COPY is gone again they are not."""
    depfile = os.path.join(image_dir(project, "other"), "deps.d")
    check(not os.path.exists(depfile), "other, which copies nothing, has a "
          "depfile")
    check(os.path.exists(os.path.join(image_dir(project, "mid"), "deps.d")),
          "mid, which copies extra.txt, has no depfile")
    os.makedirs(project.image_file("other.docker.d"))
    project.write("other.docker.d/note.txt", "one\n")
    project.edit("other.docker", "ENV OTHER other",
                 "ENV OTHER other\nCOPY note.txt /")
    check_builds(project.build_ok(), {"other"}, set(), "after other's first "
                 "COPY")
    # Make takes the new build files at its next run.
    check_no_builds(project.build_ok(), "the build after other's first COPY")
    check(os.path.exists(depfile), "other copies note.txt, but has no "
          "depfile")

    project.write("other.docker.d/note.txt", "two\n")
    check_builds(project.build_ok(), {"other"}, set(),
                 "after an edit of other's copied note.txt")

    project.edit("other.docker", "\nCOPY note.txt /", "")
    check_builds(project.build_ok(), {"other"}, set(), "after other's COPY "
                 "was removed")
    check_no_builds(project.build_ok(), "the build after the COPY went")
    project.write("other.docker.d/note.txt", "three\n")
    check_no_builds(project.build_ok(), "after an edit of note.txt, which "
                    "other no longer copies")
    project.check_store_consistent()


def case_new_file_in_copied_folder(project):
    """A file new in a folder below NAME.docker.d that a COPY takes whole
    rebuilds the image and those on it, and so does its removal: the
    depfile names each folder, whose timestamp moves."""
    os.makedirs(project.image_file("mid.docker.d/conf/deep"))
    project.write("mid.docker.d/conf/deep/a.txt", "a\n")
    project.edit("mid.docker", "COPY extra.txt /",
                 "COPY extra.txt /\nCOPY conf /conf")
    affected = {"mid", "top1", "top2"}
    check_builds(project.build_ok(), affected, project.local_edges(),
                 "after mid's COPY of conf")
    check_no_builds(project.build_ok(), "the build after mid's COPY of conf")
    project.write("mid.docker.d/conf/deep/b.txt", "b\n")
    check_builds(project.build_ok(), affected, project.local_edges(),
                 "after a file new in mid.docker.d/conf/deep")
    check_no_builds(project.build_ok(), "the build after the new file")
    os.remove(project.image_file("mid.docker.d/conf/deep/b.txt"))
    check_builds(project.build_ok(), affected, project.local_edges(),
                 "after the new file was removed")
    project.check_store_consistent()


# QEMU builds debian-toolchain.docker as debian-nios2-cross and as
# debian-microblaze-cross, each with its own build-toolchain.sh: two
# "virtual" images on one file, which is in no added folder here.
VIRTUAL_BODY = FIXTURE_BODY + """\
QemuDockerImages_Add(tool-a DOCKERFILE virtual/tool.docker
  EXTRA_FILES virtual/a/tool.txt)
QemuDockerImages_Add(tool-b DOCKERFILE virtual/tool.docker
  EXTRA_FILES virtual/b/tool.txt)
"""


def staged_file(project, image, name):
    path = os.path.join(image_dir(project, image), "image.work", "context",
                        name)
    with open(path) as f:
        return f.read()


def case_virtual_images(project):
    """Two images on one Dockerfile, each with an extra file of the same
    name: each build's context holds its own file, each image rebuilds
    when its own file changes and not when the other's does, both after
    a base edit, and docker-images-list shows both."""
    for name, text in [("tool.docker", "FROM qemu/mid\nADD tool.txt /\n"),
                       ("a/tool.txt", "a\n"), ("b/tool.txt", "b\n")]:
        path = os.path.join(project.src, "virtual", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    project.set_body(VIRTUAL_BODY)
    project.configure()
    edges = project.local_edges() | {("mid", "tool-a"), ("mid", "tool-b")}
    check_builds(project.build_ok(), {"tool-a", "tool-b"}, edges,
                 "after adding two images on one file")
    check_equal((staged_file(project, "tool-a", "tool.txt"),
                 staged_file(project, "tool-b", "tool.txt")),
                ("a\n", "b\n"), "the extra files staged for tool-a, tool-b")
    with open(os.path.join(project.src, "virtual", "b", "tool.txt"),
              "w") as f:
        f.write("b2\n")
    check_builds(project.build_ok(), {"tool-b"}, edges,
                 "after an edit of tool-b's extra file")
    check_equal(staged_file(project, "tool-b", "tool.txt"), "b2\n",
                "tool-b's staged file after the edit")
    change_base_instruction(project)
    check_builds(project.build_ok(), CHAIN | {"tool-a", "tool-b"}, edges,
                 "after the base edit")
    listing = project.build_ok("docker-images-list").output
    for image in ("tool-a", "tool-b"):
        check(any(line.split()[:3] == [image, "current", "mid"]
                  for line in listing.splitlines()),
              "docker-images-list does not show %s current on mid:\n%s"
              % (image, listing))
    project.check_store_consistent()


def case_build_arg(project):
    project.configure("-DQEMU_DOCKER_IMAGES_TEST_VERSION=2")
    run = project.build_ok()
    check_builds(run, {"argimg"}, set(), "after VERSION=1 became 2")
    call = next(c for c in run.calls if c[:1] == ["build"])
    check("VERSION=2" in call and
          call[call.index("VERSION=2") - 1] == "--build-arg",
          "argimg's build has no --build-arg VERSION=2: %s" % call)


# Cases: the graph changes ----------------------------------------------------


def case_from_change(project):
    """top2 moves from qemu/mid to qemu/other.  Ninja regenerates its build
    files in the same build, so the next build is right at once.  Make reads
    its build files once per run: the module's design makes that build stop
    with a request to run it again, and the one after it regenerates the
    build files and builds top2."""
    project.edit("top2.docker", "FROM qemu/mid", "FROM qemu/other")
    if project.generator == "make":
        first = project.build()
        check(first.code != 0,
              "the first make build after a FROM change succeeded; the "
              "design says it stops and asks for another build\n" +
              first.describe())
        check(RUN_AGAIN in first.output,
              "the failed build does not say %r\n%s"
              % (RUN_AGAIN, first.describe()))
        check_no_builds(first, "the build that asks to be run again")
    run = project.build_ok()
    check_builds(run, {"top2"}, set(), "after top2's FROM changed")
    top2 = project.read_store()["qemu/top2:latest"]
    check_equal(sorted(top2["bases"]), ["qemu/other:latest"],
                "the local bases that top2's build used")
    project.check_store_consistent()

    # The new edge orders the builds: an edit of other now rebuilds top2
    # after it, and no longer touches mid's chain.
    project.edit("other.docker", "ENV OTHER other", "ENV OTHER other2")
    run = project.build_ok()
    check_builds(run, {"other", "top2"}, {("other", "top2")},
                 "after an instruction edit in other")
    project.check_store_consistent()


def case_new_dockerfile(project):
    project.write("new.docker", "FROM qemu/other\nENV NEW new\n")
    if project.generator == "make":
        # Make reads its build files before anything runs, and the old ones
        # have no docker-new; any build reads the FROM lines again (nothing
        # is built), and the next one re-runs CMake and knows docker-new.
        unknown = project.build(target="docker-new")
        check(unknown.code != 0, "Make knew docker-new before any build")
        check_no_builds(project.build_ok(), "the build that sees new.docker")
        run = project.build_ok()
        check_builds(run, {"new"}, set(), "the build that re-runs CMake")
        check_no_builds(project.build_ok(target="docker-new"),
                        "docker-new once Make knows it")
        project.check_store_consistent()
        return
    run = project.build_ok(target="docker-new")
    check_builds(run, {"new"}, set(), "building docker-new right after "
                 "new.docker appeared")
    check_no_builds(project.build_ok(), "a full build after docker-new")
    project.check_store_consistent()


# Cases: failures and interruptions -------------------------------------------


def case_engine_fails(project):
    change_base_instruction(project)
    failed = project.build(env={"QDI_FAKE_ENGINE_FAIL": PREFIX + "mid"})
    check(failed.code != 0,
          "the build succeeded although mid's build failed\n" +
          failed.describe())
    check_equal(failed.builds(), ["base", "mid"],
                "builds of the failing build")
    check(not os.path.exists(project.image_stamp("mid")),
          "mid's image stamp %s exists after its build failed"
          % project.image_stamp("mid"))
    run = project.build_ok()
    check_builds(run, {"mid", "top1", "top2"}, project.local_edges(),
                 "the build after the failure")
    project.check_store_consistent()


def wait_for_build_call(project, process, start, tag):
    """Waits until the engine is inside `tag`'s build (it logs a call before
    sleeping), and at least one second after the build started."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Failure("the build ended (exit %d) before %s's build "
                          "started:\n%s" % (process.returncode, tag,
                                            process.stdout.read()))
        if tag in built_tags(project.read_calls()[start:]):
            time.sleep(max(0, 1 - (time.monotonic() - process.started)))
            return
        time.sleep(0.05)
    raise Failure("%s's build did not start within 60 s" % tag)


def wait_for_group_exit(group):
    """True once no process of the group is left, within 20 seconds."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def interrupt_build(project, sig):
    """Starts a build of docker-images whose engine sleeps 5 s, signals the
    build tool's process group while base is being built, as a Ctrl-C in a
    terminal does, and returns the tool's exit status and output."""
    start = len(project.read_calls())
    process = subprocess.Popen(
        project.tool_command(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env=clean_environment({"QDI_FAKE_ENGINE_SLEEP": "5"}))
    process.started = time.monotonic()
    try:
        wait_for_build_call(project, process, start, "base")
        os.killpg(process.pid, sig)
        output = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    check(wait_for_group_exit(process.pid),
          "processes of the interrupted build were still running 20 s "
          "after the signal")
    return process.returncode, output, project.read_calls()[start:]


def check_interrupted(project, sig):
    change_base_instruction(project)
    code, output, calls = interrupt_build(project, sig)
    check(code != 0, "the interrupted build exited 0:\n" + output)
    check_equal(built_tags(calls), ["base"],
                "builds started before the signal")
    check(not os.path.exists(project.image_stamp("base")),
          "base's image stamp exists after its build was interrupted")
    run = project.build_ok()
    expected = CHAIN
    if sig == signal.SIGKILL and "base" not in run.builds():
        # Ninja starts each step in a process group of its own, so a
        # SIGKILL to the build tool's group leaves base's step running;
        # the next build waits for its lock and finds base current rather
        # than building it a second time.
        expected = CHAIN - {"base"}
    check_builds(run, expected, project.local_edges(),
                 "the build after the interruption")
    project.check_store_consistent()


def case_interrupt_sigint(project):
    check_interrupted(project, signal.SIGINT)


def case_interrupt_sigkill(project):
    check_interrupted(project, signal.SIGKILL)


# Cases: the engine's store and the build folder disagree ---------------------


def case_fresh_build_dir(project):
    """A new build folder over a store that has every image with the right
    label asks the engine and builds nothing."""
    fresh = project.build_dir + "-fresh"
    project.configure(build_dir=fresh)
    run = project.build_ok(build_dir=fresh)
    check_no_builds(run, "a fresh build folder over a full store")
    check_equal(sorted(inspected_tags(run.calls)),
                sorted(PREFIX + image for image in FIXTURE_IMAGES),
                "images the fresh build folder asked the engine about")
    for image in FIXTURE_IMAGES:
        check(os.path.exists(project.image_stamp(image, fresh)),
              "no image stamp for %s in the fresh build folder" % image)


def case_rmi_check(project):
    """After `docker rmi qemu/mid`, docker-images-check forgets mid and the
    next build rebuilds it, and only it: top1 and top2 keep their labels."""
    project.engine("rmi", PREFIX + "mid")
    check_run = project.build_ok(target="docker-images-check")
    check_no_builds(check_run, "docker-images-check")
    check(not os.path.exists(project.image_stamp("mid")),
          "docker-images-check kept mid's image stamp:\n" +
          check_run.describe())
    check(os.path.exists(project.image_stamp("top1")),
          "docker-images-check removed top1's image stamp")
    run = project.build_ok()
    check_equal(run.builds(), ["mid"], "builds after rmi and check")


# Cases: the QEMU corpus ------------------------------------------------------


def case_corpus_2020_instruction(options, root, generator):
    """The "instruction in a base" row over QEMU v5.1.0's folder, whose
    deepest chain is debian-win64-cross -> debian9-mxe -> debian9."""
    dockerfiles = os.path.join(options.corpus or "", "qemu-2020",
                               "dockerfiles")
    if not os.path.isdir(dockerfiles):
        raise Skipped("no corpus folder %s" % dockerfiles)
    project = Project(options, root, generator)
    project.create(dockerfiles, CORPUS_BODY)
    project.configure()
    every = {name[:-len(".docker")] for name in os.listdir(project.images)
             if name.endswith(".docker")} - {"debian-bootstrap"}
    edges = project.local_edges()
    check_builds(project.build_ok(), every, edges, "first build")

    project.edit("debian9.docker", "        python3 \\\n",
                 "        python3 \\\n        python3-yaml \\\n")
    run = project.build_ok()
    check_builds(run, {"debian9", "debian9-mxe", "debian-win32-cross",
                       "debian-win64-cross", "debian-tricore-cross"}, edges,
                 "after an edit of debian9's last RUN")
    project.check_store_consistent()


# Cases: concurrency and hostile values ---------------------------------------


def case_concurrent_builds(project):
    """Two builds of one build folder at once take turns image by image:
    each image is built once, and both builds succeed."""
    change_base_instruction(project)
    start = len(project.read_calls())
    env = clean_environment({"QDI_FAKE_ENGINE_SLEEP": "1"})
    processes = [subprocess.Popen(
        [project.options.cmake, "--build", project.build_dir, "--target",
         "docker-images", "-j%d" % project.options.jobs],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        for _ in range(2)]
    outputs = [process.communicate(timeout=TIMEOUT)[0]
               for process in processes]
    for process, output in zip(processes, outputs):
        check(process.returncode == 0, "a concurrent build failed:\n" +
              output)
    tags = built_tags(project.read_calls()[start:])
    check(sorted(tags) == sorted(CHAIN),
          "concurrent builds built %s, expected each of %s once"
          % (tags, sorted(CHAIN)))
    project.check_store_consistent()


HOSTILE = "1 $(touch pwned) `touch pwned` \"q\" 'r' \\ $HOME"


def case_verbatim_args(project):
    """A build argument with shell syntax reaches the engine unchanged, and
    no shell runs it."""
    project.configure("-DQEMU_DOCKER_IMAGES_TEST_VERSION=" + HOSTILE)
    run = project.build_ok()
    check_equal(run.builds(), ["argimg"], "builds after the change")
    build = [call for call in run.calls if call[:1] == ["build"]][0]
    check("VERSION=" + HOSTILE in build,
          "the engine got %s, not the value %r" % (build, HOSTILE))
    for folder in [project.build_dir, project.src, os.getcwd()]:
        check(not os.path.exists(os.path.join(folder, "pwned")),
              "a shell ran the value in " + folder)


def case_verbatim_semicolon(project):
    """CMake lists cannot hold ';', so the helper is given one directly."""
    state = os.path.join(project.build_dir, "qemu-docker-images", "argimg")
    argv = [project.options.helper, "build",
            project.image_file("argimg.docker"),
            "--stamp", os.path.join(state, "checksum"),
            "--image-stamp", os.path.join(state, "semicolon-image"),
            "--tag", "qemu/semicolon", "--build-arg=VERSION=a;b c",
            "--engine=" + project.options.fake_engine]
    argv += ["--engine-arg=" + arg for arg in project.engine_args()]
    start = len(project.read_calls())
    result = subprocess.run(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    check(result.returncode == 0, "the helper failed:\n" + result.stdout)
    build = [call for call in project.read_calls()[start:]
             if call[:1] == ["build"]]
    check(build and "VERSION=a;b c" in build[0],
          "the engine got %s" % build)


# Cases: remote builders and the registry cache -------------------------------


BUILDX = ["buildx", "build", "--builder", "remote1", "--load"]
LABEL_FORMAT = '{{ index .Config.Labels "com.qemu.dockerfile-checksum" }}'


def image_dir(project, image):
    return os.path.join(project.build_dir, "qemu-docker-images", image)


def checksum_of(project, image):
    with open(os.path.join(image_dir(project, image), "checksum")) as f:
        return f.read().strip()


def expected_build(project, image, words):
    """The exact argument vector of a build of a CHAIN image (none of them
    takes a build argument), after the engine's global options."""
    work = os.path.join(image_dir(project, image), "image.work")
    return words + ["-t", PREFIX + image, "--label",
                    "com.qemu.dockerfile-checksum=" +
                    checksum_of(project, image),
                    "-f", work + "/Dockerfile", work + "/context"]


def check_build_calls(project, run, words):
    check_builds(run, CHAIN, project.local_edges(), "after the base edit")
    for call in run.calls:
        if call[:len(words)] == words:
            image = call[call.index("-t") + 1][len(PREFIX):]
            check_equal(call, expected_build(project, image, words),
                        "the engine's arguments for " + image)


def switch_without_building(project, *definitions):
    """Build options do not change what an image is made of, so switching
    them builds nothing.  Ninja sees that the checksums stayed and asks no
    engine; Make, whose image steps run again after CMake regenerated
    them, asks the engine once per image (and, with pushing on, pushes the
    images it finds current)."""
    project.configure(*definitions)
    run = project.build_ok()
    check_no_builds(run, "after configuring %s" % " ".join(definitions))
    if project.generator == "ninja":
        check_equal(run.calls, [], "engine calls after configuring %s"
                    % " ".join(definitions))


def case_remote_builder(project):
    """QEMU_DOCKER_IMAGES_BUILD_COMMAND replaces the engine's 'build' with
    the words of a remote BuildKit builder; the layered file is built."""
    switch_without_building(
        project, "-DQEMU_DOCKER_IMAGES_BUILD_COMMAND=" + ";".join(BUILDX))
    change_base_instruction(project)
    check_build_calls(project, project.build_ok(), BUILDX)
    with open(os.path.join(image_dir(project, "top1"), "image.work",
                           "Dockerfile")) as f:
        check("FROM qemu/mid" in f.read(), "top1's build is not layered")


def case_flattened_build(project):
    """QEMU_DOCKER_IMAGES_FLATTENED_BUILD builds each image from its
    flattened Dockerfile in the union context, which needs no local base
    image: a remote builder cannot see them."""
    switch_without_building(
        project, "-DQEMU_DOCKER_IMAGES_BUILD_COMMAND=" + ";".join(BUILDX),
        "-DQEMU_DOCKER_IMAGES_FLATTENED_BUILD=ON")
    change_base_instruction(project)
    check_build_calls(project, project.build_ok(), BUILDX)
    work = os.path.join(image_dir(project, "top1"), "image.work")
    with open(os.path.join(work, "Dockerfile")) as f:
        text = f.read()
    check(not re.search(r"^FROM\s+qemu/", text, re.M | re.I) and
          "FROM base.mid" in text,
          "top1's Dockerfile is not the flattened one:\n" + text)
    check_equal(sorted(os.listdir(os.path.join(work, "context"))),
                ["extra.txt", "rootfs.txt"], "top1's union context")
    top1 = project.read_store()[PREFIX + "top1:latest"]
    check_equal(top1["bases"], {}, "local images top1's build used")


def calls_about(calls, *names):
    return [call for call in calls if any(name in call for name in names)]


def case_registry(project):
    """With a registry cache that has nothing (the stand-in's pulls all
    miss) and pushing on, each rebuilt image asks the engine, pulls, builds,
    tags and pushes, with these exact arguments; a failed push is one line
    and not fatal; a no-op build starts no engine process."""
    registry = "127.0.0.1:9"
    switch_without_building(
        project, "-DQEMU_DOCKER_IMAGES_REGISTRY=" + registry,
        "-DQEMU_DOCKER_IMAGES_REGISTRY_FLAGS=--tls-verify=false",
        "-DQEMU_DOCKER_IMAGES_REGISTRY_PUSH=ON")
    change_base_instruction(project)
    run = project.build_ok()
    check_builds(run, CHAIN, project.local_edges(), "after the base edit")
    for image in sorted(CHAIN):
        ref = "%s/qemu/%s:%s" % (registry, image, checksum_of(project, image))
        tag = PREFIX + image
        check_equal(calls_about(run.calls, tag, ref), [
            ["image", "inspect", "--format", LABEL_FORMAT, tag],
            ["pull", "--tls-verify=false", ref],
            expected_build(project, image, ["build"]),
            ["tag", tag, ref],
            ["push", "--tls-verify=false", ref]],
            "the engine calls for " + image)
    failed = [line for line in run.output.splitlines()
              if "pushing to the registry failed" in line]
    check_equal(len(failed), len(CHAIN), "lines about failed pushes")
    check("cannot pull" not in run.output,
          "a cache miss was reported:\n" + run.output)
    check_equal(project.build_ok().calls, [], "engine calls of a no-op build")


# Case table and main ---------------------------------------------------------


def fixture_case(function):
    def run(options, root, generator):
        function(set_up(options, root, generator))
    return run


CASES = {
    name[len("case_"):].replace("_", "-"):
        function if name.startswith("case_corpus") else fixture_case(function)
    for name, function in sorted(globals().items())
    if name.startswith("case_")
}
NINJA_ONLY = {"corpus-2020-instruction"}


def parse_arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--helper")
    parser.add_argument("--case")
    parser.add_argument("--generator", choices=["ninja", "make"])
    parser.add_argument("--modules",
                        default=os.path.join(HERE, "..", "..", "Modules"))
    parser.add_argument("--fake-engine",
                        default=os.path.join(HERE, "fake-engine"))
    parser.add_argument("--corpus", help="the folder of qemu-20XX snapshots")
    parser.add_argument("--cmake", default=shutil.which("cmake"))
    parser.add_argument("--jobs", type=int, default=2,
                        help="parallel jobs of every build (default: 2)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder and print its path")
    parser.add_argument("--list", action="store_true",
                        help="print the case names and exit")
    args = parser.parse_args()
    if not args.list and not (args.helper and args.case and args.generator):
        parser.error("--helper, --case and --generator are required")
    for name in ("helper", "modules", "fake_engine", "corpus"):
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    return args


def run_case(args, root):
    tool = {"ninja": "ninja", "make": "make"}[args.generator]
    if not shutil.which(tool):
        raise Skipped("%s is not installed" % tool)
    if args.case in NINJA_ONLY and args.generator != "ninja":
        raise Skipped("%s runs under Ninja only" % args.case)
    CASES[args.case](args, root, args.generator)


def main():
    args = parse_arguments()
    if args.list:
        # The ctest names: each case under each generator it runs with.
        print("\n".join("%s.%s" % (case, generator) for case in CASES
                        for generator in ("ninja", "make")
                        if case not in NINJA_ONLY or generator == "ninja"))
        return 0
    if args.case not in CASES:
        print("unknown case %r; known: %s" % (args.case, " ".join(CASES)),
              file=sys.stderr)
        return 2
    name = "%s.%s" % (args.case, args.generator)
    root = tempfile.mkdtemp(prefix="qdi-module-")
    try:
        run_case(args, root)
    except Skipped as skipped:
        print("skipped %s: %s" % (name, skipped))
        return SKIP
    except Failure as failure:
        print("FAIL %s: %s" % (name, failure), file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print("kept %s" % root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print("PASS %s" % name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
