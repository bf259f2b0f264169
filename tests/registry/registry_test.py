#!/usr/bin/env python3
"""End-to-end tests of the registry cache with a real engine and a real
registry (Debian's docker-registry, the Distribution registry).

Usage: registry_test.py --engine docker|podman --case NAME --helper PATH
                        --modules DIR [--cmake PATH] [--work DIR]
       registry_test.py --list
Exit status: 0 pass, 1 fail, 77 skipped (the engine or docker-registry is
not there).

Each case starts its own registry on 127.0.0.1 on a free port, with its
storage in the work folder, and stops it by its process id at the end.
The image chain is tests/e2e's, with a label that is new at each run so
that no engine cache from another test makes two builds alike.  Build
folders play CI runners: with Podman each runner has a private store;
Docker has one store, so a runner's images are removed from the daemon
before the next runner starts.  Pulled and built images are told apart by
what the engine shows: a pulled image carries the registry's name among
its tags and the image ID that the pushing runner built, a built one
neither (runners after the first do not push).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import e2e_test as e2e  # noqa: E402  (the shared engine and project code)
from e2e_test import IMAGES, Failure, check, run  # noqa: E402

SKIP = 77
CHAIN_ABOVE_BASE = sorted(e2e.CHAIN_ABOVE_BASE)
PULL_FAILED = "cannot pull from the registry"
PUSH_FAILED = "pushing to the registry failed"
WRONG_LABEL = "from the registry, since its checksum should be"


def free_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


class Registry:
    """docker-registry serving a folder of the work folder on loopback."""

    def __init__(self, work, read_only=False):
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        self.folder = os.path.join(work, "registry-%d" % self.port)
        os.makedirs(os.path.join(self.folder, "storage"))
        config = os.path.join(self.folder, "config.yml")
        with open(config, "w") as out:
            out.write("version: 0.1\nstorage:\n")
            out.write("  filesystem: {rootdirectory: %s}\n"
                      % os.path.join(self.folder, "storage"))
            if read_only:
                out.write("  maintenance: {readonly: {enabled: true}}\n")
            out.write("http: {addr: %s}\n" % self.address)
        self.log = open(os.path.join(self.folder, "registry.log"), "w")
        self.process = subprocess.Popen(
            ["docker-registry", "serve", config], stdout=self.log,
            stderr=subprocess.STDOUT)
        self.wait_until_serving()

    def wait_until_serving(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            check(self.process.poll() is None,
                  "docker-registry exited; see %s" % self.log.name)
            try:
                urllib.request.urlopen("http://%s/v2/" % self.address,
                                       timeout=2).close()
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise Failure("docker-registry does not answer on " + self.address)

    def tags(self, repository):
        """The tags the registry holds for `repository`."""
        url = "http://%s/v2/%s/tags/list" % (self.address, repository)
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return sorted(json.load(answer).get("tags") or [])
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return []
            raise

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class Runner:
    """One CI runner: a build folder and, with Podman, a store of its own."""

    def __init__(self, args, work, engine_name, name):
        self.name = name
        self.engine = e2e.Engine(engine_name, work)
        if engine_name == "podman":
            self.engine.args = self.engine.podman_store("store-" + name)
        self.project = e2e.Project(args, self.engine, name=name)
        self.seconds = None

    def configure(self, registry_address, *extra):
        flags = "--tls-verify=false" if self.engine.name == "podman" else ""
        self.project.configure(
            "-DQEMU_DOCKER_IMAGES_REGISTRY=" + registry_address,
            "-DQEMU_DOCKER_IMAGES_REGISTRY_PREFIX=" + self.engine.prefix,
            "-DQEMU_DOCKER_IMAGES_REGISTRY_FLAGS=" + flags,
            "-DQEMU_DOCKER_IMAGES_VERBOSE=ON", *extra)

    def build(self, target="docker-images", expect_ok=True):
        start = time.monotonic()
        result = self.project.build(target, expect_ok)
        self.seconds = time.monotonic() - start
        return result

    def cached_ref(self, registry, image):
        return "%s/%s%s:%s" % (registry.address, self.engine.prefix, image,
                               self.engine.label(image))

    def repo_tags(self, image):
        result = run(self.engine.command(
            "image", "inspect", "--format", "{{json .RepoTags}}",
            self.engine.tag(image)))
        check(result.returncode == 0, "no image %s:\n%s"
              % (self.engine.tag(image), result.stdout))
        return json.loads(result.stdout)

    def pulled(self, registry):
        """The images whose tags include their cached name."""
        return sorted(image for image in IMAGES
                      if self.cached_ref(registry, image)
                      in self.repo_tags(image))

    def check_current(self):
        for image in IMAGES:
            label = self.engine.label(image)
            checksum = self.project.checksum_of(image)
            check(label == checksum, "%s in %s: label %s, checksum %s"
                  % (image, self.name, label, checksum))


def verbose_lines(output, ending):
    """The images whose verbose line of the helper ends with `ending`."""
    images = []
    for line in output.splitlines():
        if line.startswith("qemu-docker-images: ") and line.endswith(ending):
            tag = line.split(": ")[1]
            images.append(tag.rsplit("/", 1)[-1])
    return sorted(images)


def lines_with(output, text):
    return [line for line in output.splitlines() if text in line]


def ours(ref, prefix):
    """Whether `ref` is this run's: its tag prefix, alone or below a
    loopback registry (also one that never answered)."""
    if ref.startswith(prefix):
        return True
    registry, _, path = ref.partition("/")
    return registry.startswith("127.0.0.1:") and path.startswith(prefix)


def remove_from_docker(prefix):
    """Removes every image of the shared daemon that is this run's."""
    listed = run(["docker", "image", "ls", "--format",
                  "{{.Repository}}:{{.Tag}}"])
    refs = [ref for ref in listed.stdout.split() if ours(ref, prefix)]
    if refs:
        run(["docker", "rmi", "-f"] + refs)


def write_chain(runner):
    """The chain's sources, with a label new at each run; every runner's
    project reads the same sources."""
    project = runner.project
    project.write_sources()
    nonce = "LABEL org.qemu.test-run=%d-%d\n" % (os.getpid(), time.time())
    for image, text in e2e.DOCKERFILES.items():
        project.write(image, text + nonce)
    return project


class Cleanup:
    """Stops the registries and, with Docker, removes this run's images."""

    def __init__(self, engine_name):
        self.engine_name = engine_name
        self.registries = []
        self.runners = []

    def registry(self, *args, **kwargs):
        registry = Registry(*args, **kwargs)
        self.registries.append(registry)
        return registry

    def runner(self, *args):
        runner = Runner(*args)
        self.runners.append(runner)
        return runner

    def between_runners(self, prefix):
        """Docker's one store: the next runner must not find these."""
        if self.engine_name == "docker":
            remove_from_docker(prefix)

    def run(self, prefix):
        if self.engine_name == "docker":
            remove_from_docker(prefix)
        for runner in self.runners:
            for runroot in runner.engine.runroots:
                shutil.rmtree(runroot, ignore_errors=True)
        for registry in self.registries:
            registry.stop()


# Cases -----------------------------------------------------------------------


def case_two_runners(args, work, cleanup):
    """Runner 1 builds and pushes every image; runner 2 builds nothing and
    pulls everything; after a change to base, a fresh runner builds exactly
    the images on base and pulls the others."""
    registry = cleanup.registry(work)
    first = cleanup.runner(args, work, args.engine, "runner1")
    write_chain(first)
    first.configure(registry.address, "-DQEMU_DOCKER_IMAGES_REGISTRY_PUSH=ON")
    output = first.build().stdout
    check(verbose_lines(output, ": building") == sorted(IMAGES),
          "runner 1 did not build every image:\n" + output)
    first.check_current()
    for image in IMAGES:
        check(first.engine.label(image) in
              registry.tags(first.engine.prefix + image),
              "the registry lacks %s after runner 1's push" % image)
    built_ids = first.engine.ids()
    measured = [measure(first, output)]
    cleanup.between_runners(first.engine.prefix)

    second = cleanup.runner(args, work, args.engine, "runner2")
    second.configure(registry.address)
    output = second.build().stdout
    check(verbose_lines(output, ": building") == [],
          "runner 2 built images:\n" + output)
    check(second.pulled(registry) == sorted(IMAGES),
          "runner 2 did not pull every image: %s" % second.pulled(registry))
    check(second.engine.ids() == built_ids,
          "runner 2's images are not runner 1's: %s, %s"
          % (second.engine.ids(), built_ids))
    second.check_current()
    measured.append(measure(second, output))
    no_op = second.build().stdout
    check(not lines_with(no_op, "qemu-docker-images: "),
          "a no-op build asked the engine or the registry:\n" + no_op)
    cleanup.between_runners(second.engine.prefix)

    e2e.edit(second.project, "base", "echo base", "echo base2")
    third = cleanup.runner(args, work, args.engine, "runner2-after-change")
    third.configure(registry.address)
    output = third.build().stdout
    check(verbose_lines(output, ": building") == CHAIN_ABOVE_BASE,
          "after the change to base, the runner built %s:\n%s"
          % (verbose_lines(output, ": building"), output))
    pulled = sorted(set(IMAGES) - set(CHAIN_ABOVE_BASE))
    check(third.pulled(registry) == pulled,
          "after the change to base, the runner pulled %s, expected %s"
          % (third.pulled(registry), pulled))
    ids = third.engine.ids()
    check(all(ids[i] == built_ids[i] for i in pulled) and
          all(ids[i] != built_ids[i] for i in CHAIN_ABOVE_BASE),
          "image IDs after the change: %s, runner 1's: %s" % (ids, built_ids))
    third.check_current()
    measured.append(measure(third, output))
    report(args, work, measured)


def measure(runner, output):
    """The counts come from the helper's verbose lines, which the
    assertions above checked against the engine."""
    return {"engine": runner.engine.name, "runner": runner.name,
            "built": len(verbose_lines(output, ": building")),
            "pulled": len(verbose_lines(output, ": pulled, not built")),
            "seconds": round(runner.seconds, 2)}


def report(args, work, measured):
    for row in measured:
        print("%(engine)s %(runner)s: built %(built)d, pulled %(pulled)d, "
              "%(seconds).2f s" % row)
    with open(os.path.join(work, "measurements.json"), "w") as out:
        json.dump(measured, out, indent=1)


def case_label_mismatch(args, work, cleanup):
    """An image in the registry under the right name but with another
    checksum label is not used: the runner builds the image."""
    registry = cleanup.registry(work)
    runner = cleanup.runner(args, work, args.engine, "runner")
    project = write_chain(runner)
    checksum = project.checksum_of("other")
    engine = runner.engine
    ref = "%s/%sother:%s" % (registry.address, engine.prefix, checksum)
    bogus = os.path.join(work, "bogus")
    os.makedirs(bogus)
    with open(os.path.join(bogus, "Dockerfile"), "w") as out:
        out.write("FROM scratch\nLABEL com.qemu.dockerfile-checksum=%s\n"
                  % ("0" * 32))
    result = run(engine.command("build", *engine.build_flags, "-t", ref,
                                bogus))
    check(result.returncode == 0, "building the impostor failed:\n" +
          result.stdout)
    bogus_id = engine.image_id_of(ref)
    tls = ["--tls-verify=false"] if engine.name == "podman" else []
    result = run(engine.command("push", *tls, ref))
    check(result.returncode == 0, "pushing the impostor failed:\n" +
          result.stdout)
    check(run(engine.command("rmi", ref)).returncode == 0, "rmi failed")

    runner.configure(registry.address)
    output = runner.build("docker-other").stdout
    check(len(lines_with(output, WRONG_LABEL)) == 1,
          "expected one line saying the pulled image is not used:\n" +
          output)
    check(engine.label("other") == checksum,
          "other's label is %s, not %s" % (engine.label("other"), checksum))
    check(engine.image_id("other") != bogus_id, "the impostor is used")
    check(engine.image_id_of(ref) is None,
          "the impostor is still tagged %s" % ref)


def case_unreachable(args, work, cleanup):
    """A registry that does not answer (a closed port): every image is
    built, each with one line saying so; a failed push is not fatal."""
    runner = cleanup.runner(args, work, args.engine, "runner")
    write_chain(runner)
    runner.configure("127.0.0.1:%d" % free_port(),
                     "-DQEMU_DOCKER_IMAGES_REGISTRY_PUSH=ON")
    output = runner.build().stdout
    for text in (PULL_FAILED, PUSH_FAILED):
        said = sorted(line.split(": ")[1].rsplit("/", 1)[-1]
                      for line in lines_with(output, text))
        check(said == sorted(IMAGES),
              "expected one line %r for each image, got %s:\n%s"
              % (text, said, output))
    runner.check_current()
    no_op = runner.build().stdout
    check(not lines_with(no_op, "qemu-docker-images: "),
          "a no-op build asked the engine or the registry:\n" + no_op)


def case_push_fails(args, work, cleanup):
    """A registry that refuses pushes (read-only): without strict pushing
    the build succeeds with one line per image; with it the image step
    fails, leaves no stamp, and says which push failed."""
    registry = cleanup.registry(work, read_only=True)
    runner = cleanup.runner(args, work, args.engine, "runner")
    project = write_chain(runner)
    runner.configure(registry.address,
                     "-DQEMU_DOCKER_IMAGES_REGISTRY_PUSH=ON")
    output = runner.build().stdout
    check(len(lines_with(output, PUSH_FAILED)) == len(IMAGES),
          "expected one failed push per image:\n" + output)
    check(not lines_with(output, PULL_FAILED),
          "a pull from a registry that answers was reported failed:\n" +
          output)
    runner.check_current()
    check(registry.tags(runner.engine.prefix + "other") == [],
          "the read-only registry holds an image")

    runner.configure(registry.address,
                     "-DQEMU_DOCKER_IMAGES_REGISTRY_STRICT_PUSH=ON")
    e2e.edit(project, "other", "echo other", "echo other2")
    result = runner.build(expect_ok=False)
    check(result.returncode != 0,
          "strict pushing to a read-only registry succeeded:\n" +
          result.stdout)
    errors = lines_with(result.stdout, "qemu-docker-images: error: pushing "
                        + runner.engine.tag("other"))
    check(len(errors) == 1, "no error naming the failed push:\n" +
          result.stdout)
    check(not os.path.exists(runner.project.image_stamp("other")),
          "other has an image stamp although its strict push failed")


CASES = {name[len("case_"):].replace("_", "-"): function
         for name, function in globals().items() if name.startswith("case_")}


def image_id_of(self, ref):
    result = run(self.command("image", "inspect", "--format", "{{.Id}}", ref))
    return result.stdout.strip() if result.returncode == 0 else None


e2e.Engine.image_id_of = image_id_of


def main():
    args = e2e.engine_arguments(CASES)
    status = e2e.listed_or_skipped(args, CASES)
    if status is not None:
        return status
    if shutil.which("docker-registry") is None:
        print("skipped: docker-registry is not installed "
              "(tests/setup-debian.sh installs it)")
        return SKIP
    work = e2e.fresh_work_folder(args, "registry")
    cleanup = Cleanup(args.engine)
    try:
        CASES[args.case](args, work, cleanup)
    except Failure as failure:
        print("FAIL: %s" % failure)
        return 1
    finally:
        cleanup.run("qdi-e2e-%d/" % os.getpid())
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
