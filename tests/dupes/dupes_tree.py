# SPDX-License-Identifier: MIT
"""A generated tree full of traps for ferry-dupes, and the groups of
identical files in any tree, computed here independently of the program
(os.fwalk + hashlib, so paths longer than PATH_MAX work)."""

import hashlib
import os
import random
import stat

BLK = 16 * 1024  # the program's partial-hash block; sizes around 2 * BLK are traps


def _write(dirfd, name, data):
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=dirfd)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _mkdir(dirfd, name):
    os.mkdir(name, 0o755, dir_fd=dirfd)
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=dirfd)


def make_trap_tree(root, seed=1):
    """Build the trap tree under root (a directory that exists, as bytes).
    Returns a dict of the special paths the tests touch."""
    rnd = random.Random(seed)

    def blob(n):
        return bytes(rnd.getrandbits(8) for _ in range(n)) if n < 4096 else rnd.randbytes(n)

    top = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    special = {}
    try:
        a = _mkdir(top, b"a")
        b = _mkdir(top, b"b")
        deep = _mkdir(b, b"deep")
        d1 = _mkdir(deep, b"d1")
        # duplicates of every size class: tiny, around 2 * BLK, big
        for size in (1, 100, 4095, 2 * BLK - 1, 2 * BLK, 2 * BLK + 1, 100_000, 1_300_000):
            data = blob(size)
            _write(a, b"dup-%d" % size, data)
            _write(b, b"dup-%d" % size, data)
            if size in (100, 100_000):
                _write(d1, b"third-%d" % size, data)
        # same size, different content (first byte, last byte)
        x = blob(5000)
        _write(a, b"samesize-1", x)
        _write(a, b"samesize-2", bytes([x[0] ^ 1]) + x[1:])
        _write(a, b"samesize-3", x[:-1] + bytes([x[-1] ^ 1]))
        # same first and last blocks, different middle: the partial hashes
        # agree, the full hashes must not
        head, tail = blob(BLK), blob(BLK)
        mid = blob(50_000)
        _write(a, b"mid-1", head + mid + tail)
        _write(b, b"mid-2", head + bytes([mid[0] ^ 0xFF]) + mid[1:] + tail)
        _write(d1, b"mid-3", head + mid + tail)  # a duplicate of mid-1
        # hard links: h1 == h2 (one inode) and a copy h3; solo1 == solo2 alone
        data = blob(3000)
        _write(a, b"h1", data)
        os.link(b"h1", b"h2", src_dir_fd=a, dst_dir_fd=b)
        _write(d1, b"h3", data)
        _write(a, b"solo1", blob(2500))
        os.link(b"solo1", b"solo2", src_dir_fd=a, dst_dir_fd=a)
        # symlinks: to a duplicate, a loop, dangling (none is followed)
        os.symlink(b"../a/dup-100", b"link-to-dup", dir_fd=b)
        os.symlink(b"..", b"loop", dir_fd=d1)
        os.symlink(b".", b"self", dir_fd=d1)
        os.symlink(b"/nonexistent/x", b"dangling", dir_fd=d1)
        # a FIFO (opening it would hang) and empty files
        os.mkfifo(b"fifo", dir_fd=b)
        for i in range(3):
            _write(d1, b"empty-%d" % i, b"")
        # odd names, each a duplicate of the others in its group
        odd = blob(777)
        names = [b"with\nnewline", b"with space", b"-leading-dash", b"--help",
                 b"non-utf8-\xff\xfe", b"lone-\xc3", b"overlong-\xc0\xaf", b"surrogate-\xed\xa0\x80",
                 b'quote"and\\backslash', b"comma,semi;", b"tab\there", b"ctrl\x01\x1f\x7f",
                 b"utf8-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"]
        o = _mkdir(top, b"odd \xe9 dir\n")
        for n in names:
            _write(o, n, odd)
        special["odd_dir"] = b"odd \xe9 dir\n"
        # a path longer than PATH_MAX (4096) with a duplicate at the bottom
        cur = os.dup(top)
        longpath = b""
        for i in range(24):
            name = (b"L%02d-" % i) + b"x" * 200
            nxt = _mkdir(cur, name)
            os.close(cur)
            cur = nxt
            longpath += b"/" + name
        longdata = blob(6000)
        _write(cur, b"deep-dup", longdata)
        os.close(cur)
        _write(a, b"long-twin", longdata)
        special["long"] = longpath + b"/deep-dup"
        # a unique file and a group that only --min-size 1000 filters
        _write(a, b"unique", blob(123457))
        small = blob(500)
        _write(a, b"small-1", small)
        _write(b, b"small-2", small)
        for fd in (a, b, deep, d1, o):
            os.close(fd)
    finally:
        os.close(top)
    return special


def scan(root):
    """Every regular file under root (bytes): {(dev, ino): {"size", "paths",
    "sha"}}. Paths are root joined with the path below it, as the program
    prints them. Symlinks are not followed; FIFOs never opened."""
    inodes = {}
    root = root.rstrip(b"/") or b"/"
    for dirpath, dirnames, filenames, dirfd in os.fwalk(root, follow_symlinks=False):
        for name in filenames:
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                continue
            path = dirpath + b"/" + name
            key = (st.st_dev, st.st_ino)
            if key not in inodes:
                h = hashlib.sha256()
                fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK, dir_fd=dirfd)
                try:
                    while True:
                        chunk = os.read(fd, 1 << 20)
                        if not chunk:
                            break
                        h.update(chunk)
                finally:
                    os.close(fd)
                inodes[key] = {"size": st.st_size, "paths": [], "sha": h.hexdigest(), "key": key}
            inodes[key]["paths"].append(path)
    return inodes


def expected_groups(inodes, min_size=1, empty=False, hardlinks=False):
    """The groups ferry-dupes must print: [(size, [paths...])], sorted as it
    sorts them (size descending, then first path; paths bytewise)."""
    by_content = {}
    for ino in inodes.values():
        size = ino["size"]
        if (size == 0 and not empty) or (size > 0 and size < min_size):
            continue
        by_content.setdefault((size, ino["sha"]), []).append(ino)
    groups = []
    for (size, _), members in by_content.items():
        if hardlinks:
            paths = sorted(p for m in members for p in m["paths"])
            if len(paths) < 2:
                continue
        else:
            if len(members) < 2:
                continue
            paths = sorted(min(m["paths"]) for m in members)
        groups.append((size, paths))
    groups.sort(key=lambda g: (-g[0], g[1][0]))
    return groups
