#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The long attacks on ferry-dupes, too slow for make test (minutes):

  scripts/dupes-stress.py BINARY [CHECK...]

  kill      SIGKILL at random moments of 200 runs (first runs and re-runs over
            a tree changed in every way between them, some with --verify):
            every next run gives the groups of a --no-db run, and the index
            passes integrity_check
  diskfull  the index's tmpfs (root only) left with 0 B to 1.5 MB free, in
            steps: exit 0 with the right groups, or exit 2 with "disk full"
            and nothing printed; the index sound, and right once there is room
  scale     100,000 entries in one directory with names of 255 bytes (invalid
            UTF-8 in them), 50,000 identical files (one group: json, csv and
            fdupes parsed back), files of 4 GiB + 1 that differ only in their
            last byte, a tree 3,000 directories deep with names of 255 bytes

Default: all of them. Each prints what it checked and ends with "ok", or
stops at the first failure (exit 1). The trees live on /dev/shm (or
$FERRY_DUPES_TEST_TMP), as the tests' do."""

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "dupes"))
import dupes_test as t  # noqa: E402
import hostile_test  # noqa: E402  (mutate: every kind of change; sound_after_kill)
from dupes_test import Tmp, check, ok, parse_json  # noqa: E402


def nodb_groups(root):
    return parse_json(ok(["--no-db", "-f", "json", root])[0])


def stress_kill():
    rnd = random.Random(1)
    with Tmp() as tmp:
        root, db = tmp + b"/bulk", tmp + b"/i.db"
        t.bulk_tree(root, 3000)
        killed = 0
        span = 0.1
        for i in range(200):
            hostile_test.mutate(root, rnd, i)
            if i % 50 == 0 and os.path.exists(db):
                os.unlink(db)
            args = ["--verify"] if i % 3 == 2 else []
            p = subprocess.Popen([t.BIN, "--db", db, "-q", "-j", str(rnd.randint(1, 8))] + args + [root],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0, span))
            p.kill()
            killed += p.wait() == -signal.SIGKILL
            span = hostile_test.sound_after_kill(db, root, "kill %d" % i)
        print("kill: 200 runs, %d killed before they ended; every next run right, index sound" % killed)


def stress_diskfull():
    if os.geteuid() != 0:
        print("diskfull: skipped (needs root to mount a tmpfs)")
        return
    with Tmp() as tmp:
        root, small = tmp + b"/bulk", tmp + b"/small"
        t.bulk_tree(root, 1500)
        want = nodb_groups(root)
        os.mkdir(small)
        seen = {}
        for free in list(range(0, 300_000, 12_000)) + list(range(300_000, 1_500_000, 60_000)):
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", small], check=True)
            try:
                db = small + b"/i.db"
                st = os.statvfs(small)
                with open(small + b"/fill", "wb") as f:
                    f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - free))
                for _ in range(2):
                    rc, out, err = t.run(["--db", db, "-f", "json", root])
                    if rc == 0:
                        check(parse_json(out) == want, "free %d: wrong groups" % free)
                    else:
                        check(rc == 2 and out == b"" and b"disk full" in err,
                              "free %d: exit %d, %d bytes printed, %r" % (free, rc, len(out), err[-200:]))
                    seen[rc] = seen.get(rc, 0) + 1
                t.integrity_copy(db, tmp)
                os.unlink(small + b"/fill")
                out, _ = ok(["--db", db, "-f", "json", root])
                check(parse_json(out) == want, "free %d: wrong groups with room" % free)
            finally:
                subprocess.run(["umount", small], check=True)
        print("diskfull: exits %r; index sound and right with room each time" % seen)


def stress_scale():
    with Tmp() as tmp:
        d = tmp + b"/wide"
        os.mkdir(d)
        for i in range(100_000):
            with open(d + b"/" + (b"%06d" % i) + b"\xff" * 120 + b"n" * 129, "wb") as f:
                f.write(b"%d" % (i % 50_000))
        db = tmp + b"/i.db"
        for _ in range(2):
            g = parse_json(ok(["--db", db, "-f", "json", d], timeout=600)[0])
            check(len(g) == 50_000 and all(len(p) == 2 and all(os.path.exists(x) for x in p) for _, p in g),
                  "100,000 entries: %d groups" % len(g))
        print("scale: 100,000 entries of 255-byte names in one directory, twice with the index")

        d = tmp + b"/same"
        os.mkdir(d)
        for i in range(50_000):
            with open(d + b"/f%05d" % i, "wb") as f:
                f.write(b"same content")
        g = parse_json(ok(["--no-db", "-f", "json", d], timeout=600)[0])
        check(len(g) == 1 and len(g[0][1]) == 50_000, "json: %d groups" % len(g))
        out, _ = ok(["--no-db", "-f", "csv", d], timeout=600)
        rows = list(csv.reader(io.StringIO(out.decode("utf-8", "surrogateescape"), newline="")))
        check(len(rows) == 50_001 and rows[0] == ["group", "size", "hash", "path"], "csv: %d rows" % len(rows))
        out, _ = ok(["--no-db", "-f", "fdupes", d], timeout=600)
        check(t.parse_fdupes(out) == [sorted(d + b"/f%05d" % i for i in range(50_000))], "fdupes")
        print("scale: one group of 50,000 files in json, csv and fdupes")

        d = tmp + b"/sparse"
        os.mkdir(d)
        size = 4 * 2**30 + 1
        for name, last in ((b"a", b"x"), (b"b", b"y"), (b"c", b"x")):
            with open(d + b"/" + name, "wb") as f:
                f.truncate(size)
                f.seek(size - 1)
                f.write(last)
        g = parse_json(ok(["--no-db", "-f", "json", d], timeout=600)[0])
        check(g == [(size, [d + b"/a", d + b"/c"])], "4 GiB + 1: %r" % g)
        print("scale: files of 4 GiB + 1 that differ only in their last byte")

        root = tmp + b"/deep"
        os.mkdir(root)
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        name = b"\xff" + b"n" * 254
        want = []
        path = root
        for i in range(3000):
            os.mkdir(name, dir_fd=fd)
            nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
            path += b"/" + name
            if i % 1000 == 999:
                for f in (b"x", b"y"):
                    w = os.open(f + name[:200], os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
                    os.write(w, b"level %d" % i)
                    os.close(w)
                want.append(sorted(path + b"/" + f + name[:200] for f in (b"x", b"y")))
        os.close(fd)
        for args in (["--db", tmp + b"/deep.db"], ["--db", tmp + b"/deep.db"], ["--no-db"]):
            g = parse_json(ok(args + ["-f", "json", root], timeout=600)[0])
            check(sorted(p for _, p in g) == sorted(want), "deep: %r" % [len(p[0]) for _, p in g])
        print("scale: 3,000 levels of 255-byte names (paths of 768 KB)")


def main():
    t.BIN = os.path.abspath(sys.argv[1])
    checks = sys.argv[2:] or ["kill", "diskfull", "scale"]
    for c in checks:
        globals()["stress_" + c]()
    print("ok")


if __name__ == "__main__":
    main()
