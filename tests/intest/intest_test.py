#!/usr/bin/env python3
"""End-to-end tests, with a real engine, of what the module took over from
QEMU's docker.py besides building: tests run inside images
(QemuDockerImages_AddTest), the current user, NAME.pre scripts,
executables with their libraries, proxy variables, and the image graph's
picture and listing.

Usage: intest_test.py --engine docker|podman --case NAME --helper PATH
                      --modules DIR [--cmake PATH] [--ctest PATH] [--work DIR]
       intest_test.py --list
Exit status: 0 pass, 1 fail, 77 skipped (the engine, or a tool a case
needs, is not there).

It reuses tests/e2e/e2e_test.py's engine handling: Docker's shared store
with tags under a prefix of this run's own, removed at the end; Podman
with a private store, vfs storage and chroot isolation, where tests in
images run through buildah.  Images start FROM scratch with a busybox
root file system.
"""

import io
import os
import shutil
import sys
import tarfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import e2e_test  # noqa: E402
from e2e_test import Failure, check, run  # noqa: E402

SKIP = 77
APPLETS = ["sh", "echo", "cat", "ls", "grep", "id", "adduser", "addgroup",
           "false", "true", "test", "touch"]

DOCKERFILES = {
    "base": "FROM scratch\nADD rootfs.tar /\nRUN echo base 1 > /etc/base\n",
    "tool": "FROM qemu/base\nRUN echo tool 1 > /etc/tool\n",
}

PROJECT = """\
cmake_minimum_required(VERSION 3.20)
project(QdiInImages NONE)
enable_testing()
list(APPEND CMAKE_MODULE_PATH "{modules}")
include(QemuDockerImages)
QemuDockerImages_Add(base DOCKERFILE images/base.docker
  EXTRA_FILES "{rootfs}")
{extra}
QemuDockerImages_AddDirectory(images)
"""


class Skipped(Exception):
    pass


class Engine(e2e_test.Engine):
    """e2e_test's engine; cleanup removes every tag of this run's prefix."""

    def __init__(self, name, work):
        super().__init__(name, work)
        self.prefix = "qdi-intest-%d/" % os.getpid()

    def cleanup(self):
        for runroot in self.runroots:
            shutil.rmtree(runroot, ignore_errors=True)
        if self.name != "docker":
            return
        listed = run(["docker", "images", "--format",
                      "{{.Repository}}:{{.Tag}}"]).stdout.split()
        ours = [tag for tag in listed if tag.startswith(self.prefix)]
        if ours:
            run(["docker", "rmi", "-f"] + ours)

    def runner(self):
        return "buildah" if self.name == "podman" else "engine"


def make_rootfs(path, run_marker):
    """busybox with the applets the cases use, and an /etc/passwd that
    busybox's adduser can extend.  run_marker goes into /etc/qdi-run so
    that no two runs share a Docker layer (e2e_test.make_rootfs says
    why)."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    check(os.path.exists(busybox), "busybox-static is not installed")
    with tarfile.open(path, "w") as tar:
        for folder in ["bin", "etc", "tmp", "home"]:
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if folder == "tmp" else 0o755
            tar.addfile(info)
        tar.add(busybox, "bin/busybox")
        for applet in APPLETS:
            info = tarfile.TarInfo("bin/" + applet)
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
        for name, text in [("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
                           ("etc/group", "root:x:0:\n"),
                           ("etc/qdi-run", run_marker + "\n")]:
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))


class Project:
    """A project using the module, with its own build folder."""

    def __init__(self, args, engine, extra="", generator="Ninja"):
        self.args = args
        self.engine = engine
        self.generator = generator
        self.source = os.path.join(engine.work, "project")
        self.images = os.path.join(self.source, "images")
        self.build_dir = os.path.join(engine.work, "build")
        self.state = os.path.join(self.build_dir, "qemu-docker-images")
        os.makedirs(self.images, exist_ok=True)
        self.rootfs = os.path.join(engine.work, "rootfs.tar")
        make_rootfs(self.rootfs, engine.prefix)
        for image, text in DOCKERFILES.items():
            self.write("images/%s.docker" % image, text)
        self.set_extra(extra)

    def set_extra(self, extra):
        self.write("CMakeLists.txt", PROJECT.format(
            modules=self.args.modules, rootfs=self.rootfs, extra=extra))

    def write(self, name, text, mode=None):
        path = os.path.join(self.source, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as out:
            out.write(text)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def edit(self, name, old, new):
        path = os.path.join(self.source, name)
        with open(path) as source:
            text = source.read()
        check(old in text, "%r not in %s" % (old, path))
        self.write(name, text.replace(old, new))

    def configure(self, *extra):
        engine = self.engine
        result = run([self.args.cmake, "-S", self.source, "-B",
                      self.build_dir, "-G", self.generator,
                      "-DQEMU_DOCKER_IMAGES_HELPER=" + self.args.helper,
                      "-DQEMU_DOCKER_IMAGES_ENGINE=" + engine.name,
                      "-DQEMU_DOCKER_IMAGES_ENGINE_ARGS=" +
                      ";".join(engine.args),
                      "-DQEMU_DOCKER_IMAGES_BUILD_FLAGS=" +
                      ";".join(engine.build_flags),
                      "-DQEMU_DOCKER_IMAGES_TAG_PREFIX=" + engine.prefix]
                     + list(extra))
        check(result.returncode == 0, "configure failed:\n" + result.stdout)

    def build(self, target="docker-images", expect_ok=True, env=None):
        result = run([self.args.cmake, "--build", self.build_dir,
                      "--target", target], env=env)
        if expect_ok:
            check(result.returncode == 0, "build of %s failed:\n%s" %
                  (target, result.stdout))
        return result

    def ctest(self, regex):
        return run([self.args.ctest, "--test-dir", self.build_dir, "-R",
                    regex, "--output-on-failure"])

    def in_image(self, image, *command):
        """Runs a command in an image with the helper's run command."""
        engine = self.engine
        argv = [self.args.helper, "run", "--engine", engine.name,
                "--runner", engine.runner()]
        for arg in engine.args:
            argv.append("--engine-arg=" + arg)
        return run(argv + ["--", engine.tag(image)] + list(command))

    def output_of(self, image, *command):
        """What a command that must succeed prints in an image."""
        result = self.in_image(image, *command)
        check(result.returncode == 0, "%s in %s exited with status %d:\n%s"
              % (" ".join(command), image, result.returncode, result.stdout))
        return result.stdout

    def stamp(self, image, name):
        path = os.path.join(self.state, image, name)
        if not os.path.exists(path):
            return None
        with open(path) as stamp:
            return stamp.read()


def ctest_ok(result, name):
    check(result.returncode == 0, "ctest failed:\n" + result.stdout)
    check("Test #" in result.stdout and name in result.stdout,
          "ctest ran no test %s:\n%s" % (name, result.stdout))


# Cases: tests inside images -----------------------------------------------


TESTS = """\
QemuDockerImages_AddTest(passes IMAGE tool COMMAND grep -q "tool 1" /etc/tool)
QemuDockerImages_AddTest(fails IMAGE tool
  COMMAND sh -c "echo in the image && grep -q nothing /etc/tool")
QemuDockerImages_AddTest(mounts IMAGE tool MOUNT_SOURCE_DIR MOUNT_BINARY_DIR
  WORKING_DIRECTORY "${CMAKE_BINARY_DIR}"
  ENVIRONMENT GREETING=hello
  COMMAND sh -c "cat ${CMAKE_SOURCE_DIR}/marker.txt > from-source.txt && \
echo $GREETING > greeting.txt && ! touch ${CMAKE_SOURCE_DIR}/x")
"""


def case_test_passes(args, engine):
    """ctest -R builds the image through the fixture, then runs the test."""
    project = Project(args, engine, TESTS)
    project.configure()
    result = project.ctest("^passes$")
    ctest_ok(result, "passes")
    check("docker-tool" in result.stdout,
          "the fixture did not build the image:\n" + result.stdout)
    check(engine.label("tool") == project.stamp("tool", "checksum").strip(),
          "the image is not current after the fixture")


def case_test_fails(args, engine):
    """A command that fails in the image makes the test fail."""
    project = Project(args, engine, TESTS)
    project.configure()
    result = project.ctest("^fails$")
    check(result.returncode != 0, "the failing test passed:\n" +
          result.stdout)
    check("(Failed)" in result.stdout, "no failure reported:\n" +
          result.stdout)
    check("in the image" in result.stdout,
          "the test failed before its command ran:\n" + result.stdout)


def case_test_mounts(args, engine):
    """The source folder is mounted read-only and the build folder
    writable, at their own paths, with the working folder and variables
    asked for."""
    project = Project(args, engine, TESTS)
    project.write("marker.txt", "marker %d\n" % os.getpid())
    project.configure()
    ctest_ok(project.ctest("^mounts$"), "mounts")
    with open(os.path.join(project.build_dir, "from-source.txt")) as got:
        check(got.read() == "marker %d\n" % os.getpid(),
              "the source folder's file was not seen")
    with open(os.path.join(project.build_dir, "greeting.txt")) as got:
        check(got.read() == "hello\n", "ENVIRONMENT was not passed")
    check(not os.path.exists(os.path.join(project.source, "x")),
          "the source folder was writable")


def case_test_fixture_rebuilds(args, engine, generator="Ninja"):
    """After an edit, ctest -R rebuilds the stale image before the test,
    which then sees the new image."""
    project = Project(args, engine, TESTS, generator)
    project.configure()
    ctest_ok(project.ctest("^passes$"), "passes")
    project.edit("images/base.docker", "base 1", "base 2")
    project.set_extra(TESTS + 'QemuDockerImages_AddTest(sees-edit IMAGE tool'
                      '\n  COMMAND grep -q "base 2" /etc/base)\n')
    project.configure()
    result = project.ctest("^(passes|sees-edit)$")
    ctest_ok(result, "sees-edit")
    check(engine.label("base") == project.stamp("base", "checksum").strip(),
          "base was not rebuilt by the fixture")


def case_test_target(args, engine, generator="Ninja"):
    """docker-test-NAME+IMAGE builds the image and runs the test; a failing
    test fails the target."""
    project = Project(args, engine, TESTS, generator)
    project.configure()
    result = project.build("docker-test-passes+tool")
    check("Running test passes in image" in result.stdout,
          "the target did not run the test:\n" + result.stdout)
    result = project.build("docker-test-fails+tool", expect_ok=False)
    check(result.returncode != 0, "the failing test's target succeeded")


# With Make, image steps move markers where Ninja restats; the fixtures and
# test targets must work over both.

def case_make_test_fixture_rebuilds(args, engine):
    """test-fixture-rebuilds with Make."""
    case_test_fixture_rebuilds(args, engine, "Unix Makefiles")


def case_make_test_target(args, engine):
    """test-target with Make."""
    case_test_target(args, engine, "Unix Makefiles")


# Cases: docker.py's per-image features ------------------------------------


def case_add_user(args, engine):
    """The current user is added to the image; its name and uid are part
    of the checksum, so another uid rebuilds the image."""
    project = Project(args, engine)
    project.configure("-DQEMU_DOCKER_IMAGES_ADD_CURRENT_USER=ON",
                      "-DQEMU_DOCKER_IMAGES_CURRENT_USER=qdiuser:4242")
    project.build()
    result = project.in_image("tool", "grep", "^qdiuser:", "/etc/passwd")
    check(result.returncode == 0 and ":4242:" in result.stdout,
          "qdiuser:4242 is not in the image:\n" + result.stdout)
    first = project.stamp("tool", "checksum")
    project.configure("-DQEMU_DOCKER_IMAGES_CURRENT_USER=qdiuser:4343")
    project.build()
    check(project.stamp("tool", "checksum") != first,
          "the uid is not part of the checksum")
    result = project.in_image("tool", "grep", "^qdiuser:", "/etc/passwd")
    check(":4343:" in result.stdout, "the image was not rebuilt with the "
          "new uid:\n" + result.stdout)
    project.configure("-DQEMU_DOCKER_IMAGES_ADD_CURRENT_USER=OFF")
    project.build()
    result = project.in_image("tool", "grep", "^qdiuser:", "/etc/passwd")
    check(result.returncode != 0, "NOUSER still added the user")


PRE = """#!/bin/sh
# Counts its runs outside the context, and prepares the context.
echo run >> "{count}"
echo "made by the pre script {version}" > generated.txt
exit {status}
"""


def pre_runs(project):
    path = os.path.join(project.engine.work, "pre-runs")
    if not os.path.exists(path):
        return 0
    with open(path) as runs:
        return len(runs.read().split())


def write_pre(project, version, status=0):
    project.write("images/tool.pre", PRE.format(
        count=os.path.join(project.engine.work, "pre-runs"),
        version=version, status=status), mode=0o755)


def case_pre_script(args, engine):
    """tool.pre runs in the staged context before the build, its files
    reach the image, and its bytes are part of the checksum."""
    project = Project(args, engine)
    project.edit("images/tool.docker", "RUN echo tool 1",
                 "COPY . /opt/\nRUN echo tool 1")
    write_pre(project, 1)
    project.configure()
    project.build()
    output = project.output_of("tool", "cat", "/opt/generated.txt")
    check(output == "made by the pre script 1\n",
          "the pre script's file is not in the image:\n" + output)
    project.build()
    check(pre_runs(project) == 1, "a no-op build ran the script again")
    write_pre(project, 2)
    project.build()
    output = project.output_of("tool", "cat", "/opt/generated.txt")
    check(output == "made by the pre script 2\n",
          "an edit of the script did not rebuild:\n" + output)


def case_pre_script_skips(args, engine):
    """Exit status 3 skips the image: one line says so, the stamp records
    it, the engine has no such image, and the next build is a no-op until
    the script changes."""
    project = Project(args, engine)
    write_pre(project, 1, status=3)
    project.configure()
    result = project.build()
    check("%s: skipped: " % engine.tag("tool") in result.stdout,
          "no skip line:\n" + result.stdout)
    check(engine.image_id("tool") is None, "the skipped image was built")
    check(project.stamp("tool", "image").endswith("skipped\n"),
          "the stamp does not record the skip")
    result = project.build()
    check(pre_runs(project) == 1 and "ninja: no work to do" in result.stdout,
          "the next build was not a no-op:\n" + result.stdout)
    project.build("docker-images-check")
    check(project.stamp("tool", "image") is not None,
          "the check target forgot a skipped image")
    write_pre(project, 2, status=0)
    project.build()
    check(engine.image_id("tool") is not None,
          "a script that no longer skips did not build the image")


def case_pre_script_appears(args, engine):
    """A pre script added after the first build rebuilds its image."""
    project = Project(args, engine)
    project.edit("images/tool.docker", "RUN echo tool 1",
                 "COPY . /opt/\nRUN echo tool 1")
    project.configure()
    project.build()
    write_pre(project, 1)
    project.build()
    output = project.output_of("tool", "cat", "/opt/generated.txt")
    check(output == "made by the pre script 1\n",
          "the new script did not rebuild the image:\n" + output)


def case_base_pre_script_appears(args, engine):
    """A pre script added to a base after the first build rebuilds the
    base and the image above it."""
    project = Project(args, engine)
    project.configure()
    project.build()
    before = {image: project.stamp(image, "checksum")
              for image in ["base", "tool"]}
    project.write("images/base.pre", "#!/bin/sh\necho base > made.txt\n",
                  mode=0o755)
    project.build()
    for image in ["base", "tool"]:
        checksum = project.stamp(image, "checksum")
        check(checksum != before[image],
              "%s's checksum did not change" % image)
        check(engine.label(image) == checksum.strip(),
              "%s was not rebuilt" % image)


def case_executable(args, engine):
    """An executable is staged at usr/bin/ with its shared libraries, runs
    in an image that has no C library, and is part of the checksum."""
    system_echo = shutil.which("echo", path="/usr/bin:/bin")
    libs = run(["ldd", system_echo]).stdout
    if "=>" not in libs:
        raise Skipped("%s is not a dynamic executable" % system_echo)
    executable = os.path.join(engine.work, "bin", "hello-echo")
    os.makedirs(os.path.dirname(executable))
    shutil.copy(system_echo, executable)
    project = Project(args, engine, "QemuDockerImages_Add(tool DOCKERFILE "
                      "images/tool.docker EXECUTABLES \"%s\")" % executable)
    project.edit("images/tool.docker", "RUN echo tool 1",
                 "ADD . /\nRUN /usr/bin/hello-echo dynamic > /etc/tool")
    project.configure()
    project.build()
    output = project.output_of("tool", "cat", "/etc/tool")
    check(output == "dynamic\n",
          "the executable did not run in the image:\n" + output)
    first = project.stamp("tool", "checksum")
    with open(executable, "ab") as out:
        out.write(b"\0")  # still a valid ELF file, with other bytes
    project.build()
    check(project.stamp("tool", "checksum") != first,
          "the executable is not part of the checksum")
    check(engine.label("tool") == project.stamp("tool", "checksum").strip(),
          "the image was not rebuilt after the executable changed")


def case_proxy(args, engine):
    """Proxy variables reach the build as Docker's predefined arguments,
    and a changed value rebuilds nothing."""
    project = Project(args, engine)
    project.edit("images/tool.docker", "RUN echo tool 1 > /etc/tool",
                 "RUN echo \"$http_proxy $NO_PROXY\" > /etc/tool")
    project.configure()
    env = dict(os.environ, http_proxy="http://proxy.invalid:3128",
               NO_PROXY="localhost")
    project.build(env=env)
    output = project.output_of("tool", "cat", "/etc/tool")
    check(output == "http://proxy.invalid:3128 localhost\n",
          "the proxy variables did not reach the build:\n" + output)
    image = engine.image_id("tool")
    checksum = project.stamp("tool", "checksum")
    env["http_proxy"] = "http://other.invalid:8080"
    result = project.build(env=env)
    check(project.stamp("tool", "checksum") == checksum,
          "a proxy value is part of the checksum")
    check(engine.image_id("tool") == image, "a proxy value rebuilt tool")


# Cases: the image graph ---------------------------------------------------


def node_line(dot, image):
    lines = [line for line in dot.splitlines()
             if line.strip().startswith('"%s" [' % image)]
    check(len(lines) == 1, "no node %s in:\n%s" % (image, dot))
    return lines[0]


def read_graph(project):
    project.build("docker-images-graph")
    with open(os.path.join(project.state, "images.dot")) as dot:
        return dot.read()


def case_graph(args, engine):
    """docker-images-graph marks stale images, external bases and local
    edges; SVG and PNG are drawn where dot is installed; docker-images-list
    prints the same states."""
    project = Project(args, engine)
    project.write("images/ext.docker", "FROM debian:bookworm-slim\n")
    project.configure()
    dot = read_graph(project)
    check("stale" in node_line(dot, "base") and
          "stale" in node_line(dot, "tool"), "unbuilt images not stale")
    check('"tool" -> "base"' in dot, "no local edge:\n" + dot)
    check('"debian:bookworm-slim" [shape=ellipse, style=dashed]' in dot,
          "no external base:\n" + dot)
    project.build("docker-tool")
    dot = read_graph(project)
    check("current" in node_line(dot, "base") and
          "current" in node_line(dot, "tool"), "built images not current")
    project.edit("images/tool.docker", "tool 1", "tool 2")
    dot = read_graph(project)
    check("current" in node_line(dot, "base") and
          "stale" in node_line(dot, "tool"), "edited tool not stale:\n" + dot)
    listing = project.build("docker-images-list").stdout
    check(any(line.split()[:2] == ["tool", "stale"]
              for line in listing.splitlines()),
          "the listing does not say tool is stale:\n" + listing)
    project.build("docker-tool")
    check("current" in node_line(read_graph(project), "tool"),
          "rebuilt tool not current")
    if shutil.which("dot") is None:
        return
    for suffix, magic in [("svg", b"<?xml"), ("png", b"\x89PNG")]:
        with open(os.path.join(project.state, "images." + suffix),
                  "rb") as picture:
            check(picture.read(5).startswith(magic[:4]),
                  "images.%s is not a %s file" % (suffix, suffix))


CASES = {name[len("case_"):].replace("_", "-"): function
         for name, function in globals().items() if name.startswith("case_")}


def main():
    args = e2e_test.engine_arguments(CASES, ("--ctest", "ctest"))
    status = e2e_test.listed_or_skipped(args, CASES)
    if status is not None:
        return status
    if args.engine == "podman" and shutil.which("buildah") is None:
        print("skipped: podman cannot run containers here and buildah, "
              "which runs them instead, is not installed")
        return SKIP
    work = e2e_test.fresh_work_folder(args, "intest")
    engine = Engine(args.engine, work)
    try:
        CASES[args.case](args, engine)
    except Skipped as skipped:
        print("skipped: %s" % skipped)
        return SKIP
    except Failure as failure:
        print("FAIL: %s" % failure)
        return 1
    finally:
        engine.cleanup()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
