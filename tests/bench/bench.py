#!/usr/bin/env python3
"""Runs the benchmark suite and prints its results as markdown.

Usage: bench.py BUILD_DIR   (run-benchmarks.sh is the usual way in)

Environment:
    QDI_BENCH_QUICK=1    leave out the 5,000-image folder and the 100 MB
                         Dockerfile, for a smoke test
    QDI_BENCH_CORPUS     the folder of the qemu-20XX snapshots (default:
                         shared/corpus beside the clone)
    QDI_BENCH_RUNS       runs per measurement, of which the median is
                         reported (default 3)
    QDI_BENCH_SECTIONS   the sections to run, of throughput, folder,
                         current and scale, comma-separated (default: all)

Every number is measured and reported; the project's targets are printed
beside them, and a missed target is marked, never an error.  The work
folder is BUILD_DIR/bench; the table is also written to
BUILD_DIR/bench-results.md.
"""

import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
GENERATE = os.path.join(HERE, "generate.py")
SEED = os.path.join(HERE, "seed_checksum.py")
# The seed runs on Debian's own python3, the one a fresh machine has.  A
# python3 found first on PATH may be a version manager's shim (pyenv's is
# a bash script that adds about 100 ms to every start) or a slower build,
# either of which would flatter our ratios.
SEED_PYTHON = ("/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK)
               else sys.executable)
FAKE_ENGINE = os.path.join(SOURCE, "tests", "module", "fake-engine")
MODULES = os.path.join(SOURCE, "Modules")
QUICK = os.environ.get("QDI_BENCH_QUICK") == "1"
RUNS = int(os.environ.get("QDI_BENCH_RUNS", "3"))
# A no-op Ninja build and its floor take tens of milliseconds and vary by
# a few between runs, which is the size of the difference measured: more
# runs.  Make's take seconds, so they keep RUNS.
FAST_RUNS = 4 * RUNS - 1
YEARS = ["qemu-2017", "qemu-2020", "qemu-2021"]
GENERATORS = {"ninja": "Ninja", "make": "Unix Makefiles"}

PROJECT = """\
cmake_minimum_required(VERSION 3.20)
project(QdiBenchImages NONE)
list(APPEND CMAKE_MODULE_PATH "{modules}")
include(QemuDockerImages)
QemuDockerImages_AddDirectory(images{exclude})
"""

# The wrapper counts the helper's processes: one line per start.
COUNTER = """\
#!/bin/sh
echo "$1" >> "${{QDI_BENCH_COUNT:-/dev/null}}"
exec "{helper}" "$@"
"""


class Report:
    """The markdown lines, printed as they come and saved at the end."""

    def __init__(self):
        self.lines = []

    def add(self, text=""):
        print(text, flush=True)
        self.lines.append(text)

    def table(self, header, rows):
        self.add("| " + " | ".join(header) + " |")
        self.add("|" + "---|" * len(header))
        for row in rows:
            self.add("| " + " | ".join(str(cell) for cell in row) + " |")
        self.add()


def log(text):
    print("bench: " + text, file=sys.stderr, flush=True)


def run(command, env=None, cwd=None, check=True, quiet=True):
    result = subprocess.run(
        command, cwd=cwd, env=env, text=True,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.STDOUT if quiet else None)
    if check and result.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s" % (
            " ".join(command), result.returncode, result.stdout or ""))
    return result


def timed(command, env=None, cwd=None, check=True):
    start = time.perf_counter()
    result = run(command, env=env, cwd=cwd, check=check)
    return time.perf_counter() - start, result


def median_time(command, runs=RUNS, env=None, cwd=None, before=None):
    """The median wall time of `runs` runs; `before` runs untimed first.
    `command` may be a function that returns the command, asked after
    `before`, for a `before` that picks a new folder."""
    times = []
    for _ in range(runs):
        if before:
            before()
        argv = command() if callable(command) else command
        times.append(timed(argv, env=env, cwd=cwd)[0])
    return statistics.median(times)


def peak_kib(command, env=None, cwd=None):
    """The peak resident memory of `command` and its children, in KiB."""
    out = os.path.join(WORK, "time.txt")
    run(["/usr/bin/time", "-f", "%M", "-o", out] + command, env=env, cwd=cwd)
    with open(out) as text:
        return int(text.read().split()[-1])


def ms(seconds):
    return "%.1f ms" % (seconds * 1000) if seconds < 10 else "%.1f s" % seconds


def ratio(slow, fast):
    return "%.0fx" % (slow / fast) if fast > 0 else "-"


def verdict(met):
    return "met" if met else "**missed**"


def machine():
    model = "unknown"
    try:
        for line in run(["lscpu"]).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, RuntimeError):
        pass
    return "%s, %s cores (nproc), %s" % (
        model, os.cpu_count(), platform.platform())


def generate(*args):
    run([sys.executable, GENERATE] + [str(arg) for arg in args])


def dockerfiles(folder):
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if name.endswith(".docker"))


def corpus_extra_args(year, folder):
    """The files QEMU staged with --extra-files, as the corpus tests give
    them; without them two images of the corpus do not checksum."""
    if year == "qemu-2017":
        return ["--image-extra-file", "debian-powerpc-cross",
                os.path.join(folder, "debian-apt-fake.sh")]
    if year == "qemu-2021":
        return ["--image-extra-file", "debian-toolchain",
                os.path.join(folder, "debian-nios2-cross.d",
                             "build-toolchain.sh")]
    return []


# 1. The helper's throughput ------------------------------------------------

def qdi_bench_executable():
    """BUILD_DIR's qdi_bench when the tree adds tests/bench, else a build
    of tests/bench on its own in the work folder."""
    if run(["cmake", "--build", BUILD, "--target", "qdi_bench"],
           check=False).returncode == 0:
        for root, _, files in os.walk(BUILD):
            if "qdi_bench" in files:
                return os.path.join(root, "qdi_bench")
    own = os.path.join(WORK, "qdi-bench-build")
    log("building qdi_bench on its own in " + own)
    run(["cmake", "-S", HERE, "-B", own, "-G", "Ninja",
         "-DCMAKE_BUILD_TYPE=Release"])
    if run(["cmake", "--build", own, "--target", "qdi_bench"],
           check=False).returncode != 0:
        return None
    return os.path.join(own, "qdi_bench")


def make_inputs():
    inputs = os.path.join(WORK, "inputs")
    sizes = [("1MB", 1 << 20)] + ([] if QUICK else [("100MB", 100 << 20)])
    for label, size in sizes:
        path = os.path.join(inputs, "big", label + ".docker")
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            generate("big", size, path)
    for depth in [10, 100, 1000]:
        folder = os.path.join(inputs, "chain-%d" % depth)
        if not os.path.isdir(folder):
            generate("chain", depth, folder)
    return inputs


def section_throughput(report, inputs):
    report.add("## 1. Helper throughput (Google Benchmark, median of %d)"
               % RUNS)
    report.add()
    executable = qdi_bench_executable()
    if not executable:
        report.add("Left out: Google Benchmark is not installed "
                   "(apt-get install libbenchmark-dev).")
        report.add()
        return
    out = os.path.join(WORK, "qdi_bench.json")
    log("running qdi_bench")
    run([executable, "--inputs=" + inputs, "--corpus=" + CORPUS,
         "--benchmark_repetitions=%d" % RUNS,
         "--benchmark_report_aggregates_only=true",
         "--benchmark_min_time=0.2",
         "--benchmark_out_format=json", "--benchmark_out=" + out])
    with open(out) as text:
        results = json.load(text)["benchmarks"]
    speeds = {}
    # With one repetition Google Benchmark writes no aggregates.
    wanted = "median" if RUNS > 1 else None
    for result in results:
        if result.get("aggregate_name") == wanted:
            kind, label = result["run_name"].split("/", 1)
            speeds.setdefault(label, {})[kind] = result.get(
                "bytes_per_second", 0)
    rows = []
    for label, by_kind in speeds.items():
        cells = ["%.1f MB/s" % (by_kind.get(kind, 0) / 1e6)
                 for kind in ["parse", "flatten", "checksum",
                              "flatten-alone", "checksum-alone"]]
        floor = by_kind.get("xxh3", 0)
        rows.append([label] + cells + ["%.1f GB/s" % (floor / 1e9),
                                       ratio(floor, by_kind.get("checksum"))])
    report.table(["input", "parse", "graph + flatten",
                  "graph + flatten + checksum", "flatten alone",
                  "flatten + checksum alone", "XXH3-128 floor",
                  "floor / checksum"], rows)
    section_big_memory(report, inputs, speeds)


def section_big_memory(report, inputs, speeds):
    rows = []
    for path in dockerfiles(os.path.join(inputs, "big")):
        size = os.path.getsize(path)
        seconds = median_time([HELPER, "checksum", path])
        kib = peak_kib([HELPER, "checksum", path])
        label = "big-" + os.path.basename(path)[:-len(".docker")]
        speed = speeds.get(label, {}).get("checksum", 0)
        met = speed >= 1e9 and kib * 1024 < 3 * size
        rows.append([label, "%.1f MB" % (size / 1e6), ms(seconds),
                     "%.1f MB/s" % (size / seconds / 1e6),
                     "%.1f MB (%.1fx input)" % (kib / 1024, kib * 1024 / size),
                     verdict(met) if "100MB" in label else "-"])
    report.add("`qemu-docker-images checksum` on one big Dockerfile "
               "(target for 100 MB: >= 1 GB/s, peak memory < 3x input):")
    report.add()
    report.table(["input", "size", "wall time", "end to end", "peak memory",
                  "target"], rows)


# 2. Against the seed's way ---------------------------------------------------

def section_folder_checksum(report):
    report.add("## 2a. Checksum of a whole folder, one process "
               "(median of %d; target >= 10x)" % FAST_RUNS)
    report.add()
    folders = []
    for year in YEARS:
        folder = os.path.join(CORPUS, year, "dockerfiles")
        if os.path.isdir(folder):
            folders.append((year, folder, corpus_extra_args(year, folder)))
    count = 1000 if QUICK else 5000
    generated = os.path.join(WORK, "folder-%d" % count)
    if not os.path.isdir(generated):
        generate("folder", count, generated)
    folders.append(("generated-%d" % count, generated, []))
    rows = []
    for label, folder, extra in folders:
        files = dockerfiles(folder)
        # Tens of milliseconds that vary by a fifth from run to run, as
        # the no-op builds do: as many runs as those.
        ours = median_time([HELPER, "checksum"] + extra + files,
                           runs=FAST_RUNS)
        seed = median_time([SEED_PYTHON, SEED] + files, runs=FAST_RUNS)
        rows.append([label, len(files), ms(seed), ms(ours), ratio(seed, ours),
                     verdict(seed >= 10 * ours)])
    report.table(["folder", "images", "seed_checksum.py", "qemu-docker-images",
                  "speed-up", "target"], rows)


def docker_works():
    if not shutil.which("docker"):
        return False
    return run(["docker", "info"], check=False).returncode == 0


def section_current(report):
    report.add("## 2b. \"Is every image current?\" with Docker "
               "(median of %d; target >= 100x)" % RUNS)
    report.add()
    source = os.path.join(CORPUS, "qemu-2020", "dockerfiles")
    if not docker_works() or not os.path.exists("/bin/busybox") \
            or not os.path.isdir(source):
        report.add("Left out: it needs `docker info` to answer, "
                   "busybox-static and the qemu-2020 corpus.")
        report.add()
        return
    project = os.path.join(WORK, "docker")
    images = os.path.join(project, "images")
    build = os.path.join(project, "build")
    shutil.rmtree(images, ignore_errors=True)
    rootfs = os.path.join(project, "rootfs.tar")
    os.makedirs(project, exist_ok=True)
    generate("rootfs", rootfs)
    generate("shaped", source, images, rootfs)
    write(os.path.join(project, "CMakeLists.txt"),
          PROJECT.format(modules=MODULES, exclude=""))
    run(["cmake", "-S", project, "-B", build, "-G", "Ninja",
         "-DQEMU_DOCKER_IMAGES_ENGINE=docker",
         "-DQEMU_DOCKER_IMAGES_HELPER=" + HELPER])
    log("building the Docker images (slow the first time)")
    first, _ = timed(["cmake", "--build", build, "--target", "docker-images"])
    files = dockerfiles(images)
    ours = median_time(["cmake", "--build", build, "--target",
                        "docker-images"], runs=max(RUNS, 5))
    ninja = median_time(["ninja", "-C", build, "docker-images"],
                        runs=max(RUNS, 5))
    seed_script = os.path.join(project, "seed-check.sh")
    write(seed_script, "".join(
        "%s %s --check qemu/%s %s || true\n" % (
            SEED_PYTHON, SEED, os.path.basename(path)[:-len(".docker")], path)
        for path in files))
    # Our labels hold our checksum, so the seed's answer is "not current";
    # finding that out costs the seed what finding "current" would.
    seed = median_time(["sh", seed_script])
    report.table(
        ["images", "seed: one python3 + docker inspect per image",
         "`cmake --build --target docker-images` (no-op)", "`ninja` alone",
         "speed-up", "target"],
        [[len(files), ms(seed), ms(ours), ms(ninja), ratio(seed, ours),
          verdict(seed >= 100 * ours)]])
    report.add("Making the images current before these runs took %s (a "
               "build of all of them, or less where the engine kept them "
               "from an earlier run of the benchmarks)." % ms(first))
    report.add()


def write(path, text, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        out.write(text)
    if mode is not None:
        os.chmod(path, mode)


# 3. Scale of the build graph -------------------------------------------------

# Creating files soon after deleting many is slow on these machines: their
# ext4 has no journal, and then the kernel will not reuse a recently freed
# inode; each new file steps past every one of them (`perf` shows
# recently_deleted() in ext4_create).  A configure right after removing
# the last build folder took 5-7 s where one in a fresh folder took 1.4 s,
# and the plain floor was slowed just as much.  So nothing is deleted while
# the section measures: each configure gets a folder of its own, and the
# folders of the last run are removed at the end.

class Scale:
    """One generated folder of `count` images under one generator."""

    def __init__(self, count, generator):
        self.count, self.generator = count, generator
        self.root = os.path.join(WORK, "scale", "%d-%s" % (count, generator))
        self.images = os.path.join(self.root, "src", "images")
        self.builds = 0
        self.build = None
        self.counter = os.path.join(self.root, "count.txt")
        self.engine_log = os.path.join(self.root, "engine-log.txt")
        self.state = os.path.join(self.root, "engine-state.json")
        self.wrapper = os.path.join(WORK, "scale", "count-helper.sh")
        self.env = dict(os.environ, QDI_BENCH_COUNT=self.counter)

    def prepare(self):
        generate("folder", self.count, self.images)
        write(os.path.join(self.root, "src", "CMakeLists.txt"),
              PROJECT.format(modules=MODULES, exclude=""))
        # Rewriting the wrapper would make every helper step of the other
        # build folders out of date, so it is written once.
        if not os.path.exists(self.wrapper):
            write(self.wrapper, COUNTER.format(helper=HELPER), 0o755)

    def lines(self, path):
        if not os.path.exists(path):
            return 0
        with open(path) as text:
            return sum(1 for _ in text)

    def reset_counts(self):
        for path in [self.counter, self.engine_log]:
            if os.path.exists(path):
                os.remove(path)

    def configure_command(self):
        return ["cmake", "-S", os.path.join(self.root, "src"),
                "-B", self.build, "-G", GENERATORS[self.generator],
                "-DQEMU_DOCKER_IMAGES_HELPER=" + self.wrapper,
                "-DQEMU_DOCKER_IMAGES_ENGINE=" + FAKE_ENGINE,
                "-DQEMU_DOCKER_IMAGES_ENGINE_ARGS=--state;%s;--log;%s"
                % (self.state, self.engine_log)]

    def fresh(self):
        """Points at a build folder never used before."""
        self.builds += 1
        self.build = os.path.join(self.root, "build-%d" % self.builds)
        self.reset_counts()

    def tool(self, *args):
        if self.generator == "ninja":
            return ["ninja", "-C", self.build] + list(args)
        return ["make", "-C", self.build, "--no-print-directory"] + list(args)


def most_affected_base(folder):
    """The depth-1 image with the most images above it, and that count
    (itself included), from the FROM lines."""
    parents = {}
    for path in dockerfiles(folder):
        name = os.path.basename(path)[:-len(".docker")]
        with open(path) as text:
            for line in text:
                if line.startswith("FROM qemu/"):
                    parents[name] = line.split("/", 1)[1].strip()
    above = {}
    for name in parents:
        at = parents.get(name)
        while at is not None:
            above[at] = above.get(at, 1) + 1
            at = parents.get(at)
    candidates = [(above.get(n, 1), n) for n in parents if "-d1" in n]
    count, name = max(candidates)
    return name, count


def measure_scale(count, generator):
    s = Scale(count, generator)
    s.prepare()
    log("scale %d images, %s" % (count, generator))
    row = {"count": count, "generator": generator}

    row["configure"] = median_time(s.configure_command, env=s.env,
                                   before=s.fresh)
    s.fresh()
    row["configure_kib"] = peak_kib(s.configure_command(), env=s.env)
    row["configure_helpers"] = s.lines(s.counter)
    row["graph_kib"] = peak_kib(
        [HELPER, "graph", "--bases-only", "--format", "cmake", "-o",
         os.path.join(s.root, "graph.cmake"), "--search-dir=" + s.images])

    jobs = "-j%d" % (os.cpu_count() or 2)
    row["first_build"], _ = timed(s.tool(jobs, "docker-images"), env=s.env)
    s.reset_counts()
    noop_runs = FAST_RUNS if generator == "ninja" else RUNS
    row["noop"] = median_time(s.tool("docker-images"), runs=noop_runs,
                              env=s.env)
    row["noop_helpers"] = s.lines(s.counter)
    row["noop_engine"] = s.lines(s.engine_log)

    floor_src = os.path.join(s.root, "floor")
    generate("floor", s.images, floor_src)
    floor_builds = []

    def fresh_floor():
        floor_builds.append(os.path.join(s.root, "floor-build-%d"
                                         % len(floor_builds)))

    row["floor_configure"] = median_time(
        lambda: ["cmake", "-S", floor_src, "-B", floor_builds[-1],
                 "-G", GENERATORS[generator]], before=fresh_floor)
    floor_build = floor_builds[-1]
    floor_tool = ["ninja", "-C", floor_build] if generator == "ninja" else \
        ["make", "-C", floor_build, "--no-print-directory"]
    run(floor_tool + [jobs, "floor-all"])
    row["floor"] = median_time(floor_tool + ["floor-all"], runs=noop_runs)

    measure_edit(s, row, jobs)
    return row


def measure_edit(s, row, jobs):
    """Edits one base among the images, RUNS times, and times the rebuild;
    with Ninja also the dry run that tells which steps would run."""
    base, affected = most_affected_base(s.images)
    path = os.path.join(s.images, base + ".docker")
    row["edited"], row["affected"] = base, affected
    dry, rebuild, built, steps = [], [], [], []
    for edit in range(RUNS):
        with open(path, "a") as dockerfile:
            dockerfile.write("RUN echo benchmark edit %d\n" % edit)
        if s.generator == "ninja":
            seconds, result = timed(s.tool("-n", "docker-images"), env=s.env)
            dry.append(seconds)
        s.reset_counts()
        seconds, result = timed(s.tool(jobs, "docker-images"), env=s.env)
        rebuild.append(seconds)
        steps.append(result.stdout.count("Making image"))
        with open(s.engine_log) if os.path.exists(s.engine_log) \
                else open(os.devnull) as calls:
            built.append(sum(1 for call in calls if '"build"' in call))
    row["dry"] = statistics.median(dry) if dry else None
    row["rebuild"] = statistics.median(rebuild)
    row["image_steps"] = max(steps)
    row["engine_builds"] = max(built)


def set_aside(folder):
    """Moves `folder` out of the way, to be removed by remove_set_aside."""
    if os.path.exists(folder):
        os.rename(folder, "%s.old-%d" % (folder, time.time_ns()))


def remove_set_aside(folder):
    parent = os.path.dirname(folder)
    prefix = os.path.basename(folder) + ".old-"
    for name in os.listdir(parent):
        if name.startswith(prefix):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def section_scale(report):
    counts = [10, 100, 1000] + ([] if QUICK else [5000])
    set_aside(os.path.join(WORK, "scale"))
    rows = []
    for count in counts:
        for generator in GENERATORS:
            try:
                rows.append(measure_scale(count, generator))
            except RuntimeError as error:
                log("scale %d %s failed: %s" % (count, generator, error))
    log("removing the scale folders of the last run")
    remove_set_aside(os.path.join(WORK, "scale"))
    report.add("## 3. Scale of the build graph (fake engine, median of %d; "
               "Ninja's no-op builds and floors: of %d)" % (RUNS, FAST_RUNS))
    report.add()
    report.table(
        ["images", "generator", "configure", "plain floor configure",
         "helper runs at configure", "peak memory configure",
         "peak memory `graph`", "no-op build", "plain floor", "no-op / floor",
         "helpers + engine calls in no-op", "first build"],
        [[r["count"], r["generator"], ms(r["configure"]),
          ms(r["floor_configure"]), r["configure_helpers"],
          "%.1f MB" % (r["configure_kib"] / 1024),
          "%.1f MB" % (r["graph_kib"] / 1024), ms(r["noop"]), ms(r["floor"]),
          "%.1fx" % (r["noop"] / r["floor"]),
          "%d + %d" % (r["noop_helpers"], r["noop_engine"]),
          ms(r["first_build"])] for r in rows])
    report.add("Editing one base (an image at depth 1 with the most images "
               "above it):")
    report.add()
    report.table(
        ["images", "generator", "edited base", "images above it (incl.)",
         "`ninja -n` (dry run)", "rebuild", "\"Making image\" steps run",
         "engine builds"],
        [[r["count"], r["generator"], r["edited"], r["affected"],
          ms(r["dry"]) if r["dry"] is not None else "-", ms(r["rebuild"]),
          r["image_steps"], r["engine_builds"]] for r in rows])
    targets = []
    for r in rows:
        if r["count"] != 1000:
            continue
        targets.append(["configure of 1,000 images < 3 s, constant helper "
                        "runs (%s)" % r["generator"],
                        "%s (floor %s), %d helper runs" % (
                            ms(r["configure"]), ms(r["floor_configure"]),
                            r["configure_helpers"]),
                        verdict(r["configure"] < 3)])
        targets.append(["no-op of 1,000 within 2x the floor, no helper, no "
                        "engine (%s)" % r["generator"],
                        "%.1fx, %d helpers, %d engine calls" % (
                            r["noop"] / r["floor"], r["noop_helpers"],
                            r["noop_engine"]),
                        verdict(r["noop"] <= 2 * r["floor"]
                                and r["noop_helpers"] + r["noop_engine"]
                                == 0)])
        targets.append(["one base edit among 1,000: only its chain (%s)"
                        % r["generator"],
                        "%d affected, %d engine builds" % (
                            r["affected"], r["engine_builds"]),
                        verdict(r["engine_builds"] <= r["affected"])])
    if targets:
        report.table(["target", "measured", "verdict"], targets)


def main(argv):
    global BUILD, WORK, HELPER, CORPUS
    if len(argv) != 1:
        sys.exit(__doc__)
    BUILD = os.path.abspath(argv[0])
    WORK = os.path.join(BUILD, "bench")
    HELPER = os.path.join(BUILD, "helper", "qemu-docker-images")
    CORPUS = os.environ.get("QDI_BENCH_CORPUS") or os.path.join(
        os.path.dirname(SOURCE), "shared", "corpus")
    if not os.path.isdir(CORPUS) and os.path.isdir("/work/shared/corpus"):
        CORPUS = "/work/shared/corpus"
    if not os.access(HELPER, os.X_OK):
        sys.exit("bench.py: error: %s is not built; run cmake --build %s "
                 "--target qemu-docker-images" % (HELPER, BUILD))
    os.makedirs(WORK, exist_ok=True)

    report = Report()
    report.add("# qemu-docker-images benchmarks%s" % (
        " (quick mode)" if QUICK else ""))
    report.add()
    report.add("- machine: " + machine())
    report.add("- the seed's Python: %s (%s)" % (
        SEED_PYTHON, run([SEED_PYTHON, "--version"]).stdout.strip()))
    report.add("- date: " + datetime.datetime.now(
        datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    report.add("- medians of %d runs; targets are reported, never asserted"
               % RUNS)
    report.add()
    sections = os.environ.get("QDI_BENCH_SECTIONS",
                              "throughput,folder,current,scale").split(",")
    unknown = set(sections) - {"throughput", "folder", "current", "scale"}
    if unknown:
        sys.exit("bench.py: error: unknown QDI_BENCH_SECTIONS entries: %s; "
                 "use throughput, folder, current and scale"
                 % ", ".join(sorted(unknown)))
    if "throughput" in sections:
        section_throughput(report, make_inputs())
    if "folder" in sections:
        section_folder_checksum(report)
    if "current" in sections:
        section_current(report)
    if "scale" in sections:
        section_scale(report)
    with open(os.path.join(BUILD, "bench-results.md"), "w") as out:
        out.write("\n".join(report.lines) + "\n")
    log("written to " + os.path.join(BUILD, "bench-results.md"))


if __name__ == "__main__":
    main(sys.argv[1:])
