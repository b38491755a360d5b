# SPDX-License-Identifier: MIT
"""ferry-dupes at its edges: a read that blocks for ever, the files SQLite
keeps beside the index, its journal mode, a signal at the last moment of
the scan, and the grammar of its messages. Run as `python3 edges_test.py
BINARY CASE`; CMake registers every case_NAME as the CTest test
unit.dupes.NAME. The helpers are dupes_test.py's."""

import os
import re
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dupes_test as t  # noqa: E402
import dupes_tree  # noqa: E402
from dupes_test import Tmp, check, run, parse_json, same_groups  # noqa: E402


def pairs_tree(root, n=4):
    """n groups of two files, of 2 bytes to 176 KiB (read whole by their
    partial read, and read in full)."""
    os.makedirs(root)
    for i in range(n):
        data = (b"%d-" % i) * (1 + i * 30000)
        for side in (b"a", b"b"):
            with open(root + b"/%s%d" % (side, i), "wb") as f:
                f.write(data)


# ---------------------------------------------------------------------------
# Messages

def case_thread_counts_in_words():
    """Where the open-file limit leaves room for few threads, the message
    says how many of each in good English: "1 walker thread and 1 reader
    thread", "2 walker threads and 1 reader thread" (it said "using 1
    walker and 1 reader threads"). Each limit from the lowest that runs to
    one that fits every thread; the run finds its groups at each."""
    with Tmp() as tmp:
        root = tmp + b"/t"
        pairs_tree(root)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        seen = set()
        for nofile in range(8, 40):
            rc, out, err = run(["--no-db", "--walkers", "2", "--threads", "8", "-f", "json", root],
                               rlimits={resource.RLIMIT_NOFILE: nofile})
            if rc == 2 and b"this run needs at least" in err:
                continue
            check(rc == 0, "ulimit -n %d: exit %d %r" % (nofile, rc, err))
            same_groups(parse_json(out), want, "ulimit -n %d" % nofile)
            m = re.search(rb"is %d: using (\d+) walker (threads?) and (\d+) reader (threads?)\n" % nofile, err)
            if not m:
                check(b"using" not in err, "ulimit -n %d: %r" % (nofile, err))
                continue
            for n, word in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
                check((n == b"1") == (word == b"thread"), "ulimit -n %d: %r" % (nofile, m.group(0)))
            seen.add((int(m.group(1)), int(m.group(3))))
        check((1, 1) in seen and any(w > 1 or r > 1 for w, r in seen), "limits tried: %r" % sorted(seen))


if __name__ == "__main__":
    sys.exit(t.main(globals()))
