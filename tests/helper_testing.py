"""What the helper's command-line test scripts (tests/cli, tests/badinput)
share: their failure and skip exceptions, the checks, and a temporary
folder to write inputs into and read outputs from.  The module's matrix
(tests/module) takes the exceptions and checks too."""

import os


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
