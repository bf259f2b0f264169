"""What the helper's command-line test scripts (tests/cli, tests/badinput)
share: their failure and skip exceptions, the checks, a temporary
folder to write inputs into and read outputs from, and the command line
that runs one case.  The module's matrix (tests/module) takes the
exceptions and checks too."""

import argparse
import os
import sys
import tempfile

SKIP = 77


class Failure(Exception):
    pass


class Skipped(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def check_equal(actual, expected, what):
    check(actual == expected,
          "%s:\n  expected %r\n  actual   %r" % (what, expected, actual))


class TempFolder:
    """A temporary folder, with the helper run inside it; each script adds
    its own way of running the helper."""

    def __init__(self, helper, root):
        self.helper = helper
        self.root = root

    def path(self, name):
        return os.path.join(self.root, name)

    def write(self, name, content, mode=None):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        with open(path, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(path, mode)

    def symlink(self, target, name):
        os.makedirs(os.path.dirname(self.path(name)), exist_ok=True)
        os.symlink(target, self.path(name))

    def read(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()


def cases_of(namespace):
    """Every function case_NAME of a script's globals, as NAME with '-'
    for '_', sorted."""
    return {name[len("case_"):].replace("_", "-"): function
            for name, function in sorted(namespace.items())
            if name.startswith("case_")}


def run_one_case(cases, make_folder, prefix):
    """The command line of such a script: --list prints the cases; else
    --helper and --case run one case on make_folder(helper, temp folder),
    in a temporary folder named PREFIX..., and the exit status is 0 for a
    pass, 1 for a failure, SKIP for a skip and 2 for an unknown case."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--helper")
    parser.add_argument("--case")
    parser.add_argument("--list", action="store_true",
                        help="print the case names and exit")
    args = parser.parse_args()
    if args.list:
        print("\n".join(cases))
        return 0
    if not (args.helper and args.case):
        parser.error("--helper and --case are required")
    if args.case not in cases:
        print("unknown case %r; known: %s" % (args.case, " ".join(cases)),
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix=prefix) as temp:
        try:
            cases[args.case](make_folder(os.path.abspath(args.helper), temp))
        except Skipped as skipped:
            print("skipped %s: %s" % (args.case, skipped))
            return SKIP
        except Failure as failure:
            print("FAIL %s: %s" % (args.case, failure), file=sys.stderr)
            return 1
    print("PASS %s" % args.case)
    return 0
