# SPDX-License-Identifier: MIT
"""ferry-dupes attacked as a hostile user would: arguments that are wrong
in every way, the same tree given twice, output that cannot be written,
files that change in every window between the walk and the verification,
signals at every moment, and resource limits. Run as `python3
hostile_test.py BINARY CASE`; CMake registers every case_NAME as the CTest
test unit.dupes.NAME. The helpers are dupes_test.py's."""

import json
import os
import re
import resource
import shlex
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dupes_test as t  # noqa: E402
import dupes_tree  # noqa: E402
from dupes_test import Tmp, check, fail, ok, run, parse_json, parse_fdupes, same_groups  # noqa: E402


def small_tree(root):
    """a, b, sub/c: one group of 3; -dash, sub/x: one group of 2."""
    os.makedirs(root + b"/sub")
    for name, data in ((b"a", b"same"), (b"b", b"same"), (b"sub/c", b"same"),
                       (b"-dash", b"other"), (b"sub/x", b"other")):
        with open(root + b"/" + name, "wb") as f:
            f.write(data)


def usage_error(args, msg, **kw):
    rc, out, err = run(args, **kw)
    check(rc == 2, "%r: exit %d, want 2\n%s" % (args, rc, err.decode(errors="replace")))
    check(msg.encode() in err, "%r: message %r, want %r" % (args, err, msg))
    check(out == b"", "%r: printed %r" % (args, out))


# ---------------------------------------------------------------------------
# The command line

def case_option_errors_name_the_option():
    """The message names the option the user wrote, also when getopt has
    moved a PATH before it or it sits in a cluster of short options."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        for args, msg in ((["t/", "-d/"], "unknown option -d"),
                          (["--quiet", "-zq", "t"], "unknown option -z"),
                          (["--db=x", "-zq", "t"], "unknown option -z"),
                          (["t", "--help=x"], "option --help takes no value"),
                          (["t", "--verif=1"], "option --verif takes no value"),
                          (["t", "--no"], "ambiguous option --no"),
                          (["t", "--bogus=3"], "unknown option --bogus"),
                          (["t", "--format"], "option --format needs a value"),
                          (["t", "-qf"], "option -f needs a value"),
                          (["t", "--threads="], "--threads : want a whole number"),
                          (["--min-size", " 5", "t"], "--min-size  5: want a number"),
                          (["--threads", "+5", "t"], "--threads +5: want a whole number"),
                          (["--threads", "0x10", "t"], "--threads 0x10: want a whole number"),
                          (["--min-size", "1.5k", "t"], "--min-size 1.5k: want a number"),
                          (["--min-size", "18446744073709551616", "t"], "want a number of bytes"),
                          (["--", "--bogus"], "--bogus: No such file or directory")):
            usage_error(args, msg, cwd=tmp)


def case_options_last_wins_and_after_paths():
    """Options may follow the PATHs; '--' ends them (a PATH may start with
    '-'); of --db and --no-db (and of a repeated option) the last wins."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        os.mkdir(tmp + b"/-d")
        with open(tmp + b"/-d/z", "wb") as f:
            f.write(b"same")
        out, _ = ok(["t", "--no-db", "-q", "--format", "fdupes", "--", "-d"], cwd=tmp)
        check(parse_fdupes(out) == [[b"t/-dash", b"t/sub/x"], [b"-d/z", b"t/a", b"t/b", b"t/sub/c"]],
              "out %r" % out)
        ok(["--no-db", "--db", tmp + b"/i.db", "-q", "t"], cwd=tmp)
        check(os.path.exists(tmp + b"/i.db"), "--no-db --db: the later --db lost")
        os.unlink(tmp + b"/i.db")
        ok(["--db", tmp + b"/i.db", "--no-db", "-q", "t"], cwd=tmp)
        check(not os.path.exists(tmp + b"/i.db"), "--db --no-db: the later --no-db lost")
        out, _ = ok(["--no-db", "-q", "-f", "json", "-f", "csv", "--min-size", "100", "-m", "1", "t"], cwd=tmp)
        check(out.startswith(b"group,size,hash,path\r\n") and out.count(b"\r\n") == 6, "out %r" % out)



def case_arguments_escaped_in_messages():
    """An option value, an unknown option or an index path with a newline
    or a terminal escape is escaped in the message as file names are (it
    went out raw: a message split over lines, escapes reaching the
    terminal)."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        for args, env, want in (
                (["--format", "x\ny\x1b[31m", "t"], None, b"--format x\\ny\\x1b[31m: want text"),
                (["--bogus\x1b]0;hi\x07", "t"], None, b"unknown option --bogus\\x1b]0;hi\\x07"),
                (["--db", tmp + b"/no\nsuch/i.db", "t"], None,
                 b"/no\\nsuch/i.db: cannot create it: " + tmp + b"/no\\nsuch: No such file or directory"),
                (["--db", tmp + b"/d\x1b/", "t"], None, b"/d\\x1b/: not a regular file (the name of a dir"),
                (["t"], {"HOME": tmp + b"/gone\x1b", "XDG_CACHE_HOME": ""},
                 b"/gone\\x1b/.cache/ferry-dupes/index.db: cannot create the directory " + tmp +
                 b"/gone\\x1b/.cache: No such file")):
            rc, out, err = run(args, cwd=tmp, env=env)
            check(rc == 2 and want in err, "%r: exit %d %r, want %r" % (args, rc, err, want))
            lines = err.count(b"\n")
            check(b"\x1b" not in err and b"\x07" not in err and lines == (2 if b"want" in want or b"option" in want else 1),
                  "%r: raw bytes in %r" % (args, err))

def case_posixly_correct_ends_options():
    """With POSIXLY_CORRECT set (as documented, like other GNU programs)
    options end at the first PATH: an option after it is a PATH that does
    not exist (exit 2, nothing indexed); before it, options work."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        env = {"POSIXLY_CORRECT": "1", "HOME": tmp}
        usage_error(["t", "--no-db"], "--no-db: No such file or directory", cwd=tmp, env=env)
        check(not os.path.exists(tmp + b"/.cache"), "an index was made")
        out, _ = ok(["--no-db", "-q", "-f", "fdupes", "t"], cwd=tmp, env=env)
        check(parse_fdupes(out) == [[b"t/-dash", b"t/sub/x"], [b"t/a", b"t/b", b"t/sub/c"]], "out %r" % out)

def case_empty_path_argument():
    """A PATH that is the empty string: exit 2 with a message that says so
    (it was ": No such file or directory", naming nothing)."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        usage_error(["--no-db", "t", ""], 'an empty PATH (""): No such file or directory', cwd=tmp)


def case_many_directory_paths():
    """3,000 directory PATHs (`ferry-dupes */`) each hold a descriptor for
    the whole run: the soft open-file limit is raised for them, as for the
    threads (they failed with "Too many open files" at the limit, 1,024 by
    default); where the hard limit is too low, one message says why."""
    with Tmp() as tmp:
        names = []
        for i in range(3000):
            names.append(b"d%d" % i)
            os.mkdir(tmp + b"/" + names[-1])
            with open(tmp + b"/d%d/f" % i, "wb") as f:
                f.write(b"%d" % (i % 10))
        nofile = resource.RLIMIT_NOFILE
        hard = resource.getrlimit(nofile)[1]
        if hard != resource.RLIM_INFINITY and hard < 3100:
            raise t.Skip("the hard open-file limit is %d" % hard)
        rc, out, err = run(["--no-db", "-f", "json"] + names, cwd=tmp, rlimits={nofile: (256, 3100)})
        check(rc == 0, "soft limit 256: exit %d %r" % (rc, err[-300:]))
        groups = parse_json(out)
        check(len(groups) == 10 and all(len(ps) == 300 for _, ps in groups) and b"Too many" not in err,
              "%d groups %r" % (len(groups), err[-300:]))
        usage_error(["--no-db"] + names, "the open-file limit (ulimit -n) is 256: too low for the "
                    "PATHs' 3000 directories", cwd=tmp, rlimits={nofile: 256})
        usage_error(["--no-db", "d0"], "the open-file limit (ulimit -n) is 5: too low for the PATHs' "
                    "1 directory (a", cwd=tmp, rlimits={nofile: 5})


def case_many_file_paths_in_many_directories():
    """`ferry-dupes $(find ...)`: each directory that holds file PATHs holds
    one descriptor, however many PATHs it holds. Where the hard limit is too
    low for them, the message counts those directories (it said "60
    directory PATHs" of 60 files, and counted every file as a directory)."""
    with Tmp() as tmp:
        names = []
        for i in range(30):
            os.mkdir(tmp + b"/d%d" % i)
            names.append(b"d%d/f" % i)
            names.append(b"f%d" % i)
        for name in names:
            with open(tmp + b"/" + name, "wb") as f:
                f.write(b"same")
        nofile = resource.RLIMIT_NOFILE
        out, _ = ok(["--no-db", "-f", "json", "-j", "1", "--walkers", "1"] + names[1::2], cwd=tmp,
                    rlimits={nofile: 20})
        check(parse_json(out) == [(4, sorted(names[1::2]))], "30 files of one directory: %r" % out)
        usage_error(["--no-db"] + names, "the open-file limit (ulimit -n) is 20: too low for the PATHs' "
                    "31 directories (a directory PATH, or one that holds file PATHs, holds a descriptor for "
                    "the whole run)", cwd=tmp, rlimits={nofile: 20})


def case_path_argument_beyond_path_max():
    """A PATH whose name, or whose directory's resolved name, is PATH_MAX
    bytes or longer -- a long PATH, or "." deep in a tree -- is walked like
    any other (realpath failed: "File name too long", exit 2), also as
    file PATHs and with the index (the re-run reads nothing)."""
    with Tmp() as tmp:
        parts = [b"p%03d" % i + b"q" * 196 for i in range(25)]
        fd = os.open(tmp, os.O_RDONLY)
        for part in parts:
            os.mkdir(part, dir_fd=fd)
            nfd = os.open(part, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        for name, data in ((b"a", b"same"), (b"b", b"same"), (b"c", b"diff")):
            f = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(f, data)
            os.close(f)
        os.close(fd)
        deep = b"/".join(parts)
        check(len(tmp + b"/" + deep) > 4096, "not beyond PATH_MAX")
        for db, args, want in ((tmp + b"/i1.db", [deep], [[deep + b"/a", deep + b"/b"]]),
                               (tmp + b"/i2.db", [deep + b"/a", deep + b"/b", deep + b"/c"],
                                [[deep + b"/a", deep + b"/b"]])):
            for run_no in (1, 2):
                rc, out, err = run(["--db", db, "-f", "fdupes", "--stats"] + args, cwd=tmp)
                check(rc == 0 and parse_fdupes(out) == want, "%d %r: exit %d %r %r" % (
                      run_no, [a[-2:] for a in args], rc, out.replace(deep, b"DEEP"), err[-200:]))
                check((t.stat_value(err, "bytes read") == 0) == (run_no == 2), "run %d: %r" % (run_no, err[-300:]))
        # "." and file names from inside (going down a piece at a time)
        def go_down():
            for part in parts:
                os.chdir(part)
        for args, want in (([b"."], [[b"./a", b"./b"]]), ([b"a", b"./b", b"c"], [[b"./b", b"a"]])):
            p = subprocess.run([t.BIN, "--no-db", "-f", "fdupes"] + args, cwd=tmp, preexec_fn=go_down,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            check(p.returncode == 0 and parse_fdupes(p.stdout) == want,
                  "%r from inside: exit %d %r %r" % (args, p.returncode, p.stdout, p.stderr[-200:]))

# ---------------------------------------------------------------------------
# The same tree twice, spelled differently

def case_same_tree_under_two_spellings():
    """One directory entry reached from two PATHs ("u" and "./u", a symlink
    to u, a file PATH twice) is one file, never its own duplicate, also
    with --hardlinks; each entry is shown by its smallest spelling."""
    with Tmp() as tmp:
        u = tmp + b"/u"
        os.makedirs(u + b"/s")
        for name, data in ((b"a", b"1234"), (b"s/b", b"5678"), (b"h1", b"link")):
            with open(u + b"/" + name, "wb") as f:
                f.write(data)
        os.link(u + b"/h1", u + b"/s/h2")
        os.symlink(b"u", tmp + b"/ul")
        # (PATHs, what --hardlinks prints: the one real pair of hard links)
        for args, want in ((["u", "./u"], [[b"./u/h1", b"./u/s/h2"]]),
                           (["u", "ul"], [[b"u/h1", b"u/s/h2"]]),
                           (["ul/", "u/s"], [[b"u/s/h2", b"ul/h1"]]),
                           (["u", "u"], [[b"u/h1", b"u/s/h2"]]),
                           (["u/a", "./u/a"], []),
                           (["u/a", "ul/a"], [])):
            for hl in ([], ["-H"]):
                out, _ = ok(["--no-db", "-q", "-f", "fdupes"] + hl + args, cwd=tmp)
                check(parse_fdupes(out) == (want if hl else []),
                      "%r %r: %r, want %r" % (hl, args, out, want if hl else []))


def case_same_path_many_times():
    """A PATH given again (also with a trailing slash) is walked once, not
    once per copy: `ferry-dupes t t/ t// ...`, 500 times each, read t's
    two directories 3,000 times (5,000 copies of a 3,000-file
    tree took 70 s). The groups are those of one copy."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        want, _ = ok(["--no-db", "-q", "-f", "fdupes", "t"], cwd=tmp)
        rc, out, err = run(["--no-db", "-f", "fdupes", "--stats"] + ["t", "t/", "t//", "t/sub/x"] * 500, cwd=tmp)
        check(rc == 0 and out == want, "exit %d %r, want %r" % (rc, out, want))
        m = re.search(rb"^files .* (\d+) directories", err, re.M)
        check(m and int(m.group(1)) == 2, "directories walked: %r" % (m and m.group(0)))

def walk_counts(err):
    """(paths found, directories listed) from --stats."""
    m = re.search(rb"^files +(\d+) paths?, \d+ inodes?, (\d+) director", err, re.M)
    check(m, "no files line in %r" % err[-400:])
    return int(m.group(1)), int(m.group(2))


def case_nested_paths_walk_each_directory_once():
    """PATHs inside other PATHs ("t t/sub", ". t/sub", "t ./t") list each
    directory once, under the spelling the report shows (each directory
    was listed once per enclosing PATH, and the summary counted its files
    as often); the groups are what they were. Where the better spelling
    depends on the names below ("t t/sub/.") both walks happen, as before.
    A PATH left to an enclosing one that cannot list the directory between
    them is walked at the end."""
    with Tmp() as tmp:
        os.makedirs(tmp + b"/t/sub/deep")
        os.makedirs(tmp + b"/t/-x")
        for name in (b"a", b"b", b"sub/c", b"sub/deep/d", b"-x/e", b"sub/-f"):
            with open(tmp + b"/t/" + name, "wb") as f:
                f.write(b"same")
        os.link(tmp + b"/t/a", tmp + b"/t/sub/h")
        os.symlink(b"t", tmp + b"/tl")
        below = [b"-x/e", b"a", b"b", b"sub/-f", b"sub/c", b"sub/deep/d", b"sub/h"]
        def spelled(prefix_of):
            return sorted(prefix_of(p) + p for p in below)
        # (PATHs, (how each path below t is spelled), directories walked)
        for args, want, dirs in (
                (["t", "t/sub"], spelled(lambda p: b"t/"), 4),
                (["t/sub/deep", "t/sub", "t"], spelled(lambda p: b"t/"), 4),
                (["./t", "t/sub"], spelled(lambda p: b"./t/"), 4),
                (["./t", "t/sub", "t/sub/deep"], spelled(lambda p: b"./t/"), 4),
                (["t", "./t/sub"], spelled(lambda p: b"./t/" if p.startswith(b"sub/") else b"t/"), 4),
                ([".", "t/sub"], spelled(lambda p: b"./t/"), 5),
                (["t/sub", "."], spelled(lambda p: b"./t/"), 5),
                (["t", "./t"], spelled(lambda p: b"./t/"), 4),
                (["./t", "tl", "t"], spelled(lambda p: b"./t/"), 4),
                (["tl/sub", "t"], spelled(lambda p: b"t/"), 4),
                (["t", "t/-x"], spelled(lambda p: b"t/"), 4)):
            for hl in ([], ["-H"]):
                rc, out, err = run(["--no-db", "--stats", "-f", "fdupes"] + hl + args, cwd=tmp)
                check(rc == 0, "%r: exit %d %r" % (args, rc, err))
                got = sorted(p for g in parse_fdupes(out) for p in g)
                # (without -H: t/a and t/sub/h, one inode, by its smaller path)
                links = [p for p in want if p.endswith(b"t/a") or p.endswith(b"/sub/h")]
                have = want if hl else sorted([p for p in want if p not in links] + [min(links)])
                check(got == have, "%r %r: %r, want %r" % (hl, args, got, have))
                check(walk_counts(err) == (7, dirs), "%r %r: (paths, directories) %r, want %r" % (
                      hl, args, walk_counts(err), (7, dirs)))
        # the order depends on the name below ("t/sub/./c" but "t/sub/-f")
        rc, out, err = run(["--no-db", "-f", "fdupes", "t", "t/sub/."], cwd=tmp)
        got = sorted(p for g in parse_fdupes(out) for p in g)
        check(rc == 0 and got == [b"t/-x/e", b"t/a", b"t/b", b"t/sub/-f", b"t/sub/./c", b"t/sub/./deep/d"],
              "t t/sub/.: %r" % got)
        # the index sees each file once; a re-run reads nothing
        for run_no in (1, 2):
            rc, out, err = run(["--db", tmp + b"/i.db", "--stats", "-f", "fdupes", "./t", "t/sub"], cwd=tmp)
            check(rc == 0 and sorted(p for g in parse_fdupes(out) for p in g) ==
                  [b"./t/" + p for p in below if p != b"sub/h"], "index run %d: %r" % (run_no, out))
            check((t.stat_value(err, "bytes read") == 0) == (run_no == 2), "run %d: %r" % (run_no, err[-300:]))
        # "./t" cannot list t/sub (user nobody): "t/sub/deep" is walked at the end
        user, binary = t.as_nobody()
        os.chmod(tmp + b"/t/sub", 0o311)
        try:
            rc, out, err = run(["--no-db", "--stats", "-f", "fdupes", "./t", "t/sub/deep"], cwd=tmp,
                               user=user, binary=binary)
        finally:
            os.chmod(tmp + b"/t/sub", 0o755)
        got = sorted(p for g in parse_fdupes(out) for p in g)
        check(rc == 0 and got == [b"./t/-x/e", b"./t/a", b"./t/b", b"t/sub/deep/d"], "unlistable: %d %r %r" % (
              rc, got, err))
        check(b"./t/sub: cannot open directory: Permission denied" in err and walk_counts(err) == (4, 3),
              "unlistable: %r" % err)


def case_counts_each_entry_once():
    """The summary and --stats count each directory entry and directory
    once where two routes list it: a file PATH inside a directory PATH
    ("t t/a"), spellings whose order depends on the names below ("t
    t/sub/.": both walks list t/sub), a PATH given twice. Both routes were
    counted: "3 files" for 2 (a bind mount listed again likewise)."""
    with Tmp() as tmp:
        os.makedirs(tmp + b"/t/sub/deep")
        for name in (b"a", b"sub/c", b"sub/-f", b"sub/deep/d"):
            with open(tmp + b"/t/" + name, "wb") as f:
                f.write(b"same")
        os.link(tmp + b"/t/a", tmp + b"/t/sub/h")  # (a hard link: a path of its own)
        for args, paths, dirs in ((["t"], 5, 3), (["t", "t/a"], 5, 3), (["t/a", "t"], 5, 3),
                                  (["t", "t/sub/."], 5, 3), (["t/sub/.", "t"], 5, 3),
                                  (["t", "t/sub/.", "t/sub/deep/d", "t"], 5, 3),
                                  (["t/a", "t/a", "./t/a"], 1, 0)):
            for walkers in ("1", "4"):
                rc, out, err = run(["--no-db", "--stats", "--walkers", walkers, "-f", "fdupes"] + args,
                                   cwd=tmp)
                check(rc == 0, "%r: exit %d %r" % (args, rc, err))
                check(walk_counts(err) == (paths, dirs), "%r: (paths, directories) %r, want %r" % (
                      args, walk_counts(err), (paths, dirs)))
                m = re.search(rb"^ferry-dupes: (\d+) files? \((\d+) B\)", err, re.M)
                check(m and (int(m.group(1)), int(m.group(2))) == (paths, 4 * paths),
                      "%r: summary %r, want %d files (%d B)" % (args, m and m.group(0), paths, 4 * paths))


def case_many_hard_links_cost_linear_time():
    """50,000 hard links of one file (ext4 allows 65,000): each path is
    checked against the others through a table, not by rebuilding every
    earlier path (which took 6 s for 20,000, 40 s for 50,000: the square)."""
    with Tmp() as tmp:
        root = tmp + b"/hl"
        os.mkdir(root)
        with open(root + b"/f0", "wb") as f:
            f.write(b"data")
        with open(root + b"/g", "wb") as f:
            f.write(b"data")
        for i in range(1, 50000):
            os.link(root + b"/f0", root + b"/f%d" % i)
        t0 = time.monotonic()
        out, _ = ok(["--no-db", "-q", "-f", "fdupes", root], timeout=60)
        check(parse_fdupes(out) == [[root + b"/f0", root + b"/g"]], "groups %r" % out[:200])
        out, _ = ok(["--no-db", "-q", "-H", "-f", "fdupes", root, root + b"/", root + b"/g"], timeout=60)
        check(len(parse_fdupes(out)[0]) == 50001, "--hardlinks: every link once")
        took = time.monotonic() - t0
        # (not a speed goal: linear work takes 0.2 s, quadratic 40 s and more)
        check(took < 20, "50,000 links took %.1f s" % took)


# ---------------------------------------------------------------------------
# Output that cannot be written

def case_output_write_errors():
    """A full disk, a closed standard output, a pipe closed early with
    SIGPIPE ignored: one message, exit 2. (With SIGPIPE at its default, as
    in a shell pipeline, the signal ends the program quietly.)"""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        with open("/dev/full", "wb") as full:
            p = subprocess.run([t.BIN, "--no-db", "t"], stdout=full, stderr=subprocess.PIPE, cwd=tmp)
        check(p.returncode == 2 and b"cannot write the output: No space left on device" in p.stderr,
              "/dev/full: %d %r" % (p.returncode, p.stderr))
        for close_err in (False, True):
            p = subprocess.run("exec %s --no-db t >&- %s" % (shlex.quote(t.BIN), "2>&-" if close_err else ""),
                               shell=True, stderr=subprocess.PIPE, cwd=tmp)
            check(p.returncode == 2, "stdout closed: exit %d" % p.returncode)
            check(close_err or b"cannot write the output: Bad file descriptor" in p.stderr,
                  "stdout closed: %r" % p.stderr)
        many = tmp + b"/many"
        os.mkdir(many)
        for i in range(3000):
            with open(many + b"/%s-%d" % (b"x" * 40, i), "wb") as f:
                f.write(b"%d" % (i % 7))
        p = subprocess.Popen([t.BIN, "--no-db", "-f", "fdupes", many], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, restore_signals=False)  # SIGPIPE ignored
        p.stdout.read(10)
        p.stdout.close()
        err = p.stderr.read()
        check(p.wait() == 2 and err.count(b"\n") <= 1 and b"cannot write the output: Broken pipe" in err,
              "EPIPE: %d %r" % (p.returncode, err))
        p = subprocess.Popen([t.BIN, "--no-db", "-f", "fdupes", many], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        p.stdout.read(10)
        p.stdout.close()
        err = p.stderr.read()
        check(p.wait() == -signal.SIGPIPE and err == b"", "SIGPIPE: %d %r" % (p.returncode, err))



def case_help_and_version_write_errors():
    """--help and --version to a full disk or a closed standard output:
    one message, exit 2 (both exited 0 with nothing written)."""
    for arg in ("--help", "--version"):
        with open("/dev/full", "wb") as full:
            p = subprocess.run([t.BIN, arg], stdout=full, stderr=subprocess.PIPE)
        check(p.returncode == 2 and p.stderr == b"ferry-dupes: cannot write the output: No space left on device\n",
              "%s > /dev/full: %d %r" % (arg, p.returncode, p.stderr))
        p = subprocess.run("exec %s %s >&-" % (shlex.quote(t.BIN), arg), shell=True, stderr=subprocess.PIPE)
        check(p.returncode == 2 and b"cannot write the output: Bad file descriptor" in p.stderr,
              "%s >&-: %d %r" % (arg, p.returncode, p.stderr))


# ---------------------------------------------------------------------------
# The tree changing under the walk

def case_directory_replaced_by_symlink_mid_walk():
    """A directory listed, then replaced by a symlink (to a directory full
    of duplicates) before a walker opens it -- itself, or its parent while
    it waits in the queue: never followed (openat2 RESOLVE_NO_SYMLINKS),
    counted as vanished, no error. A directory replaced by a FIFO: the
    same, and nothing blocks."""
    with Tmp() as tmp:
        for target, how in ((b"t/sub", b'mv "$1" "$1.gone"; ln -s ../other "$1"'),
                            (b"t/sub/deeper", b'mv "${1%/deeper}" "${1%/deeper}.gone"; ln -s ../other "${1%/deeper}"'),
                            (b"t/sub", b'mv "$1" "$1.gone"; mkfifo "$1"')):
            w = tmp + b"/w"
            subprocess.run(["rm", "-rf", w], check=True)
            for d in (b"t/sub/deeper", b"other"):
                os.makedirs(w + b"/" + d)
            for name in (b"t/a", b"t/sub/b", b"t/sub/deeper/c", b"other/o1", b"other/o2"):
                with open(w + b"/" + name, "wb") as f:
                    f.write(b"same")
            hook = b'case "$1" in */' + target + b") " + how + b";; esac"
            rc, out, err = run(["--no-db", "-f", "fdupes", w + b"/t"], timeout=60,
                               env={"FERRY_DUPES_DEBUG_BEFORE_OPENDIR": hook})
            check(rc == 0, "%r: exit %d %r" % (target, rc, err))
            check(b"other" not in out and b"/o1" not in out, "%r: a symlink was followed: %r" % (target, out))
            check(re.search(rb"; [12] vanished", err), "%r: %r" % (target, err))
            # (t/sub/b is read before or after its directory moves: either)
            check(parse_fdupes(out) in ([], [[w + b"/t/a", w + b"/t/sub/b"]]), "%r: %r" % (target, out))


def nth_open_hook(count_dir, name, k, action):
    """A hook that runs action (sh, the path in $1) at the k-th time the
    program opens (or re-stats) the file called name."""
    return ('case "$1" in */%s) n=1; while ! mkdir "%s/$n" 2>/dev/null; do n=$((n+1)); done; '
            '[ $n = %d ] && { %s; };; esac' % (name, count_dir.decode(), k, action))


def case_file_changes_in_every_window():
    """Of three identical 100 KB files, x changes at one moment each run:
    before its partial read (grows), before its full read (shrinks; is
    replaced by a copy through rename; is rewritten in the middle with its
    times put back), after its full read (rewritten). Each time x is left
    out with a message and counted, never grouped by what it held before,
    and y and z still form their group."""
    grow = 'printf more >> "$1"'
    shrink = 'truncate -s 99999 "$1"'
    rename_over = 'cp "$1" "$1.new" && mv "$1.new" "$1"'
    middle = ('touch -r "$1" "$1.t" && printf X | dd of="$1" bs=1 seek=50000 conv=notrunc 2>/dev/null'
              ' && touch -r "$1.t" "$1" && rm "$1.t"')
    for hook_var, k, action, what in (("BEFORE_OPEN", 1, grow, b"changed since it was listed"),
                                      ("BEFORE_OPEN", 2, shrink, b"changed since it was listed"),
                                      ("BEFORE_OPEN", 2, rename_over, b"changed since it was listed"),
                                      ("BEFORE_OPEN", 2, middle, b"changed since it was listed"),
                                      ("AFTER_READ", 2, middle, b"changed while being read")):
        with Tmp() as tmp:
            root = tmp + b"/v"
            os.mkdir(root)
            data = dupes_tree.random.Random(9).randbytes(100_000)
            for name in (b"x", b"y", b"z"):
                with open(root + b"/" + name, "wb") as f:
                    f.write(data)
            os.mkdir(tmp + b"/count")
            hook = nth_open_hook(tmp + b"/count", "x", k, action)
            rc, out, err = run(["--db", tmp + b"/i.db", "-f", "json", root],
                               env={"FERRY_DUPES_DEBUG_" + hook_var: hook})
            label = "%s %d %s" % (hook_var, k, action)
            check(rc == 0, "%s: exit %d %r" % (label, rc, err))
            check(parse_json(out) == [(100_000, [root + b"/y", root + b"/z"])], "%s: %r" % (label, out))
            check(b"/x: " + what + b": not grouped" in err and b"1 changed while scanned" in err,
                  "%s: %r" % (label, err))
            out, _ = ok(["--db", tmp + b"/i.db", "-f", "json", root])  # the next run sees x as it is
            same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(root)), label)

def driverless_char_device(tmp):
    """A character device that no driver serves (major 240, reserved for
    local use: its open fails with ENXIO), or None where mknod is not
    allowed or the number is taken."""
    import errno
    path = tmp + b"/probe"
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(240, 0))
    except OSError:
        return None
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        return None  # something serves it here
    except OSError as e:
        return (240, 0) if e.errno in (errno.ENXIO, errno.ENODEV) else None
    finally:
        os.unlink(path)


def case_file_replaced_by_a_socket_or_device():
    """x is replaced, between the walk and its open, by a socket or a
    device that no driver serves: open(2) fails (ENXIO), and x is left out
    as changed since it was listed, like a file replaced by a FIFO -- not
    reported as unreadable ("cannot open: No such device or address");
    y and z still form their group."""
    with Tmp() as tmp:
        sock = ('rm -f "$1" && %s -c "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$1"'
                % shlex.quote(sys.executable))
        actions = [("socket", sock)]
        dev = driverless_char_device(tmp)
        if dev:
            actions.append(("device", 'rm -f "$1" && mknod "$1" c %d %d' % dev))
        for kind, action in actions:
            root = tmp + b"/" + kind.encode()
            os.mkdir(root)
            for name in (b"x", b"y", b"z"):
                with open(root + b"/" + name, "wb") as f:
                    f.write(b"same")
            rc, out, err = run(["--no-db", "-f", "json", root],
                               env={"FERRY_DUPES_DEBUG_BEFORE_OPEN": 'case "$1" in */x) %s;; esac' % action})
            check(rc == 0, "%s: exit %d %r" % (kind, rc, err))
            check(parse_json(out) == [(4, [root + b"/y", root + b"/z"])], "%s: %r" % (kind, out))
            check(b"/x: changed since it was listed: not grouped" in err and b"1 changed while scanned" in err
                  and b"unreadable" not in err, "%s: %r" % (kind, err))


def case_read_error_at_each_read():
    """A read that fails with EIO (a failing disk), at each read in turn
    (FERRY_DUPES_DEBUG_FAIL=read:K): a partial read, each 1 MiB of a full
    read, each piece of --verify's comparison. The file is reported once
    ("read error: Input/output error"), counted unreadable, and left out;
    the others are grouped as if it were not there (in --verify a read
    error is never "differs"); the exit status stays 0; the index keeps no
    hash of it, so the next run reads it and the groups are whole."""
    with Tmp() as tmp:
        root = tmp + b"/r"
        os.mkdir(root)
        rnd = dupes_tree.random.Random(5)
        for names, size in (((b"s1", b"s2", b"s3"), 1000), ((b"b1", b"b2", b"b3"), 100_000),
                            ((b"m1", b"m2"), 1_300_000)):
            data = rnd.randbytes(size)
            for name in names:
                with open(root + b"/" + name, "wb") as f:
                    f.write(data)
        inodes = dupes_tree.scan(root)
        whole = dupes_tree.expected_groups(inodes)
        for verify in ([], ["--verify"]):
            for k in range(1, 200):
                db = tmp + b"/i%d.db" % k
                rc, out, err = run(["--db", db, "-j", "2", "-f", "json"] + verify + [root],
                                   env={"FERRY_DUPES_DEBUG_FAIL": "read:%d" % k})
                label = "%s read:%d" % (verify, k)
                check(rc == 0, "%s: exit %d %r" % (label, rc, err))
                bad = re.findall(rb"ferry-dupes: (\S+): read error: Input/output error\n", err)
                if not bad:  # K beyond the run's reads
                    same_groups(parse_json(out), whole, label)
                    check(k > 8, "%s: no read failed %r" % (label, err))
                    break
                check(len(bad) == 1 and b"; 1 unreadable" in err, "%s: %r" % (label, err))
                rest = {key: i for key, i in inodes.items() if bad[0] not in i["paths"]}
                same_groups(parse_json(out), dupes_tree.expected_groups(rest), label)
                if k % 4 != 1:  # (the next run, at every fourth K: seconds under TSan)
                    os.unlink(db)
                    continue
                out, err = ok(["--db", db, "-f", "json", "--stats"] + verify + [root])
                same_groups(parse_json(out), whole, label + ", the next run")
                check(t.stat_value(err, "bytes read") > 0, "%s: the next run read nothing" % label)
                os.unlink(db)
            else:
                fail("%s: a read failed at every K" % verify)


# ---------------------------------------------------------------------------
# The index where it should not be

def case_index_not_a_regular_file():
    """--db naming a FIFO, a directory or a device: a clear error, before
    SQLite opens it (a FIFO gave "I/O error: Illegal seek"; a device left a
    journal beside it); nothing created."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        os.mkfifo(tmp + b"/fifo")
        os.mkdir(tmp + b"/dir")
        cases = [(tmp + b"/fifo", "not a regular file (a FIFO)"),
                 (tmp + b"/dir", "not a regular file (a directory)")]
        if os.geteuid() == 0:
            os.mknod(tmp + b"/null", 0o600 | stat_chr(), os.makedev(1, 3))
            cases.append((tmp + b"/null", "not a regular file (a character device)"))
        for db, what in cases:
            t.index_error(db, tmp + b"/t", what, timeout=20)
            check(not os.path.exists(db + b"-journal") and not os.path.exists(db + b"-wal"),
                  "%r: a journal was left" % db)


def case_index_inside_a_file():
    """--db FILE/i.db, where FILE is a regular file: "Not a directory"
    (it said "Permission denied", from access(2)'s X_OK on a file without
    the x bit, or SQLite's "unable to open" with it), also deeper, and for
    the default index when ~/.cache is a file."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        with open(tmp + b"/f", "wb") as f:
            f.write(b"x")
        for mode in (0o644, 0o755):
            os.chmod(tmp + b"/f", mode)
            t.index_error(tmp + b"/f/i.db", tmp + b"/t", "cannot create it: " + tmp.decode() + "/f: Not a directory")
            t.index_error(tmp + b"/f/d/i.db", tmp + b"/t", "/f/d: Not a directory")
        os.mkdir(tmp + b"/home")
        with open(tmp + b"/home/.cache", "wb") as f:
            f.write(b"x")
        rc, out, err = run([tmp + b"/t"], env={"HOME": tmp + b"/home", "XDG_CACHE_HOME": ""})
        check(rc == 2 and out == b"" and b"Not a directory" in err, "~/.cache a file: %d %r" % (rc, err))


def case_empty_files_that_are_not():
    """--empty: a file whose size is 0 but which holds something (/proc's
    files) is not grouped with the empty files, nor with the others of its
    kind, with a message; it was taken as empty unread ("1428 files, 0
    bytes each" of /proc/self). Empty files still form their group, from
    the index too; a file that grows between its listing and its read is
    left out as changed."""
    procs = [p for p in (b"/proc/version", b"/proc/self/limits", b"/proc/self/status")
             if os.path.isfile(p) and os.stat(p).st_size == 0]
    if len(procs) < 2:
        print("no /proc files of size 0 with contents: skipped")
        sys.exit(t.SKIP)
    with Tmp() as tmp:
        os.mkdir(tmp + b"/e")
        for name in (b"e1", b"e2", b"grows"):
            open(tmp + b"/e/" + name, "wb").close()
        for db in (["--no-db"], ["--db", tmp + b"/i.db"], ["--db", tmp + b"/i.db"]):
            rc, out, err = run(db + ["--empty", "-f", "json"] + procs + [tmp + b"/e"])
            check(rc == 0, "%r: exit %d %r" % (db, rc, err))
            check(parse_json(out) == [(0, [tmp + b"/e/e1", tmp + b"/e/e2", tmp + b"/e/grows"])],
                  "%r: %r" % (db, out))
            for p in procs:
                check(p + b": holds more than its size of 0 bytes (a /proc or /sys file?): not grouped"
                      in err, "%r %r: %r" % (db, p, err))
            check(b"; %d changed while scanned" % len(procs) in err, "%r: %r" % (db, err))
        hook = 'case "$1" in */grows) printf x > "$1";; esac'
        rc, out, err = run(["--no-db", "--empty", "-f", "json", tmp + b"/e"],
                           env={"FERRY_DUPES_DEBUG_BEFORE_OPEN": hook})
        check(rc == 0 and parse_json(out) == [(0, [tmp + b"/e/e1", tmp + b"/e/e2"])], "grows: %r" % out)
        check(b"/e/grows: changed since it was listed: not grouped" in err, "grows: %r" % err)


def case_files_shorter_than_their_size():
    """Files that hold less than their size says and do not change (sysfs's
    have a size of 4096) are left out with a message that says so, counted
    as changed; it said "changed while being read (shorter)"."""
    sysfs = []
    for d, _, fs in os.walk(b"/sys/kernel"):
        for f in fs:
            p = os.path.join(d, f)
            try:
                st = os.stat(p, follow_symlinks=False)
                if stat.S_ISREG(st.st_mode) and st.st_size == 4096 and st.st_mode & 0o444:
                    with open(p, "rb") as fh:
                        if 0 < len(fh.read()) < 4096:
                            sysfs.append(p)
            except OSError:
                pass
            if len(sysfs) == 3:
                break
        if len(sysfs) == 3:
            break
    if len(sysfs) < 2:
        print("no sysfs files of 4096 bytes that hold less: skipped")
        sys.exit(t.SKIP)
    rc, out, err = run(["--no-db", "-f", "json"] + sysfs)
    check(rc == 0 and parse_json(out) == [], "exit %d %r %r" % (rc, out, err))
    for p in sysfs:
        check(p + b": holds less than its size of 4096 bytes (a /proc or /sys file?): not grouped" in err,
              "%r: %r" % (p, err))
    check(b"; %d changed while scanned" % len(sysfs) in err, "%r" % err)


def case_index_of_one_byte_is_not_overwritten():
    """--db naming a file of one byte that is no database: refused, the
    byte kept (SQLite's Unix layer reports a 1-byte file as empty, so it
    became a new index, 12 KB over the user's file; 2 bytes or more were
    refused already). An empty file is a new index."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        for data in (b"x", b"\0", b"S"):
            with open(tmp + b"/one", "wb") as f:
                f.write(data)
            t.index_error(tmp + b"/one", tmp + b"/t", "not an SQLite database")
            with open(tmp + b"/one", "rb") as f:
                check(f.read() == data, "%r: the file was changed" % data)
            check(not os.path.exists(tmp + b"/one-wal"), "a journal was left")
        open(tmp + b"/empty", "wb").close()
        ok(["--db", tmp + b"/empty", tmp + b"/t"])
        t.integrity(tmp + b"/empty")


def case_index_with_two_names():
    """An index file with a second name (a hard link) is refused: SQLite
    keeps its journal beside the name it opened, so runs through the two
    names would not see each other's journal and could corrupt it. With
    one name again it works, and it was left sound."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        db = tmp + b"/i.db"
        ok(["--db", db, tmp + b"/t"])
        os.link(db, tmp + b"/other.db")
        for name in (db, tmp + b"/other.db"):
            t.index_error(name, tmp + b"/t", "the file has 2 names (hard links)")
        os.unlink(tmp + b"/other.db")
        ok(["--db", db, tmp + b"/t"])
        t.integrity(db)


def case_index_names_sqlite_reads_otherwise():
    """--db ":memory:" and --db "file:i.db?mode=ro" are files of those names
    (SQLite took the first as no file at all, the second as a URI: "cannot
    open: No such file or directory"); a name ending in "/" is refused (it
    made a file "new"), nothing created."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        for name in (b":memory:", b"file:i.db?mode=ro"):
            for run_no in (1, 2):
                _, err = ok(["--db", name, "--stats", "-f", "json", "t"], cwd=tmp)
                check(os.path.isfile(tmp + b"/" + name), "%r: no such file made" % name)
                check((t.stat_value(err, "bytes read") == 0) == (run_no == 2),
                      "%r run %d: the index was not reused: %r" % (name, run_no, err[-300:]))
            t.integrity(tmp + b"/" + name)
        t.index_error(b"new/", b"t", "not a regular file (the name of a directory)", cwd=tmp)
        check(not os.path.exists(tmp + b"/new"), "--db new/ made %r" % os.listdir(tmp))


def case_index_path_too_long_for_sqlite():
    """An index path longer than SQLite's file names allow (512 bytes with
    "-journal"; the directory exists and is writable): a message that
    says so (it said "cannot open: No such file or directory"); a path
    just short of it works."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        real = os.path.realpath(tmp)
        for length, works in ((504, True), (505, False), (1200, False)):
            d = real + b"/l%d" % length
            rest = length - len(d) - len(b"/i.db")
            while rest > 60:
                d += b"/" + b"z" * 50
                rest -= 51
            d += b"/" + b"z" * (rest - 1)
            os.makedirs(d)
            db = d + b"/i.db"
            check(len(db) == length, "built %d bytes" % len(db))
            if works:
                ok(["--db", db, "-q", "t"], cwd=tmp)
                t.integrity(db)
            else:
                t.index_error(db, b"t", "its path is too long for SQLite (%d bytes" % length, cwd=tmp)


def case_index_named_as_a_path():
    """The index given as a file PATH (and a copy of it beside it) is
    passed by, as it is inside a directory PATH: it was read while the run
    wrote it and reported as a duplicate of its copy, which it no longer
    was when the run ended."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        ok(["--db", "i.db", "-q", "t"], cwd=tmp)
        shutil.copy(tmp + b"/i.db", tmp + b"/copy.db")
        for args in (["i.db", "copy.db"], ["./i.db", tmp + b"/copy.db", "t"]):
            rc, out, err = run(["--db", "i.db", "-f", "fdupes", "--stats"] + args, cwd=tmp)
            check(rc == 0 and b"i.db" not in out, "%r: exit %d %r %r" % (args, rc, out, err[-200:]))
            check(b"changed" not in err, "%r: %r" % (args, err))
        t.integrity(tmp + b"/i.db")


def case_index_is_the_output():
    """--db naming the file that standard output (or error) is redirected
    to (`--db out > out`, `--db /dev/stdout > out`): refused, since the
    index and the groups were written over each other into that file."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        for db, redirect, what in ((b"out", b">", b"output"), (b"/dev/stdout", b">", b"output"),
                                   (b"out", b"2>", b"error"), (b"/dev/stderr", b"2>", b"error")):
            sh = b"exec %s --db %s t %s out" % (os.fsencode(shlex.quote(t.BIN)), db, redirect)
            p = subprocess.run(sh, shell=True, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            with open(tmp + b"/out", "rb") as f:
                data = f.read()
            msg = b"index %s: the file standard %s is written to" % (db, what)
            check(p.returncode == 2 and msg in p.stderr + data,
                  "%r: exit %d %r %r" % (sh, p.returncode, p.stderr, data[:200]))
            check(b"SQLite" not in data, "%r: the index went into the file" % sh)
            os.unlink(tmp + b"/out")


def case_index_wal_is_the_output():
    """Standard output (or error) redirected to the file SQLite keeps beside
    the index, its WAL or its journal (`--db i.db > i.db-wal`, also through
    a symlink --db, whose WAL lies beside its target): refused before SQLite
    touches anything. SQLite wrote its frames into that file and deleted
    it when it closed the index, before the groups were printed into it:
    they were lost, under exit status 0."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        ok(["-q", "--db", tmp + b"/old.db", tmp + b"/t"])
        os.symlink(b"old.db", tmp + b"/link.db")
        for db, out, redirect, what in ((b"new.db", b"new.db-wal", b">", b"output WAL"),
                                        (b"old.db", b"old.db-wal", b">", b"output WAL"),
                                        (b"old.db", b"old.db-journal", b"2>", b"error journal"),
                                        (b"link.db", b"old.db-wal", b">", b"output WAL")):
            sh = b"exec %s --db %s t %s %s" % (os.fsencode(shlex.quote(t.BIN)), db, redirect, out)
            p = subprocess.run(sh, shell=True, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            with open(tmp + b"/" + out, "rb") as f:
                data = f.read()
            std, kind = what.split()
            msg = b"index %s: the file standard %s is written to is SQLite's %s beside it, " % (db, std, kind)
            check(p.returncode == 2 and msg in p.stderr + data and (p.stderr + data).rstrip().endswith(out),
                  "%r: exit %d %r %r" % (sh, p.returncode, p.stderr, data[:200]))
            check(not os.path.exists(tmp + b"/new.db"), "%r: the index was created" % sh)
            os.unlink(tmp + b"/" + out)
        t.integrity(tmp + b"/old.db")


def stat_chr():
    import stat
    return stat.S_IFCHR


def case_index_symlink_into_the_tree():
    """--db is a symlink to a file inside the scanned tree: SQLite puts the
    index (and its WAL) where the link points, and the walk passes by that
    file, not the link's name."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        os.symlink(b"t/sub/real.db", tmp + b"/link.db")
        for _ in range(2):
            rc, out, err = run(["--db", tmp + b"/link.db", "--format", "json", "--stats", "t"], cwd=tmp)
            check(rc == 0, "exit %d: %r" % (rc, err))
            check(t.stat_value(err, "files") == 5, "the index was walked: %r" % err)
            check(b"real.db" not in out and b"changed" not in err, "out %r err %r" % (out, err))
        check(os.path.isfile(tmp + b"/t/sub/real.db"), "not where the link points")
        t.integrity(tmp + b"/t/sub/real.db")


def case_default_index_and_the_environment():
    """$XDG_CACHE_HOME: used when absolute (made if missing), ignored when
    empty or relative; then $HOME/.cache (made, but never $HOME itself),
    else the password database's home. A home that does not exist is an
    error naming the index, not a directory made out of nothing."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        home = tmp + b"/home"
        os.mkdir(home)
        env = {"HOME": home}
        ok(["-q", "t"], cwd=tmp, env=dict(env, XDG_CACHE_HOME=tmp + b"/x1/x2"))
        check(os.path.isfile(tmp + b"/x1/x2/ferry-dupes/index.db"), "XDG_CACHE_HOME not made")
        for xdg in (b"", b"relative"):
            ok(["-q", "t"], cwd=tmp, env=dict(env, XDG_CACHE_HOME=xdg))
            check(os.path.isfile(home + b"/.cache/ferry-dupes/index.db"), "XDG_CACHE_HOME=%r" % xdg)
            check(not os.path.exists(tmp + b"/relative"), "a relative XDG_CACHE_HOME was used")
        gone = tmp + b"/no-such-home"
        t.index_error(gone + b"/.cache/ferry-dupes/index.db", b"t",
                      "cannot create the directory %s/.cache: No such file or directory" % gone.decode(),
                      cwd=tmp, env={"HOME": gone}, db_arg=False)
        check(not os.path.exists(gone), "a missing home was made")
        # A home ending in slashes: the path has no "//" (it showed in messages).
        t.index_error(gone + b"/.cache/ferry-dupes/index.db", b"t",
                      "cannot create the directory %s/.cache: No such file or directory" % gone.decode(),
                      cwd=tmp, env={"HOME": gone + b"//"}, db_arg=False)
        ok(["-q", "t"], cwd=tmp, env=dict(env, XDG_CACHE_HOME=tmp + b"/x3/"))
        check(os.path.isfile(tmp + b"/x3/ferry-dupes/index.db"), "XDG_CACHE_HOME with a slash not used")
        user, binary = t.as_nobody()
        if user:
            ro = tmp + b"/ro"
            os.mkdir(ro, 0o555)
            t.index_error(ro + b"/ferry-dupes/index.db", b"t",
                          "cannot create the directory %s/ferry-dupes: Permission denied" % ro.decode(),
                          cwd=tmp, user=user,
                          binary=binary, env={"XDG_CACHE_HOME": ro}, db_arg=False)



def case_one_file_system_keeps_other_file_systems_rows():
    """-x leaves a file system mounted below a PATH alone, and so its files'
    index rows: the -x run deleted them as files that had vanished, and the
    next run without -x read every one of them again."""
    with Tmp() as tmp:
        root = tmp + b"/m"
        os.makedirs(root + b"/mnt")
        t.try_mount(["-t", "tmpfs", "-o", "size=4m", "tmpfs", root + b"/mnt"])
        try:
            data = dupes_tree.random.Random(5).randbytes(100_000)
            for name in (b"mnt/a", b"mnt/b", b"c", b"d"):
                with open(root + b"/" + name, "wb") as f:
                    f.write(data)
            db = tmp + b"/i.db"
            for args, groups, bytes_read in (([], [[b"m/c", b"m/d", b"m/mnt/a", b"m/mnt/b"]], None),
                                             (["-x"], [[b"m/c", b"m/d"]], 0),
                                             ([], [[b"m/c", b"m/d", b"m/mnt/a", b"m/mnt/b"]], 0)):
                rc, out, err = run(["--db", db, "--stats", "-f", "fdupes"] + args + ["m"], cwd=tmp)
                check(rc == 0 and parse_fdupes(out) == groups, "%r: exit %d %r %r" % (args, rc, out, err[-300:]))
                check(bytes_read is None or t.stat_value(err, "bytes read") == bytes_read,
                      "%r: the index was not reused: %r" % (args, err[-400:]))
            # a file deleted on the PATH's own file system is still forgotten
            os.unlink(root + b"/d")
            ok(["--db", db, "-x", "-q", "m"], cwd=tmp)
            con = sqlite3.connect(db.decode())
            paths = sorted(p for (p,) in con.execute("SELECT path FROM files"))
            con.close()
            check(paths == sorted(os.path.realpath(root) + p for p in (b"/c", b"/mnt/a", b"/mnt/b")),
                  "rows %r" % paths)
        finally:
            subprocess.run(["umount", root + b"/mnt"])


def case_files_that_cannot_be_stated_keep_their_rows():
    """A directory that can be listed but not searched (mode r--: its
    names, but no stat of them), met in the walk: its files are reported
    unreadable and the run does not know whether they still exist, as for
    a directory that cannot be listed, so their index rows stay (they were
    deleted as vanished, and read again once the mode was back). As root
    (whom modes stop not) the runs are the user nobody's."""
    user, binary = t.as_nobody()
    with Tmp() as tmp:
        root, dbdir = tmp + b"/t", tmp + b"/db"
        same = dupes_tree.random.Random(8).randbytes(5000)
        write_files(root + b"/d", {b"a": same, b"b": same})
        write_files(root, {b"c": same})
        os.mkdir(dbdir)
        os.chmod(dbdir, 0o777)
        db, log = dbdir + b"/i.db", dbdir + b"/reads.log"
        t.settle()  # (not racily clean: the last run is to read nothing)
        ok(["--db", db, "-q", root], user=user, binary=binary)
        os.chmod(root + b"/d", 0o444)
        try:
            rc, out, err = run(["--db", db, "-q", root], user=user, binary=binary)
        finally:
            os.chmod(root + b"/d", 0o755)
        check(rc == 0 and b"/d/a: cannot stat: Permission denied" in err, "exit %d %r" % (rc, err))
        out, err = ok(["--db", db, "-f", "json", root], user=user, binary=binary,
                      env={"FERRY_DUPES_DEBUG_READ_LOG": log})
        check(parse_json(out) == [(5000, [root + b"/c", root + b"/d/a", root + b"/d/b"])], "groups %r" % out)
        check(t.read_log(log) == [], "read again: %r" % t.read_log(log))


def case_index_deleted_moved_or_replaced_mid_run():
    """While a run writes its index, the index's directory is removed, the
    index renamed, or another index put in its place (mv over it). SQLite
    writes on into the file it holds open, so what the run learned would
    be lost or land elsewhere: exit 2 with a message (it was exit 0 without
    a word), nothing printed. SQLite does not apply its WAL to a moved
    database, and leaves it beside the name: it goes, so that the file
    that has the name next (the index put in its place, or a new one) does
    not take those pages as its own. Every index involved passes
    integrity_check, and the next run is right."""
    with Tmp() as tmp:
        root, other = tmp + b"/bulk", tmp + b"/other"
        t.bulk_tree(root, 300)
        t.bulk_tree(other, 40, seed=3)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        dbdir = tmp + b"/ix"
        db = dbdir + b"/i.db"
        q = lambda p: shlex.quote(p.decode())  # noqa: E731
        for what, action in (("directory removed", "rm -rf %s" % q(dbdir)),
                             ("renamed", "mv %s %s" % (q(db), q(dbdir + b"/renamed.db"))),
                             ("replaced", "cp %s %s && mv %s %s" % (q(tmp + b"/old.db"), q(db + b".new"),
                                                                     q(db + b".new"), q(db)))):
            shutil.rmtree(dbdir, ignore_errors=True)
            os.mkdir(dbdir)
            ok(["-q", "--db", tmp + b"/old.db", other])  # an index of another tree
            once = tmp + b"/once"
            shutil.rmtree(once, ignore_errors=True)
            hook = "mkdir %s 2>/dev/null && { %s; }; :" % (q(once), action)
            rc, out, err = run(["--db", db, "-j", "2", "-f", "json", root],
                               env={"FERRY_DUPES_DEBUG_BEFORE_OPEN": hook})
            check(rc == 2, "%s: exit %d, want 2 %r" % (what, rc, err))
            check(b"index " + db + b": " in err and
                  b": it was deleted, moved or replaced during the run" in err, "%s: %r" % (what, err))
            check(out == b"", "%s: printed %r" % (what, out[:200]))
            check(not os.path.exists(db + b"-wal"), "%s: the moved index's WAL was left beside its name" % what)
            if what == "renamed":
                t.integrity(dbdir + b"/renamed.db")
            if what == "replaced":
                t.integrity(db)
                out, _ = ok(["--db", db, "-f", "json", other])
                same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(other)),
                            "%s: the index put in its place" % what)
            os.makedirs(dbdir, exist_ok=True)
            out, _ = ok(["--db", db, "-f", "json", root])
            same_groups(parse_json(out), want, "%s: the next run" % what)
            t.integrity(db)


def case_index_refused_is_left_as_it_was():
    """--db naming another program's SQLite database, or an index of
    another version, in rollback-journal mode: refused, and the file is
    left byte for byte as it was, still in its journal mode, nothing
    beside it (the WAL mode was set before the header was read, and stays
    in the file: another program's database came out in WAL mode, which
    older SQLite and network file systems cannot open)."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        for name, sql, what in (
                ("another program's", "CREATE TABLE t(x); INSERT INTO t VALUES (1);", "not a ferry-dupes index"),
                ("another version's", "PRAGMA application_id=%d; PRAGMA user_version=99; CREATE TABLE files(x);"
                 % 0x46447570, "made by another version of ferry-dupes (schema version 99")):
            db = tmp + b"/other.db"
            con = sqlite3.connect(db.decode())
            con.executescript(sql)
            con.close()
            with open(db, "rb") as f:
                before = f.read()
            t.index_error(db, tmp + b"/t", what)
            with open(db, "rb") as f:
                check(f.read() == before, "%s: the file was changed" % name)
            check(sorted(os.listdir(tmp)) == [b"other.db", b"t"], "%s: %r" % (name, os.listdir(tmp)))
            con = sqlite3.connect(db.decode())
            mode = con.execute("PRAGMA journal_mode").fetchone()[0]
            con.close()
            check(mode == "delete", "%s: journal mode %r" % (name, mode))
            os.unlink(db)


def case_index_header_without_its_table():
    """A file with a ferry-dupes header (application_id, user_version 2)
    but without the table of files, or with another table of that name:
    "damaged", with what to do (it said "no such table: files" or "table
    files has no column named dev"); the file is left as it was."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        for name, sql in (("no table", ""), ("another files", "CREATE TABLE files(x);"),
                          ("a column short", "CREATE TABLE files(dev, ino, size, mtime_ns, ctime_ns, path,"
                                             " algo, partial, full);")):
            db = tmp + b"/i.db"
            con = sqlite3.connect(db.decode())
            con.executescript("PRAGMA application_id=%d; PRAGMA user_version=2; %s" % (0x46447570, sql))
            con.close()
            with open(db, "rb") as f:
                before = f.read()
            t.index_error(db, tmp + b"/t", "damaged: a ferry-dupes header without the table of files")
            with open(db, "rb") as f:
                check(f.read() == before, "%s: the file was changed" % name)
            os.unlink(db)


def case_two_runs_on_one_index():
    """A second ferry-dupes on an index in use stops at once with a clear
    error (exit 2, nothing printed); the first completes, the index is
    sound and the next run reads nothing. A zero-length index file is a new
    index."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        t.bulk_tree(root, 300)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        db = tmp + b"/i.db"
        marker = tmp + b"/reading"
        hook = "mkdir -p '%s'; sleep 0.02" % marker.decode()
        t.settle()  # (the tree is not racily clean: the next run is to read nothing)
        first = subprocess.Popen([t.BIN, "--db", db, "-f", "json", "-j", "2", root], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=dict(os.environ, FERRY_DUPES_DEBUG_AFTER_READ=hook))
        t0 = time.monotonic()
        while not os.path.exists(marker):
            check(time.monotonic() - t0 < 60 and first.poll() is None, "the first run never read")
            time.sleep(0.01)
        for _ in range(3):
            t.index_error(db, root, "locked by another process")
        out, err = first.communicate(timeout=120)
        check(first.returncode == 0, "first run: exit %d %r" % (first.returncode, err))
        same_groups(parse_json(out), want, "the first run")
        t.integrity(db)
        out, err = ok(["--db", db, "-f", "json", "--stats", root])
        same_groups(parse_json(out), want, "the next run")
        check(t.stat_value(err, "bytes read") == 0, "the next run read bytes")
        empty = tmp + b"/empty.db"
        open(empty, "wb").close()
        out, _ = ok(["--db", empty, "-f", "json", root])
        same_groups(parse_json(out), want, "a zero-length index")
        t.integrity(empty)

def case_two_runs_started_together():
    """Two runs started at the same moment on one index, new or not, 150
    times each: one of them runs (exit 0), the other completes after it or
    stops with "locked". Both used to stop, "locked", about one pair in 30
    (each held SQLite's shared lock from reading the header and waited for
    the other's to go): a nightly job and a user's run lost both."""
    with Tmp() as tmp:
        root = tmp + b"/t"
        small_tree(root)
        db = tmp + b"/i.db"
        for new in (True, False):
            if not new:
                ok(["--db", db, "-q", root])
            for i in range(150):
                if new:
                    for f in (db, db + b"-wal", db + b"-journal"):
                        if os.path.exists(f):
                            os.unlink(f)
                runs = [subprocess.Popen([t.BIN, "--db", db, "-q", root], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE) for _ in range(2)]
                res = [(p.wait(timeout=120), p.stderr.read()) for p in runs]
                for p in runs:
                    p.stderr.close()
                label = "%s index, pair %d: %r" % ("new" if new else "an", i, res)
                check(any(rc == 0 for rc, _ in res), "both stopped: " + label)
                check(all(rc == 0 or (rc == 2 and b"locked by another process" in err) for rc, err in res), label)
        t.integrity(db)


def case_times_beyond_the_nanosecond_range():
    """Files dated 2286 and 1653 (ext4, XFS and tmpfs keep such times; the
    nanoseconds since 1970 do not fit 64 bits): grouped, indexed, re-run
    without a read, a changed one read again (the times overflowed: under
    UBSan the run aborted)."""
    with Tmp() as tmp:
        root = tmp + b"/t"
        os.mkdir(root)
        for name, data, sec in ((b"a", b"same", 10**10), (b"b", b"same", -10**10),
                                (b"c", b"diff", 10**10), (b"d", b"DIFF", 10**10)):
            with open(root + b"/" + name, "wb") as f:
                f.write(data)
            os.utime(root + b"/" + name, ns=(0, sec * 10**9 + 5))
        if os.stat(root + b"/a").st_mtime_ns != 10**19 + 5:
            raise t.Skip("this file system does not keep a time in 2286")
        db = tmp + b"/i.db"
        want = [(4, [root + b"/a", root + b"/b"])]
        for reads in (16, 0):
            out, err = ok(["--db", db, "-f", "json", "--stats", root])
            check(parse_json(out) == want, "groups %r" % out)
            check(t.stat_value(err, "bytes read") == reads, "read %r" % err[-300:])
        with open(root + b"/d", "wb") as f:
            f.write(b"diff")
        os.utime(root + b"/d", ns=(0, 10**19 + 5))
        out, err = ok(["--db", db, "-f", "json", "--verify", root])
        check(parse_json(out) == [(4, [root + b"/a", root + b"/b"]), (4, [root + b"/c", root + b"/d"])],
              "after d changed: %r" % out)
        t.integrity(db)


def btime_kept(path):
    """Whether path's file system keeps birth times (statx STATX_BTIME)."""
    p = subprocess.run(["stat", "-c", "%W", path], capture_output=True)
    return p.returncode == 0 and p.stdout.strip() not in (b"0", b"-", b"")


def case_new_file_reusing_a_deleted_inode():
    """x is deleted and a new file w, of other content, takes x's inode
    (ext4 reuses it at once) with x's size and mtime (cp -p, tar, rsync do
    that) under another path: not a rename -- w is read, and grouped by
    what it holds (it was grouped with x's duplicate y from x's row). The
    inode reuse is made here by writing w's inode into x's row (tmpfs never
    reuses one); a real rename still costs no read."""
    with Tmp() as tmp:
        if not btime_kept(tmp):
            raise t.Skip("no birth times on this file system")
        root = tmp + b"/t"
        os.mkdir(root)
        for name, data in ((b"x", b"AAAA"), (b"y", b"AAAA"), (b"z", b"BBBB")):
            with open(root + b"/" + name, "wb") as f:
                f.write(data)
            os.utime(root + b"/" + name, ns=(0, 1577836800_123456789))
        db = tmp + b"/i.db"
        out, _ = ok(["--db", db, "-f", "json", root])
        check(parse_json(out) == [(4, [root + b"/x", root + b"/y"])], "first run: %r" % out)
        real = os.path.realpath(root)
        os.unlink(root + b"/x")
        with open(root + b"/w", "wb") as f:
            f.write(b"BBBB")
        os.utime(root + b"/w", ns=(0, 1577836800_123456789))
        con = sqlite3.connect(db.decode())
        with con:
            n = con.execute("UPDATE files SET ino=? WHERE path=?", (os.stat(root + b"/w").st_ino, real + b"/x")).rowcount
        con.close()
        check(n == 1, "no row for x")
        out, err = ok(["--db", db, "-f", "json", "--stats", root])
        check(parse_json(out) == [(4, [root + b"/w", root + b"/z"])], "w grouped by x's row: %r" % out)
        check(t.stat_value(err, "bytes read") == 4, "w was not read: %r" % err[-300:])
        os.rename(root + b"/z", root + b"/z2")
        out, err = ok(["--db", db, "-f", "json", "--stats", root])
        check(parse_json(out) == [(4, [root + b"/w", root + b"/z2"])], "after a rename: %r" % out)
        check(t.stat_value(err, "bytes read") == 0, "the rename cost reads")
        t.integrity(db)


def case_hard_linked_file_rewritten_in_place():
    """x and y are two names of one file, z a copy. The index keeps the
    file under the name the walk met first, which another run may meet
    second. x is then rewritten in place with its mtime put back (cp -p
    onto an existing file does that): its ctime moved, and the path the
    walk met differs from the row's -- not a rename, since the file has
    several names: it is read, and no longer grouped with z (it kept its
    old hashes and was reported as z's duplicate without a byte read).
    The other name is put into the row here, as a walk that met y first
    would leave it; a real rename of a file with one name still costs no
    read."""
    with Tmp() as tmp:
        root = tmp + b"/t"
        os.mkdir(root)
        for name in (b"x", b"z"):
            with open(root + b"/" + name, "wb") as f:
                f.write(b"AAAAAAAA")
            os.utime(root + b"/" + name, ns=(0, 1577836800_123456789))
        os.link(root + b"/x", root + b"/y")
        db = tmp + b"/i.db"
        out, _ = ok(["--db", db, "-f", "json", root])
        check(parse_json(out) == [(8, [root + b"/x", root + b"/z"])], "first run: %r" % out)
        real = os.path.realpath(root)
        ino = os.stat(root + b"/x").st_ino
        con = sqlite3.connect(db.decode())
        with con:
            (stored,) = con.execute("SELECT path FROM files WHERE ino=?", (ino,)).fetchone()
            other = real + (b"/y" if stored == real + b"/x" else b"/x")
            con.execute("UPDATE files SET path=? WHERE ino=?", (other, ino))
        con.close()
        with open(root + b"/x", "r+b") as f:
            f.write(b"BBBBBBBB")
        os.utime(root + b"/x", ns=(0, 1577836800_123456789))
        out, err = ok(["--db", db, "-f", "json", "--stats", root])
        check(parse_json(out) == [], "x kept its old hashes: %r" % out)
        check(t.stat_value(err, "bytes read") == 8, "x was not read: %r" % err[-300:])
        want = parse_json(ok(["--no-db", "-f", "json", root])[0])
        same_groups(parse_json(ok(["--db", db, "-f", "json", root])[0]), want, "third run")
        os.rename(root + b"/z", root + b"/z2")
        out, err = ok(["--db", db, "-f", "json", "--stats", root])
        check(parse_json(out) == [], "after a rename: %r" % out)
        check(t.stat_value(err, "bytes read") == 0, "the rename cost reads: %r" % err[-300:])
        t.integrity(db)


def case_index_of_version_1_is_upgraded():
    """An index written by version 1 (no birth times) is upgraded in place
    (a column added, user_version 2), keeps its hashes (an unchanged file
    is not read), and a file renamed since is read once more (its row
    cannot tell a rename from a new file in a reused inode), then its
    next rename costs nothing."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        root, db = tmp + b"/t", tmp + b"/i.db"
        ok(["--db", db, root])
        con = sqlite3.connect(db.decode())
        con.execute("ALTER TABLE files DROP COLUMN btime_ns")
        con.execute("PRAGMA user_version=1")
        con.close()
        want = parse_json(ok(["--no-db", "-f", "json", root])[0])
        out, err = ok(["--db", db, "-f", "json", "--stats", root])
        same_groups(parse_json(out), want, "upgraded")
        check(t.stat_value(err, "bytes read") == 0, "an unchanged file was read: %r" % err[-300:])
        con = sqlite3.connect(db.decode())
        version = con.execute("PRAGMA user_version").fetchone()[0]
        cols = [c[1] for c in con.execute("PRAGMA table_info(files)")]
        con.close()
        check(version == 2 and "btime_ns" in cols, "not upgraded: version %d, columns %r" % (version, cols))
        t.integrity(db)
        # (where the file system keeps no birth times, the path decides alone)
        for old, new, reads in ((b"/-dash", b"/moved", 5 if btime_kept(tmp) else 0), (b"/moved", b"/moved2", 0)):
            os.rename(root + old, root + new)
            want = parse_json(ok(["--no-db", "-f", "json", root])[0])
            out, err = ok(["--db", db, "-f", "json", "--stats", root])
            same_groups(parse_json(out), want, new.decode())
            check(t.stat_value(err, "bytes read") == reads,
                  "%r: read %d bytes, want %d" % (new, t.stat_value(err, "bytes read"), reads))

# ---------------------------------------------------------------------------
# --verify: files that change under it, signals, descriptors

def indexed_copies(tmp, names, size=100_000, seed=5):
    """Identical files of size bytes in tmp/v, already in the index
    tmp/i.db (so that a --verify run opens them only to verify)."""
    root = tmp + b"/v"
    os.mkdir(root)
    data = dupes_tree.random.Random(seed).randbytes(size)
    for name in names:
        with open(root + b"/" + name, "wb") as f:
            f.write(data)
    ok(["--db", tmp + b"/i.db", "-q", root])
    return root


def case_verify_files_that_change():
    """Between the hash and the verification (x2 rewritten before verify
    opens it) and during the verification (the first file, the class's
    representative, grows after its first comparison): each is left out,
    with a message; the rest are compared again with another member and
    still grouped."""
    with Tmp() as tmp:
        root = indexed_copies(tmp, [b"x1", b"x2", b"x3", b"x4"])
        once = tmp + b"/once"
        before = "case \"$1\" in */x2) printf y | dd of=\"$1\" bs=1 seek=5 conv=notrunc 2>/dev/null;; esac"
        after = "case \"$1\" in */x1) mkdir '%s' 2>/dev/null && printf more >> \"$1\";; esac" % once.decode()
        rc, out, err = run(["--db", tmp + b"/i.db", "--verify", "-f", "json", root],
                           env={"FERRY_DUPES_DEBUG_BEFORE_OPEN": before, "FERRY_DUPES_DEBUG_AFTER_READ": after})
        check(rc == 0, "exit %d: %r" % (rc, err))
        check(parse_json(out) == [(100_000, [root + b"/x3", root + b"/x4"])], "groups %r" % out)
        check(b"x2: changed since it was listed: not grouped" in err, "x2: %r" % err)
        check(b"x1: changed while being read: not grouped" in err, "x1: %r" % err)
        check(b"differs" not in err, "a changed file was called different: %r" % err)
        check(b"2 changed while scanned" in err, "summary: %r" % err)


def case_verify_interrupted():
    """A stop signal during --verify ends it: the groups verified so far,
    marked partial, exit 130 (the signal was ignored until the end)."""
    with Tmp() as tmp:
        root = indexed_copies(tmp, [b"big1", b"big2"])
        for name, size in ((b"small1", 5000), (b"small2", 5000)):
            with open(root + b"/" + name, "wb") as f:
                f.write(b"s" * size)
        ok(["--db", tmp + b"/i.db", "-q", root])
        once = tmp + b"/once"
        hook = "case \"$1\" in */small1) mkdir '%s' 2>/dev/null && kill -INT $PPID;; esac" % once.decode()
        rc, out, err = run(["--db", tmp + b"/i.db", "--verify", "-f", "json", root],
                           env={"FERRY_DUPES_DEBUG_BEFORE_OPEN": hook})
        check(rc == 130, "exit %d: %r" % (rc, err))
        groups = json.loads(out)
        check([g["files"] for g in groups] == [[(root + b"/big1").decode(), (root + b"/big2").decode()]]
              and all(g["partial"] for g in groups), "groups %r" % out)
        check(b"interrupted (partial results)" in err, "summary: %r" % err)


def case_short_reads():
    """A file system that returns less than asked, and is interrupted
    (FUSE does; FERRY_DUPES_DEBUG_SHORT_READS): every read goes on until it
    has what it asked for. --verify read once and left its files out as
    "changed while being read (shorter)" or unreadable ("Interrupted system
    call")."""
    with Tmp() as tmp:
        root = tmp + b"/v"
        os.mkdir(root)
        rnd = dupes_tree.random.Random(11)
        for size in (100, 20_000, 300_000):
            data = rnd.randbytes(size)
            for name in (b"x%d" % size, b"y%d" % size):
                with open(root + b"/" + name, "wb") as f:
                    f.write(data)
        want = [(300_000, [root + b"/x300000", root + b"/y300000"]),
                (20_000, [root + b"/x20000", root + b"/y20000"]), (100, [root + b"/x100", root + b"/y100"])]
        for args in ([], ["--verify"]):
            rc, out, err = run(["--no-db", "-f", "json"] + args + [root],
                               env={"FERRY_DUPES_DEBUG_SHORT_READS": "1"})
            check(rc == 0 and parse_json(out) == want and b"changed" not in err,
                  "%r: exit %d %r %r" % (args, rc, out, err))


def case_verify_many_classes_few_descriptors():
    """With every hash forced equal, 300 files of one size are one group of
    300 different files: --verify holds two descriptors at a time, so an
    open-file limit of 24 is enough (it held one per class, and failed with
    'Too many open files')."""
    with Tmp() as tmp:
        root = tmp + b"/w"
        os.mkdir(root)
        for i in range(300):
            with open(root + b"/f%03d" % i, "wb") as f:
                f.write(b"%08d" % i)
        rc, out, err = run(["--no-db", "--verify", "-f", "json", "-j", "1", "--walkers", "1", root],
                           env={"FERRY_DUPES_DEBUG_WEAK_HASH": "1"}, rlimits={resource.RLIMIT_NOFILE: 24})
        check(rc == 0 and b"Too many open files" not in err and b"unreadable" not in err,
              "exit %d: %r" % (rc, err[-300:]))
        check(json.loads(out) == [], "groups %r" % out[:200])
        check(err.count(b"differs from the files with the same hash") == 299, "messages %r" % err[-300:])


# ---------------------------------------------------------------------------
# SIGKILL: the index after a run that could not clean up

def sound_after_kill(db, root, what):
    """The run after a killed one succeeds, gives what --no-db gives, and
    the index passes integrity_check. Returns the seconds that run took."""
    t0 = time.monotonic()
    rc, out, err = run(["--db", db, "-f", "json", root])
    took = time.monotonic() - t0
    check(rc == 0, "%s: the next run: exit %d %r" % (what, rc, err[-300:]))
    same_groups(parse_json(out), parse_json(ok(["--no-db", "-f", "json", root])[0]), what)
    t.integrity(db)
    return took


def mutate(root, rnd, i):
    """A few changes of every kind: appended, rewritten with its mtime put
    back, deleted, renamed, a new copy of another file."""
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
    a, b, c, d, e = rnd.sample(files, 5)
    with open(a, "ab") as f:
        f.write(b"x")
    st = os.stat(b)
    with open(b, "r+b") as f:
        f.write(b"Z")
    os.utime(b, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.unlink(c)
    os.rename(d, d + b".moved%d" % i)
    shutil.copyfile(e, e + b".copy%d" % i)


def case_sigkill_at_any_moment():
    """SIGKILL (no handler runs, nothing is rolled back by the program) at
    the first read, at a later read, and at six random moments of first runs
    and re-runs over a changed tree (with and without --verify): every
    next run succeeds, gives exactly the groups of a --no-db run, and the
    index passes integrity_check."""
    rnd = dupes_tree.random.Random(17)
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        t.bulk_tree(root, 600)
        db = tmp + b"/i.db"
        for k in (1, 40):  # from inside: the k-th read's hook kills a first run
            if os.path.exists(db):
                os.unlink(db)
            os.mkdir(tmp + b"/count%d" % k)
            hook = ('n=1; while ! mkdir "%s/$n" 2>/dev/null; do n=$((n+1)); done; [ $n = %d ] && kill -9 $PPID'
                    % ((tmp + b"/count%d" % k).decode(), k))
            rc, _, _ = run(["--db", db, "-q", root], env={"FERRY_DUPES_DEBUG_AFTER_READ": hook})
            check(rc == -signal.SIGKILL, "read %d: exit %d, want SIGKILL" % (k, rc))
            span = sound_after_kill(db, root, "killed at read %d" % k)
        # from outside, at a random moment within the time the last full run
        # took, until 6 runs were killed before they ended (at most 40)
        killed = 0
        for i in range(40):
            mutate(root, rnd, i)
            if i == 5:
                os.unlink(db)  # a first run again
                span = 2 * span
            args = ["--verify"] if i % 3 == 2 else []
            p = subprocess.Popen([t.BIN, "--db", db, "-q"] + args + [root],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0, span))
            p.kill()
            killed += p.wait() == -signal.SIGKILL
            span = sound_after_kill(db, root, "killed after %s" % i)
            if killed == 6:
                break
        check(killed == 6, "only %d of 40 runs were killed before they ended" % killed)


def case_sigkill_of_the_index_holder():
    """The run holding the index is killed while a second is refused: the
    lock goes with it, and the next run uses the index."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        t.bulk_tree(root, 300)
        db, marker = tmp + b"/i.db", tmp + b"/reading"
        hook = "mkdir -p '%s'; sleep 0.05" % marker.decode()
        first = subprocess.Popen([t.BIN, "--db", db, "-q", root], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=dict(os.environ, FERRY_DUPES_DEBUG_AFTER_READ=hook))
        t0 = time.monotonic()
        while not os.path.exists(marker):
            check(time.monotonic() - t0 < 60 and first.poll() is None, "the first run never read")
            time.sleep(0.01)
        t.index_error(db, root, "locked by another process")
        first.kill()
        first.wait()
        sound_after_kill(db, root, "the holder killed")

# ---------------------------------------------------------------------------
# Signals other than SIGINT

def case_sigterm_and_sighup_stop_like_ctrl_c():
    """SIGTERM and SIGHUP stop the run as the first Ctrl-C does (what was
    hashed is committed, the groups so far printed, marked partial), with
    exit status 128 + the signal; the next run resumes and is complete. Two
    of them end it at once, with the first one's status."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        t.bulk_tree(root, 300)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        for sig, status in ((signal.SIGTERM, 143), (signal.SIGHUP, 129)):
            db = tmp + b"/%d.db" % sig
            once = tmp + b"/once-%d" % sig
            # (once: mkdir is atomic. The hook then waits, and the reader
            # with it, so that the signal is handled while the run still
            # has that file to finish: ThreadSanitizer defers a signal to
            # its next safe point, and once it was handled only after the
            # other reader had hashed everything, too late to matter: exit 0.
            # 0.5 s was not enough under ThreadSanitizer on a loaded
            # machine: 1 run in 5 exited 0; 3 s: 12 of 12 as wanted.)
            hook = "mkdir '%s' 2>/dev/null && kill -%d $PPID && sleep 3" % (once.decode(), sig)
            rc, out, err = run(["--db", db, "-j", "2", "-f", "json", root], env={"FERRY_DUPES_DEBUG_AFTER_READ": hook})
            check(rc == status, "signal %d: exit %d, want %d: %r" % (sig, rc, status, err[-300:]))
            check(all(g["partial"] for g in json.loads(out)), "not marked partial")
            check(b"interrupted (partial results)" in err, "summary %r" % err[-200:])
            t.integrity(db)
            out, _ = ok(["--db", db, "-f", "json", root])
            same_groups(parse_json(out), want, "resumed after signal %d" % sig)
        db = tmp + b"/twice.db"
        hook = "exec >/dev/null 2>&1 </dev/null; kill -TERM $PPID; sleep 0.2; kill -HUP $PPID; sleep 5"
        rc, out, err = run(["--db", db, "-f", "json", root], env={"FERRY_DUPES_DEBUG_AFTER_READ": hook},
                           timeout=60)
        check(rc == 143 and out == b"", "twice: exit %d, printed %r" % (rc, out[:100]))
        t.integrity(db)



def case_signal_while_printing():
    """A first SIGINT while the groups are being printed (the program
    blocked on a full pipe) is too late to matter: the output is complete,
    not marked partial, and the status 0. A second one ends the program at
    once (status 130, the output cut short)."""
    import fcntl
    import termios
    with Tmp() as tmp:
        many = tmp + b"/many"
        os.mkdir(many)
        for i in range(3000):
            with open(many + b"/%s-%d" % (b"x" * 40, i), "wb") as f:
                f.write(b"%d" % (i % 7))
        for signals, status in ((1, 0), (2, 130)):
            if signals == 2 and t.under_tsan():
                # ThreadSanitizer runs no handler while the program is blocked
                # in write(), and keeps one pending SIGINT: a second signal
                # cannot be told from the first there.
                raise t.Skip("the second-signal half does not apply under ThreadSanitizer (the first half passed)")
            p = subprocess.Popen([t.BIN, "--no-db", "-f", "json", many], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            t0 = time.monotonic()
            while True:  # until the pipe is full: the program is printing
                pending = fcntl.ioctl(p.stdout.fileno(), termios.FIONREAD, b"\0\0\0\0")
                if int.from_bytes(pending, sys.byteorder) >= 65536:
                    break
                check(time.monotonic() - t0 < 60 and p.poll() is None, "never blocked printing")
                time.sleep(0.01)
            p.send_signal(signal.SIGINT)
            time.sleep(0.2)
            if signals == 2:
                # The second signal, again until the program ends (on a
                # loaded machine the first may not have been handled yet).
                for _ in range(100):
                    p.send_signal(signal.SIGINT)
                    try:
                        p.wait(timeout=0.5)
                        break
                    except subprocess.TimeoutExpired:
                        pass
            out, err = p.communicate(timeout=60)
            check(p.returncode == status, "%d signals: exit %d %r" % (signals, p.returncode, err))
            if status == 0:
                groups = json.loads(out)
                check(len(groups) == 7 and not any("partial" in g for g in groups), "output %r" % out[-200:])
                full = len(out)
            else:
                check(len(out) < full, "the second signal did not cut the output short (%d bytes)" % len(out))


def case_ignored_signals_stay_ignored():
    """A stop signal ignored when the program starts (nohup's SIGHUP, the
    SIGINT of a background job of a shell without job control) stays
    ignored: the run completes (the handler replaced SIG_IGN, so nohup did
    not protect a run)."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        t.bulk_tree(root, 200)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        hook = "mkdir '%s' 2>/dev/null && kill -HUP $PPID && kill -INT $PPID" % (tmp + b"/once").decode()
        env = dict(os.environ, FERRY_DUPES_DEBUG_AFTER_READ=hook)

        def ignore():
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        p = subprocess.run([t.BIN, "--no-db", "-f", "json", root], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, preexec_fn=ignore, timeout=120)
        check(p.returncode == 0 and os.path.isdir(tmp + b"/once"), "exit %d: %r" % (p.returncode, p.stderr))
        same_groups(parse_json(p.stdout), want, "with SIGHUP and SIGINT ignored")

# ---------------------------------------------------------------------------
# Resource limits

def sanitized():
    """The program is an ASan or TSan build (they need terabytes of address
    space: RLIMIT_AS cannot be tested on them)."""
    with open(t.BIN, "rb") as f:
        data = f.read()
    return b"__asan_init" in data or b"__tsan_init" in data


def case_open_file_limit():
    """RLIMIT_NOFILE of 16: the run uses as many threads as fit (two
    descriptors each), says so, and finds every group, with the index and
    --verify; below what one walker and one reader need it stops at once
    with a message. 3,000 file PATHs in one directory share its descriptor
    (each had its own: 'Too many open files' at the 1,024th)."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        t.bulk_tree(root, 300)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        nofile = resource.RLIMIT_NOFILE
        for args in (["--no-db"], ["--db", tmp + b"/i.db", "--verify"], ["--db", tmp + b"/i.db"]):
            rc, out, err = run(args + ["-f", "json", root], rlimits={nofile: 16})
            check(rc == 0 and b"Too many open files" not in err, "%r: exit %d %r" % (args, rc, err[-300:]))
            check(re.search(rb"the open-file limit \(ulimit -n\) is 16: using \d walker threads? and \d reader threads?", err),
                  "no message: %r" % err[-300:])
            same_groups(parse_json(out), want, " ".join(map(str, args)))
        rc, out, err = run(["--no-db", root], rlimits={nofile: 10})
        check(rc == 2 and b"the open-file limit (ulimit -n) is 10: this run needs at least" in err,
              "10: exit %d %r" % (rc, err))
        flat = tmp + b"/flat"
        os.mkdir(flat)
        for i in range(3000):
            with open(flat + b"/f%d" % i, "wb") as f:
                f.write(b"%d" % (i % 10))
        names = sorted(os.listdir(flat))
        out, err = ok(["--no-db", "-f", "json"] + names, cwd=flat, rlimits={nofile: 64})
        check(len(json.loads(out)) == 10 and b"Too many" not in err, "3,000 PATHs: %r" % err[-300:])


def case_threads_that_cannot_start():
    """Address space too small for the threads asked for (RLIMIT_AS): never
    a crash (it called abort()); either a complete, correct run -- with
    fewer threads, said on stderr -- or exit 2 with a message. The most
    threads allowed (1,024 + 1,024) run with no limit."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        t.bulk_tree(root, 200)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        out, _ = ok(["--no-db", "-f", "json", "--threads", "1024", "--walkers", "1024", root])
        same_groups(parse_json(out), want, "1024 + 1024 threads")
        if sanitized():
            raise t.Skip("a sanitizer build cannot run under RLIMIT_AS")
        outcomes = set()
        for mib in (24, 32, 48, 64, 256, 4096):
            for args in (["--no-db"], ["--db", tmp + b"/i%d.db" % mib]):
                rc, out, err = run(args + ["-f", "json", "--threads", "512", root],
                                   rlimits={resource.RLIMIT_AS: mib << 20})
                check(rc in (0, 2), "%d MiB %r: exit %d (a crash?) %r" % (mib, args, rc, err[-300:]))
                if rc == 0:
                    same_groups(parse_json(out), want, "%d MiB" % mib)
                else:
                    check(re.search(rb"cannot start the \w+ thread|out of memory", err) and out == b"",
                          "%d MiB: %r" % (mib, err[-300:]))
                if b"started only" in err:
                    outcomes.add("fewer")
                outcomes.add(rc)
        check(0 in outcomes and "fewer" in outcomes, "the limits tested nothing: %r" % outcomes)

def failure_tree(root, n=200):
    """The bulk tree, and big files whose partial hashes agree (three
    copies and one that differs only in the middle): full reads too, so
    the matcher sends jobs of its own."""
    t.bulk_tree(root, n)
    big = bytes(range(256)) * 400
    odd = big[:50000] + b"x" + big[50001:]
    for name, data in ((b"d00/big1", big), (b"d05/big2", big), (b"d09/big3", big), (b"d11/big4", odd)):
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)


def failed_run(rc, out, err, what, why=rb"out of memory"):
    """Exit 2, the reason on stderr, nothing on stdout: never a short list
    of groups under status 0."""
    check(rc == 2 and re.search(why, err) and out == b"",
          "%s: exit %d, stdout %r, stderr %r" % (what, rc, out[:200], err[-300:]))


def case_walk_out_of_memory():
    """A directory record that cannot be allocated (the walk's arena is out
    of memory) ends the run with exit 2 and "out of memory": it silently
    left the directory out (found under RLIMIT_AS: 0 files, exit 0, no
    groups). FERRY_DUPES_DEBUG_FAIL=dir:K fails the K-th record."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        failure_tree(root)
        for k in (1, 9, 17):
            for args in (["--no-db"], ["--db", tmp + b"/i.db"]):
                rc, out, err = run(args + ["-f", "json", "--walkers", "3", root],
                                   env={"FERRY_DUPES_DEBUG_FAIL": "dir:%d" % k})
                failed_run(rc, out, err, "dir:%d %r" % (k, args))
        rc, out, err = run(["--no-db", "-f", "json", root], env={"FERRY_DUPES_DEBUG_FAIL": "dir:18"})
        check(rc == 0, "dir:18 (there are 17): exit %d %r" % (rc, err[-300:]))
        same_groups(parse_json(out), dupes_tree.expected_groups(dupes_tree.scan(root)), "dir:18")


def case_thread_start_fails_at_each():
    """The K-th thread start fails, for every K (writer, matcher, grouper,
    readers, walkers): a correct run with fewer threads (said on stderr) or
    exit 2 naming the thread, nothing printed; never a hang or a short
    result."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        failure_tree(root)
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        outcomes = set()
        for args in (["--no-db"], ["--db", tmp + b"/i.db"]):
            starts = 3 + 2 + (1 if args[0] == "--db" else 0)  # readers, walkers, the stages
            for k in range(1, starts + 2):
                rc, out, err = run(args + ["-f", "json", "--threads", "3", "--walkers", "2", root],
                                   env={"FERRY_DUPES_DEBUG_FAIL": "thread:%d" % k}, timeout=60)
                what = "thread:%d %r" % (k, args)
                if rc == 0:
                    same_groups(parse_json(out), want, what)
                    check((b"started only" in err) == (k <= starts), "%s: %r" % (what, err[-300:]))
                else:
                    failed_run(rc, out, err, what, rb"cannot start the [a-z ]+ thread")
                outcomes.add(rc)
        check(outcomes == {0, 2}, "thread:K tested nothing: %r" % outcomes)


def case_test_hooks_refuse_bad_values():
    """The fault and signal hooks take SITE:K with K from 1 to 2^64 - 1;
    anything else is refused with exit 2 before the scan (K beyond 2^64
    was taken as 2^64 - 1, a hook that never fires: a test that passed
    without testing). done:K fires once a run: only done:1; the clock hook
    takes nanoseconds from 1 to 2^63 - 1, digits only."""
    with Tmp() as tmp:
        small_tree(tmp + b"/t")
        for var, value in (("FAIL", "dir:0"), ("FAIL", "dir:-1"), ("FAIL", "dir:"), ("FAIL", "dir"),
                           ("FAIL", "dir:1x"), ("FAIL", "dir: 1"), ("FAIL", "nosuch:1"),
                           ("FAIL", "dir:18446744073709551616"), ("FAIL", "send:99999999999999999999999"),
                           ("SIGINT", "walk:0"), ("SIGINT", "hash:18446744073709551616"), ("SIGINT", "row:"),
                           ("SIGINT", "done:2"), ("SIGINT", "done:0"), ("CLOCK", "0"), ("CLOCK", "-5"),
                           ("CLOCK", "+5"), ("CLOCK", " 5"), ("CLOCK", "5s"), ("CLOCK", "9223372036854775808")):
            rc, out, err = run(["--no-db", tmp + b"/t"], env={"FERRY_DUPES_DEBUG_" + var: value})
            check(rc == 2 and out == b"" and ("FERRY_DUPES_DEBUG_%s=%s: want" % (var, value)).encode() in err,
                  "%s=%s: exit %d %r" % (var, value, rc, err))
        rc, out, err = run(["--no-db", "-q", tmp + b"/t"], env={"FERRY_DUPES_DEBUG_FAIL": "dir:18446744073709551615"})
        check(rc == 0 and out and not err, "dir:2^64-1: exit %d %r" % (rc, err))


def fail_each(root, site, args_list, least, most):
    """Run with FERRY_DUPES_DEBUG_FAIL=SITE:K for K = 1, 2, ... until a run
    has fewer than K such events: each run before it exits 2 with "out of
    memory" and prints nothing; that last one is complete and correct, and
    K is above least (the events a run must have) and below most."""
    want = dupes_tree.expected_groups(dupes_tree.scan(root))
    for args in args_list:
        for k in range(1, most):
            what = "%s:%d %r" % (site, k, args)
            rc, out, err = run(args + ["-f", "json", "--threads", "2", "--walkers", "2", root],
                               env={"FERRY_DUPES_DEBUG_FAIL": "%s:%d" % (site, k)}, timeout=60)
            if rc == 0:
                same_groups(parse_json(out), want, what)
                check(k > least, "%s: fewer than %d %s events in the run" % (what, least, site))
                break
            failed_run(rc, out, err, what)
        else:
            fail("%r: %d %s events or more" % (args, most, site))


def case_dir_set_that_cannot_grow():
    """A directory that cannot be recorded in the set of directories listed
    (its table cannot grow), at each K-th directory: exit 2 and "out of
    memory", never a crash nor a directory silently left out (or walked
    with no loop check). FERRY_DUPES_DEBUG_FAIL=dirset:K fails the K-th."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        failure_tree(root)  # 18 directories
        fail_each(root, "dirset", [["--no-db"], ["--db", tmp + b"/i.db"]], 18, 20)


def case_sends_that_fail():
    """A stage's channel send that fails (-ENOMEM: an unbounded channel that
    cannot grow), at each K-th send: exit 2 and "out of memory", never a
    hang (the matcher counts results that will not come) nor a silent
    loss. FERRY_DUPES_DEBUG_FAIL=send:K fails the K-th send."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        failure_tree(root)
        fail_each(root, "send", (["--no-db"], ["--db", tmp + b"/i.db"]), 5, 200)


def case_opens_out_of_memory():
    """A reader's or --verify's open that fails for lack of memory, at each
    K-th open: exit 2 and "out of memory" -- not an unreadable file left
    out under status 0, nor (--verify) a partial report as if interrupted
    (exit 130). FERRY_DUPES_DEBUG_FAIL=open:K fails the K-th open."""
    with Tmp() as tmp:
        root = tmp + b"/bulk"
        failure_tree(root, 40)
        fail_each(root, "open", (["--no-db"], ["--no-db", "--verify"]), 40, 1000)


# ---------------------------------------------------------------------------
# Stale hashes, non-blocking files, late signals

def write_files(root, files):
    """files: {name: bytes}, created under root (made)."""
    os.makedirs(root, exist_ok=True)
    for name, data in files.items():
        with open(root + b"/" + name, "wb") as f:
            f.write(data)


def row_hashes(db, path):
    """(partial, full) of path's index row, or None: no row."""
    con = sqlite3.connect(db.decode())
    try:
        r = con.execute("SELECT partial, full FROM files WHERE path = ?", (path,)).fetchall()
    finally:
        con.close()
    return r[0] if r else None


def case_verify_mismatch_forgets_the_stale_hashes():
    """A row whose hashes no longer match its file (rewritten in the tick
    it was read in, or renamed without a birth time to tell) groups it
    wrongly; --verify splits the group, and the hashes of the group's
    files leave the index: the next run, without --verify, reads them
    again instead of trusting the stale hash once more."""
    with Tmp() as tmp:
        root, db = tmp + b"/v", tmp + b"/i.db"
        same = dupes_tree.random.Random(3).randbytes(5000)
        write_files(root, {b"a": same, b"c": same, b"b": dupes_tree.random.Random(4).randbytes(5000)})
        a, b, c = root + b"/a", root + b"/b", root + b"/c"
        ok(["--db", db, "-q", root])
        con = sqlite3.connect(db.decode())  # b's row takes a's hashes: stale
        con.execute("UPDATE files SET partial = (SELECT partial FROM files WHERE path = ?1),"
                    " full = (SELECT full FROM files WHERE path = ?1) WHERE path = ?2", (a, b))
        con.commit()
        con.close()
        out, _ = ok(["--db", db, "-f", "json", root])
        check(parse_json(out) == [(5000, [a, b, c])], "the stale row is not trusted: test is void: %r" % out)
        rc, out, err = run(["--db", db, "--verify", "-f", "json", root])
        check(rc == 0 and parse_json(out) == [(5000, [a, c])], "--verify: exit %d %r %r" % (rc, out, err))
        check(b"differs from the files with the same hash" in err, "no message: %r" % err)
        for p in (a, b, c):
            check(row_hashes(db, p) == (None, None), "%r keeps its hashes: %r" % (p, row_hashes(db, p)))
        log = tmp + b"/reads.log"
        out, _ = ok(["--db", db, "-f", "json", root], env={"FERRY_DUPES_DEBUG_READ_LOG": log})
        check(parse_json(out) == [(5000, [a, c])], "the stale hash was trusted again: %r" % out)
        check((b"P", b) in t.read_log(log), "b was not read again: %r" % t.read_log(log))
        check(row_hashes(db, b)[1] is not None, "b's row got no new hash")
        # a group that --verify confirms keeps its hashes
        ok(["--db", db, "--verify", "-q", root])
        check(row_hashes(db, a)[1] is not None, "a confirmed group lost its hashes")


def case_verify_cannot_forget_in_a_moved_index():
    """--verify splits a group (every hash forced to 0) while the index has
    been moved away: the stale hashes cannot be forgotten where the next
    run looks, so it is an index failure -- a message, exit 2, nothing
    printed -- not a silent success that leaves them trusted."""
    with Tmp() as tmp:
        root, db = tmp + b"/t", tmp + b"/i.db"
        write_files(root, {b"a": b"same1", b"b": b"same2"})
        weak = {"FERRY_DUPES_DEBUG_WEAK_HASH": "1"}
        out, _ = ok(["--db", db, "-f", "json", root], env=weak)
        check(len(json.loads(out)) == 1, "the weak hash did not group them: test is void")
        hook = "mv -f '%s' '%s' 2>/dev/null; :" % (db.decode(), (tmp + b"/moved.db").decode())
        rc, out, err = run(["--db", db, "--verify", "-f", "json", root],
                           env=dict(weak, FERRY_DUPES_DEBUG_BEFORE_OPEN=hook))
        check(rc == 2 and out == b"", "exit %d %r %r" % (rc, out, err))
        check(b"forgetting the hashes --verify found stale: it was deleted, moved or replaced" in err, "%r" % err)


def case_verify_changed_file_is_no_split():
    """--verify compares each file with the first member of every class of
    its group; x1 (the first) changes before the next comparison opens it,
    so its class is left without members. That is a file that changed, not
    a group that split: the others keep their hashes in the index (they
    were forgotten, and read again by the next run), and they are grouped
    whatever the heap held (the classes of the files not yet compared were
    read from memory never written). With two files and with four."""
    for names in ([b"x1", b"x2"], [b"x1", b"x2", b"x3", b"x4"]):
        with Tmp() as tmp:
            root, db = indexed_copies(tmp, names), tmp + b"/i.db"
            os.mkdir(tmp + b"/count")
            # x1's opens in the run: 1 to place it, 2 to compare x2 with it
            hook = nth_open_hook(tmp + b"/count", "x1", 2, 'printf more >> "$1"')
            rc, out, err = run(["--db", db, "--verify", "-f", "json", root],
                               env={"FERRY_DUPES_DEBUG_BEFORE_OPEN": hook})
            label = "%d files" % len(names)
            check(rc == 0, "%s: exit %d %r" % (label, rc, err))
            want = [(100_000, [root + b"/" + n for n in names[1:]])] if len(names) > 2 else []
            check(parse_json(out) == want, "%s: groups %r" % (label, out))
            check(b"x1: changed since it was listed: not grouped" in err, "%s: %r" % (label, err))
            check(b"differs" not in err, "%s: a changed file made a split: %r" % (label, err))
            for n in names[1:]:
                check(row_hashes(db, root + b"/" + n)[1] is not None,
                      "%s: %r lost its hashes: %r" % (label, n, err))


def case_stale_indexed_partial_hash_is_forgotten():
    """An index row whose partial hash is stale (the file's stat as it
    was: rewritten in the tick it was read in, by a version without the
    racily clean rule, or a row gone wrong) puts the file in the wrong
    partial group; its full read disagrees with that partial hash. It was
    left out as "changed between its partial and full reads" by every run,
    its real duplicate missed for ever. Now the stale row is said as much,
    written without hashes, and the next run groups the file rightly."""
    with Tmp() as tmp:
        root, db = tmp + b"/t", tmp + b"/i.db"
        rnd = dupes_tree.random.Random(1)
        x, y = rnd.randbytes(100_000), rnd.randbytes(100_000)
        write_files(root, {b"a": x, b"b": x, b"c": y})
        a, b, c = root + b"/a", root + b"/b", root + b"/c"
        ok(["--db", db, "-q", root])
        con = sqlite3.connect(db.decode())  # b takes c's partial hash, and no full one
        con.execute("UPDATE files SET partial = (SELECT partial FROM files WHERE path = ?1), full = NULL"
                    " WHERE path = ?2", (c, b))
        con.commit()
        con.close()
        rc, out, err = run(["--db", db, "-f", "json", root])
        check(rc == 0 and parse_json(out) == [], "exit %d %r %r" % (rc, out, err))
        check(b"/t/b: its partial hash in the index was stale: not grouped" in err and b"changed" not in err,
              "message %r" % err)
        check(row_hashes(db, b) == (None, None), "b's row keeps a hash: %r" % (row_hashes(db, b),))
        out, err = ok(["--db", db, "-f", "json", root])
        check(parse_json(out) == [(100_000, [a, b])] and b"stale" not in err, "the next run: %r %r" % (out, err))


def case_files_are_read_blocking():
    """Files are opened non-blocking (a FIFO put in a file's place must not
    hang the open), then made blocking before they are read, by the
    readers and by --verify: no read of a regular file meets EAGAIN.
    The after-read hook looks at the program's descriptor of the file in
    /proc/PID/fdinfo."""
    with Tmp() as tmp:
        root = tmp + b"/t"
        same = b"z" * 40000  # (beyond 2 * 16 KiB: partial and full reads)
        write_files(root, {b"a": same, b"b": same})
        log = tmp + b"/flags"
        hook = ('for f in /proc/$PPID/fd/*; do [ "$(readlink "$f")" = "$1" ] && '
                'sed -n "s/^flags:[[:space:]]*//p" "/proc/$PPID/fdinfo/${f##*/}" >> \'%s\'; done; :'
                % log.decode())
        out, err = ok(["--no-db", "--verify", "-f", "json", root], env={"FERRY_DUPES_DEBUG_AFTER_READ": hook})
        check(parse_json(out) == [(40000, [root + b"/a", root + b"/b"])], "groups %r" % out)
        with open(log) as f:
            flags = [int(x, 8) for x in f.read().split()]
        check(len(flags) >= 6, "the hook saw %d descriptors: test is void" % len(flags))
        check(not any(x & os.O_NONBLOCK for x in flags), "read with O_NONBLOCK: %s" % [oct(x) for x in flags])


def case_read_meets_eagain():
    """A read that fails with EAGAIN (the file made non-blocking by
    something else: FERRY_DUPES_DEBUG_FAIL=again:K) is made blocking again
    and read on: the same groups, no read error, for every K, readers and
    --verify alike."""
    with Tmp() as tmp:
        root = tmp + b"/t"
        big = dupes_tree.random.Random(9).randbytes(100_000)
        write_files(root, {b"a": b"s" * 5000, b"b": b"s" * 5000, b"c": big, b"d": big, b"e": b"x" * 7})
        want = [(100_000, [root + b"/c", root + b"/d"]), (5000, [root + b"/a", root + b"/b"])]
        for args in (["--no-db"], ["--no-db", "--verify"]):
            k = 0
            while True:
                k += 1
                check(k < 200, "the hook never ran out")
                rc, out, err = run(args + ["-q", "-f", "json", root], env={"FERRY_DUPES_DEBUG_FAIL": "again:%d" % k})
                check(rc == 0 and parse_json(out) == want and not err,
                      "%r again:%d: exit %d %r %r" % (args, k, rc, out, err))
                if k > 30:  # (more reads than the run makes: the hook no longer fires)
                    break


def case_signal_after_the_scan_is_not_partial():
    """A stop signal that comes once the scan is over (the index being
    closed, the groups built: FERRY_DUPES_DEBUG_SIGINT=done:1) cuts
    nothing short: the groups are complete, not marked partial, exit
    status 0, and the index holds the whole run (a deleted file's row
    gone, nothing to read again). With --verify the signal ends the
    verification, which it does cut short: partial, 130."""
    with Tmp() as tmp:
        root, db = tmp + b"/t", tmp + b"/i.db"
        small_tree(root)
        with open(root + b"/gone", "wb") as f:
            f.write(b"gone")
        ok(["--db", db, "-q", root])
        os.unlink(root + b"/gone")
        with open(root + b"/new1", "wb") as f:
            f.write(b"new!")
        with open(root + b"/new2", "wb") as f:
            f.write(b"new!")
        want = dupes_tree.expected_groups(dupes_tree.scan(root))
        late = {"FERRY_DUPES_DEBUG_SIGINT": "done:1"}
        for fmt in ("json", "text"):
            rc, out, err = run(["--db", db, "-f", fmt, root], env=late)
            check(rc == 0, "%s: exit %d %r" % (fmt, rc, err))
            check(b"partial" not in out and b"interrupted" not in err, "%s: marked partial: %r %r" % (fmt, out, err))
        rc, out, err = run(["--db", db, "-f", "json", root], env=late)
        same_groups(parse_json(out), want, "signal after the scan")
        check(not any(p.endswith(b"/gone") for p, *_ in t.rows(db)), "the deleted file's row stayed")
        out, err = ok(["--db", db, "--stats", root])
        check(t.stat_value(err, "bytes read") == 0, "the next run read again")
        rc, out, err = run(["--db", db, "--verify", "-f", "json", root], env=late)
        check(rc == 130 and all(g.get("partial") for g in json.loads(out)) and b"interrupted" in err,
              "--verify: exit %d %r %r" % (rc, out, err))


def case_racily_clean_rows_keep_no_hashes():
    """A file read in the clock tick of its last change (its ctime: on
    kernels before 6.13 a tick is ~4 ms) could be rewritten right after the
    read with neither its size nor its times moving: the index row of such
    a racily clean file keeps no hashes, and the next run reads it again
    instead of trusting a stale hash. Also when its mtime was put back to
    an old one (utimensat): only the ctime cannot be set. Deterministic:
    FERRY_DUPES_DEBUG_CLOCK makes the run read "now" as the files' own
    ctime, the file system's clock at their last change. Files changed
    before -- one with an old mtime, one with a future one -- keep their
    hashes and are not read again."""
    with Tmp() as tmp:
        root, db = tmp + b"/t", tmp + b"/i.db"
        rnd = dupes_tree.random.Random(11)
        now = time.time_ns()
        day = 86400 * 10**9
        write_files(root, {b"old": rnd.randbytes(3000), b"old-big": rnd.randbytes(90_000),
                           b"future": rnd.randbytes(3000)})
        for name, when in ((b"old", now - day), (b"old-big", now - day), (b"future", now + day)):
            os.utime(root + b"/" + name, ns=(when, when))
        t.settle()  # (their ctimes a tick older than the racy ones')
        write_files(root, {b"racy": rnd.randbytes(3000), b"racy-big": rnd.randbytes(90_000),
                           b"put-back": rnd.randbytes(3000)})
        os.utime(root + b"/put-back", ns=(now - day, now - day))
        sts = [os.stat(root + b"/" + name) for name in (b"racy", b"racy-big", b"put-back")]
        clock = min(st.st_ctime_ns for st in sts)  # (the first one's last change)
        check(all(os.stat(root + b"/" + name).st_ctime_ns < clock for name in (b"old", b"old-big", b"future")),
              "the old files' ctimes are not older")
        ok(["--db", db, "-q", root], env={"FERRY_DUPES_DEBUG_CLOCK": str(clock)})
        racy = {b"racy", b"racy-big", b"put-back"}
        for name in (b"old", b"old-big", b"future", b"racy", b"racy-big", b"put-back"):
            h = row_hashes(db, root + b"/" + name)
            check(h is not None and (h == (None, None)) == (name in racy), "%r: row %r" % (name, h))
        log = tmp + b"/reads.log"
        ok(["--db", db, "-q", root], env={"FERRY_DUPES_DEBUG_READ_LOG": log})
        read = {p for _, p in t.read_log(log)}
        check(read == {root + b"/" + name for name in racy}, "read on the rerun: %r" % sorted(read))
        # read now, ticks later by the real clock: hashes kept, no more reads
        log2 = tmp + b"/reads2.log"
        ok(["--db", db, "-q", root], env={"FERRY_DUPES_DEBUG_READ_LOG": log2})
        check(t.read_log(log2) == [], "read again: %r" % t.read_log(log2))


if __name__ == "__main__":
    sys.exit(t.main(globals()))
