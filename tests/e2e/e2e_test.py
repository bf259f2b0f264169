#!/usr/bin/env python3
"""End-to-end tests of the QemuDockerImages module with a real engine.

Usage: e2e_test.py --engine docker|podman --case NAME --helper PATH
                   --modules DIR [--cmake PATH] [--work DIR]
       e2e_test.py --list
Exit status: 0 pass, 1 fail, 77 skipped (the engine is not there).

No registry is reachable, so the chain starts FROM scratch with a root
file system made of Debian's busybox-static.  It is shaped like QEMU's
folder: a base, an -mxe-like middle that copies an extra file, two cross
images on top, an independent image and one that declares a build
argument.  Each case builds it through the module and checks the engine's
own state: image IDs, labels and file trees.

Docker's store is shared, so each run tags its images under a prefix of
its own and removes them at the end.  Podman gets a private store in the
work folder, with vfs storage and chroot isolation (shared/ENGINES.md).
"""

import argparse
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

SKIP = 77
IMAGES = ["base", "mid", "cross1", "cross2", "other", "argimg"]
CHAIN_ABOVE_BASE = {"base", "mid", "cross1", "cross2"}

DOCKERFILES = {
    "base": "FROM scratch\nADD rootfs.tar /\nRUN echo base > /etc/base\n",
    "mid": "# An -mxe-like middle: it copies an extra file.\n"
           "FROM qemu/base\nCOPY mxe.txt /opt/mxe.txt\n"
           "RUN cat /opt/mxe.txt > /etc/mid\n",
    "cross1": "FROM qemu/mid\nENV TARGET=x86-64\n"
              "RUN echo cross1 $TARGET > /etc/cross\n",
    "cross2": "FROM qemu/mid\nRUN echo cross2 > /etc/cross\n",
    "other": "FROM scratch\nADD rootfs.tar /\nRUN echo other > /etc/other\n",
    "argimg": "FROM scratch\nADD rootfs.tar /\nARG VERSION\n"
              "RUN echo $VERSION > /etc/version\n",
}

# The start of every project's CMakeLists.txt; "{modules}" is filled in
# with the rest.
PROJECT_HEAD = """\
cmake_minimum_required(VERSION 3.20)
project(%s NONE)
list(APPEND CMAKE_MODULE_PATH "{modules}")
include(QemuDockerImages)
"""

PROJECT = PROJECT_HEAD % "QdiEndToEnd" + """\
set(VERSION 1 CACHE STRING "VERSION of argimg")
QemuDockerImages_Add(base DOCKERFILE images/base.docker
  EXTRA_FILES "{rootfs}")
QemuDockerImages_Add(other DOCKERFILE images/other.docker
  EXTRA_FILES "{rootfs}")
QemuDockerImages_Add(argimg DOCKERFILE images/argimg.docker
  EXTRA_FILES "{rootfs}" BUILD_ARGS VERSION=${{VERSION}})
QemuDockerImages_AddDirectory(images)
"""


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run(argv, **kwargs):
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.STDOUT)
    return subprocess.run(argv, text=True, **kwargs)


class Engine:
    """The engine command with the options this run needs."""

    def __init__(self, name, work):
        self.name = name
        self.work = work
        self.args = []
        self.build_flags = []
        self.runroots = []
        self.extra_refs = []  # other images this run made, for cleanup
        if name == "podman":
            self.args = self.podman_store("store")
            self.build_flags = ["--isolation=chroot"]
        self.prefix = "qdi-e2e-%d/" % os.getpid()

    def podman_store(self, name):
        """Options for a private Podman store.  Podman refuses a runroot
        path longer than 50 characters, so that one lives in /tmp."""
        runroot = tempfile.mkdtemp(prefix="qdi-run-")
        self.runroots.append(runroot)
        return ["--root", os.path.join(self.work, name),
                "--runroot", runroot, "--storage-driver", "vfs"]

    def command(self, *argv):
        return [self.name] + self.args + list(argv)

    def tag(self, image):
        return self.prefix + image

    def image_id(self, image):
        result = run(self.command("image", "inspect", "--format", "{{.Id}}",
                                  self.tag(image)))
        return result.stdout.strip() if result.returncode == 0 else None

    def label(self, image):
        result = run(self.command(
            "image", "inspect", "--format",
            '{{ index .Config.Labels "com.qemu.dockerfile-checksum" }}',
            self.tag(image)))
        return result.stdout.strip() if result.returncode == 0 else None

    def ids(self):
        return {image: self.image_id(image) for image in IMAGES}

    def cleanup(self):
        for runroot in self.runroots:
            shutil.rmtree(runroot, ignore_errors=True)
        if self.name == "docker":
            tags = [self.tag(image) for image in IMAGES]
            run(["docker", "rmi", "-f"] + tags + ["qdi-e2e-flat-%d" %
                                                  os.getpid()])
            if self.extra_refs:
                run(["docker", "rmi", "-f"] + self.extra_refs)


def engine_available(name):
    if shutil.which(name) is None:
        return False
    if name == "docker":
        return run(["docker", "info"]).returncode == 0
    return True


def add_text(tar, name, text):
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def make_rootfs(path, run_marker):
    """A root file system of busybox with a few applets, as a tarball.

    run_marker goes into /etc/qdi-run.  Docker names an image by its
    content and its legacy builder reuses layers across builds, so two
    runs building the same chain at once would share image IDs; one run's
    cleanup (rmi -f) then deleted an image the other had just built and
    not yet tagged ("failed to get digest").  The marker makes every
    run's layers its own."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    check(os.path.exists(busybox), "busybox-static is not installed")
    with tarfile.open(path, "w") as tar:
        for folder in ["bin", "etc", "opt", "tmp"]:
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        tar.add(busybox, "bin/busybox")
        for applet in ["sh", "echo", "cat", "ls", "sleep", "false", "true"]:
            info = tarfile.TarInfo("bin/" + applet)
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
        add_text(tar, "etc/qdi-run", run_marker + "\n")


class Project:
    """A build folder of a project that uses the module on the chain."""

    def __init__(self, args, engine, name="build"):
        self.args = args
        self.engine = engine
        self.source = os.path.join(engine.work, "project")
        self.images = os.path.join(self.source, "images")
        self.build_dir = os.path.join(engine.work, name)

    def write_sources(self):
        os.makedirs(os.path.join(self.images, "mid.docker.d"), exist_ok=True)
        rootfs = os.path.join(self.engine.work, "rootfs.tar")
        make_rootfs(rootfs, self.engine.prefix)
        for image, text in DOCKERFILES.items():
            self.write(image, text)
        self.write_file("mid.docker.d/mxe.txt", "mxe 1\n")
        with open(os.path.join(self.source, "CMakeLists.txt"), "w") as out:
            out.write(PROJECT.format(modules=self.args.modules,
                                     rootfs=rootfs))

    def write(self, image, text):
        self.write_file(image + ".docker", text)

    def write_file(self, name, text):
        with open(os.path.join(self.images, name), "w") as out:
            out.write(text)

    def configure(self, *extra):
        engine = self.engine
        result = run([self.args.cmake, "-S", self.source, "-B",
                      self.build_dir, "-G", "Ninja",
                      "-DQEMU_DOCKER_IMAGES_HELPER=" + self.args.helper,
                      "-DQEMU_DOCKER_IMAGES_ENGINE=" + engine.name,
                      "-DQEMU_DOCKER_IMAGES_ENGINE_ARGS=" +
                      ";".join(engine.args),
                      "-DQEMU_DOCKER_IMAGES_BUILD_FLAGS=" +
                      ";".join(engine.build_flags),
                      "-DQEMU_DOCKER_IMAGES_TAG_PREFIX=" + engine.prefix]
                     + list(extra))
        check(result.returncode == 0, "configure failed:\n" + result.stdout)

    def build(self, target="docker-images", expect_ok=True):
        result = run([self.args.cmake, "--build", self.build_dir,
                      "--target", target])
        if expect_ok:
            check(result.returncode == 0, "build failed:\n" + result.stdout)
        return result

    def image_stamp(self, image):
        return os.path.join(self.build_dir, "qemu-docker-images", image,
                            "image")

    def checksum_of(self, image):
        result = run([self.args.helper, "checksum",
                      "--image-extra-file", "base",
                      os.path.join(self.engine.work, "rootfs.tar"),
                      "--image-extra-file", "other",
                      os.path.join(self.engine.work, "rootfs.tar"),
                      "--image-extra-file", "argimg",
                      os.path.join(self.engine.work, "rootfs.tar"),
                      "--image-build-arg", "argimg:VERSION=1", "--",
                      os.path.join(self.images, image + ".docker")])
        check(result.returncode == 0, "checksum failed:\n" + result.stdout)
        return result.stdout.split()[0]


def changed(before, after):
    return {image for image in IMAGES if before[image] != after[image]}


def expect_rebuilt(project, change, expected):
    before = project.engine.ids()
    change()
    project.build()
    after = project.engine.ids()
    check(all(after.values()), "an image is missing: %s" % after)
    got = changed(before, after)
    check(got == set(expected),
          "expected %s rebuilt, got %s" % (sorted(expected), sorted(got)))


def edit(project, image, old, new):
    path = os.path.join(project.images, image + ".docker")
    with open(path) as source:
        text = source.read()
    check(old in text, "%r not in %s" % (old, path))
    with open(path, "w") as out:
        out.write(text.replace(old, new))


def built_project(args, engine):
    project = Project(args, engine)
    project.write_sources()
    project.configure()
    project.build()
    check(all(engine.ids().values()), "not every image was built")
    return project


def case_matrix(args, engine):
    """The module's invalidation matrix, read off the engine's image IDs."""
    project = built_project(args, engine)
    expect_rebuilt(project, lambda: None, [])
    expect_rebuilt(project, lambda: os.utime(
        os.path.join(project.images, "base.docker")), [])
    expect_rebuilt(project, lambda: edit(
        project, "base", "RUN echo base", "# a comment\n\nRUN echo base"), [])
    expect_rebuilt(project, lambda: edit(
        project, "base", "echo base", "echo base2"), CHAIN_ABOVE_BASE)
    expect_rebuilt(project, lambda: project.write_file(
        "mid.docker.d/mxe.txt", "mxe 2\n"), ["mid", "cross1", "cross2"])
    expect_rebuilt(project, lambda: project.configure("-DVERSION=2"),
                   ["argimg"])
    expect_rebuilt(project, lambda: edit(
        project, "cross2", "FROM qemu/mid", "FROM qemu/other"), ["cross2"])
    result = run(engine.command("run", "--rm", engine.tag("cross2"), "cat",
                                "/etc/other")) if engine.name == "docker" \
        else None
    if result is not None:
        check(result.stdout.strip() == "other",
              "cross2 does not stand on other: " + result.stdout)


def case_labels(args, engine):
    """Every image's label is the helper's checksum of its Dockerfile."""
    project = built_project(args, engine)
    for image in IMAGES:
        check(engine.label(image) == project.checksum_of(image),
              "%s: label %s, checksum %s" % (image, engine.label(image),
                                             project.checksum_of(image)))


def case_fresh_build_dir(args, engine):
    """A new build folder over current images builds nothing."""
    project = built_project(args, engine)
    before = engine.ids()
    fresh = Project(args, engine, name="fresh")
    fresh.configure()
    result = fresh.build()
    check(engine.ids() == before, "a fresh build folder rebuilt images")
    check("STEP" not in result.stdout and "Step " not in result.stdout,
          "the engine built something:\n" + result.stdout)


def case_rmi_check(args, engine):
    """An image removed from the engine is rebuilt after the check target,
    and only that one."""
    project = built_project(args, engine)
    project.configure("-DQEMU_DOCKER_IMAGES_VERBOSE=ON")
    result = run(engine.command("rmi", engine.tag("cross1")))
    check(result.returncode == 0, "rmi failed:\n" + result.stdout)
    check(engine.image_id("cross1") is None, "rmi left cross1")
    project.build("docker-images-check")
    check(not os.path.exists(project.image_stamp("cross1")),
          "the check target kept cross1's stamp")
    # Image IDs cannot tell: an engine whose cache still holds the layers
    # (other tests built the same steps) gives the same ID again.  The
    # verbose lines say which images were built.
    output = project.build().stdout
    built = sorted(line.split(": ")[1][len(engine.prefix):]
                   for line in output.splitlines()
                   if line.startswith("qemu-docker-images: ")
                   and line.endswith(": building"))
    check(built == ["cross1"], "built: %s\n%s" % (built, output))
    check(engine.label("cross1") == project.checksum_of("cross1"),
          "cross1 is not current")


def case_run_fails(args, engine):
    """A failing RUN leaves no stamp and says so; the next build works."""
    project = built_project(args, engine)
    edit(project, "cross1", "RUN echo cross1", "RUN false\nRUN echo cross1")
    result = project.build(expect_ok=False)
    check(result.returncode != 0, "the build did not fail")
    check("building %s failed" % engine.tag("cross1") in result.stdout,
          "no clear error:\n" + result.stdout)
    check(not os.path.exists(project.image_stamp("cross1")),
          "a stamp was left after a failed build")
    edit(project, "cross1", "RUN false\n", "")
    project.build()
    check(os.path.exists(project.image_stamp("cross1")), "no stamp")


def interrupt(args, engine, sig):
    project = built_project(args, engine)
    # A step no cache has seen, or Docker's cache would skip the sleep.
    edit(project, "cross1", "RUN echo cross1",
         "RUN sleep 4 && echo %d %f\nRUN echo cross1" % (os.getpid(),
                                                       time.time()))
    process = subprocess.Popen(
        [args.cmake, "--build", project.build_dir, "--target",
         "docker-cross1"], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(2.5)
    os.killpg(process.pid, sig)
    process.wait()
    check(not os.path.exists(project.image_stamp("cross1")),
          "a stamp was left after the interruption")
    # An engine that outlives the build tool (Docker's daemon) may still
    # finish; either way the next build must make the image current.
    project.build()
    check(engine.label("cross1") == project.checksum_of("cross1"),
          "cross1 is not current after the next build")


def case_interrupt_sigint(args, engine):
    """SIGINT to the build tool in the middle of a build."""
    interrupt(args, engine, signal.SIGINT)


def case_interrupt_sigkill(args, engine):
    """SIGKILL to the build tool in the middle of a build."""
    interrupt(args, engine, signal.SIGKILL)


def file_tree(engine, image_ref, extra_args=()):
    """Paths, modes and contents of an image's file system."""
    command = [engine.name] + list(extra_args)
    created = run(command + ["create", image_ref, "/bin/sh"])
    check(created.returncode == 0, "create failed:\n" + created.stdout)
    container = created.stdout.strip().splitlines()[-1]
    exported = subprocess.run(command + ["export", container],
                              stdout=subprocess.PIPE)
    run(command + ["rm", container])
    check(exported.returncode == 0, "export failed")
    tree = {}
    with tarfile.open(fileobj=io.BytesIO(exported.stdout)) as tar:
        for member in tar.getmembers():
            name = member.name.lstrip("./")
            if name.startswith((".dockerenv", "dev", "proc", "sys", "etc/hosts",
                                "etc/hostname", "etc/resolv.conf")):
                continue
            data = ""
            if member.isfile():
                content = tar.extractfile(member).read()
                data = hashlib.sha256(content).hexdigest()
            elif member.issym():
                data = "-> " + member.linkname
            tree[name] = (member.type, member.mode, data)
    return tree


def case_flattened_equals_layered(args, engine):
    """The flattened Dockerfile of the top image, built where no local base
    image exists, gives the layered build's file tree."""
    project = built_project(args, engine)
    layered = file_tree(engine, engine.tag("cross1"), engine.args)
    for path in ["bin/busybox", "etc/base", "etc/mid", "opt/mxe.txt",
                 "etc/cross"]:
        check(path in layered, "the layered image lacks " + path)
    flat = os.path.join(engine.work, "flat.docker")
    context = os.path.join(engine.work, "flat-context")
    result = run([args.helper, "flatten", os.path.join(project.images,
                                                       "cross1.docker"),
                  "-o", flat, "--context-out", context,
                  "--image-extra-file", "base",
                  os.path.join(engine.work, "rootfs.tar")])
    check(result.returncode == 0, "flatten failed:\n" + result.stdout)
    store_args = engine.args
    if engine.name == "podman":
        # A second store that has never seen the local bases.
        store_args = engine.podman_store("store2")
    else:
        for image in ["base", "mid"]:
            run(engine.command("rmi", engine.tag(image)))
    tag = "qdi-e2e-flat-%d" % os.getpid()
    result = run([engine.name] + store_args + ["build"] + engine.build_flags
                 + ["-t", tag, "-f", flat, context])
    check(result.returncode == 0, "flattened build failed:\n" + result.stdout)
    flattened = file_tree(engine, tag, store_args)
    missing = set(layered) ^ set(flattened)
    check(not missing, "paths differ: %s" % sorted(missing)[:10])
    differ = [p for p in layered if layered[p] != flattened[p]]
    check(not differ, "entries differ: %s" % differ[:10])


PINNED_IMAGES = ["ext1", "ext2", "plain"]
PINNED_DOCKERFILES = {
    "ext1": "FROM {external}\nRUN echo ext1 > /etc/ext1\n",
    "ext2": "FROM qemu/ext1\nRUN echo ext2 > /etc/ext2\n",
    "plain": "FROM scratch\nADD rootfs.tar /\nRUN echo plain > /etc/plain\n",
}
PINNED_PROJECT = PROJECT_HEAD % "QdiPinnedBases" + """\
QemuDockerImages_Add(plain DOCKERFILE images/plain.docker
  EXTRA_FILES "{rootfs}")
QemuDockerImages_AddDirectory(images)
"""


class PinnedProject(Project):
    """ext1 stands on an external base that the test imports itself under
    a name that is not local; ext2 stands on ext1; plain on neither."""

    def __init__(self, args, engine):
        super().__init__(args, engine, name="pinned-build")
        self.source = os.path.join(engine.work, "pinned")
        self.images = os.path.join(self.source, "images")
        self.external = "qdi-external-%d/busybox:1" % os.getpid()
        # Tags first: an imported image is removed once nothing names it.
        engine.extra_refs += [engine.tag(image) for image in PINNED_IMAGES]
        engine.extra_refs.append(self.external)

    def write_sources(self):
        os.makedirs(self.images)
        rootfs = os.path.join(self.engine.work, "rootfs.tar")
        make_rootfs(rootfs, self.engine.prefix)
        for image, text in PINNED_DOCKERFILES.items():
            self.write(image, text.format(external=self.external))
        with open(os.path.join(self.source, "CMakeLists.txt"), "w") as out:
            out.write(PINNED_PROJECT.format(modules=self.args.modules,
                                            rootfs=rootfs))

    def import_external(self, version, name=None):
        """(Re)places an external base: busybox, and /etc/version."""
        folder = os.path.join(self.engine.work, "external-%d" % version)
        tarball = folder + ".tar"
        make_rootfs(tarball, self.engine.prefix)
        with tarfile.open(tarball, "a") as tar:
            data = ("version %d\n" % version).encode()
            info = tarfile.TarInfo("etc/version")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        name = name or self.external
        result = run(self.engine.command("import", tarball, name))
        check(result.returncode == 0, "import failed:\n" + result.stdout)
        self.engine.extra_refs.append(result.stdout.strip().splitlines()[-1])

    def ids(self):
        return {image: self.engine.image_id(image) for image in PINNED_IMAGES}


def pinned_project(args, engine, *options):
    project = PinnedProject(args, engine)
    project.write_sources()
    project.import_external(1)
    project.configure(*options)
    output = project.build().stdout
    ids = project.ids()
    check(all(ids.values()), "not every image was built: %s" % ids)
    return project, ids, output


def check_rebuilt(project, before, expected, output):
    after = project.ids()
    got = {image for image in PINNED_IMAGES if before[image] != after[image]}
    # Docker keeps a replaced image, untagged, in its one shared store.
    project.engine.extra_refs += [before[image] for image in sorted(got)]
    check(got == set(expected), "expected %s rebuilt, got %s:\n%s"
          % (sorted(expected), sorted(got), output))
    return after


def case_pinned_bases(args, engine):
    """With QEMU_DOCKER_IMAGES_PIN_EXTERNAL_BASES, replacing the external
    base changes nothing until docker-images-check-bases sees it; then
    exactly the images above it are rebuilt, on the new base."""
    project, ids, output = pinned_project(
        args, engine, "-DQEMU_DOCKER_IMAGES_PIN_EXTERNAL_BASES=ON")
    check(output.count("Asking the engine which image") == 1,
          "the first build did not ask once for the external base:\n" +
          output)
    project.import_external(2)
    output = project.build().stdout
    check("Asking the engine" not in output,
          "a no-op build asked the engine for the base:\n" + output)
    ids = check_rebuilt(project, ids, [], output)

    checked = project.build("docker-images-check-bases").stdout
    check("external base %s changed" % project.external in checked,
          "the check target did not see the new base:\n" + checked)
    output = project.build().stdout
    ids = check_rebuilt(project, ids, ["ext1", "ext2"], output)
    tree = file_tree(engine, engine.tag("ext2"), engine.args)
    check("etc/version" in tree and "etc/ext2" in tree,
          "ext2 does not stand on the new base: %s" % sorted(tree)[:20])

    checked = project.build("docker-images-check-bases").stdout
    check("changed" not in checked, "a second check saw a change:\n" +
          checked)
    ids = check_rebuilt(project, ids, [], project.build().stdout)

    # A new external FROM line is pinned at once: the build runs CMake
    # again, which names the new base's identity file.
    second = project.external.replace(":1", ":2")
    engine.extra_refs.insert(0, second)
    project.import_external(3, second)
    edit(project, "ext1", project.external, second)
    ids = check_rebuilt(project, ids, ["ext1", "ext2"],
                        project.build().stdout)
    project.import_external(4, second)
    checked = project.build("docker-images-check-bases").stdout
    check("external base %s changed" % second in checked,
          "the check target did not see the new FROM line's base:\n" +
          checked)
    check_rebuilt(project, ids, ["ext1", "ext2"], project.build().stdout)


def case_unpinned_bases(args, engine):
    """Without the option, a replaced external base changes nothing, even
    after docker-images-check-bases, and no identity file is made."""
    project, ids, output = pinned_project(args, engine)
    check("Asking the engine" not in output,
          "the build asked the engine for the base:\n" + output)
    project.import_external(2)
    checked = project.build("docker-images-check-bases").stdout
    check("is OFF" in checked, "the check target did not say that pinning "
          "is off:\n" + checked)
    check_rebuilt(project, ids, [], project.build().stdout)
    check(not os.path.exists(os.path.join(project.build_dir,
                                          "qemu-docker-images", "external")),
          "identity files were made with pinning off")


VIRTUAL_IMAGES = ["base", "tool-a", "tool-b"]
# QEMU's debian-toolchain.docker, built only as debian-nios2-cross and as
# debian-microblaze-cross, each with its own build-toolchain.sh.
VIRTUAL_PROJECT = PROJECT_HEAD % "QdiVirtualImages" + """\
QemuDockerImages_Add(base DOCKERFILE images/base.docker
  EXTRA_FILES "{rootfs}")
QemuDockerImages_Add(tool-a DOCKERFILE images/tool.docker
  EXTRA_FILES tool-a/tool.txt)
QemuDockerImages_Add(tool-b DOCKERFILE images/tool.docker
  EXTRA_FILES tool-b/tool.txt)
QemuDockerImages_AddDirectory(images EXCLUDE tool)
"""


class VirtualProject(Project):
    """Two images on one Dockerfile, tool.docker, each with an extra file
    of the same name; the file is not an image of its own."""

    def __init__(self, args, engine):
        super().__init__(args, engine, name="virtual-build")
        self.source = os.path.join(engine.work, "virtual")
        self.images = os.path.join(self.source, "images")
        engine.extra_refs += [engine.tag(image) for image in VIRTUAL_IMAGES]

    def write_sources(self):
        os.makedirs(self.images)
        rootfs = os.path.join(self.engine.work, "rootfs.tar")
        make_rootfs(rootfs, self.engine.prefix)
        self.write("base", DOCKERFILES["base"])
        self.write("tool", "FROM qemu/base\nCOPY tool.txt /etc/tool\n")
        for image in ("tool-a", "tool-b"):
            self.write_tool_file(image, image + " 1\n")
        with open(os.path.join(self.source, "CMakeLists.txt"), "w") as out:
            out.write(VIRTUAL_PROJECT.format(modules=self.args.modules,
                                             rootfs=rootfs))

    def write_tool_file(self, image, text):
        os.makedirs(os.path.join(self.source, image), exist_ok=True)
        with open(os.path.join(self.source, image, "tool.txt"), "w") as out:
            out.write(text)

    def ids(self):
        return {image: self.engine.image_id(image)
                for image in VIRTUAL_IMAGES}


def check_tool_files(engine, expected):
    for image, text in expected.items():
        tree = file_tree(engine, engine.tag(image), engine.args)
        digest = hashlib.sha256(text.encode()).hexdigest()
        check(tree.get("etc/tool", (None, None, None))[2] == digest,
              "%s's /etc/tool is not %r" % (image, text))


def case_virtual_images(args, engine):
    """Each of two images on one Dockerfile is built with its own extra
    file, rebuilt alone when that file changes, and listed under its own
    name by docker-images-list."""
    project = VirtualProject(args, engine)
    project.write_sources()
    project.configure()
    project.build()
    ids = project.ids()
    check(all(ids.values()), "not every image was built: %s" % ids)
    check_tool_files(engine, {"tool-a": "tool-a 1\n", "tool-b": "tool-b 1\n"})
    project.write_tool_file("tool-b", "tool-b 2\n")
    project.build()
    after = project.ids()
    engine.extra_refs.append(ids["tool-b"])  # untagged, but still stored
    check({image for image in VIRTUAL_IMAGES if ids[image] != after[image]}
          == {"tool-b"}, "expected tool-b alone rebuilt: %s, then %s"
          % (ids, after))
    check_tool_files(engine, {"tool-a": "tool-a 1\n", "tool-b": "tool-b 2\n"})
    listing = project.build("docker-images-list").stdout
    for image in ("tool-a", "tool-b"):
        check(any(line.split()[:3] == [image, "current", "base"]
                  for line in listing.splitlines()),
              "docker-images-list does not show %s current on base:\n%s"
              % (image, listing))


CASES = {name[len("case_"):].replace("_", "-"): function
         for name, function in globals().items() if name.startswith("case_")}


def engine_arguments(cases, *extra_options):
    """The command line of every real-engine suite (this one, registry,
    intest); each (option, default) of `extra_options` is one more."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["docker", "podman"])
    parser.add_argument("--case", choices=sorted(cases))
    parser.add_argument("--helper")
    parser.add_argument("--modules")
    parser.add_argument("--cmake", default="cmake")
    for option, default in extra_options:
        parser.add_argument(option, default=default)
    parser.add_argument("--work")
    parser.add_argument("--list", action="store_true")
    return parser.parse_args()


def listed_or_skipped(args, cases):
    """The exit status when there is nothing to run: 0 after printing the
    cases for --list, SKIP when the engine is not there; else None."""
    if args.list:
        print("\n".join(sorted(cases)))
        return 0
    if not engine_available(args.engine):
        print("skipped: %s is not available (for docker: 'docker info' "
              "fails)" % args.engine)
        return SKIP
    return None


def fresh_work_folder(args, suite):
    """--work, or SUITE-ENGINE-CASE in the current folder, made empty."""
    work = os.path.abspath(args.work or "%s-%s-%s" % (suite, args.engine,
                                                      args.case))
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    return work


def main():
    args = engine_arguments(CASES)
    status = listed_or_skipped(args, CASES)
    if status is not None:
        return status
    engine = Engine(args.engine, fresh_work_folder(args, "e2e"))
    try:
        CASES[args.case](args, engine)
    except Failure as failure:
        print("FAIL: %s" % failure)
        return 1
    finally:
        engine.cleanup()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
