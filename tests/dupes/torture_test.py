# SPDX-License-Identifier: MIT
"""The slow attacks on ferry-dupes: very deep trees, huge directories,
huge sparse files, many files under tight limits. Run as `python3
torture_test.py BINARY CASE`; CMake registers every case_NAME as the CTest
test torture.dupes.NAME in the release and ASan builds (not under TSan,
where each would take minutes). The helpers are dupes_test.py's."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dupes_test as t  # noqa: E402
from dupes_test import Tmp, check, ok, parse_fdupes  # noqa: E402


def case_tree_10000_levels_deep():
    """10,000 nested directories (paths of 20 KB, five times PATH_MAX):
    walked, read, indexed and printed, with a duplicate at the bottom."""
    with Tmp() as tmp:
        root = tmp + b"/deep"
        os.mkdir(root)
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        for _ in range(10000):
            os.mkdir(b"d", dir_fd=fd)
            nfd = os.open(b"d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        for name in (b"x", b"y"):
            w = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(w, b"bottom" * 1000)
            os.close(w)
        os.close(fd)
        bottom = root + b"/d" * 10000
        db = tmp + b"/i.db"
        for _ in range(2):
            out, err = ok(["--db", db, "-f", "fdupes", root], timeout=280)
            check(parse_fdupes(out) == [[bottom + b"/x", bottom + b"/y"]], "groups: %r" % out[-200:])
        t.integrity(db)


if __name__ == "__main__":
    sys.exit(t.main(globals()))
