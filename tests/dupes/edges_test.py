# SPDX-License-Identifier: MIT
"""ferry-dupes at its edges: a read that blocks for ever, the files SQLite
keeps beside the index, its journal mode, a signal at the last moment of
the scan, and the grammar of its messages. Run as `python3 edges_test.py
BINARY CASE`; CMake registers every case_NAME as the CTest test
unit.dupes.NAME. The helpers are dupes_test.py's."""

import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dupes_test as t  # noqa: E402
import dupes_tree  # noqa: E402
from dupes_test import Tmp, check, ok, run, parse_json, same_groups  # noqa: E402


def pairs_tree(root, n=4):
    """n groups of two files, of 2 bytes to 176 KiB (read whole by their
    partial read, and read in full)."""
    os.makedirs(root)
    for i in range(n):
        data = (b"%d-" % i) * (1 + i * 30000)
        for side in (b"a", b"b"):
            with open(root + b"/%s%d" % (side, i), "wb") as f:
                f.write(data)


def wait_for(path, p, what):
    """Wait until path exists (the program is still running)."""
    t0 = time.monotonic()
    while not os.path.exists(path):
        check(p.poll() is None, "%s: the program ended first (exit %s)" % (what, p.returncode))
        check(time.monotonic() - t0 < 120, "%s: never happened" % what)
        time.sleep(0.01)


# ---------------------------------------------------------------------------
# A read that blocks

def case_blocked_read_ends_on_first_signal():
    """A regular file whose read never returns (/proc/kmsg when empty, a
    stalled FUSE or NFS file; here FERRY_DUPES_DEBUG_FAIL=block:K, a read
    of a pipe no one writes, restarted by SA_RESTART as those would be)
    held its reader for ever: the first SIGINT (or SIGTERM) did not end the
    run, only a second one did. Now the first one ends it: the groups found
    so far, marked partial, exit 130 (143), the index sound, and the next
    run completes it. For each read of the run in turn, with one reader and
    with four, and with --verify (the file whose read blocks: one of a
    group)."""
    with Tmp() as tmp:
        root, db = tmp + b"/t", tmp + b"/i.db"
        pairs_tree(root)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        marker = tmp + b"/opening"
        hook = "exec </dev/null >/dev/null 2>&1; touch '%s'" % marker.decode()
        cases = [(k, threads, sig) for k in (1, 3, 6) for threads, sig in
                 ((1, signal.SIGINT), (4, signal.SIGTERM))]
        for k, threads, sig in cases:
            for f in (db, db + b"-wal", marker):
                if os.path.exists(f):
                    os.unlink(f)
            env = dict(os.environ, FERRY_DUPES_DEBUG_FAIL="block:%d" % k,
                       FERRY_DUPES_DEBUG_BEFORE_OPEN=hook)
            env.pop("XDG_CACHE_HOME", None)
            p = subprocess.Popen([t.BIN, "--db", db, "--threads", str(threads), "-f", "json", root],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            what = "block:%d, %d readers" % (k, threads)
            try:
                wait_for(marker, p, what)
                time.sleep(0.2)  # (into the read, mostly: before it must work too)
                p.send_signal(sig)
                # one signal only: a hang is the bug (no timed assertion:
                # the timeout only ends a run that would never end)
                out, err = p.communicate(timeout=120)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.communicate()
            status = 128 + sig
            check(p.returncode == status, "%s: exit %d, want %d %r" % (what, p.returncode, status, err))
            check(b"interrupted (partial results)" in err, "%s: not said partial: %r" % (what, err))
            check(all(g.get("partial") is True for g in json.loads(out)), "%s: groups not partial" % what)
            check(b"Interrupted system call" not in err and b"read error" not in err,
                  "%s: the interrupted read reported: %r" % (what, err))
            for _, paths in parse_json(out):
                check(any(set(paths) <= set(w) for _, w in want), "%s: a wrong group %r" % (what, paths))
            t.integrity(db)
            out, err = ok(["--db", db, "-f", "json", root])
            same_groups(parse_json(out), want, what + ", resumed")
        # --verify: the blocked read is the comparison's (the scan's reads
        # come from the index, all of it: only --verify reads)
        os.unlink(marker)
        env = dict(os.environ, FERRY_DUPES_DEBUG_FAIL="block:1", FERRY_DUPES_DEBUG_BEFORE_OPEN=hook)
        env.pop("XDG_CACHE_HOME", None)
        p = subprocess.Popen([t.BIN, "--db", db, "--verify", "-f", "json", root],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            wait_for(marker, p, "--verify")
            time.sleep(0.2)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        check(p.returncode == 130 and b"interrupted" in err, "--verify: exit %d %r" % (p.returncode, err))
        check(all(g.get("partial") is True for g in json.loads(out)), "--verify: groups not partial")
        check(b"read error" not in err and b"Interrupted" not in err and b"not grouped" not in err,
              "--verify: the interrupted read reported: %r" % err)
        t.integrity(db)


# ---------------------------------------------------------------------------
# The index's side files

def make_kind(path, kind, tmp):
    if kind == "FIFO":
        os.mkfifo(path)
    elif kind == "directory":
        os.mkdir(path)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.close()
    elif kind == "symbolic link":
        os.symlink(tmp + b"/elsewhere", path)


def case_index_side_file_not_a_regular_file():
    """A FIFO, a directory, a socket or a symlink where SQLite keeps the
    index's journal (INDEX-wal, INDEX-journal, INDEX-shm) is refused when
    the index is opened: exit 2, a message naming the file and what it is,
    nothing printed, the index untouched -- never a hang (a FIFO at
    INDEX-journal hung the run in SQLite's open, deaf to the first signal;
    one at INDEX-wal took the WAL's frames; the others ended with "I/O
    error" or "cannot open: Is a directory"). For a new index and an old
    one, and through a symlink to the index (SQLite puts its files beside
    the real file)."""
    with Tmp() as tmp:
        root = tmp + b"/t"
        pairs_tree(root)
        os.mkdir(tmp + b"/real")
        for existing in (False, True):
            for via_link in (False, True):
                for suffix in (b"-wal", b"-journal", b"-shm"):
                    for kind in ("FIFO", "directory", "socket", "symbolic link"):
                        what = "%s%s index, %s at %s" % ("an old" if existing else "a new",
                                                         " linked" if via_link else "", kind, suffix)
                        real = tmp + b"/real/i.db"
                        db = tmp + b"/link.db" if via_link else real
                        subprocess.run(["rm", "-rf", real, real + b"-wal", real + b"-journal",
                                        real + b"-shm", tmp + b"/link.db"], check=True)
                        if existing:
                            ok(["--db", real, "-q", root])
                        if via_link:
                            os.symlink(real, db)
                        make_kind(real + suffix, kind, tmp)
                        before = open(real, "rb").read() if existing else None
                        rc, out, err = run(["--db", db, root], timeout=60)
                        want = b"index %s: %s%s is a %s, not a regular file" % (db, real, suffix, kind.encode())
                        check(rc == 2 and out == b"", "%s: exit %d %r" % (what, rc, err))
                        check(want in err, "%s: message %r, want %r" % (what, err, want))
                        check(os.path.lexists(real + suffix), "%s: removed" % what)
                        if existing:
                            check(open(real, "rb").read() == before, "%s: the index changed" % what)
                        else:
                            check(not os.path.exists(real), "%s: an index was made" % what)
        # once the file is gone, the run goes on
        os.unlink(tmp + b"/real/i.db-shm")
        ok(["--db", tmp + b"/link.db", root])
        t.integrity(tmp + b"/real/i.db")


def case_index_side_file_with_another_name():
    """A regular file at INDEX-wal or INDEX-journal that is another name of
    some other file (a hard link planted there, to a file the user can
    write) is refused: SQLite took it for a stale WAL and wrote its own
    header and frames over the other file's bytes. The index and the file
    stay as they were; the run says which name to remove."""
    with Tmp() as tmp:
        root, db = tmp + b"/t", tmp + b"/i.db"
        pairs_tree(root)
        ok(["--db", db, "-q", root])
        victim = tmp + b"/victim"
        data = b"".join(b"%d\n" % i for i in range(5000))
        with open(victim, "wb") as f:
            f.write(data)
        for suffix in (b"-wal", b"-journal", b"-shm"):
            os.link(victim, db + suffix)
            with open(root + b"/new1", "wb") as f, open(root + b"/new2", "wb") as g:
                f.write(b"new")
                g.write(b"new")
            rc, out, err = run(["--db", db, root])
            check(rc == 2 and out == b"", "%r: exit %d %r" % (suffix, rc, err))
            check(b"index %s: %s%s has 2 names (hard links)" % (db, db, suffix) in err,
                  "%r: message %r" % (suffix, err))
            check(open(victim, "rb").read() == data, "%r: the other file was written" % suffix)
            os.unlink(db + suffix)
        t.integrity(db)
        ok(["--db", db, "-q", root])


def case_index_on_a_pseudo_file_system():
    """--db naming a file of /proc or /sys (a symlink planted in the
    index's place, a slip of the keyboard) is refused with a message that
    says so, before SQLite reads it (a read of /proc/kmsg blocks for ever,
    and takes the kernel's messages away from the system log): it said
    "cannot open: No such file or directory" or "not an SQLite database"
    after reading its header."""
    with Tmp() as tmp:
        root = tmp + b"/t"
        pairs_tree(root)
        files = [f for f in (b"/proc/self/status", b"/proc/sys/kernel/hostname", b"/sys/kernel/uevent_seqnum",
                             b"/sys/kernel/mm/transparent_hugepage/enabled") if os.path.isfile(f)]
        if not files:
            raise t.Skip("no /proc or /sys files here")
        for f in files:
            link = tmp + b"/i.db"
            for db in (f, link):
                if os.path.lexists(link):
                    os.unlink(link)
                os.symlink(f, link)
                rc, out, err = run(["--db", db, root], timeout=60)
                fs = b"proc" if f.startswith(b"/proc/") else b"sysfs"
                check(rc == 2 and out == b"", "%r: exit %d %r" % (db, rc, err))
                check(b"index %s: a file of the kernel's %s file system, not one to keep an index in" % (db, fs)
                      in err, "%r: message %r" % (db, err))


def case_journal_mode_not_wal():
    """Where SQLite cannot put the index in WAL mode it keeps the mode the
    file had, and says so only in the pragma's answer, which went unread
    (FERRY_DUPES_DEBUG_JOURNAL=MODE asks for MODE instead, as if SQLite had
    fallen back to it). A rollback journal on disk (delete, truncate,
    persist) keeps the index as sound: the run goes on with a note, the
    groups right, the index whole and reused. A journal in memory, or none,
    would not survive a crash: exit 2 with a message, nothing printed, the
    index sound and whole (SQLite rewrote its header as it left WAL mode:
    the next run reads nothing again)."""
    with Tmp() as tmp:
        root = tmp + b"/t"
        pairs_tree(root)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        for mode in ("delete", "truncate", "persist"):
            db = tmp + b"/%s.db" % mode.encode()
            env = {"FERRY_DUPES_DEBUG_JOURNAL": mode}
            for _ in range(2):
                out, err = ok(["--db", db, "-f", "json", "--stats", root], env=env)
                same_groups(parse_json(out), want, mode)
                check(b"index %s: SQLite could not put it in WAL mode (it stays in %s mode): going on with a "
                      b"rollback journal" % (db, mode.encode()) in err, "%s: no note: %r" % (mode, err))
                t.integrity(db)
            check(t.stat_value(err, "bytes read") == 0, "%s: the second run read again" % mode)
            out, err = ok(["--db", db, "-f", "json", "--stats", root])
            same_groups(parse_json(out), want, mode + ", then WAL")
            check(b"WAL mode" not in err and t.stat_value(err, "bytes read") == 0, "%s, then WAL: %r" % (mode, err))
        db = tmp + b"/i.db"
        ok(["--db", db, "-q", root])
        for mode in ("memory", "off"):
            rc, out, err = run(["--db", db, root], env={"FERRY_DUPES_DEBUG_JOURNAL": mode})
            check(rc == 2 and out == b"", "%s: exit %d %r" % (mode, rc, err))
            check(b"index %s: SQLite could not put it in WAL mode, and its journal mode, \"%s\", would not keep "
                  b"it sound through a crash" % (db, mode.encode()) in err, "%s: message %r" % (mode, err))
            t.integrity(db)
            out, err = ok(["--db", db, "-f", "json", "--stats", root])
            same_groups(parse_json(out), want, mode + ", then WAL")
            check(t.stat_value(err, "bytes read") == 0, "%s, then WAL: read again" % mode)
        rc, out, err = run(["--db", db, root], env={"FERRY_DUPES_DEBUG_JOURNAL": "wal; drop table files"})
        check(rc == 2 and b"FERRY_DUPES_DEBUG_JOURNAL=" in err, "a bad hook value: exit %d %r" % (rc, err))


# ---------------------------------------------------------------------------
# A signal at the last moment

def case_signal_once_every_result_is_in_is_not_partial():
    """A signal that comes once the matcher has every result, before it
    tells main it is done (FERRY_DUPES_DEBUG_SIGINT=matched:1: the signal
    is sent there, and the matcher waits until main has taken it) cuts
    nothing short: the groups are complete, not marked partial, exit 0, and
    the index holds the whole run. It marked them partial (exit 130): main
    saw the signal before the matcher's "done". With --verify the signal
    ends the verification: partial, 130."""
    with Tmp() as tmp:
        root, db = tmp + b"/t", tmp + b"/i.db"
        pairs_tree(root)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        late = {"FERRY_DUPES_DEBUG_SIGINT": "matched:1"}
        for args in (["--no-db"], ["--db", db], ["--db", db]):  # (the last: all from the index)
            for fmt in ("json", "text"):
                rc, out, err = run(args + ["-f", fmt, root], env=late)
                check(rc == 0, "%r %s: exit %d %r" % (args, fmt, rc, err))
                check(b"partial" not in out and b"interrupted" not in err,
                      "%r %s: marked partial: %r %r" % (args, fmt, out, err))
            rc, out, err = run(args + ["-f", "json", root], env=late)
            same_groups(parse_json(out), want, "%r: signal with every result in" % args)
        t.integrity(db)
        out, err = ok(["--db", db, "--stats", root])
        check(t.stat_value(err, "bytes read") == 0, "the next run read again")
        rc, out, err = run(["--db", db, "--verify", "-f", "json", root], env=late)
        check(rc == 130 and all(g.get("partial") for g in json.loads(out)) and b"interrupted" in err,
              "--verify: exit %d %r %r" % (rc, out, err))
        rc, out, err = run(["--no-db", root], env={"FERRY_DUPES_DEBUG_SIGINT": "matched:2"})
        check(rc == 2 and b"matched:1" in err, "matched:2: exit %d %r" % (rc, err))


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
