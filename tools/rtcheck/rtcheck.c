/* SPDX-License-Identifier: MIT */
/* libferry-rtcheck.so: a real-time-safety checker loaded with LD_PRELOAD.
 *
 *     LD_PRELOAD=/path/to/libferry-rtcheck.so ./my_audio_app
 *
 * It interposes the calls a real-time thread must not make (the malloc family
 * and free, pthread mutex/cond/rwlock waits and their clock forms,
 * condition signals (pthread_cond_signal/broadcast, cnd_signal/broadcast;
 * not unlocks, nor sem_post), spin
 * locks, semaphores, C11 mtx/cnd/thrd waits, pthread_once and call_once
 * while their routine has not returned, sleeps, waits for a child
 * (wait/waitpid/waitid/wait3/wait4) or a signal (pause, sigsuspend, sigwait, ...),
 * read/write/open/close and the other I/O calls (pread/pwrite, readv/writev,
 * preadv/pwritev and their flag forms, aio_suspend, select/pselect,
 * socket send/recv/accept/connect and
 * their batched forms, sendfile, fsync/syncfs/msync, flock/lockf),
 * poll/epoll_wait/epoll_pwait2,
 * syscall(SYS_futex, ...), pthread_join, pthread_barrier_wait, ending the
 * thread (pthread_exit, thrd_exit), starting a
 * thread or a process (pthread_create, fork, vfork, posix_spawn, system),
 * the dynamic loader (dlopen, dlmopen, dlclose), fcntl's lock
 * waits (F_SETLKW, F_OFD_SETLKW), POSIX message queues, System V
 * semaphores and message queues (semop, semtimedop, msgsnd, msgrcv), mmap/munmap/
 * mprotect/mremap, brk and sbrk (a nonzero increment), the
 * stdio output calls: printf, fprintf, vprintf, vfprintf, dprintf,
 * vdprintf, puts, fputs, fputc, putc, putchar, fwrite, fflush, perror, their
 * _unlocked and wide-character forms (wprintf, fputws, ...), and stdio
 * input: fread, fgets, fgetc, getc, getchar, getline, getdelim, scanf,
 * fscanf, vscanf, vfscanf, their _unlocked and wide forms, and the
 * __overflow/__uflow that the inline putc_unlocked/getc_unlocked call
 * (STDIO_CALLS), and opening, closing and moving in a stream (fopen,
 * fclose, fseek, ftell, ...: STREAM_CALLS) and the calls that take its
 * lock (flockfile, feof, ungetc, ...: STREAM_LOCK_CALLS); syslog and
 * vsyslog; see
 * SIMPLE_CALLS; and the forms that _FORTIFY_SOURCE and 64-bit time on a
 * 32-bit target turn them into, FORTIFY_CALLS and TIME64_CALLS). Each
 * wrapper asks whether the calling thread is inside a ferry real-time
 * section (ferry_rt_enter/ferry_rt_exit); if it is, the checker prints
 *
 *     ferry-rtcheck: <call> in real-time section
 *
 * and a backtrace to stderr, then aborts (FERRY_RTCHECK=warn: reports and
 * continues; FERRY_RTCHECK_SITES=once: reports each call site once, see
 * site_first_report). Otherwise it forwards to the next definition
 * (dlsym(RTLD_NEXT, ...)).
 *
 * How the checker learns the depth: libferry's rt.c looks up
 * ferry_rtcheck_register() with dlsym(RTLD_DEFAULT, ...) in a constructor
 * and, when found, registers a probe that returns the address of the calling
 * thread's depth counter. This works when libferry is a shared library and
 * when it is linked statically into the program (several copies may
 * register). The checker never needs to find a symbol of the program.
 *
 * Only calls that go through the dynamic linker are seen: calls that glibc
 * makes internally (stdio's own write(), for instance) are not, nor are
 * statically linked programs. See docs/rt.md.
 */
/* The checker defines read, printf, open, ... itself: the inline checking
 * versions that _FORTIFY_SOURCE (a distribution's default flags) puts in
 * glibc's headers under those names must not be there. */
#undef _FORTIFY_SOURCE
/* Likewise open and open64 both: with 64-bit file offsets (on 32-bit
 * targets, where a distribution's flags may ask for them) the headers
 * would name open open64, and the two definitions would clash. 64-bit
 * time (_TIME_BITS=64) needs them, so it goes too. Programs built with
 * 64-bit offsets call open64, which is checked; on a 32-bit target,
 * programs built with 64-bit time call the _time64 forms of the timed
 * calls (__nanosleep64, ...), which are checked too (TIME64_CALLS). */
#undef _FILE_OFFSET_BITS
#undef _TIME_BITS
#include <aio.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#define EXPORT __attribute__((visibility("default")))

/* A 32-bit target whose time_t is 32 bits by default (i386, arm): there
 * glibc (2.34 and later) gives a program built with _TIME_BITS=64 the
 * _time64 forms of the timed calls, which the checker interposes as well
 * (TIME64_CALLS). __TIMESIZE is the target's default, which _TIME_BITS
 * does not change. */
#if defined(__TIMESIZE) && __TIMESIZE == 32
#define HAVE_TIME64_CALLS 1
#else
#define HAVE_TIME64_CALLS 0
#endif
#define IE __attribute__((tls_model("initial-exec")))

/* ------------------------------------------------------------------ */
/* Registered probes: each returns the address of one library copy's
 * thread-local real-time depth for the calling thread. */
#define MAX_PROBES 16
typedef unsigned *(*probe_fn)(void);
static _Atomic(probe_fn) probes[MAX_PROBES];
static atomic_uint nprobes;

/* Set while this thread is inside the checker (reporting, resolving): the
 * wrappers then forward without checking, so the checker never recurses. */
static __thread int in_checker IE;
static int warn_only;
static int flag_all_syscalls;   /* FERRY_RTCHECK_SYSCALLS=all */
static int once_per_site;       /* FERRY_RTCHECK_SITES=once */

EXPORT int ferry_rtcheck_register(unsigned *(*probe)(void))
{
    unsigned n = atomic_load_explicit(&nprobes, memory_order_relaxed);
    if (n > MAX_PROBES)
        n = MAX_PROBES;
    for (unsigned i = 0; i < n; i++)
        if (atomic_load_explicit(&probes[i], memory_order_acquire) == probe)
            return 0;
    /* A slot an unloaded copy gave back (ferry_rtcheck_unregister), else a
     * new one. Release (both): pairs with the acquire load in
     * thread_in_rt(). */
    for (unsigned i = 0; i < n; i++) {
        probe_fn none = NULL;
        if (atomic_compare_exchange_strong_explicit(&probes[i], &none, probe,
                                                    memory_order_release, memory_order_relaxed))
            return 0;
    }
    unsigned slot = atomic_fetch_add_explicit(&nprobes, 1, memory_order_relaxed);
    if (slot >= MAX_PROBES)
        return -ENOSPC;
    atomic_store_explicit(&probes[slot], probe, memory_order_release);
    return 0;
}

/* A library copy that is being unloaded (dlclose of libferry.so, or of a
 * plugin that linked libferry.a) takes its probe back: the probe's code is
 * about to be unmapped, and the next wrapper to call it would crash. A
 * thread already inside thread_in_rt() with the old pointer still races
 * with the unmapping, as any call into a library being closed does. */
EXPORT void ferry_rtcheck_unregister(unsigned *(*probe)(void))
{
    unsigned n = atomic_load_explicit(&nprobes, memory_order_relaxed);
    if (n > MAX_PROBES)
        n = MAX_PROBES;
    for (unsigned i = 0; i < n; i++) {
        probe_fn p = probe;
        /* Relaxed: nothing is published with the empty slot. */
        atomic_compare_exchange_strong_explicit(&probes[i], &p, NULL, memory_order_relaxed,
                                                memory_order_relaxed);
    }
}

/* True when the calling thread is inside a real-time section (of any
 * registered library copy). */
static bool thread_in_rt(void)
{
    if (in_checker)
        return false;
    unsigned n = atomic_load_explicit(&nprobes, memory_order_relaxed);
    if (n > MAX_PROBES)
        n = MAX_PROBES;
    for (unsigned i = 0; i < n; i++) {
        probe_fn p = atomic_load_explicit(&probes[i], memory_order_acquire);
        if (p && *p() != 0)
            return true;
    }
    return false;
}

/* For tests and tools: is the checker loaded and does it see the calling
 * thread as real-time? */
EXPORT bool ferry_rtcheck_thread_in_rt(void)
{
    return thread_in_rt();
}

/* ------------------------------------------------------------------ */
/* Resolving the next definitions. dlsym() may call calloc/malloc/free
 * before the real ones are known: those get memory from a small static
 * arena, and free() ignores arena pointers. */
static char arena[16384] __attribute__((aligned(64)));
static atomic_size_t arena_used;

static void *arena_alloc(size_t n)
{
    if (n > sizeof arena)
        return NULL; /* also keeps the rounding below from wrapping */
    n = (n + 63) & ~(size_t)63;
    size_t off = atomic_fetch_add_explicit(&arena_used, n, memory_order_relaxed);
    if (off + n > sizeof arena)
        return NULL;
    return arena + off;   /* zero-filled: static storage, never reused */
}

static bool in_arena(const void *p)
{
    return (const char *)p >= arena && (const char *)p < arena + sizeof arena;
}

static __thread int resolving IE;

/* For the checker's own tests: make this thread's allocations come from
 * the arena, as they do while a definition is being resolved. */
EXPORT void ferry_rtcheck__test_resolving(int on)
{
    resolving = on;
}

static void *resolve(const char *name, const char *version)
{
    resolving++;
    void *p = version ? dlvsym(RTLD_NEXT, name, version) : NULL;
    if (!p)
        p = dlsym(RTLD_NEXT, name);
    resolving--;
    return p;
}

#define REAL(ret, name, params, version)                                  \
    typedef ret (*name##_fn) params;                                     \
    static _Atomic(name##_fn) real_##name;                               \
    static name##_fn get_##name(void)                                    \
    {                                                                    \
        name##_fn f = atomic_load_explicit(&real_##name, memory_order_relaxed); \
        if (!f) {                                                        \
            void *s = resolve(#name, version);                           \
            memcpy(&f, &s, sizeof f);                                    \
            atomic_store_explicit(&real_##name, f, memory_order_relaxed); \
        }                                                                \
        return f;                                                        \
    }

REAL(void *, malloc, (size_t), NULL)
REAL(void *, calloc, (size_t, size_t), NULL)
REAL(void *, realloc, (void *, size_t), NULL)
REAL(void, free, (void *), NULL)
REAL(void *, aligned_alloc, (size_t, size_t), NULL)
REAL(int, posix_memalign, (void **, size_t, size_t), NULL)
REAL(void *, memalign, (size_t, size_t), NULL)
REAL(void *, valloc, (size_t), NULL)
REAL(int, pthread_mutex_lock, (pthread_mutex_t *), NULL)
REAL(int, pthread_mutex_timedlock, (pthread_mutex_t *, const struct timespec *), NULL)
REAL(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *), "GLIBC_2.3.2")
REAL(int, pthread_cond_timedwait, (pthread_cond_t *, pthread_mutex_t *, const struct timespec *), "GLIBC_2.3.2")
REAL(int, pthread_cond_clockwait, (pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *), NULL)
REAL(int, pthread_cond_signal, (pthread_cond_t *), "GLIBC_2.3.2")
REAL(int, pthread_cond_broadcast, (pthread_cond_t *), "GLIBC_2.3.2")
REAL(int, pthread_rwlock_rdlock, (pthread_rwlock_t *), NULL)
REAL(int, pthread_rwlock_wrlock, (pthread_rwlock_t *), NULL)
REAL(int, pthread_rwlock_timedrdlock, (pthread_rwlock_t *, const struct timespec *), NULL)
REAL(int, pthread_rwlock_timedwrlock, (pthread_rwlock_t *, const struct timespec *), NULL)
REAL(int, sem_wait, (sem_t *), NULL)
REAL(int, sem_timedwait, (sem_t *, const struct timespec *), NULL)
REAL(int, pthread_once, (pthread_once_t *, void (*)(void)), NULL)
REAL(void, call_once, (once_flag *, void (*)(void)), NULL)
REAL(unsigned, sleep, (unsigned), NULL)
REAL(int, usleep, (useconds_t), NULL)
REAL(int, nanosleep, (const struct timespec *, struct timespec *), NULL)
REAL(int, clock_nanosleep, (clockid_t, int, const struct timespec *, struct timespec *), NULL)
REAL(ssize_t, read, (int, void *, size_t), NULL)
REAL(ssize_t, write, (int, const void *, size_t), NULL)
REAL(int, open, (const char *, int, ...), NULL)
REAL(int, open64, (const char *, int, ...), NULL)
REAL(int, openat64, (int, const char *, int, ...), NULL)
REAL(int, openat, (int, const char *, int, ...), NULL)
REAL(int, close, (int), NULL)
REAL(int, poll, (struct pollfd *, nfds_t, int), NULL)
REAL(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *), NULL)
REAL(int, epoll_wait, (int, struct epoll_event *, int, int), NULL)
REAL(int, epoll_pwait, (int, struct epoll_event *, int, int, const sigset_t *), NULL)
REAL(long, syscall, (long, ...), NULL)
REAL(int, vprintf, (const char *, va_list), NULL)
REAL(int, vfprintf, (FILE *, const char *, va_list), NULL)
REAL(int, puts, (const char *), NULL)
REAL(int, fputs, (const char *, FILE *), NULL)
REAL(size_t, fwrite, (const void *, size_t, size_t, FILE *), NULL)
REAL(int, fflush, (FILE *), NULL)
REAL(int, fcntl, (int, int, ...), NULL)
REAL(void *, mremap, (void *, size_t, size_t, int, ...), NULL)
REAL(int, brk, (void *), NULL)
REAL(void, pthread_exit, (void *), NULL)
REAL(void, thrd_exit, (int), NULL)
REAL(void *, sbrk, (intptr_t), NULL)
REAL(int, fcntl64, (int, int, ...), NULL)
#if HAVE_TIME64_CALLS
REAL(int, __fcntl_time64, (int, int, ...), NULL)
#endif
REAL(void, perror, (const char *), NULL)

/* ------------------------------------------------------------------ */
/* Reporting. */

static void say(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = get_write()(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* ------------------------------------------------------------------ */
/* FERRY_RTCHECK_SITES=once: the call sites (return addresses into the
 * caller) already reported, in a fixed table with open addressing, so that
 * a loop that allocates in a section is reported once, not each time round.
 * No allocation and no lock: a slot goes from 0 to a site once, by CAS, and
 * never changes again. When the table is full a new site is reported each
 * time (the report is never lost, only no longer deduplicated). */
#define SITES 4096 /* a power of two */
static atomic_uintptr_t sites[SITES];

/* True the first time `site` is seen (and when the table is full). */
static bool site_first_report(uintptr_t site)
{
    if (site == 0)   /* 0 marks an empty slot: an unknown caller */
        return true;
    /* Fibonacci hashing of the address: call sites are close together,
     * and their low bits vary least. */
    size_t h = (size_t)((uint64_t)site * UINT64_C(0x9E3779B97F4A7C15) >> 32);
    for (size_t i = 0; i < SITES; i++) {
        atomic_uintptr_t *slot = &sites[(h + i) & (SITES - 1)];
        /* Relaxed (load and CAS): only the slot's own value matters, and
         * it is compared with the site, never used to reach other data. */
        uintptr_t seen = atomic_load_explicit(slot, memory_order_relaxed);
        if (seen == 0 && atomic_compare_exchange_strong_explicit(
                             slot, &seen, site, memory_order_relaxed, memory_order_relaxed))
            return true;
        if (seen == site)   /* set before us (or by the CAS we lost) */
            return false;
    }
    return true;
}

/* For the checker's own tests: the table's answer for a made-up site. */
EXPORT bool ferry_rtcheck__test_site_first(uintptr_t site)
{
    return site_first_report(site);
}

/* One report at a time: a report is several writes (its line, then a
 * write per frame of the backtrace), and the reports of threads that
 * reported at once came out interleaved, line into line (FERRY_RTCHECK=
 * warn). The lock holds the pid of the process whose thread holds it (0:
 * free): a child forked while a thread of its parent held it finds
 * another pid there, and takes it over (no thread of the child holds it).
 * Only reports take it, never a call that is not reported; a signal
 * handler that runs on a reporting thread is not checked (in_checker), so
 * it never waits for its own thread. The holder only writes (the frames
 * are named before, struct frame_name), but a report waits for it
 * REPORT_WAIT_S at most, then goes ahead without it (and may interleave):
 * should the holder wait for something the waiter holds, a report must
 * not hang the program. */
#define REPORT_WAIT_S 2
static atomic_int report_owner;

/* True when the lock was taken. */
static bool report_lock(void)
{
    int self = (int)getpid();
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned round = 1;; round++) {
        int owner = 0;
        /* Acquire (both): pairs with the release store in report_unlock,
         * so that reports follow one another on stderr. */
        if (atomic_compare_exchange_strong_explicit(&report_owner, &owner, self,
                                                    memory_order_acquire, memory_order_relaxed))
            return true;
        if (owner != self &&
            atomic_compare_exchange_strong_explicit(&report_owner, &owner, self,
                                                    memory_order_acquire, memory_order_relaxed))
            return true;
        if (round % 64 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - start.tv_sec > REPORT_WAIT_S)
                return false;
        }
        sched_yield();
    }
}

static void report_unlock(void)
{
    /* Release: pairs with the acquire CAS in report_lock. */
    atomic_store_explicit(&report_owner, 0, memory_order_release);
}

/* For the checker's own tests: hold the report lock (on: 1) as a
 * reporting thread does, and let it go (0). */
EXPORT void ferry_rtcheck__test_hold_reports(int on)
{
    if (on)
        (void)report_lock();
    else
        report_unlock();
}

/* A frame of a report's backtrace, named (dladdr1) before the report lock
 * is taken: naming takes the dynamic loader's lock, and a thread inside
 * dlopen holds that while it reports the allocations the loader makes in
 * a section, waiting for the report lock -- held by a thread that named
 * its frames under it (backtrace_symbols_fd) and so waited for the
 * loader's lock: the two hung, under FERRY_RTCHECK=warn. The strings
 * belong to the objects of the frames, which are running, so still
 * mapped when they are printed. */
struct frame_name {
    const void *addr;
    const char *file, *symbol;   /* NULL: not known */
    uintptr_t from;              /* the symbol's address, or the object's base */
};

static void name_frame(const void *addr, struct frame_name *out)
{
    Dl_info info;
    struct link_map *map = NULL;
    *out = (struct frame_name){.addr = addr};
    if (!dladdr1(addr, &info, (void **)&map, RTLD_DL_LINKMAP))
        return;
    out->file = info.dli_fname;
    out->symbol = info.dli_sname;
    out->from = info.dli_sname ? (uintptr_t)info.dli_saddr : map ? (uintptr_t)map->l_addr : 0;
}

static void say_hex(uintptr_t v)
{
    char buf[2 + 2 * sizeof v + 1], *p = buf + sizeof buf - 1;
    *p = '\0';
    do {
        *--p = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    *--p = 'x';
    *--p = '0';
    say(p);
}

/* As backtrace_symbols_fd prints a frame: file(symbol+0xoffset)[0xaddress],
 * file(+0xoffset) without a symbol, [0xaddress] alone when unknown. */
static void say_frame(const struct frame_name *f)
{
    uintptr_t a = (uintptr_t)f->addr;
    if (f->file && f->file[0]) {
        say(f->file);
        say("(");
        if (f->symbol)
            say(f->symbol);
        say(a >= f->from ? "+" : "-");
        say_hex(a >= f->from ? a - f->from : f->from - a);
        say(")");
    }
    say("[");
    say_hex(a);
    say("]\n");
}

/* `site`: where the interposed call returns to in its caller. */
__attribute__((noinline)) static void report(const char *call, void *site)
{
    if (once_per_site && !site_first_report((uintptr_t)site))
        return;
    in_checker++;
    /* Not cancelled in a write, holding the lock. */
    int cancel_state;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    void *frames[64];
    struct frame_name names[64];
    int n = backtrace(frames, 64);
    /* Skip report() itself; the wrapper's frame shows the call. */
    for (int i = 1; i < n; i++)
        name_frame(frames[i], &names[i]);
    bool locked = report_lock();
    say("ferry-rtcheck: ");
    say(call ? call : "(a call that did not say its name)");
    say(" in real-time section\n");
    for (int i = 1; i < n; i++)
        say_frame(&names[i]);
    if (!warn_only)
        abort();   /* holding the lock: the last report is whole */
    if (locked)
        report_unlock();
    pthread_setcancelstate(cancel_state, NULL);
    in_checker--;
}

/* Used in the wrappers themselves (never in a function they call), so that
 * the return address is the call site in the program. */
#define CHECK(call)                                                       \
    do {                                                                  \
        if (__builtin_expect(thread_in_rt(), 0))                          \
            report(call, __builtin_return_address(0));                    \
    } while (0)

/* libferry's own calls that may block (src/rt_block.h) name themselves
 * here when they start, whether or not they will wait this time. */
EXPORT void ferry_rtcheck_blocking(const char *call)
{
    CHECK(call);
}

/* dlopen, dlmopen and vfork look at their caller: dlopen and dlmopen
 * search the calling object's RUNPATH and expand $ORIGIN from its
 * directory, and a vfork child returns into its caller's frame on the
 * shared stack, which a wrapper's frame would be gone from. So on x86-64
 * and i386 they are trampolines, written in assembly: each asks
 * rtcheck__next_NAME (with the return address, to report the call site)
 * for the next definition, puts the argument registers back as they came,
 * and jumps to it, leaving the caller's return address where it was.
 * dlclose looks at nothing of its caller and is a plain wrapper. They were
 * not interposed: a dlopen of a library already loaded, and a dlclose,
 * took the loader's lock (held by another thread's dlopen for as long as
 * it reads the file and runs constructors) unseen, and so did vfork. On
 * other targets dlopen, dlmopen and vfork stay uninterposed. */
#define TRAMPOLINE_NEXT(ret, name, params)                                \
    REAL(ret, name, params, NULL)                                        \
    __attribute__((used, visibility("hidden"))) void *rtcheck__next_##name(void *site); \
    void *rtcheck__next_##name(void *site)                               \
    {                                                                    \
        if (thread_in_rt())                                              \
            report(#name, site);                                         \
        name##_fn f = get_##name();                                      \
        void *p;                                                         \
        memcpy(&p, &f, sizeof p);                                        \
        return p;                                                        \
    }
/* Under -fcf-protection the object says it has indirect-branch marks:
 * each trampoline starts with one (a no-op on processors without CET). */
#if defined(__CET__) && (__CET__ & 1) && defined(__x86_64__)
#define TRAMPOLINE_ENTRY "endbr64\n"
#elif defined(__CET__) && (__CET__ & 1)
#define TRAMPOLINE_ENTRY "endbr32\n"
#else
#define TRAMPOLINE_ENTRY ""
#endif
#if defined(__x86_64__)
/* The six argument registers are kept (these calls take three at most);
 * 7 words pushed keep the stack 16-byte aligned at the call. */
#define TRAMPOLINE(name)                                                  \
    __asm__(".text\n.globl " #name "\n.type " #name ",@function\n"        \
            #name ":\n.cfi_startproc\n" TRAMPOLINE_ENTRY                  \
            "push %rdi\n.cfi_adjust_cfa_offset 8\n"                        \
            "push %rsi\n.cfi_adjust_cfa_offset 8\n"                        \
            "push %rdx\n.cfi_adjust_cfa_offset 8\n"                        \
            "push %rcx\n.cfi_adjust_cfa_offset 8\n"                        \
            "push %r8\n.cfi_adjust_cfa_offset 8\n"                         \
            "push %r9\n.cfi_adjust_cfa_offset 8\n"                         \
            "sub $8, %rsp\n.cfi_adjust_cfa_offset 8\n"                     \
            "mov 56(%rsp), %rdi\n"                                         \
            "call rtcheck__next_" #name "\n"                               \
            "add $8, %rsp\n.cfi_adjust_cfa_offset -8\n"                    \
            "pop %r9\n.cfi_adjust_cfa_offset -8\n"                         \
            "pop %r8\n.cfi_adjust_cfa_offset -8\n"                         \
            "pop %rcx\n.cfi_adjust_cfa_offset -8\n"                        \
            "pop %rdx\n.cfi_adjust_cfa_offset -8\n"                        \
            "pop %rsi\n.cfi_adjust_cfa_offset -8\n"                        \
            "pop %rdi\n.cfi_adjust_cfa_offset -8\n"                        \
            "jmp *%rax\n.cfi_endproc\n.size " #name ", .-" #name "\n");
#elif defined(__i386__)
/* The arguments are on the stack, untouched; 12 bytes keep it 16-byte
 * aligned at the call. */
#define TRAMPOLINE(name)                                                  \
    __asm__(".text\n.globl " #name "\n.type " #name ",@function\n"        \
            #name ":\n.cfi_startproc\n" TRAMPOLINE_ENTRY                  \
            "sub $8, %esp\n.cfi_adjust_cfa_offset 8\n"                     \
            "pushl 8(%esp)\n.cfi_adjust_cfa_offset 4\n"                    \
            "call rtcheck__next_" #name "\n"                               \
            "add $12, %esp\n.cfi_adjust_cfa_offset -12\n"                  \
            "jmp *%eax\n.cfi_endproc\n.size " #name ", .-" #name "\n");
#endif
#ifdef TRAMPOLINE
#define HAVE_TRAMPOLINES 1
TRAMPOLINE_NEXT(void *, dlopen, (const char *, int))
TRAMPOLINE_NEXT(void *, dlmopen, (Lmid_t, const char *, int))
TRAMPOLINE_NEXT(pid_t, vfork, (void))
TRAMPOLINE(dlopen)
TRAMPOLINE(dlmopen)
TRAMPOLINE(vfork)
#else
#define HAVE_TRAMPOLINES 0
#endif

REAL(int, dlclose, (void *), NULL)

EXPORT int dlclose(void *handle)
{
    CHECK("dlclose");
    return get_dlclose()(handle);
}

/* ------------------------------------------------------------------ */
/* Calls that are checked and forwarded as they are (starting a thread or a
 * process among them: stacks, the fork's locks, a wait for the child's
 * exec; vfork is a trampoline, above);
 * the other forms of
 * I/O (positioned, vectored, sockets, select, sync, file locks), stdio's character
 * output (the stream lock, and a write when the buffer fills), stdio input (a
 * buffered stream's read() happens inside glibc, out of the read()
 * wrapper's sight, and the stream lock is taken either way), joining a
 * thread, and mapping memory (the process's memory-map lock); the
 * clock forms of the lock waits (libstdc++'s timed mutexes use them),
 * spin locks, C11 threads' locks, waits and sleep (glibc's mtx_lock and
 * the rest call the pthread functions inside libc, out of sight of those
 * wrappers), pvalloc, waiting for a child and waiting for a signal. */
#define SIMPLE_CALLS(X)                                                                  \
    X(ssize_t, pread, (int fd, void *b, size_t n, off_t o), (fd, b, n, o))               \
    X(ssize_t, pwrite, (int fd, const void *b, size_t n, off_t o), (fd, b, n, o))        \
    X(ssize_t, readv, (int fd, const struct iovec *v, int n), (fd, v, n))                \
    X(ssize_t, writev, (int fd, const struct iovec *v, int n), (fd, v, n))               \
    X(int, select, (int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t),          \
      (n, r, w, e, t))                                                                   \
    X(int, pselect, (int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t,   \
                     const sigset_t *m), (n, r, w, e, t, m))                             \
    X(ssize_t, recv, (int fd, void *b, size_t n, int fl), (fd, b, n, fl))                \
    X(ssize_t, recvfrom, (int fd, void *b, size_t n, int fl, struct sockaddr *a,         \
                          socklen_t *al), (fd, b, n, fl, a, al))                         \
    X(ssize_t, recvmsg, (int fd, struct msghdr *m, int fl), (fd, m, fl))                 \
    X(ssize_t, send, (int fd, const void *b, size_t n, int fl), (fd, b, n, fl))          \
    X(ssize_t, sendto, (int fd, const void *b, size_t n, int fl,                         \
                        const struct sockaddr *a, socklen_t al), (fd, b, n, fl, a, al))  \
    X(ssize_t, sendmsg, (int fd, const struct msghdr *m, int fl), (fd, m, fl))           \
    X(int, accept, (int fd, struct sockaddr *a, socklen_t *al), (fd, a, al))             \
    X(int, accept4, (int fd, struct sockaddr *a, socklen_t *al, int fl), (fd, a, al, fl)) \
    X(int, connect, (int fd, const struct sockaddr *a, socklen_t al), (fd, a, al))       \
    X(int, fsync, (int fd), (fd))                                                        \
    X(ssize_t, preadv, (int fd, const struct iovec *v, int n, off_t o), (fd, v, n, o))   \
    X(ssize_t, pwritev, (int fd, const struct iovec *v, int n, off_t o), (fd, v, n, o))  \
    X(int, recvmmsg, (int fd, struct mmsghdr *m, unsigned n, int fl, struct timespec *t), \
      (fd, m, n, fl, t))                                                                 \
    X(int, sendmmsg, (int fd, struct mmsghdr *m, unsigned n, int fl), (fd, m, n, fl))    \
    X(ssize_t, sendfile, (int o, int i, off_t *off, size_t n), (o, i, off, n))           \
    X(int, flock, (int fd, int op), (fd, op))                                            \
    X(int, lockf, (int fd, int cmd, off_t n), (fd, cmd, n))                              \
    X(int, msync, (void *a, size_t n, int fl), (a, n, fl))                               \
    X(int, syncfs, (int fd), (fd))                                                       \
    X(int, fdatasync, (int fd), (fd))                                                    \
    X(size_t, fread, (void *p, size_t size, size_t n, FILE *f), (p, size, n, f))         \
    X(char *, fgets, (char *b, int n, FILE *f), (b, n, f))                               \
    X(int, fgetc, (FILE *f), (f))                                                        \
    X(int, getc, (FILE *f), (f))                                                         \
    X(int, getchar, (void), ())                                                          \
    X(int, fputc, (int c, FILE *f), (c, f))                                              \
    X(int, putc, (int c, FILE *f), (c, f))                                               \
    X(int, putchar, (int c), (c))                                                        \
    X(ssize_t, getline, (char **l, size_t *n, FILE *f), (l, n, f))                       \
    X(ssize_t, getdelim, (char **l, size_t *n, int d, FILE *f), (l, n, d, f))            \
    X(int, pthread_join, (pthread_t t, void **r), (t, r))                                \
    X(int, pthread_barrier_wait, (pthread_barrier_t *b), (b))                            \
    X(int, pthread_create, (pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *),  \
                            void *arg), (t, a, fn, arg))                                 \
    X(pid_t, fork, (void), ())                                                           \
    X(int, posix_spawn, (pid_t *p, const char *path, const posix_spawn_file_actions_t *fa, \
                         const posix_spawnattr_t *at, char *const av[], char *const ev[]), \
      (p, path, fa, at, av, ev))                                                         \
    X(int, posix_spawnp, (pid_t *p, const char *file, const posix_spawn_file_actions_t *fa, \
                          const posix_spawnattr_t *at, char *const av[], char *const ev[]), \
      (p, file, fa, at, av, ev))                                                         \
    X(int, system, (const char *cmd), (cmd))                                             \
    X(int, vdprintf, (int fd, const char *f, va_list ap), (fd, f, ap))                   \
    X(int, fputs_unlocked, (const char *s, FILE *f), (s, f))                             \
    X(size_t, fwrite_unlocked, (const void *p, size_t size, size_t n, FILE *f), (p, size, n, f)) \
    X(int, fputc_unlocked, (int c, FILE *f), (c, f))                                     \
    X(int, fflush_unlocked, (FILE *f), (f))                                              \
    X(int, vfwprintf, (FILE *f, const wchar_t *fmt, va_list ap), (f, fmt, ap))           \
    X(int, vwprintf, (const wchar_t *fmt, va_list ap), (fmt, ap))                        \
    X(int, fputws, (const wchar_t *ws, FILE *f), (ws, f))                                \
    X(wint_t, fputwc, (wchar_t c, FILE *f), (c, f))                                      \
    X(wint_t, putwc, (wchar_t c, FILE *f), (c, f))                                       \
    X(wint_t, putwchar, (wchar_t c), (c))                                                \
    X(ssize_t, mq_receive, (mqd_t q, char *b, size_t n, unsigned *pr), (q, b, n, pr))    \
    X(ssize_t, mq_timedreceive, (mqd_t q, char *restrict b, size_t n, unsigned *restrict pr, \
                                 const struct timespec *restrict t), (q, b, n, pr, t))   \
    X(int, mq_send, (mqd_t q, const char *b, size_t n, unsigned pr), (q, b, n, pr))      \
    X(int, mq_timedsend, (mqd_t q, const char *b, size_t n, unsigned pr,                 \
                          const struct timespec *t), (q, b, n, pr, t))                   \
    X(void *, mmap, (void *a, size_t n, int pr, int fl, int fd, off_t o), (a, n, pr, fl, fd, o)) \
    X(int, munmap, (void *a, size_t n), (a, n))                                          \
    X(int, mprotect, (void *a, size_t n, int pr), (a, n, pr))                            \
    X(int, epoll_pwait2, (int ep, struct epoll_event *ev, int n, const struct timespec *t, \
                          const sigset_t *m), (ep, ev, n, t, m))                         \
    X(void *, pvalloc, (size_t n), (n))                                                  \
    X(int, pthread_mutex_clocklock, (pthread_mutex_t *m, clockid_t c, const struct timespec *t), \
      (m, c, t))                                                                         \
    X(ssize_t, preadv2, (int fd, const struct iovec *v, int n, off_t o, int fl), (fd, v, n, o, fl)) \
    X(ssize_t, pwritev2, (int fd, const struct iovec *v, int n, off_t o, int fl), (fd, v, n, o, fl)) \
    X(int, aio_suspend, (const struct aiocb *const l[], int n, const struct timespec *t), (l, n, t)) \
    X(int, semop, (int id, struct sembuf *ops, size_t n), (id, ops, n))                  \
    X(int, semtimedop, (int id, struct sembuf *ops, size_t n, const struct timespec *t), \
      (id, ops, n, t))                                                                   \
    X(int, msgsnd, (int id, const void *m, size_t n, int fl), (id, m, n, fl))            \
    X(ssize_t, msgrcv, (int id, void *m, size_t n, long t, int fl), (id, m, n, t, fl))   \
    X(int, pthread_rwlock_clockrdlock, (pthread_rwlock_t *l, clockid_t c, const struct timespec *t), \
      (l, c, t))                                                                         \
    X(int, pthread_rwlock_clockwrlock, (pthread_rwlock_t *l, clockid_t c, const struct timespec *t), \
      (l, c, t))                                                                         \
    X(int, pthread_spin_lock, (pthread_spinlock_t *l), (l))                              \
    X(int, sem_clockwait, (sem_t *s, clockid_t c, const struct timespec *t), (s, c, t)) \
    X(int, pthread_timedjoin_np, (pthread_t t, void **r, const struct timespec *d), (t, r, d)) \
    X(int, pthread_clockjoin_np, (pthread_t t, void **r, clockid_t c, const struct timespec *d), \
      (t, r, c, d))                                                                      \
    X(int, mtx_lock, (mtx_t *m), (m))                                                    \
    X(int, mtx_timedlock, (mtx_t *restrict m, const struct timespec *restrict t), (m, t)) \
    X(int, cnd_wait, (cnd_t *c, mtx_t *m), (c, m))                                       \
    X(int, cnd_signal, (cnd_t *c), (c))                                                  \
    X(int, cnd_broadcast, (cnd_t *c), (c))                                               \
    X(int, cnd_timedwait, (cnd_t *restrict c, mtx_t *restrict m,                         \
                           const struct timespec *restrict t), (c, m, t))                \
    X(int, thrd_sleep, (const struct timespec *d, struct timespec *r), (d, r))           \
    X(int, thrd_join, (thrd_t t, int *r), (t, r))                                        \
    X(pid_t, wait, (int *st), (st))                                                      \
    X(pid_t, waitpid, (pid_t p, int *st, int o), (p, st, o))                             \
    X(int, waitid, (idtype_t i, id_t id, siginfo_t *in, int o), (i, id, in, o))          \
    X(pid_t, wait3, (int *st, int o, struct rusage *ru), (st, o, ru))                   \
    X(pid_t, wait4, (pid_t p, int *st, int o, struct rusage *ru), (p, st, o, ru))        \
    X(int, pause, (void), ())                                                            \
    X(int, sigsuspend, (const sigset_t *m), (m))                                         \
    X(int, sigwait, (const sigset_t *restrict m, int *restrict s), (m, s))               \
    X(int, sigwaitinfo, (const sigset_t *restrict m, siginfo_t *restrict in), (m, in))   \
    X(int, sigtimedwait, (const sigset_t *restrict m, siginfo_t *restrict in,           \
                          const struct timespec *restrict t), (m, in, t))

/* The wrapper's C name is rtcheck_NAME and its symbol is NAME (an asm
 * label): glibc's headers may already define NAME as an inline function
 * (getline when optimizing; read, fread, fgets, ... with _FORTIFY_SOURCE),
 * and a second definition of that C name would not take EXPORT (clang
 * rejects the attribute, and without -Werror hides the symbol). */
#define NAMED_WRAPPER(ret, name, shown, params, args)                    \
    REAL(ret, name, params, NULL)                                        \
    EXPORT ret rtcheck_##name params __asm__(#name);                     \
    ret rtcheck_##name params                                            \
    {                                                                    \
        CHECK(shown);                                                    \
        return get_##name() args;                                        \
    }
#define SIMPLE_WRAPPER(ret, name, params, args) NAMED_WRAPPER(ret, name, #name, params, args)
SIMPLE_CALLS(SIMPLE_WRAPPER)

#define SIMPLE_RESOLVE(ret, name, params, args) get_##name();
#define NAMED_RESOLVE(ret, name, shown, params, args) get_##name();

/* The 64-bit-offset forms that a program built with _FILE_OFFSET_BITS=64
 * calls (on a 32-bit target, and on a 64-bit one too, where they are
 * aliases): openat64, preadv64, pwritev64, lockf64 and sendfile64 were not
 * interposed, and such a program's calls went unreported (open64 is below,
 * fcntl64 with fcntl). Reported under the name the program's source uses. */
#define LFS64_CALLS(Y)                                                                   \
    Y(ssize_t, pread64, "pread", (int fd, void *b, size_t n, off64_t o), (fd, b, n, o))  \
    Y(ssize_t, pwrite64, "pwrite", (int fd, const void *b, size_t n, off64_t o),         \
      (fd, b, n, o))                                                                     \
    Y(ssize_t, preadv64, "preadv", (int fd, const struct iovec *v, int n, off64_t o),    \
      (fd, v, n, o))                                                                     \
    Y(ssize_t, pwritev64, "pwritev", (int fd, const struct iovec *v, int n, off64_t o),  \
      (fd, v, n, o))                                                                     \
    Y(int, aio_suspend64, "aio_suspend", (const struct aiocb64 *const l[], int n,       \
                                          const struct timespec *t), (l, n, t))          \
    Y(ssize_t, preadv64v2, "preadv2", (int fd, const struct iovec *v, int n, off64_t o, int fl), \
      (fd, v, n, o, fl))                                                                 \
    Y(ssize_t, pwritev64v2, "pwritev2", (int fd, const struct iovec *v, int n, off64_t o, int fl), \
      (fd, v, n, o, fl))                                                                 \
    Y(int, lockf64, "lockf", (int fd, int cmd, off64_t n), (fd, cmd, n))                 \
    Y(ssize_t, sendfile64, "sendfile", (int o, int i, off64_t *off, size_t n), (o, i, off, n)) \
    Y(void *, mmap64, "mmap", (void *a, size_t n, int pr, int fl, int fd, off64_t o),    \
      (a, n, pr, fl, fd, o))
LFS64_CALLS(NAMED_WRAPPER)

/* The checking forms that a program built with _FORTIFY_SOURCE (the
 * default of Debian's and Ubuntu's packages, and of Ubuntu's gcc when
 * optimizing) calls instead: glibc's headers turn printf into __printf_chk,
 * read into __read_chk where the buffer's size is known, open with flags
 * that are not a constant into __open_2, and so on. They were not
 * interposed: such a program's printf in a section went unreported once
 * stdout had its buffer (the first one was seen as malloc), its read, recv,
 * poll, fread, fgets not at all. Reported under the name the program's
 * source uses; the variadic printf forms are PRINT_WRAPPERs, below. */
#define FORTIFY_CALLS(Y)                                                                 \
    Y(ssize_t, __read_chk, "read", (int fd, void *b, size_t n, size_t bl), (fd, b, n, bl)) \
    Y(ssize_t, __pread_chk, "pread", (int fd, void *b, size_t n, off_t o, size_t bl),    \
      (fd, b, n, o, bl))                                                                 \
    Y(ssize_t, __pread64_chk, "pread", (int fd, void *b, size_t n, off64_t o, size_t bl), \
      (fd, b, n, o, bl))                                                                 \
    Y(ssize_t, __recv_chk, "recv", (int fd, void *b, size_t n, size_t bl, int fl),       \
      (fd, b, n, bl, fl))                                                                \
    Y(ssize_t, __recvfrom_chk, "recvfrom", (int fd, void *b, size_t n, size_t bl, int fl, \
                                            struct sockaddr *a, socklen_t *al),          \
      (fd, b, n, bl, fl, a, al))                                                         \
    Y(int, __poll_chk, "poll", (struct pollfd *f, nfds_t n, int t, size_t fl), (f, n, t, fl)) \
    Y(int, __ppoll_chk, "ppoll", (struct pollfd *f, nfds_t n, const struct timespec *t,  \
                                  const sigset_t *m, size_t fl), (f, n, t, m, fl))       \
    Y(size_t, __fread_chk, "fread", (void *p, size_t pl, size_t size, size_t n, FILE *f), \
      (p, pl, size, n, f))                                                               \
    Y(char *, __fgets_chk, "fgets", (char *b, size_t bl, int n, FILE *f), (b, bl, n, f)) \
    Y(int, __open_2, "open", (const char *p, int fl), (p, fl))                           \
    Y(int, __open64_2, "open", (const char *p, int fl), (p, fl))                         \
    Y(int, __openat_2, "openat", (int d, const char *p, int fl), (d, p, fl))             \
    Y(int, __openat64_2, "openat", (int d, const char *p, int fl), (d, p, fl))           \
    Y(int, __vprintf_chk, "vprintf", (int fl, const char *f, va_list ap), (fl, f, ap))   \
    Y(int, __vfprintf_chk, "vfprintf", (FILE *s, int fl, const char *f, va_list ap),     \
      (s, fl, f, ap))                                                                    \
    Y(int, __vdprintf_chk, "vdprintf", (int fd, int fl, const char *f, va_list ap),      \
      (fd, fl, f, ap))                                                                   \
    Y(int, __vwprintf_chk, "vwprintf", (int fl, const wchar_t *f, va_list ap), (fl, f, ap)) \
    Y(int, __vfwprintf_chk, "vfwprintf", (FILE *s, int fl, const wchar_t *f, va_list ap), \
      (s, fl, f, ap))
FORTIFY_CALLS(NAMED_WRAPPER)

/* Formatted input (stdio reads inside glibc, out of the read wrapper's
 * sight) and syslog (a send to the log socket inside glibc): they were not
 * interposed. The va_list forms, under every name glibc's headers may give
 * them (__isoc99_ for C99 scanf without _GNU_SOURCE, __isoc23_ for C23 in
 * glibc 2.38 and later; __vsyslog_chk with _FORTIFY_SOURCE); the variadic
 * forms are PRINT_WRAPPERs and LOG_WRAPPERs, below. A name the C library
 * lacks is never called (nothing could have linked against it). */
#define INPUT_CALLS(Y)                                                                   \
    Y(int, vscanf, "vscanf", (const char *f, va_list ap), (f, ap))                       \
    Y(int, vfscanf, "vfscanf", (FILE *s, const char *f, va_list ap), (s, f, ap))         \
    Y(int, __isoc99_vscanf, "vscanf", (const char *f, va_list ap), (f, ap))              \
    Y(int, __isoc99_vfscanf, "vfscanf", (FILE *s, const char *f, va_list ap), (s, f, ap)) \
    Y(int, __isoc23_vscanf, "vscanf", (const char *f, va_list ap), (f, ap))              \
    Y(int, __isoc23_vfscanf, "vfscanf", (FILE *s, const char *f, va_list ap), (s, f, ap))
INPUT_CALLS(NAMED_WRAPPER)
/* stdio's character and line calls that glibc's headers expand inline
 * (optimizing: __USE_EXTERN_INLINES; or as macros), and their library
 * forms. The inline putc_unlocked, putchar_unlocked and fputc_unlocked
 * store into the stream's buffer and call __overflow when it is full
 * (always, on an unbuffered or line-buffered stream at a newline), which
 * writes; the inline getc_unlocked, getchar_unlocked and fgetc_unlocked
 * take from the buffer and call __uflow when it is empty, which reads;
 * getline is __getdelim; _FORTIFY_SOURCE makes fgets_unlocked,
 * fread_unlocked and fgetws their __*_chk forms. None was interposed: a
 * real-time thread's putc_unlocked into stdout wrote unseen. A character
 * that only goes into (or comes out of) the buffer makes no call, and is
 * not seen: it does not wait either. The wide-character input calls and
 * the _unlocked wide output calls were missing too; glibc's own calls of
 * these (fputc's __overflow) are inside it and never reach a wrapper.
 * __overflow and the rest are reported under their own names: the source
 * may have used any of the inline forms. */
#define STDIO_CALLS(Y)                                                                   \
    Y(int, __overflow, "__overflow", (FILE *f, int c), (f, c))                           \
    Y(int, __uflow, "__uflow", (FILE *f), (f))                                           \
    Y(int, __underflow, "__underflow", (FILE *f), (f))                                   \
    Y(wint_t, __woverflow, "__woverflow", (FILE *f, wint_t c), (f, c))                   \
    Y(wint_t, __wuflow, "__wuflow", (FILE *f), (f))                                      \
    Y(wint_t, __wunderflow, "__wunderflow", (FILE *f), (f))                              \
    Y(int, putc_unlocked, "putc_unlocked", (int c, FILE *f), (c, f))                     \
    Y(int, putchar_unlocked, "putchar_unlocked", (int c), (c))                           \
    Y(int, getc_unlocked, "getc_unlocked", (FILE *f), (f))                               \
    Y(int, getchar_unlocked, "getchar_unlocked", (void), ())                             \
    Y(int, fgetc_unlocked, "fgetc_unlocked", (FILE *f), (f))                             \
    Y(size_t, fread_unlocked, "fread_unlocked", (void *p, size_t size, size_t n, FILE *f), \
      (p, size, n, f))                                                                   \
    Y(char *, fgets_unlocked, "fgets_unlocked", (char *b, int n, FILE *f), (b, n, f))    \
    Y(ssize_t, __getdelim, "getline", (char **l, size_t *n, int d, FILE *f), (l, n, d, f)) \
    Y(char *, __fgets_unlocked_chk, "fgets_unlocked", (char *b, size_t bl, int n, FILE *f), \
      (b, bl, n, f))                                                                     \
    Y(size_t, __fread_unlocked_chk, "fread_unlocked", (void *p, size_t pl, size_t size,  \
                                                       size_t n, FILE *f),               \
      (p, pl, size, n, f))                                                               \
    Y(wint_t, fgetwc, "fgetwc", (FILE *f), (f))                                          \
    Y(wint_t, getwc, "getwc", (FILE *f), (f))                                            \
    Y(wint_t, getwchar, "getwchar", (void), ())                                          \
    Y(wchar_t *, fgetws, "fgetws", (wchar_t *b, int n, FILE *f), (b, n, f))              \
    Y(wchar_t *, __fgetws_chk, "fgetws", (wchar_t *b, size_t bl, int n, FILE *f),       \
      (b, bl, n, f))                                                                     \
    Y(wint_t, fgetwc_unlocked, "fgetwc_unlocked", (FILE *f), (f))                        \
    Y(wint_t, getwc_unlocked, "getwc_unlocked", (FILE *f), (f))                          \
    Y(wint_t, getwchar_unlocked, "getwchar_unlocked", (void), ())                        \
    Y(wchar_t *, fgetws_unlocked, "fgetws_unlocked", (wchar_t *b, int n, FILE *f), (b, n, f)) \
    Y(wchar_t *, __fgetws_unlocked_chk, "fgetws_unlocked",                               \
      (wchar_t *b, size_t bl, int n, FILE *f), (b, bl, n, f))                            \
    Y(wint_t, fputwc_unlocked, "fputwc_unlocked", (wchar_t c, FILE *f), (c, f))          \
    Y(wint_t, putwc_unlocked, "putwc_unlocked", (wchar_t c, FILE *f), (c, f))            \
    Y(wint_t, putwchar_unlocked, "putwchar_unlocked", (wchar_t c), (c))                  \
    Y(int, fputws_unlocked, "fputws_unlocked", (const wchar_t *ws, FILE *f), (ws, f))
STDIO_CALLS(NAMED_WRAPPER)

/* Opening, closing and moving in a stream: open or close (a close may
 * flush: write), lseek, a flush of what is buffered before a seek, and the
 * stream's lock; they were not interposed (fopen and fclose were seen as
 * the malloc and free they make, fseek and ftell not at all). The 64-bit
 * offset forms are reported under the names the source uses. */
#define STREAM_CALLS(Y)                                                                  \
    Y(FILE *, fopen, "fopen", (const char *p, const char *m), (p, m))                    \
    Y(FILE *, fopen64, "fopen", (const char *p, const char *m), (p, m))                  \
    Y(FILE *, fdopen, "fdopen", (int fd, const char *m), (fd, m))                        \
    Y(FILE *, freopen, "freopen", (const char *p, const char *m, FILE *f), (p, m, f))    \
    Y(FILE *, freopen64, "freopen", (const char *p, const char *m, FILE *f), (p, m, f))  \
    Y(int, fclose, "fclose", (FILE *f), (f))                                             \
    Y(FILE *, tmpfile, "tmpfile", (void), ())                                            \
    Y(FILE *, tmpfile64, "tmpfile", (void), ())                                          \
    Y(int, fseek, "fseek", (FILE *f, long o, int w), (f, o, w))                          \
    Y(int, fseeko, "fseeko", (FILE *f, off_t o, int w), (f, o, w))                       \
    Y(int, fseeko64, "fseeko", (FILE *f, off64_t o, int w), (f, o, w))                   \
    Y(long, ftell, "ftell", (FILE *f), (f))                                              \
    Y(off_t, ftello, "ftello", (FILE *f), (f))                                           \
    Y(off64_t, ftello64, "ftello", (FILE *f), (f))                                       \
    Y(int, fgetpos, "fgetpos", (FILE *f, fpos_t *p), (f, p))                             \
    Y(int, fsetpos, "fsetpos", (FILE *f, const fpos_t *p), (f, p))                       \
    Y(int, fgetpos64, "fgetpos", (FILE *f, fpos64_t *p), (f, p))                         \
    Y(int, fsetpos64, "fsetpos", (FILE *f, const fpos64_t *p), (f, p))
STREAM_CALLS(NAMED_WRAPPER)

/* The calls that take the stream's lock and nothing more: flockfile, and
 * the checks and settings that take it for their moment (glibc takes it
 * once the program has a second thread). Another thread holds that lock
 * for the whole of its own call on the stream, a write to a slow terminal
 * or a pipe included: they were not interposed, and a real-time thread's
 * flockfile(stdout) before its putc_unlocked calls waited unseen.
 * ftrylockfile and funlockfile never wait and pass. */
#define STREAM_LOCK_CALLS(Y)                                                             \
    Y(int, feof, "feof", (FILE *f), (f))                                                 \
    Y(int, ferror, "ferror", (FILE *f), (f))                                             \
    Y(int, ungetc, "ungetc", (int c, FILE *f), (c, f))                                   \
    Y(wint_t, ungetwc, "ungetwc", (wint_t c, FILE *f), (c, f))                           \
    Y(int, fwide, "fwide", (FILE *f, int m), (f, m))                                     \
    Y(int, setvbuf, "setvbuf", (FILE *f, char *b, int m, size_t n), (f, b, m, n))
STREAM_LOCK_CALLS(NAMED_WRAPPER)
#define VOID_STREAM_CALLS(Z)                                                             \
    Z(flockfile, (FILE *f), (f))                                                         \
    Z(clearerr, (FILE *f), (f))                                                          \
    Z(setbuf, (FILE *f, char *b), (f, b))                                                \
    Z(setbuffer, (FILE *f, char *b, size_t n), (f, b, n))                                \
    Z(setlinebuf, (FILE *f), (f))                                                        \
    Z(rewind, (FILE *f), (f))
/* As NAMED_WRAPPER, for the calls that return nothing. */
#define VOID_WRAPPER(name, params, args)                                 \
    REAL(void, name, params, NULL)                                       \
    EXPORT void rtcheck_##name params __asm__(#name);                    \
    void rtcheck_##name params                                           \
    {                                                                    \
        CHECK(#name);                                                    \
        get_##name() args;                                               \
    }
#define VOID_RESOLVE(name, params, args) get_##name();
VOID_STREAM_CALLS(VOID_WRAPPER)
REAL(void, vsyslog, (int, const char *, va_list), NULL)
REAL(void, __vsyslog_chk, (int, int, const char *, va_list), NULL)

/* The _time64 forms (HAVE_TIME64_CALLS) of the timed calls above: glibc's
 * headers send a program built with _TIME_BITS=64 on a 32-bit target to
 * these. They are reported under the name the program's source uses
 * (nanosleep for __nanosleep64); the backtrace shows the symbol. Their
 * struct __timespec64 (and timeval) arguments are passed on as pointers.
 * Where glibc predates them (2.34) nothing can call them, and they stay
 * unresolved. */
#if HAVE_TIME64_CALLS
#define TIME64_CALLS(Y)                                                                  \
    Y(int, __nanosleep64, "nanosleep", (const void *rq, void *rm), (rq, rm))             \
    Y(int, __clock_nanosleep_time64, "clock_nanosleep",                                  \
      (clockid_t c, int fl, const void *rq, void *rm), (c, fl, rq, rm))                  \
    Y(int, __thrd_sleep64, "thrd_sleep", (const void *d, void *r), (d, r))               \
    Y(int, __pthread_mutex_timedlock64, "pthread_mutex_timedlock",                       \
      (pthread_mutex_t *m, const void *t), (m, t))                                       \
    Y(int, __pthread_mutex_clocklock64, "pthread_mutex_clocklock",                       \
      (pthread_mutex_t *m, clockid_t c, const void *t), (m, c, t))                       \
    Y(int, __pthread_cond_timedwait64, "pthread_cond_timedwait",                         \
      (pthread_cond_t *c, pthread_mutex_t *m, const void *t), (c, m, t))                 \
    Y(int, __pthread_cond_clockwait64, "pthread_cond_clockwait",                         \
      (pthread_cond_t *c, pthread_mutex_t *m, clockid_t k, const void *t), (c, m, k, t)) \
    Y(int, __pthread_rwlock_timedrdlock64, "pthread_rwlock_timedrdlock",                 \
      (pthread_rwlock_t *l, const void *t), (l, t))                                      \
    Y(int, __pthread_rwlock_timedwrlock64, "pthread_rwlock_timedwrlock",                 \
      (pthread_rwlock_t *l, const void *t), (l, t))                                      \
    Y(int, __pthread_rwlock_clockrdlock64, "pthread_rwlock_clockrdlock",                 \
      (pthread_rwlock_t *l, clockid_t c, const void *t), (l, c, t))                      \
    Y(int, __pthread_rwlock_clockwrlock64, "pthread_rwlock_clockwrlock",                 \
      (pthread_rwlock_t *l, clockid_t c, const void *t), (l, c, t))                      \
    Y(int, __sem_timedwait64, "sem_timedwait", (sem_t *s, const void *t), (s, t))        \
    Y(int, __sem_clockwait64, "sem_clockwait", (sem_t *s, clockid_t c, const void *t),   \
      (s, c, t))                                                                         \
    Y(int, __pthread_timedjoin_np64, "pthread_timedjoin_np",                             \
      (pthread_t t, void **r, const void *d), (t, r, d))                                 \
    Y(int, __pthread_clockjoin_np64, "pthread_clockjoin_np",                             \
      (pthread_t t, void **r, clockid_t c, const void *d), (t, r, c, d))                 \
    Y(int, __mtx_timedlock64, "mtx_timedlock", (mtx_t *m, const void *t), (m, t))        \
    Y(int, __cnd_timedwait64, "cnd_timedwait", (cnd_t *c, mtx_t *m, const void *t),      \
      (c, m, t))                                                                         \
    Y(int, __sigtimedwait64, "sigtimedwait", (const sigset_t *m, siginfo_t *in,          \
                                              const void *t), (m, in, t))                \
    Y(int, __select64, "select", (int n, fd_set *r, fd_set *w, fd_set *e, void *t),      \
      (n, r, w, e, t))                                                                   \
    Y(int, __pselect64, "pselect", (int n, fd_set *r, fd_set *w, fd_set *e, const void *t, \
                                    const sigset_t *m), (n, r, w, e, t, m))              \
    Y(int, __ppoll64, "ppoll", (struct pollfd *f, nfds_t n, const void *t,              \
                                const sigset_t *m), (f, n, t, m))                        \
    Y(int, __epoll_pwait2_time64, "epoll_pwait2", (int ep, struct epoll_event *ev, int n, \
                                                   const void *t, const sigset_t *m),    \
      (ep, ev, n, t, m))                                                                 \
    Y(int, __recvmmsg64, "recvmmsg", (int fd, struct mmsghdr *m, unsigned n, int fl,     \
                                      void *t), (fd, m, n, fl, t))                       \
    Y(ssize_t, __mq_timedreceive_time64, "mq_timedreceive",                              \
      (mqd_t q, char *b, size_t n, unsigned *pr, const void *t), (q, b, n, pr, t))       \
    Y(int, __mq_timedsend_time64, "mq_timedsend",                                        \
      (mqd_t q, const char *b, size_t n, unsigned pr, const void *t), (q, b, n, pr, t))  \
    Y(int, __aio_suspend_time64, "aio_suspend", (const struct aiocb *const l[], int n, const void *t), \
      (l, n, t))                                                                         \
    Y(int, __semtimedop64, "semtimedop", (int id, struct sembuf *ops, size_t n, const void *t), \
      (id, ops, n, t))                                                                   \
    Y(pid_t, __wait3_time64, "wait3", (int *st, int o, void *ru), (st, o, ru))           \
    Y(pid_t, __wait4_time64, "wait4", (pid_t p, int *st, int o, void *ru), (p, st, o, ru)) \
    Y(int, __ppoll64_chk, "ppoll", (struct pollfd *f, nfds_t n, const void *t,          \
                                    const sigset_t *m, size_t fl), (f, n, t, m, fl))
TIME64_CALLS(NAMED_WRAPPER)
#else
#define TIME64_CALLS(Y)
#endif

/* Whether the setting `name` holds `value`. Unset or empty: no. Another
 * value is ignored with a line on stderr saying so: a typo (warn as Warn,
 * once as 1) went unnoticed, and the program ran under other settings than
 * it was given. */
static bool setting(const char *name, const char *value)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return false;
    if (strcmp(v, value) == 0)
        return true;
    say("ferry-rtcheck: ");
    say(name);
    say("=");
    say(v);
    say(" not understood (the one value it takes is ");
    say(value);
    say("): ignored\n");
    return false;
}

__attribute__((constructor)) static void rtcheck_init(void)
{
    in_checker++;
    warn_only = setting("FERRY_RTCHECK", "warn");
    flag_all_syscalls = setting("FERRY_RTCHECK_SYSCALLS", "all");
    once_per_site = setting("FERRY_RTCHECK_SITES", "once");
    /* Resolve everything now, outside any real-time section. */
    get_malloc(); get_calloc(); get_realloc(); get_free();
    get_aligned_alloc(); get_posix_memalign(); get_memalign(); get_valloc();
    get_pthread_mutex_lock(); get_pthread_mutex_timedlock();
    get_pthread_cond_wait(); get_pthread_cond_timedwait(); get_pthread_cond_clockwait();
    get_pthread_cond_signal(); get_pthread_cond_broadcast();
    get_pthread_rwlock_rdlock(); get_pthread_rwlock_wrlock();
    get_pthread_rwlock_timedrdlock(); get_pthread_rwlock_timedwrlock();
    get_sem_wait(); get_sem_timedwait();
    get_pthread_once(); get_call_once();
    get_sleep(); get_usleep(); get_nanosleep(); get_clock_nanosleep();
    get_read(); get_write(); get_open(); get_open64(); get_openat(); get_openat64(); get_close();
    get_poll(); get_ppoll(); get_epoll_wait(); get_epoll_pwait(); get_syscall();
    get_vprintf(); get_vfprintf(); get_puts(); get_fputs(); get_fwrite(); get_fflush();
    get_fcntl(); get_fcntl64(); get_perror(); get_mremap(); get_brk(); get_sbrk();
    get_pthread_exit(); get_thrd_exit();
    get_dlclose();
#if HAVE_TRAMPOLINES
    get_dlopen(); get_dlmopen(); get_vfork();
#endif
    SIMPLE_CALLS(SIMPLE_RESOLVE)
    LFS64_CALLS(NAMED_RESOLVE)
    TIME64_CALLS(NAMED_RESOLVE)
    FORTIFY_CALLS(NAMED_RESOLVE)
    INPUT_CALLS(NAMED_RESOLVE)
    STDIO_CALLS(NAMED_RESOLVE)
    STREAM_CALLS(NAMED_RESOLVE)
    STREAM_LOCK_CALLS(NAMED_RESOLVE)
    VOID_STREAM_CALLS(VOID_RESOLVE)
    get_vsyslog(); get___vsyslog_chk();
#if HAVE_TIME64_CALLS
    get___fcntl_time64();
#endif
    /* backtrace() loads libgcc's unwinder (dlopen, malloc) on first use: do
     * that now, so that reporting from a real-time section works. */
    void *frames[4];
    backtrace(frames, 4);
    in_checker--;
}

/* ------------------------------------------------------------------ */
/* Allocation. */

EXPORT void *malloc(size_t n)
{
    if (resolving)
        return arena_alloc(n);
    CHECK("malloc");
    return get_malloc()(n);
}

EXPORT void *calloc(size_t n, size_t size)
{
    if (resolving)
        return size != 0 && n > SIZE_MAX / size ? NULL : arena_alloc(n * size);
    CHECK("calloc");
    return get_calloc()(n, size);
}

EXPORT void *realloc(void *p, size_t n)
{
    if (p && in_arena(p)) {   /* from the arena: move it to the real heap */
        /* The block's size is not kept: copy n bytes, or up to the
         * arena's end (bytes past the old block are indeterminate in the
         * new one anyway). */
        size_t left = (size_t)(arena + sizeof arena - (char *)p);
        void *q = get_malloc()(n);
        if (q)
            memcpy(q, p, n < left ? n : left);
        return q;
    }
    CHECK("realloc");
    return get_realloc()(p, n);
}

/* free(NULL) does nothing (C11 7.22.3.3; glibc returns at once): it is
 * real-time safe and not reported. It was, so a section that ran a
 * cleanup with nothing to free, or C++'s delete of a null pointer
 * (operator delete calls free), aborted the program. */
EXPORT void free(void *p)
{
    if (p && in_arena(p))
        return;
    if (p)
        CHECK("free");
    get_free()(p);
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    CHECK("aligned_alloc");
    return get_aligned_alloc()(align, n);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    CHECK("posix_memalign");
    return get_posix_memalign()(out, align, n);
}

EXPORT void *memalign(size_t align, size_t n)
{
    CHECK("memalign");
    return get_memalign()(align, n);
}

EXPORT void *valloc(size_t n)
{
    CHECK("valloc");
    return get_valloc()(n);
}

/* ------------------------------------------------------------------ */
/* Locks and waits. */

EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    CHECK("pthread_mutex_lock");
    return get_pthread_mutex_lock()(m);
}

EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *t)
{
    CHECK("pthread_mutex_timedlock");
    return get_pthread_mutex_timedlock()(m, t);
}

/* The next definitions are looked up by version (GLIBC_2.3.2): a plain
 * dlsym would find the 2.2.5 compatibility versions with the old condvar. */
EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    CHECK("pthread_cond_wait");
    return get_pthread_cond_wait()(c, m);
}

EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                           const struct timespec *t)
{
    CHECK("pthread_cond_timedwait");
    return get_pthread_cond_timedwait()(c, m, t);
}

EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
                                  const struct timespec *t)
{
    CHECK("pthread_cond_clockwait");
    return get_pthread_cond_clockwait()(c, m, clk, t);
}

/* A thread that ends inside a section: pthread_exit (and C11's thrd_exit)
 * unwinds the stack, runs the cleanup handlers and the thread-specific
 * data's destructors (which free), and leaves the section unbalanced.
 * They were not interposed: the exit went unreported, and a destructor's
 * free was reported in its stead, as if the destructor were at fault. (A
 * thread that returns from its start routine inside a section makes no
 * call to see; its destructors' frees are reported.) */
EXPORT void pthread_exit(void *result)
{
    CHECK("pthread_exit");
    get_pthread_exit()(result);
    __builtin_unreachable();
}

EXPORT void thrd_exit(int result)
{
    CHECK("thrd_exit");
    get_thrd_exit()(result);
    __builtin_unreachable();
}

/* The wakes. Signalling a condition variable is reported (and C11's
 * cnd_signal and cnd_broadcast, SIMPLE_CALLS), whether or not a thread
 * waits: glibc's (2.25 and later) takes the condition variable's internal
 * lock when one does, and waits for it while a waiter or another
 * signaller holds it -- a thread of ordinary priority, which the real-time
 * thread then waits for (priority inversion) -- and makes a futex wake
 * system call. A real-time thread that must wake another posts a
 * semaphore (sem_post: an atomic add, and a wake only when a thread
 * waits; no lock), or leaves data where the other polls for it.
 * pthread_mutex_unlock, pthread_rwlock_unlock, pthread_spin_unlock,
 * mtx_unlock and sem_post are not interposed: none of them waits (an
 * atomic store or exchange, and a futex wake when a thread waits, which
 * the kernel does without blocking the caller, for priority-inheritance
 * mutexes too), and a real-time thread that unlocks got the lock with a
 * try-lock (allowed: it never waits) or was already reported taking it. */
EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
    CHECK("pthread_cond_signal");
    return get_pthread_cond_signal()(c);
}

EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
    CHECK("pthread_cond_broadcast");
    return get_pthread_cond_broadcast()(c);
}

EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
    CHECK("pthread_rwlock_rdlock");
    return get_pthread_rwlock_rdlock()(l);
}

EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
    CHECK("pthread_rwlock_wrlock");
    return get_pthread_rwlock_wrlock()(l);
}

EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *t)
{
    CHECK("pthread_rwlock_timedrdlock");
    return get_pthread_rwlock_timedrdlock()(l, t);
}

EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *t)
{
    CHECK("pthread_rwlock_timedwrlock");
    return get_pthread_rwlock_timedwrlock()(l, t);
}

EXPORT int sem_wait(sem_t *s)
{
    CHECK("sem_wait");
    return get_sem_wait()(s);
}

EXPORT int sem_timedwait(sem_t *s, const struct timespec *t)
{
    CHECK("sem_timedwait");
    return get_sem_timedwait()(s, t);
}

/* pthread_once and C11's call_once: reported only while the routine has
 * not yet returned, when the call would run it (arbitrary work: the
 * allocations a lazy initializer makes) or wait for the thread that runs
 * it. Once it has returned they are one load and a branch, never wait, and
 * are not reported: a library that checks its lazy setup on each call
 * (pthread_once at the top of a function) is fine in a section once it
 * was set up before, which is what a real-time thread's warm-up is for.
 * glibc's once control is an int (call_once's once_flag holds one) whose
 * bit of value 2 is set when the routine has returned (nptl/pthread_once.c: its
 * fast path tests that bit alone, and nothing clears it, not even fork).
 * Elsewhere every call in a section is reported. A null control is
 * reported (and forwarded: what the C library does with it is its own). */
static bool once_done(const void *control)
{
#ifdef __GLIBC__
    /* Relaxed: only the bit is looked at, to decide whether to report;
     * the real call makes its own acquire load of it. */
    return control && (__atomic_load_n((const int *)control, __ATOMIC_RELAXED) & 2) != 0;
#else
    (void)control;
    return false;
#endif
}

EXPORT int pthread_once(pthread_once_t *once, void (*routine)(void))
{
    if (!once_done(once))
        CHECK("pthread_once");
    return get_pthread_once()(once, routine);
}

EXPORT void call_once(once_flag *once, void (*routine)(void))
{
    if (!once_done(once))
        CHECK("call_once");
    get_call_once()(once, routine);
}

/* ------------------------------------------------------------------ */
/* Sleeps. */

EXPORT unsigned sleep(unsigned s)
{
    CHECK("sleep");
    return get_sleep()(s);
}

EXPORT int usleep(useconds_t us)
{
    CHECK("usleep");
    return get_usleep()(us);
}

EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
    CHECK("nanosleep");
    return get_nanosleep()(req, rem);
}

EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
                           struct timespec *rem)
{
    CHECK("clock_nanosleep");
    return get_clock_nanosleep()(clk, flags, req, rem);
}

/* ------------------------------------------------------------------ */
/* I/O. */

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    CHECK("read");
    return get_read()(fd, buf, n);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    CHECK("write");
    return get_write()(fd, buf, n);
}

static mode_t open_mode(int flags, va_list ap)
{
    /* O_TMPFILE includes O_DIRECTORY's bit: test all of its bits. */
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
        return (mode_t)va_arg(ap, int);
    return 0;
}

/* open, openat and their 64-bit-offset forms (open64 and openat64, which
 * a program built with _FILE_OFFSET_BITS=64 calls): the mode argument is
 * there only when the flags create a file. */
#define OPEN_WRAPPER(name, shown, params, args)                          \
    EXPORT int rtcheck_##name params __asm__(#name);                     \
    int rtcheck_##name params                                            \
    {                                                                    \
        va_list ap;                                                      \
        va_start(ap, flags);                                             \
        mode_t mode = open_mode(flags, ap);                              \
        va_end(ap);                                                      \
        CHECK(shown);                                                    \
        return get_##name() args;                                        \
    }
OPEN_WRAPPER(open, "open", (const char *path, int flags, ...), (path, flags, mode))
OPEN_WRAPPER(open64, "open", (const char *path, int flags, ...), (path, flags, mode))
OPEN_WRAPPER(openat, "openat", (int dir, const char *path, int flags, ...), (dir, path, flags, mode))
OPEN_WRAPPER(openat64, "openat", (int dir, const char *path, int flags, ...),
             (dir, path, flags, mode))

EXPORT int close(int fd)
{
    CHECK("close");
    return get_close()(fd);
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    CHECK("poll");
    return get_poll()(fds, n, timeout);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *m)
{
    CHECK("ppoll");
    return get_ppoll()(fds, n, t, m);
}

/* fcntl(): only the lock commands that wait (F_SETLKW, F_OFD_SETLKW) are
 * violations by themselves; the others are forwarded unchecked, as
 * syscall() numbers are. The third argument, when there is one, is an int
 * or a pointer: passed on as a pointer, as glibc itself reads it. The
 * wrappers' symbols are asm labels, as in SIMPLE_WRAPPER: headers may
 * redirect fcntl to fcntl64. */
static bool fcntl_waits(int cmd)
{
    return cmd == F_SETLKW || cmd == F_OFD_SETLKW
#if defined(F_SETLKW64) && F_SETLKW64 != F_SETLKW
           || cmd == F_SETLKW64
#endif
        ;
}

/* fcntl, fcntl64 (64-bit offsets on a 32-bit target) and __fcntl_time64
 * (also 64-bit time there): the same wrapper under each name. */
#define FCNTL_WRAPPER(name)                                               \
    EXPORT int rtcheck_##name(int fd, int cmd, ...) __asm__(#name);      \
    int rtcheck_##name(int fd, int cmd, ...)                             \
    {                                                                    \
        va_list ap;                                                      \
        va_start(ap, cmd);                                               \
        void *arg = va_arg(ap, void *);                                  \
        va_end(ap);                                                      \
        if (fcntl_waits(cmd))                                            \
            CHECK("fcntl(F_SETLKW)");                                    \
        return get_##name()(fd, cmd, arg);                               \
    }
FCNTL_WRAPPER(fcntl)
FCNTL_WRAPPER(fcntl64)
#if HAVE_TIME64_CALLS
FCNTL_WRAPPER(__fcntl_time64)
#endif

/* brk and sbrk move the program break (a system call that takes the
 * process's memory-map lock, as mmap does): they were not interposed.
 * sbrk(0) only reads the break glibc keeps, and passes. */
EXPORT int brk(void *end)
{
    CHECK("brk");
    return get_brk()(end);
}

EXPORT void *sbrk(intptr_t increment)
{
    if (increment != 0)
        CHECK("sbrk");
    return get_sbrk()(increment);
}

/* mremap(): its fifth argument (the new address) is there only with
 * MREMAP_FIXED; passed on as given. */
EXPORT void *mremap(void *old, size_t old_size, size_t new_size, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    void *to = (flags & MREMAP_FIXED) ? va_arg(ap, void *) : NULL;
    va_end(ap);
    CHECK("mremap");
    return get_mremap()(old, old_size, new_size, flags, to);
}

EXPORT int epoll_wait(int ep, struct epoll_event *ev, int n, int timeout)
{
    CHECK("epoll_wait");
    return get_epoll_wait()(ep, ev, n, timeout);
}

EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int n, int timeout, const sigset_t *m)
{
    CHECK("epoll_pwait");
    return get_epoll_pwait()(ep, ev, n, timeout, m);
}

/* syscall(): only the futex calls are real-time violations by themselves
 * here; other numbers are forwarded unchecked (use FERRY_RTCHECK_SYSCALLS=all to flag
 * every syscall() from a real-time section). */
EXPORT long syscall(long nr, ...)
{
    va_list ap;
    va_start(ap, nr);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if (__builtin_expect(thread_in_rt(), 0)) {
        const char *what = NULL;
        if (nr == SYS_futex)
            what = "syscall(SYS_futex)";
#ifdef SYS_futex_waitv
        else if (nr == SYS_futex_waitv)
            what = "syscall(SYS_futex_waitv)";
#endif
#ifdef SYS_futex_time64
        else if (nr == SYS_futex_time64)   /* 32-bit, with a 64-bit timespec */
            what = "syscall(SYS_futex_time64)";
#endif
        else if (flag_all_syscalls)
            what = "syscall";
        if (what)
            report(what, __builtin_return_address(0));
    }
    return get_syscall()(nr, a1, a2, a3, a4, a5, a6);
}

/* ------------------------------------------------------------------ */
/* stdio: its buffers are locked and flushing calls write() inside glibc,
 * where the write() wrapper above cannot see it. printf() is the classic
 * mistake in an audio callback. */
/* The wrappers added later carry asm labels, as SIMPLE_WRAPPER's do:
 * glibc's headers define vprintf inline when optimizing, and dprintf,
 * wprintf and fwprintf with _FORTIFY_SOURCE. */

EXPORT int vfprintf(FILE *f, const char *fmt, va_list ap)
{
    CHECK("vfprintf");
    return get_vfprintf()(f, fmt, ap);
}

EXPORT int rtcheck_vprintf(const char *fmt, va_list ap) __asm__("vprintf");
int rtcheck_vprintf(const char *fmt, va_list ap)
{
    CHECK("vprintf");
    return get_vprintf()(fmt, ap);
}

/* The variadic print calls, each forwarded to its va_list form. */
#define PRINT_WRAPPER(name, shown, vname, params, args, last)            \
    EXPORT int rtcheck_##name params __asm__(#name);                     \
    int rtcheck_##name params                                            \
    {                                                                    \
        CHECK(shown);                                                    \
        va_list ap;                                                      \
        va_start(ap, last);                                              \
        int r = get_##vname() args;                                      \
        va_end(ap);                                                      \
        return r;                                                        \
    }
PRINT_WRAPPER(printf, "printf", vprintf, (const char *fmt, ...), (fmt, ap), fmt)
PRINT_WRAPPER(fprintf, "fprintf", vfprintf, (FILE *f, const char *fmt, ...), (f, fmt, ap), fmt)
PRINT_WRAPPER(dprintf, "dprintf", vdprintf, (int fd, const char *fmt, ...), (fd, fmt, ap), fmt)
PRINT_WRAPPER(wprintf, "wprintf", vwprintf, (const wchar_t *fmt, ...), (fmt, ap), fmt)
PRINT_WRAPPER(fwprintf, "fwprintf", vfwprintf, (FILE *f, const wchar_t *fmt, ...), (f, fmt, ap), fmt)
/* _FORTIFY_SOURCE's forms (FORTIFY_CALLS), with their flag argument. */
PRINT_WRAPPER(__printf_chk, "printf", __vprintf_chk, (int fl, const char *fmt, ...), (fl, fmt, ap), fmt)
PRINT_WRAPPER(__fprintf_chk, "fprintf", __vfprintf_chk, (FILE *f, int fl, const char *fmt, ...),
              (f, fl, fmt, ap), fmt)
PRINT_WRAPPER(__dprintf_chk, "dprintf", __vdprintf_chk, (int fd, int fl, const char *fmt, ...),
              (fd, fl, fmt, ap), fmt)
PRINT_WRAPPER(__wprintf_chk, "wprintf", __vwprintf_chk, (int fl, const wchar_t *fmt, ...),
              (fl, fmt, ap), fmt)
PRINT_WRAPPER(__fwprintf_chk, "fwprintf", __vfwprintf_chk, (FILE *f, int fl, const wchar_t *fmt, ...),
              (f, fl, fmt, ap), fmt)
PRINT_WRAPPER(scanf, "scanf", vscanf, (const char *fmt, ...), (fmt, ap), fmt)
PRINT_WRAPPER(fscanf, "fscanf", vfscanf, (FILE *f, const char *fmt, ...), (f, fmt, ap), fmt)
PRINT_WRAPPER(__isoc99_scanf, "scanf", __isoc99_vscanf, (const char *fmt, ...), (fmt, ap), fmt)
PRINT_WRAPPER(__isoc99_fscanf, "fscanf", __isoc99_vfscanf, (FILE *f, const char *fmt, ...),
              (f, fmt, ap), fmt)
PRINT_WRAPPER(__isoc23_scanf, "scanf", __isoc23_vscanf, (const char *fmt, ...), (fmt, ap), fmt)
PRINT_WRAPPER(__isoc23_fscanf, "fscanf", __isoc23_vfscanf, (FILE *f, const char *fmt, ...),
              (f, fmt, ap), fmt)

/* syslog and its forms, which return nothing. */
#define LOG_WRAPPER(name, vname, params, args, last)                     \
    EXPORT void rtcheck_##name params __asm__(#name);                    \
    void rtcheck_##name params                                           \
    {                                                                    \
        CHECK("syslog");                                                 \
        va_list ap;                                                      \
        va_start(ap, last);                                              \
        get_##vname() args;                                              \
        va_end(ap);                                                      \
    }
LOG_WRAPPER(syslog, vsyslog, (int pr, const char *fmt, ...), (pr, fmt, ap), fmt)
LOG_WRAPPER(__syslog_chk, __vsyslog_chk, (int pr, int fl, const char *fmt, ...), (pr, fl, fmt, ap), fmt)

EXPORT void rtcheck_vsyslog(int pr, const char *fmt, va_list ap) __asm__("vsyslog");
void rtcheck_vsyslog(int pr, const char *fmt, va_list ap)
{
    CHECK("vsyslog");
    get_vsyslog()(pr, fmt, ap);
}

EXPORT void rtcheck___vsyslog_chk(int pr, int fl, const char *fmt, va_list ap) __asm__("__vsyslog_chk");
void rtcheck___vsyslog_chk(int pr, int fl, const char *fmt, va_list ap)
{
    CHECK("vsyslog");
    get___vsyslog_chk()(pr, fl, fmt, ap);
}

EXPORT void rtcheck_perror(const char *s) __asm__("perror");
void rtcheck_perror(const char *s)
{
    CHECK("perror");
    get_perror()(s);
}

EXPORT int puts(const char *s)
{
    CHECK("puts");
    return get_puts()(s);
}

EXPORT int fputs(const char *s, FILE *f)
{
    CHECK("fputs");
    return get_fputs()(s, f);
}

EXPORT size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    CHECK("fwrite");
    return get_fwrite()(p, size, n, f);
}

EXPORT int fflush(FILE *f)
{
    CHECK("fflush");
    return get_fflush()(f);
}
