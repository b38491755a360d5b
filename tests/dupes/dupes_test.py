# SPDX-License-Identifier: MIT
"""Tests of ferry-dupes, run as `python3 dupes_test.py BINARY CASE`; CMake
registers every case_NAME below as the CTest test unit.dupes.NAME (in every
build, so the sanitizer builds run the program under ASan and TSan).

Each case builds its own tree in a temporary directory and checks the
program against what it computes itself (dupes_tree.py). Exit status 77
means the case cannot run here (CTest: skipped), with the reason printed."""

import json
import os
import pty
import pwd
import re
import resource
import select
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import csv
import io
import hashlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dupes_tree  # noqa: E402

BIN = None
SKIP = 77


def under_tsan():
    """Whether the program under test was built with ThreadSanitizer (which
    delivers a signal only at its own safe points and keeps one pending per
    signal number, so signal timing cases do not apply to it)."""
    with open(BIN, "rb") as f:
        return b"__tsan_init" in f.read()


class Skip(Exception):
    pass


def fail(msg):
    raise AssertionError(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


class Tmp:
    """A temporary directory (mode 755, so that user nobody can enter)."""

    def __enter__(self):
        # tmpfs when there is one: creating thousands of files on a busy
        # disk costs milliseconds each
        base = os.environ.get("FERRY_DUPES_TEST_TMP") or (
            "/dev/shm" if os.access("/dev/shm", os.W_OK | os.X_OK) else None)
        self.path = tempfile.mkdtemp(prefix="ferry-dupes-test-", dir=base).encode()
        os.chmod(self.path, 0o755)
        return self.path

    def __exit__(self, *exc):
        for m in sorted(mounts_under(self.path), reverse=True):
            subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)
        # undo chmod 000 before removing (chmod -R follows no symlink); rm
        # -rf, unlike Python's recursive walks, takes trees of any depth
        subprocess.run(["chmod", "-R", "u+rwx", self.path], stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", self.path], check=True)


def mounts_under(path):
    out = []
    with open("/proc/self/mounts", "rb") as f:
        for line in f:
            mp = line.split()[1].replace(b"\\040", b" ")
            if mp.startswith(path + b"/"):
                out.append(mp.decode("utf-8", "surrogateescape"))
    return out


# The kernel stamps files with its coarse clock: two ticks of it.
SETTLE = max(0.01, 2 * time.clock_getres(getattr(time, "CLOCK_REALTIME_COARSE", 5)))


def settle():
    """Let the file system's clock move past what the test just wrote: a
    file the program reads in the tick it was last changed in is racily
    clean, and its index row keeps no hashes (the next run reads it again;
    docs/dupes.md), which cases that count reads on a rerun do not expect.
    (A sleep only makes it surer: no timed assertion.)"""
    time.sleep(SETTLE)


def run(args, env=None, timeout=120, user=None, cwd=None, limit_fsize=None, binary=None, rlimits=None):
    """Run the program: (rc, stdout bytes, stderr bytes). rlimits: {RLIMIT_X:
    limit} (soft and hard), or {RLIMIT_X: (soft, hard)}. Waits for the file
    system's clock to tick first (settle)."""
    settle()
    e = dict(os.environ)
    e.pop("XDG_CACHE_HOME", None)
    if env:
        e.update(env)

    def pre():
        if limit_fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_fsize, limit_fsize))
        for res, limit in (rlimits or {}).items():  # (a pair: soft, hard)
            resource.setrlimit(res, limit if isinstance(limit, tuple) else (limit, limit))
        if user is not None:
            pw = pwd.getpwnam(user)
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)

    p = subprocess.run([binary or BIN] + [a if isinstance(a, (bytes, str)) else str(a) for a in args],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=e, timeout=timeout, cwd=cwd, preexec_fn=pre)
    return p.returncode, p.stdout, p.stderr


def ok(args, **kw):
    rc, out, err = run(args, **kw)
    if rc != 0:
        fail("ferry-dupes %r: exit %d\n%s" % (args, rc, err.decode(errors="replace")))
    return out, err


def parse_json(out):
    """[(size, [paths as bytes])], checking the JSON is strict UTF-8."""
    text = out.decode("utf-8")  # invalid bytes must have been escaped
    groups = json.loads(text)
    check(isinstance(groups, list), "JSON output is not an array")
    res = []
    for g in groups:
        check(set(g) <= {"size", "hash", "files", "partial"}, "unexpected keys %r" % sorted(g))
        check(re.fullmatch(r"[0-9a-f]{32}|[0-9a-f]{64}", g["hash"]), "bad hash %r" % g["hash"])
        res.append((g["size"], [p.encode("utf-8", "surrogateescape") for p in g["files"]]))
    return res


def parse_fdupes(out):
    groups, cur = [], []
    for line in out.split(b"\n"):
        if line:
            cur.append(line)
        elif cur:
            groups.append(cur)
            cur = []
    check(not cur, "fdupes output does not end with a blank line")
    return groups


def show(groups):
    return "\n".join("%s: %r" % (s, p) for s, p in groups)


def same_groups(got, want, what=""):
    if got != want:
        fail("%s groups differ\n--- got\n%s\n--- want\n%s" % (what, show(got), show(want)))


def stat_value(err, name):
    m = re.search(rb"^" + name.encode() + rb"\s+(\d+)", err, re.M)
    check(m, "no '%s' in --stats output:\n%s" % (name, err.decode(errors="replace")))
    return int(m.group(1))


def dir_set(err):
    """The "dir set" line of --stats, as a dict."""
    m = re.search(rb"^dir set\s+(\d+) directories \(\d+ B\); (\d+) reached again: (\d+) not listed "
                  rb"again, (\d+) listed again \(a spelling that sorts first\), (\d+) loops \((\d+) ancestors",
                  err, re.M)
    check(m, "no 'dir set' in --stats output:\n%s" % err.decode(errors="replace"))
    return dict(zip(("dirs", "again", "skipped", "relisted", "loops", "ancestors"), map(int, m.groups())))


def run_with_binds(binds, args, **kw):
    """Run the program in a mount namespace of its own (unshare -m) in which
    each (source, target) of binds is bind-mounted first, in order, with
    the mounts below the source (mount --rbind): the mounts vanish with the
    run. Skip where that cannot be done."""
    if os.geteuid() != 0:
        raise Skip("needs root (mount)")
    if not shutil.which("unshare"):
        raise Skip("no unshare(1)")
    script = 'while [ "$1" != -- ]; do mount --rbind "$1" "$2" || exit 99; shift 2; done; shift; exec "$@"'
    flat = [x for pair in binds for x in pair]
    rc, out, err = run(["-m", "sh", "-c", script, "sh"] + flat + ["--", BIN] + list(args),
                       binary="unshare", **kw)
    if rc == 99 or (rc != 0 and err.startswith(b"unshare:")):
        raise Skip("no mount namespace or bind mount here: %s" % err.decode(errors="replace").strip())
    return rc, out, err


def tree_counts(root):
    """(regular files, directories) under root, root included."""
    files = dirs = 0
    for _, ds, fs, dfd in os.fwalk(root):
        dirs += 1
        files += sum(1 for f in fs if stat.S_ISREG(os.stat(f, dir_fd=dfd, follow_symlinks=False).st_mode))
    return files, dirs


def integrity(db):
    con = sqlite3.connect(db.decode() if isinstance(db, bytes) else db)
    try:
        r = con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()
    check(r == [("ok",)], "integrity_check: %r" % r)


def integrity_copy(db, tmp):
    """integrity_check of a copy (with its WAL): the original may sit on a
    full file system where SQLite cannot create its shared-memory file."""
    d = tmp + b"/check"
    os.makedirs(d, exist_ok=True)
    for suffix in (b"", b"-wal"):
        if os.path.exists(db + suffix):
            shutil.copy(db + suffix, d + b"/i.db" + suffix)
    integrity(d + b"/i.db")


def rows(db):
    con = sqlite3.connect(db.decode())
    try:
        return con.execute("SELECT path, size, partial IS NOT NULL, full IS NOT NULL FROM files").fetchall()
    finally:
        con.close()


def trap_tree(tmp):
    root = tmp + b"/tree"
    os.mkdir(root)
    special = dupes_tree.make_trap_tree(root)
    return root, special


def read_log(path):
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return [tuple(rec.split(b" ", 1)) for rec in f.read().split(b"\0") if rec]


def as_nobody():
    """(user, binary) to run the program as someone whom file modes stop:
    as root, user nobody and a copy of the program it can execute (the
    build tree may be closed to others; /dev/shm may be noexec); else
    (None, None): this user is stopped already."""
    if os.geteuid() != 0:
        return None, None
    d = tempfile.mkdtemp(prefix="ferry-dupes-bin-")
    os.chmod(d, 0o755)
    binary = os.path.join(d, "ferry-dupes")
    shutil.copy(BIN, binary)
    os.chmod(binary, 0o755)
    _cleanup.append(d)
    return "nobody", binary


_cleanup = []


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root")


def try_mount(args):
    if os.geteuid() != 0:
        raise Skip("needs root (mount)")
    p = subprocess.run(["mount"] + args, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise Skip("mount %s: %s" % (" ".join(args), p.stderr.decode(errors="replace").strip()))


def bulk_tree(root, n, seed=7):
    """n files in a few directories, about a third of them duplicated."""
    rnd = dupes_tree.random.Random(seed)
    for i in range(17):
        os.makedirs(os.path.join(root, b"d%02d" % i))
    for i in range(n):
        d = os.path.join(root, b"d%02d" % (i % 17))
        size = rnd.choice([10, 700, 5000, 40000])
        data = rnd.randbytes(size) if i % 3 else (b"%d" % (i // 6)) * (size // 8)
        with open(os.path.join(d, b"f%05d" % i), "wb") as f:
            f.write(data)


# ---------------------------------------------------------------------------
# The generated tree, every format and option

def case_tree_json():
    """The trap tree: exactly the groups computed independently."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        out, err = ok(["--format", "json", "--db", tmp + b"/i.db", root], timeout=60)
        same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(root)))
        check(b"groups" in err, "no summary line")


def case_tree_formats():
    """text, csv and fdupes give the same groups as json."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        fd, _ = ok(["--no-db", "--format", "fdupes", root])
        # fdupes' format has no escaping: leave out the group with newlines
        odd = b"odd \xe9 dir"
        same_groups([(None, g) for g in parse_fdupes(fd) if not any(odd in p for p in g)],
                    [(None, p) for _, p in want if not any(odd in q for q in p)], "fdupes")
        c, _ = ok(["--no-db", "--format", "csv", root])
        reader = csv.reader(io.StringIO(c.decode("utf-8", "surrogateescape"), newline=""))
        rows_ = list(reader)
        check(rows_[0] == ["group", "size", "hash", "path"], "csv header %r" % rows_[0])
        groups = {}
        for g, size, h, path in rows_[1:]:
            groups.setdefault(int(g), (int(size), []))[1].append(path.encode("utf-8", "surrogateescape"))
        same_groups([groups[k] for k in sorted(groups)], want, "csv")
        check(c.endswith(b"\r\n") and b"\r\n" in c, "csv lines end with CRLF")
        t, _ = ok(["--no-db", root])
        blocks = [b for b in t.rstrip(b"\n").split(b"\n\n")]
        check(len(blocks) == len(want), "text: %d groups, want %d" % (len(blocks), len(want)))
        for block, (size, paths) in zip(blocks, want):
            lines = block.split(b"\n")
            check(re.fullmatch(rb"%d files, %d bytes each \(xxh3-128 [0-9a-f]{32}\)" % (len(paths), size),
                               lines[0]), "text header %r" % lines[0])
            check(len(lines) == len(paths) + 1, "text group of %r" % paths)
            for line in lines[1:]:
                check(line.startswith(b"  ") and b"\n" not in line, "text path line %r" % line)


def case_tree_hardlinks():
    """--hardlinks: every path of an inode, and a lone inode's links group."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        out, _ = ok(["--no-db", "--format", "json", "--hardlinks", root])
        want = dupes_tree.expected_groups(dupes_tree.scan(root), hardlinks=True)
        same_groups(parse_json(out), want)
        check(any(p[0].endswith(b"/solo1") for _, p in want), "the tree has a lone hard-linked pair")


def case_tree_min_size_and_empty():
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        inodes = dupes_tree.scan(root)
        for args, kw in ((["--min-size", "1000"], dict(min_size=1000)),
                         (["--min-size", "1k"], dict(min_size=1024)),
                         (["--empty"], dict(empty=True)),
                         (["--min-size", "0"], dict(min_size=0)),
                         (["--empty", "--min-size", "4096"], dict(empty=True, min_size=4096))):
            out, _ = ok(["--no-db", "--format", "json"] + args + [root])
            same_groups(parse_json(out), dupes_tree.expected_groups(inodes, **kw), " ".join(args))


def case_tree_verify():
    """--verify splits what only the hash put together. With every hash
    forced to 0 (test hook), files of one size look identical: without
    --verify they are wrongly grouped, with it they are right."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        weak = {"FERRY_DUPES_DEBUG_WEAK_HASH": "1"}
        out, _ = ok(["--no-db", "--format", "json", root], env=weak)
        check(parse_json(out) != want, "the weak hash does not merge anything: test is void")
        out, err = ok(["--no-db", "--format", "json", "--verify", root], env=weak)
        same_groups(parse_json(out), want, "--verify")
        check(b"differs from the files with the same hash" in err, "no message about the split")
        out, _ = ok(["--no-db", "--format", "json", "--verify", root])
        same_groups(parse_json(out), want, "--verify, real hash")


def case_tree_blake2b():
    """--hash blake2b: the hashes are BLAKE2b-256 of the contents."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        out, _ = ok(["--no-db", "--format", "json", "--hash", "blake2b", root])
        groups = json.loads(out)
        same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(root)))
        for g in groups:
            p = g["files"][0].encode("utf-8", "surrogateescape")
            if len(p) >= 4096:
                continue
            with open(p, "rb") as f:
                check(hashlib.blake2b(f.read(), digest_size=32).hexdigest() == g["hash"],
                      "blake2b hash of %r" % p)


def case_tree_xxh3_matches_xxhsum():
    """The xxh3 hash is XXH3-128 in canonical form (as `xxhsum -H2`)."""
    xxhsum = shutil.which("xxhsum")
    if not xxhsum:
        raise Skip("xxhsum not installed (Debian package xxhash)")
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        out, _ = ok(["--no-db", "--format", "json", root])
        for g in json.loads(out)[:6]:
            p = g["files"][0].encode("utf-8", "surrogateescape")
            h = subprocess.run([xxhsum, "-H2", p], stdout=subprocess.PIPE, check=True).stdout.split()[0]
            check(h.decode()[-32:] == g["hash"], "xxh3 of %r: %s vs %s" % (p, h, g["hash"]))


def case_tree_threads():
    """One thread, many threads: the same groups."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        for args in (["--threads", "1", "--walkers", "1"], ["--threads", "64", "--walkers", "16"]):
            out, _ = ok(["--no-db", "--format", "json"] + args + [root])
            same_groups(parse_json(out), want, " ".join(args))


def case_many_files_stress():
    """2000 files, a third duplicated, with many walkers and readers, and
    with one of each: a workout for the channels under the sanitizers."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        bulk_tree(root, 2000)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        check(len(want) > 50, "few groups: %d" % len(want))
        db = tmp + b"/i.db"
        for args in (["--threads", "32", "--walkers", "8"], ["--threads", "1", "--walkers", "1"]):
            out, _ = ok(["--no-db", "--format", "json"] + args + [root])
            same_groups(parse_json(out), want, " ".join(args))
        out, _ = ok(["--db", db, "--format", "json", root])
        same_groups(parse_json(out), want, "with index")
        out, err = ok(["--db", db, "--format", "json", "--stats", root])
        same_groups(parse_json(out), want, "from index")
        check(stat_value(err, "bytes read") == 0, "re-run read bytes")


def case_json_escaping():
    """JSON: well-formed UTF-8 as is, control characters, quotes and
    backslashes escaped, other bytes as \\udcNN: the exact bytes come back."""
    with Tmp() as tmp:
        root, special = trap_tree(tmp)
        out, _ = ok(["--no-db", "--format", "json", root])
        text = out.decode("utf-8")
        check("\\udcff" in text and "\\udcc3" in text and "\\udcc0\\udcaf" in text, "surrogateescape")
        check("\\udced\\udca0\\udc80" in text, "an encoded surrogate is not UTF-8: escaped bytewise")
        check("\u00e9\u20ac\U0001F600" in text, "well-formed UTF-8 is kept as is")
        check("\\n" in text and "\\t" in text and '\\"' in text and "\\\\" in text and "\\u0001" in text,
              "control characters and quotes escaped")
        odd = [p for _, ps in parse_json(out) for p in ps if special["odd_dir"] in p]
        check(len(odd) == 13, "odd names: %d" % len(odd))
        for p in odd:
            check(os.path.exists(p), "path does not round-trip: %r" % p)


def case_long_path_beyond_path_max():
    with Tmp() as tmp:
        root, special = trap_tree(tmp)
        out, _ = ok(["--no-db", "--format", "json", root])
        longest = root + special["long"]
        check(len(longest) > 4096, "the path is not longer than PATH_MAX")
        check(any(longest in paths for _, paths in parse_json(out)), "the long path's duplicate is missing")


def case_deep_chain_opens_each_directory_from_its_parent():
    """A chain of 2,000 directories (paths of 4 KB, beyond PATH_MAX at the
    bottom) costs one lookup a level: the walker that lists a directory
    keeps one subdirectory and opens it from the parent's descriptor, so
    only the PATH itself is opened by path (--stats, "path opens"). Opened
    by their whole paths, the levels cost N^2 / 2 lookups: 30,000 levels
    took 4 minutes, and take seconds now."""
    with Tmp() as tmp:
        root = tmp + b"/chain"
        os.mkdir(root)
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        for i in range(2000):
            if i % 500 == 0:
                w = os.open(b"f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
                os.write(w, b"level" * 100)
                os.close(w)
            os.mkdir(b"d", dir_fd=fd)
            nfd = os.open(b"d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        os.close(fd)
        out, err = ok(["--no-db", "--stats", "-f", "fdupes", root])
        want = [sorted(root + b"/d" * (500 * k) + b"/f" for k in range(4))]
        check([sorted(g) for g in parse_fdupes(out)] == want, "groups: %r" % out[-300:])
        check(stat_value(err, "path opens") == 1, "opened by path: %d of 2001 directories"
              % stat_value(err, "path opens"))
        # each directory is looked up once in the set of directories listed;
        # no ancestor is looked at (that cost depth^2 / 2 steps: 0.6 s of CPU
        # at 30,000 levels)
        check(dir_set(err) == {"dirs": 2001, "again": 0, "skipped": 0, "relisted": 0, "loops": 0,
                               "ancestors": 0}, "dir set: %r" % dir_set(err))


def case_fifo_never_opened():
    """A FIFO in the tree, and a file replaced by a FIFO before it is
    opened: neither may be opened for reading (the run would hang)."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        hook = "case \"$1\" in */a/dup-4095) rm -f \"$1\"; mkfifo \"$1\";; esac"
        rc, out, err = run(["--no-db", "--format", "json", root], timeout=30,
                           env={"FERRY_DUPES_DEBUG_BEFORE_OPEN": hook})
        check(rc == 0, "exit %d: %s" % (rc, err))
        check(b"dup-4095: changed since it was listed: not grouped" in err, err.decode(errors="replace"))
        same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(root)))


def case_symlinks_never_followed():
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        out, _ = ok(["--no-db", "--format", "json", root])
        paths = [p for _, ps in parse_json(out) for p in ps]
        check(not any(b"link-to-dup" in p or b"/loop/" in p or b"/self/" in p for p in paths),
              "a symlink was followed")


def case_file_and_overlapping_paths():
    """PATHs that are files, overlap, or end in '/': paths as given, never
    one file twice."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        out, _ = ok(["--no-db", "--format", "fdupes", "a/dup-100", "b/dup-100", "a/unique"], cwd=root)
        check(parse_fdupes(out) == [[b"a/dup-100", b"b/dup-100"]], "file PATHs: %r" % out)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        out, _ = ok(["--no-db", "--format", "json", root + b"/", root, root + b"/a", root + b"/a/dup-1"])
        same_groups(parse_json(out), want, "overlapping PATHs")
        out, _ = ok(["--no-db", "--format", "fdupes", "."], cwd=root)
        check(b"./a/dup-100\n" in out and b".//" not in out, "relative PATH '.': %r" % out[:200])


def case_one_file_system_and_bind_loop():
    """-x stays on the PATH's file system; a bind mount of a directory
    inside itself is reported as a loop, not walked forever."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        mnt = root + b"/b/mnt"
        os.mkdir(mnt)
        try_mount(["-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt])
        shutil.copy(root + b"/a/unique", mnt + b"/unique-copy")
        out, _ = ok(["--no-db", "--format", "json", "-x", root])
        same_groups(parse_json(out), want, "-x")
        out, _ = ok(["--no-db", "--format", "json", root])
        check(any(p[-1].endswith(b"mnt/unique-copy") for _, p in parse_json(out)), "without -x")
        loop = root + b"/a/loop"
        os.mkdir(loop)
        try_mount(["--bind", root + b"/a", loop])
        rc, out, err = run(["--no-db", "--format", "json", root], timeout=60)
        check(rc == 0, "exit %d" % rc)
        check(b"directory loop" in err, "no loop message: %r" % err)


def case_bind_mount_listed_once():
    """A directory that a bind mount shows at a second place in the tree is
    shown under the spelling that sorts first, whichever route a walker
    reaches first: the output is the same in every run, with 1 or 4
    walkers (the groups are checked with the mount points' paths mapped
    back to the directories they show: "zmnt" sorts after "a", "0mnt"
    before "deep"). A route that sorts after the first one to arrive is
    not walked (--stats: reached again, not listed again). Each file and
    directory is counted once, in the summary and --stats. Each route is
    also held back before its open once, so that the other comes first."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        os.mkdir(root + b"/zmnt")
        os.mkdir(root + b"/b/0mnt")
        files, dirs = tree_counts(root)  # (the mount points are empty here)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        binds = [(root + b"/a", root + b"/zmnt"), (root + b"/b/deep", root + b"/b/0mnt")]
        back = [(root + b"/zmnt/", root + b"/a/"), (root + b"/b/0mnt/", root + b"/b/deep/")]

        def mapped(p):
            for m, real in back:
                if p.startswith(m):
                    return real + p[len(m):]
            return p

        first = None
        hold = 'case "$1" in */%s) sleep 0.3;; esac'  # (that route comes second)
        for walkers, held in ((1, None), (4, None), (4, None), (4, "a"), (4, "zmnt"),
                              (4, "deep"), (4, "0mnt")):
            env = {"FERRY_DUPES_DEBUG_BEFORE_OPENDIR": hold % held} if held else None
            rc, out, err = run_with_binds(binds, ["--no-db", "--stats", "--walkers", walkers,
                                                  "-f", "json", root], timeout=60, env=env)
            check(rc == 0, "exit %d: %s" % (rc, err.decode(errors="replace")))
            first = out if first is None else first
            check(out == first, "the output changed with %d walkers" % walkers)
            paths = [p for _, ps in parse_json(out) for p in ps]
            check(not any(p.startswith(root + b"/zmnt/") or p.startswith(root + b"/b/deep/")
                          for p in paths), "a path under the spelling that sorts last")
            got = sorted((size, sorted(mapped(p) for p in paths)) for size, paths in parse_json(out))
            same_groups(got, sorted((size, sorted(paths)) for size, paths in want), "bind mounts")
            # each file and directory counted once, also where a route
            # that sorts first came second and listed it again (the mount
            # points show a and deep: 2 directories fewer)
            m = re.search(rb"^files +(\d+) paths, \d+ inodes, (\d+) directories", err, re.M)
            check(m and (int(m.group(1)), int(m.group(2))) == (files, dirs - 2),
                  "(files, directories) %r, want %r" % (m and m.group(0), (files, dirs - 2)))
            m = re.search(rb"^ferry-dupes: (\d+) files", err, re.M)
            check(m and int(m.group(1)) == files, "summary: %r, want %d files" % (m and m.group(0), files))
            ds = dir_set(err)
            check(ds["again"] >= 2 and ds["again"] == ds["skipped"] + ds["relisted"] and
                  ds["loops"] == 0 and ds["ancestors"] < 50,
                  "%d directories and 2 mount points: %r" % (dirs, ds))
            check(b"loop" not in err.split(b"--- stats")[0], "a message: %r" % err)


def case_bind_loop_ends_and_is_reported_once():
    """Bind mounts of a directory inside itself, and of the PATH inside a
    subdirectory: each is one loop, reported once and skipped; the walk
    ends and finds every file once, also where a third mount shows the
    looping directory at another place ("other" shows "a": a/loop and
    other/loop are one loop). Whichever of a and other a walker lists
    first (the other held back before its open, with 4 walkers), the
    message names the loop under the route that came first, once: when
    other comes first, a (whose spelling sorts first) is listed again and
    reaches the loop a second time, which is counted, not reported."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        for m in (b"/a/loop", b"/b/deep/up", b"/other"):
            os.mkdir(root + m)
        files, dirs = tree_counts(root)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        binds = [(root + b"/a", root + b"/a/loop"), (root, root + b"/b/deep/up"),
                 (root + b"/a", root + b"/other")]
        a_first = [root + b"/a/loop", root + b"/b/deep/up"]
        other_first = [root + b"/b/deep/up", root + b"/other/loop"]
        hold = 'case "$1" in */%s) sleep 0.5;; esac'
        for walkers, env, msgs_want in ((1, None, [a_first]), (4, None, [a_first, other_first]),
                                        (4, {"FERRY_DUPES_DEBUG_BEFORE_OPENDIR": hold % "a"}, [other_first]),
                                        (4, {"FERRY_DUPES_DEBUG_BEFORE_OPENDIR": hold % "other"}, [a_first])):
            rc, out, err = run_with_binds(binds, ["--no-db", "--stats", "--walkers", walkers,
                                                  "-f", "json", root], timeout=60, env=env)
            check(rc == 0, "exit %d: %s" % (rc, err.decode(errors="replace")))
            got = sorted((size, sorted(p.replace(b"/other/", b"/a/") for p in paths))
                         for size, paths in parse_json(out))
            same_groups(got, sorted((size, sorted(paths)) for size, paths in want), "loops")
            msgs = re.findall(rb"^ferry-dupes: (.*): directory loop \(a bind mount\?\): skipped$", err, re.M)
            check(sorted(msgs) in msgs_want, "loop messages (%d walkers, %r): %r" % (walkers, env, msgs))
            check(stat_value(err, "files") == files, "files found: %d of %d"
                  % (stat_value(err, "files"), files))
            ds = dir_set(err)
            relisted = 1 if sorted(msgs) == other_first else 0
            check(ds["dirs"] == dirs - 3 and ds["loops"] == 2 and ds["skipped"] == 1 and
                  ds["relisted"] == relisted,
                  "%d directories, 2 loops, 1 more mount, %d listed again: %r" % (dirs, relisted, ds))
        # The set of loops reported cannot grow (out of memory: the K-th
        # entry fails, FERRY_DUPES_DEBUG_FAIL=loops:K), with both routes to
        # the loop under a taken (other first): nothing is lost -- every
        # loop is reported, every file found -- and the loop whose entry
        # failed is reported again by its other route, not left out.
        routes = {root + b"/a/loop", root + b"/other/loop", root + b"/b/deep/up"}
        twice = 0
        for k in (1, 2, 3):
            env = {"FERRY_DUPES_DEBUG_BEFORE_OPENDIR": hold % "a", "FERRY_DUPES_DEBUG_FAIL": "loops:%d" % k}
            rc, out, err = run_with_binds(binds, ["--no-db", "--stats", "--walkers", 4, "-f", "json", root],
                                          timeout=60, env=env)
            check(rc == 0, "loops:%d: exit %d: %s" % (k, rc, err.decode(errors="replace")))
            got = sorted((size, sorted(p.replace(b"/other/", b"/a/") for p in paths))
                         for size, paths in parse_json(out))
            same_groups(got, sorted((size, sorted(paths)) for size, paths in want), "loops:%d" % k)
            msgs = re.findall(rb"^ferry-dupes: (.*): directory loop \(a bind mount\?\): skipped$", err, re.M)
            check(len(set(msgs)) == len(msgs) and set(msgs) <= routes and root + b"/b/deep/up" in msgs and
                  (root + b"/a/loop" in msgs or root + b"/other/loop" in msgs),
                  "loops:%d: loop messages %r" % (k, msgs))
            check(stat_value(err, "files") == files, "loops:%d: files found: %d of %d"
                  % (k, stat_value(err, "files"), files))
            twice += len(msgs) == 3
        check(twice >= 1, "no run reported the loop under a by both routes: the hook never failed its entry")


# ---------------------------------------------------------------------------
# The index: re-runs, changes, renames

def case_rerun_reads_nothing():
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        db = tmp + b"/i.db"
        out1, err1 = ok(["--db", db, "--format", "json", "--stats", root])
        check(stat_value(err1, "bytes read") > 0, "first run read nothing")
        out2, err2 = ok(["--db", db, "--format", "json", "--stats", root])
        check(out1 == out2, "re-run output differs")
        check(stat_value(err2, "bytes read") == 0, "re-run read bytes")
        check(stat_value(err2, "index rows") == 0, "re-run wrote rows")
        integrity(db)
        n = len(rows(db))
        check(n == len(dupes_tree.scan(root)), "index rows %d != inodes" % n)


def case_index_inside_the_tree():
    """The index (and its WAL) inside the scanned tree is passed by: it
    changes while the run writes it, and is not the user's file."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        db = root + b"/b/i.db"
        for _ in range(2):
            rc, out, err = run(["--db", db, "--format", "json", root])
            check(rc == 0 and b"changed" not in err and b"i.db" not in out, "exit %d: %r" % (rc, err))
        inodes = {k: v for k, v in dupes_tree.scan(root).items() if b"/b/i.db" not in v["paths"][0]}
        same_groups(parse_json(out), dupes_tree.expected_groups(inodes))
        check(not any(b"i.db" in p for p, *_ in rows(db)), "the index indexes itself")


def case_default_db_location():
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        ok([root], env={"XDG_CACHE_HOME": tmp + b"/cache"})
        check(os.path.exists(tmp + b"/cache/ferry-dupes/index.db"), "not in $XDG_CACHE_HOME")
        os.mkdir(tmp + b"/home")  # (a home that does not exist is not made)
        ok([root], env={"HOME": tmp + b"/home"})
        check(os.path.exists(tmp + b"/home/.cache/ferry-dupes/index.db"), "not in ~/.cache")


def case_renamed_and_vanished():
    """A moved file costs no read and keeps its hashes under its new path;
    a deleted one leaves the index."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        db = tmp + b"/i.db"
        ok(["--db", db, root])
        os.rename(root + b"/a/dup-100000", root + b"/b/deep/moved-100000")
        os.unlink(root + b"/a/dup-1300000")
        before = len(rows(db))
        log = tmp + b"/reads.log"
        out, err = ok(["--db", db, "--format", "json", "--stats", root],
                      env={"FERRY_DUPES_DEBUG_READ_LOG": log})
        check(stat_value(err, "bytes read") == 0, "the rename cost reads: %r" % read_log(log))
        same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(root)))
        r = rows(db)
        check(len(r) == before - 1, "vanished file still in the index (%d -> %d)" % (before, len(r)))
        check(any(p.endswith(b"/b/deep/moved-100000") for p, *_ in r), "new path not in the index")
        check(not any(p.endswith(b"/a/dup-100000") for p, *_ in r), "old path still in the index")


def case_changed_file_between_runs():
    """Rewritten with the same size and its mtime put back: the ctime
    betrays it, it is read again and grouped by its new content."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        db = tmp + b"/i.db"
        ok(["--db", db, root])
        target = root + b"/b/dup-100000"
        st = os.stat(target)
        with open(target, "r+b") as f:
            f.seek(50000)
            f.write(b"changed!")
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
        time.sleep(0.01)
        log = tmp + b"/reads.log"
        out, err = ok(["--db", db, "--format", "json", root], env={"FERRY_DUPES_DEBUG_READ_LOG": log})
        same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(root)))
        check((b"P", target) in read_log(log), "the changed file was not read again")
        # touched, same content: read again, same groups
        os.utime(root + b"/a/dup-100")
        log2 = tmp + b"/reads2.log"
        out, err = ok(["--db", db, "--format", "json", root], env={"FERRY_DUPES_DEBUG_READ_LOG": log2})
        same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(root)))
        check((b"P", root + b"/a/dup-100") in read_log(log2), "the touched file was not read again")


def case_changed_while_read():
    """A file that changes while it is hashed is not grouped by stale
    content: it is reported, counted, left out; the next run sees it."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        db = tmp + b"/i.db"
        want_before = dupes_tree.expected_groups(dupes_tree.scan(root))
        hook = "case \"$1\" in */a/dup-5000|*/a/dup-100000) printf x >> \"$1\";; esac"
        # dup-5000 does not exist: only dup-100000 changes (after its read)
        rc, out, err = run(["--db", db, "--format", "json", root],
                           env={"FERRY_DUPES_DEBUG_AFTER_READ": hook})
        check(rc == 0, "exit %d" % rc)
        check(b"dup-100000: changed while being read: not grouped" in err, err.decode(errors="replace"))
        check(b"1 changed while scanned" in err, "not counted in the summary")
        got = parse_json(out)
        stale = [g for g in want_before if any(p.endswith(b"/a/dup-100000") for p in g[1])]
        check(stale and not any(any(p.endswith(b"/a/dup-100000") for p in ps) for _, ps in got),
              "the changed file was grouped")
        out, _ = ok(["--db", db, "--format", "json", root])
        same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(root)))


def case_vanished_while_scanned():
    """Deleted before it is opened, or while it is read: left out, counted,
    not an error."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        hook = "case \"$1\" in */a/dup-100) rm -f \"$1\";; esac"
        hook2 = "case \"$1\" in */b/dup-1300000) rm -f \"$1\";; esac"
        rc, out, err = run(["--no-db", "--format", "json", root],
                           env={"FERRY_DUPES_DEBUG_BEFORE_OPEN": hook, "FERRY_DUPES_DEBUG_AFTER_READ": hook2})
        check(rc == 0, "exit %d %s" % (rc, err))
        check(b"2 vanished" in err, "summary: %r" % err)
        same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(root)))


def case_unreadable_files_and_dirs():
    """Unreadable file and directory: warned, counted, exit 0, the rest
    grouped. As root (where chmod 000 stops nothing) the scan runs as the
    user nobody."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        user, binary = as_nobody()
        inodes = dupes_tree.scan(root)  # before the chmod: the oracle may not be root
        os.chmod(root + b"/a/dup-100000", 0)
        os.chmod(root + b"/b/deep", 0)
        rc, out, err = run(["--no-db", "--format", "json", root], user=user, binary=binary)
        os.chmod(root + b"/b/deep", 0o755)
        check(rc == 0, "exit %d: %s" % (rc, err))
        check(b"dup-100000: cannot open: Permission denied" in err, err.decode(errors="replace"))
        check(b"/b/deep: cannot open directory: Permission denied" in err, err.decode(errors="replace"))
        check(b"2 unreadable" in err, "summary: %r" % err)
        for k in [k for k, v in inodes.items() if any(b"/b/deep/" in p or p.endswith(b"/a/dup-100000")
                                                        for p in v["paths"])]:
            inodes[k]["paths"] = [p for p in inodes[k]["paths"] if b"/b/deep/" not in p
                                  and not p.endswith(b"/a/dup-100000")]
            if not inodes[k]["paths"]:
                del inodes[k]
        same_groups(parse_json(out), dupes_tree.expected_groups(inodes))


def case_unscannable_path_operands():
    """A PATH that cannot be scanned at all is an error, as one that does
    not exist: a directory PATH that cannot be listed, and a file PATH in a
    directory that cannot be searched, each exit 2 with a message naming it
    and nothing scanned (a directory met inside a PATH is warned about and
    counted instead: case_unreadable_files_and_dirs). As root the program
    runs as the user nobody."""
    with Tmp() as tmp:
        user, binary = as_nobody()
        os.chmod(tmp, 0o755)
        for d in (b"ok", b"closed", b"unsearchable"):
            os.mkdir(os.path.join(tmp, d))
            for name in (b"x", b"y"):
                with open(os.path.join(tmp, d, name), "wb") as f:
                    f.write(b"same bytes")
        ok_dir = os.path.join(tmp, b"ok")
        closed = os.path.join(tmp, b"closed")
        unsearchable = os.path.join(tmp, b"unsearchable")
        os.chmod(closed, 0o300)        # search, no listing
        os.chmod(unsearchable, 0o600)  # listing, no search
        try:
            for args, msg in (([ok_dir, closed], closed + b": cannot open directory: Permission denied"),
                              ([closed], closed + b": cannot open directory: Permission denied"),
                              ([ok_dir, os.path.join(unsearchable, b"x")],
                               os.path.join(unsearchable, b"x") + b": Permission denied")):
                rc, out, err = run(["--no-db"] + args, user=user, binary=binary)
                check(rc == 2, "%r: exit %d, want 2: %r" % (args, rc, err))
                check(msg in err, "%r: message %r, want %r" % (args, err, msg))
                check(out == b"", "%r: printed %r" % (args, out))
            # The same tree when it can be read: scanned, one group each.
            os.chmod(closed, 0o755)
            os.chmod(unsearchable, 0o755)
            rc, out, err = run(["--no-db", ok_dir, closed], user=user, binary=binary)
            check(rc == 0, "exit %d: %r" % (rc, err))
            check(out.count(b"files, 10 bytes each") == 1, "groups: %r" % out)
            check(b": 4 files (40 B)" in err and b"; 1 group, 3 duplicate files," in err, "summary %r" % err)
            rc, out, err = run(["--no-db", os.path.join(ok_dir, b"x")], user=user, binary=binary)
            check(rc == 0 and b": 1 file (10 B)" in err and b"; 0 groups, 0 duplicate files," in err,
                  "exit %d, summary %r" % (rc, err))
        finally:
            os.chmod(closed, 0o755)
            os.chmod(unsearchable, 0o755)


# ---------------------------------------------------------------------------
# Ctrl-C

def interrupt_and_resume(stage, k):
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        bulk_tree(root + b"/bulk", 400)
        inodes = dupes_tree.scan(root)
        want = dupes_tree.expected_groups(inodes)
        inode_of = {p: key for key, ino in inodes.items() for p in ino["paths"]}
        db = tmp + b"/i.db"
        log1, log2 = tmp + b"/r1.log", tmp + b"/r2.log"
        rc, out, err = run(["--db", db, "--threads", "2", "--format", "json", root],
                           env={"FERRY_DUPES_DEBUG_SIGINT": "%s:%d" % (stage, k),
                                "FERRY_DUPES_DEBUG_READ_LOG": log1})
        if stage == "row" and rc == 0:
            # The writer commits its first rows when the rows stop coming
            # (or after 250 ms): here that is mostly once the scan is over,
            # and a signal then cuts nothing short -- whole groups, not
            # marked partial, status 0 (the resume below checks the index).
            check(b"interrupted" not in err and not any("partial" in g for g in json.loads(out)),
                  "complete, yet marked partial: %r" % err)
            same_groups(parse_json(out), want, "signal once the scan was over")
        else:
            check(rc == 130, "%s:%d: exit %d, want 130\n%s" % (stage, k, rc, err.decode(errors="replace")))
            check(b"interrupted (partial results)" in err, "summary does not say partial")
            check(all(g.get("partial") is True for g in json.loads(out)), "groups not marked partial")
        # what it printed is right as far as it goes: files (inodes) of one
        # group (a file with several links is shown by the smallest path
        # found so far, which an interrupted walk may not have reached)
        def files(paths):
            return {inode_of.get(p, p) for p in paths}
        for _, paths in parse_json(out):
            check(any(files(paths) <= files(w) for _, w in want), "a wrong partial group: %r" % paths)
        integrity(db)
        out, err = ok(["--db", db, "--format", "json", "--stats", root], env={"FERRY_DUPES_DEBUG_READ_LOG": log2})
        same_groups(parse_json(out), want, "resumed")
        again = set(read_log(log1)) & set(read_log(log2))
        check(not again, "read again after the interrupt: %r" % sorted(again)[:5])
        check(read_log(log1) or stage == "walk", "nothing was read before the interrupt")
        out, err = ok(["--db", db, "--stats", root])
        check(stat_value(err, "bytes read") == 0, "third run read bytes")


def case_interrupt_during_walk():
    interrupt_and_resume("walk", 300)
    with Tmp() as tmp:  # the text format says it too
        root, _ = trap_tree(tmp)
        rc, out, err = run(["--no-db", root], env={"FERRY_DUPES_DEBUG_SIGINT": "walk:10"})
        check(rc == 130 and out.startswith(b"# partial results: interrupted\n"), "text: %r" % out[:80])


def case_interrupt_after_first_hash():
    interrupt_and_resume("hash", 1)


def case_interrupt_during_hashing():
    interrupt_and_resume("hash", 150)


def case_interrupt_after_rows_committed():
    interrupt_and_resume("row", 1)


def case_second_sigint_exits_at_once():
    """While the first Ctrl-C drains (a reader held in a hook), a second one
    ends the process at once: no groups printed, the index still sound."""
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        db = tmp + b"/i.db"
        marker = tmp + b"/in-hook"
        # (the hook lets go of our pipes, so that its sleep does not hold them)
        hook = ("exec </dev/null >/dev/null 2>&1; case \"$1\" in */a/dup-100000) touch '%s'; sleep 5;; esac"
                % marker.decode())
        env = dict(os.environ, FERRY_DUPES_DEBUG_AFTER_READ=hook)
        p = subprocess.Popen([BIN, "--db", db, root], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env)
        t0 = time.monotonic()
        while not os.path.exists(marker):
            check(time.monotonic() - t0 < 60 and p.poll() is None, "the hook never ran")
            time.sleep(0.01)
        p.send_signal(signal.SIGINT)
        time.sleep(0.2)
        check(p.poll() is None, "the first SIGINT did not wait for the reader")
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=4)  # well before the hook's sleep ends
        out, err = p.communicate(timeout=30)  # (the hook's sleep holds the pipes)
        check(rc == 130, "exit %d" % rc)
        check(out == b"" and b"groups" not in err, "printed after the second SIGINT: %r" % out[:100])
        integrity(db)
        out, _ = ok(["--db", db, "--format", "json", root])
        same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(root)))


# ---------------------------------------------------------------------------
# Index errors: exit 2, a message naming the file, the index sound

def index_error(db, root, what, db_arg=True, **kw):
    """The run fails on the index db (passed as --db unless db_arg is
    False: the default one) with exit 2 and a message saying what."""
    rc, out, err = run((["--db", db] if db_arg else []) + [root], **kw)
    check(rc == 2, "exit %d, want 2 (%s)\n%s" % (rc, what, err.decode(errors="replace")))
    check(b"index " + db + b": " in err and what.encode() in err,
          "message: want %r, got %r" % (what, err))
    check(out == b"", "printed groups")


def case_index_from_another_version():
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        db = tmp + b"/i.db"
        ok(["--db", db, root])
        con = sqlite3.connect(db.decode())
        con.execute("PRAGMA user_version=99")
        con.commit()
        con.close()
        index_error(db, root, "made by another version of ferry-dupes (schema version 99")


def case_index_not_ours():
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        db = tmp + b"/other.db"
        con = sqlite3.connect(db.decode())
        con.execute("CREATE TABLE t(x)")
        con.commit()
        con.close()
        index_error(db, root, "not a ferry-dupes index")


def case_index_corrupt():
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        db = tmp + b"/i.db"
        with open(db, "wb") as f:
            f.write(os.urandom(8192))
        index_error(db, root, "not an SQLite database")
        os.unlink(db)
        ok(["--db", db, root])
        size = os.path.getsize(db)
        check(size >= 4 * 4096, "index too small to damage: %d" % size)
        with open(db, "r+b") as f:  # every page but the header's: garbage
            f.seek(4096)
            f.write(os.urandom(size - 4096))
        index_error(db, root, "corrupt")


def case_index_locked():
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        db = tmp + b"/i.db"
        ok(["--db", db, root])
        con = sqlite3.connect(db.decode(), isolation_level=None)
        con.execute("BEGIN EXCLUSIVE")
        try:
            index_error(db, root, "locked by another process")
        finally:
            con.execute("ROLLBACK")
            con.close()
        ok(["--db", db, root])


def case_index_read_only_location():
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        ro = tmp + b"/ro"
        os.mkdir(ro, 0o555)
        user, binary = as_nobody()  # root writes anywhere
        index_error(ro + b"/i.db", root, "cannot create it: " + ro.decode() + ": Permission denied", user=user, binary=binary)
        os.chmod(ro, 0o755)
        ok(["--db", ro + b"/i.db", root])
        os.chmod(ro + b"/i.db", 0o444)
        os.chmod(ro, 0o555)
        index_error(ro + b"/i.db", root, "read-only", user=user, binary=binary)


def case_index_disk_full():
    """The index's file system fills up (a 128 KiB tmpfs, or RLIMIT_FSIZE
    where mounting is not allowed): exit 2 with the reason; the index passes
    integrity_check and works once there is room again."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        bulk_tree(root, 1500)
        dbdir = tmp + b"/small"
        os.mkdir(dbdir)
        db = dbdir + b"/i.db"
        limit = None
        try:
            try_mount(["-t", "tmpfs", "-o", "size=128k", "tmpfs", dbdir])
            what = "disk full"
        except Skip:
            # SQLite reports a write past RLIMIT_FSIZE (EFBIG) as an I/O
            # error, by then without the errno (run as a non-root user).
            limit = 128 * 1024
            what = "I/O error"
        rc, out, err = run(["--db", db, root], limit_fsize=limit)
        check(rc == 2, "exit %d, want 2\n%s" % (rc, err.decode(errors="replace")))
        check(b"index " + db + b": writing: " in err and (what.encode() in err or b"disk full" in err),
              "message: %r" % err)
        integrity_copy(db, tmp)
        if limit is None:
            subprocess.run(["mount", "-o", "remount,size=64m", dbdir], check=True)
        out, _ = ok(["--db", db, "--format", "json", root])
        same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(root)))


# ---------------------------------------------------------------------------
# Command line, progress, statistics, fdupes agreement

def case_bad_usage():
    with Tmp() as tmp:
        fifo = tmp + b"/fifo"
        os.mkfifo(fifo)
        for args, msg in ((["--threads", "0", "."], "--threads 0: want a whole number from 1 to 1024"),
                          (["--threads", "-1", "."], "--threads -1: want a whole number"),
                          (["--threads", "abc", "."], "--threads abc: want a whole number"),
                          (["--threads", "1025", "."], "--threads 1025: want a whole number"),
                          (["--threads", "4k", "."], "--threads 4k: want a whole number"),
                          (["--walkers", "0", "."], "--walkers 0: want a whole number"),
                          (["--min-size", "abc", "."], "--min-size abc: want a number of bytes"),
                          (["--min-size", "-5", "."], "--min-size -5: want a number of bytes"),
                          (["--min-size", "10X", "."], "--min-size 10X: want a number of bytes"),
                          (["--min-size", "99999999999T", "."], "--min-size 99999999999T: want"),
                          (["--min-size", "", "."], "--min-size : want a number of bytes"),
                          (["--format", "xml", "."], "--format xml: want text, json, csv or fdupes"),
                          (["--hash", "md5", "."], "--hash md5: want xxh3 or blake2b"),
                          (["--io", "uring", "."], "unknown option --io"),
                          ([], "no PATH given"),
                          (["--no-db"], "no PATH given"),
                          (["/nonexistent/path"], "/nonexistent/path: No such file or directory"),
                          ([fifo], "neither a directory nor a regular file"),
                          (["--bogus", "."], "unknown option --bogus"),
                          (["-z", "."], "unknown option -z"),
                          (["--db"], "option --db needs a value"),
                          (["--db", "", "."], "--db: an empty file name")):
            rc, out, err = run(args, cwd=tmp)
            check(rc == 2, "%r: exit %d, want 2" % (args, rc))
            check(msg.encode() in err, "%r: message %r, want %r" % (args, err, msg))
            check(out == b"", "%r: printed %r" % (args, out))


def case_help_and_version():
    out, _ = ok(["--help"])
    check(out.startswith(b"Usage: ferry-dupes [OPTION]... PATH...") and b"--hardlinks" in out, "help")
    out, _ = ok(["-h"])
    check(b"Exit status" in out, "-h")
    out, _ = ok(["--version"])
    check(re.fullmatch(rb"ferry-dupes \d+\.\d+\.\d+\n", out), "version %r" % out)


def man_options():
    """The man page's OPTIONS: {(short or None, --long, ARG or None):
    description}, one per .TP item."""
    man = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../apps/dupes/ferry-dupes.1")
    with open(man) as f:
        text = f.read()
    section = text.split("\n.SH OPTIONS\n")[1].split("\n.SH ")[0]
    items = {}
    for item in section.split("\n.TP\n")[1:]:
        head, _, body = item.partition("\n")
        words = re.sub(r'\\f[BIR]|"|,|^\.[BIR]+ ', " ", head.replace("\\-", "-")).split()
        short = next((w for w in words if re.fullmatch(r"-[a-zA-Z]", w)), None)
        lng = next(w for w in words if w.startswith("--"))
        arg = next((w for w in words if re.fullmatch(r"[A-Z]+", w)), None)
        items[(short, lng, arg)] = re.sub(r"(?m)^\.(TP|SH|SS|PP).*", "", body).strip()
    return items


def help_options(text):
    """--help's option lines, in the same form as man_options()."""
    items = set()
    for m in re.finditer(r"(?m)^  (?:(-[a-zA-Z]), )?\s*(--[a-z-]+)(?: ([A-Z]+))?  ", text):
        items.add((m.group(1), m.group(2), m.group(3)))
    return items


def case_help_and_man_page_agree():
    """--help and the man page list the same options, with the same short
    forms and arguments, and the man page describes each one (-h and -V
    had an empty entry)."""
    man = man_options()
    out, _ = ok(["--help"])
    helped = help_options(out.decode())
    check(len(helped) >= 17, "parsed %d options from --help" % len(helped))
    check(set(man) == helped, "only in the man page: %r; only in --help: %r"
          % (sorted(set(man) - helped, key=str), sorted(helped - set(man), key=str)))
    empty = [k for k, body in man.items() if not body]
    check(not empty, "no description in the man page: %r" % empty)


def case_progress_line():
    """Drawn on a terminal (a pty here) or with --progress; never
    otherwise; --quiet drops the summary."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        bulk_tree(root, 150)
        slow = {"FERRY_DUPES_DEBUG_AFTER_READ": "sleep 0.002"}  # a run long enough to draw
        _, err = ok(["--no-db", "--progress", root], env=slow)
        check(b"\rfound " in err and b" files, " in err, "--progress: %r" % err[:200])
        _, err = ok(["--no-db", root])
        check(b"\r" not in err and b"groups" in err, "progress on a pipe: %r" % err[:200])
        _, err = ok(["--no-db", "--quiet", root])
        check(err == b"", "--quiet: %r" % err)
        master, slave = pty.openpty()
        p = subprocess.Popen([BIN, "--no-db", root], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=slave, env=dict(os.environ, FERRY_DUPES_DEBUG_AFTER_READ="sleep 0.002"))
        os.close(slave)
        seen = b""
        while True:
            r, _, _ = select.select([master], [], [], 60)
            if not r:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        p.wait(timeout=60)
        os.close(master)
        check(p.returncode == 0, "exit %d" % p.returncode)
        check(b"\rfound " in seen and b"groups" in seen, "no progress on a terminal: %r" % seen[:300])


def case_stats():
    with Tmp() as tmp:
        root, _ = trap_tree(tmp)
        _, err = ok(["--db", tmp + b"/i.db", "--stats", root])
        for name in (b"walk", b"group", b"read+hash", b"match", b"index write"):
            check(re.search(rb"^" + re.escape(name) + rb"\s+[\d.]+ s\s+[\d.]+ s", err, re.M), name)
        for ch in (b"dirs", b"entries", b"jobs", b"results", b"rows"):
            check(re.search(rb"^" + ch + rb"\s+\d+\s+\d+", err, re.M), "channel %s" % ch)
        check(stat_value(err, "bytes read") > 0, "bytes read")


def case_fdupes_agrees_on_usr_include():
    """fdupes -r (installed by scripts/deps.sh test) finds the same groups
    in /usr/include (empty files left out by both), together with a tree of
    copies of its first headers. /usr/include alone holds only a few groups
    on a fresh Debian 12 with just this project's packages (3 there), so
    the copies make sure that there are many groups to agree on: every
    header twice, and a same-size file that differs in its last byte."""
    fdupes = shutil.which("fdupes")
    check(fdupes, "fdupes is not installed: run scripts/deps.sh test")
    with Tmp() as tmp:
        headers = sorted(os.path.join(d, f) for d, _, fs in os.walk(b"/usr/include") for f in fs
                         if f.endswith(b".h") and os.path.isfile(os.path.join(d, f))
                         and not os.path.islink(os.path.join(d, f))
                         and os.path.getsize(os.path.join(d, f)) > 1)[:40]
        check(len(headers) >= 20, "only %d headers in /usr/include" % len(headers))
        for i, h in enumerate(headers):
            with open(h, "rb") as f:
                data = f.read()
            for sub, body in ((b"a", data), (b"b", data), (b"c", data[:-1] + bytes([data[-1] ^ 1]))):
                os.makedirs(tmp + b"/copies/" + sub, exist_ok=True)
                with open(tmp + b"/copies/%s/%d.h" % (sub, i), "wb") as f:
                    f.write(body)
        roots = [b"/usr/include", tmp + b"/copies"]
        theirs = subprocess.run([fdupes, "-r", "-n", "-q"] + roots, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, check=True, timeout=300).stdout
        out, _ = ok(["--no-db", "--format", "fdupes"] + roots, timeout=300)
    a = {frozenset(g) for g in parse_fdupes(out)}
    b = {frozenset(g) for g in parse_fdupes(theirs)}
    check(len(a) >= 20, "few groups: %d" % len(a))
    check(a == b, "ferry-dupes only: %r\nfdupes only: %r" % (sorted(map(sorted, a - b))[:3],
                                                              sorted(map(sorted, b - a))[:3]))


def main(cases=None):
    """Run the case argv[2] of a test file (cases: its globals(); this
    file's by default) on the program argv[1]."""
    global BIN
    cases = cases or globals()
    if len(sys.argv) != 3:
        print("usage: %s BINARY CASE" % os.path.basename(sys.argv[0]), file=sys.stderr)
        return 2
    BIN = os.path.abspath(sys.argv[1])
    fn = cases.get("case_" + sys.argv[2])
    if not fn:
        print("no case %s" % sys.argv[2], file=sys.stderr)
        return 2
    try:
        fn()
    except Skip as e:
        print("SKIPPED: %s" % e)
        return SKIP
    finally:
        for d in _cleanup:
            shutil.rmtree(d, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
