/* SPDX-License-Identifier: MIT */
/* Tests of libferry-rtcheck.so, run with it preloaded (cmake/parts/rt.cmake).
 * clean_* cases: every real-time path of ferry runs inside a real-time
 * section without a report. death_* cases: each forbidden call inside a
 * section is caught with the checker's message. */
#include <ferry/chan.h>
#include <ferry/defer.h>
#include <ferry/list.h>
#include <ferry/llq.h>
#include <ferry/mutex.h>
#include <ferry/rcu.h>
#include <ferry/rcu_qsbr.h>
#include <ferry/rcu_sync.h>
#include <ferry/rt.h>
#include <ferry/select.h>
#include <ferry/spsc.h>

#include <aio.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <mqueue.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
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
#include <syslog.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "test.h"

/* The clean cases would pass vacuously without the checker: check that it
 * is loaded and sees our sections. */
static bool checker_sees_rt(void)
{
    bool (*in_rt)(void);
    void *sym = dlsym(RTLD_DEFAULT, "ferry_rtcheck_thread_in_rt");
    CHECK_MSG(sym != NULL, "libferry-rtcheck.so is not preloaded");
    memcpy(&in_rt, &sym, sizeof in_rt);
    return in_rt();
}

FERRY_TEST(clean_checker_armed)
{
    CHECK(!checker_sees_rt());
    ferry_rt_enter();
    bool inside = checker_sees_rt();
    ferry_rt_enter();
    bool nested = checker_sees_rt();
    ferry_rt_exit();
    bool still = checker_sees_rt();
    ferry_rt_exit();
    CHECK(inside);
    CHECK(nested);
    CHECK(still);
    CHECK(!checker_sees_rt());
}

/* The arena that serves allocations while the checker resolves the real
 * functions: a block moved to the heap keeps all of its bytes (it kept the
 * first 256), and sizes that wrap are refused (calloc's product and the
 * arena's rounding wrapped, and returned a block). */
FERRY_TEST(clean_arena_blocks)
{
    void (*set)(int);
    void *sym = dlsym(RTLD_DEFAULT, "ferry_rtcheck__test_resolving");
    CHECK_MSG(sym != NULL, "libferry-rtcheck.so is not preloaded");
    memcpy(&set, &sym, sizeof set);
    set(1);
    unsigned char *p = malloc(300);
    volatile size_t big = SIZE_MAX / 2; /* no compile-time size warnings */
    void *wrapped = calloc(big, 4);
    void *huge = malloc(big * 2 - 8);
    set(0);
    CHECK(p != NULL);
    CHECK(wrapped == NULL);
    CHECK(huge == NULL);
    memset(p, 0x5a, 300);
    unsigned char *q = realloc(p, 1000);
    CHECK(q != NULL);
    for (int i = 0; i < 300; i++)
        CHECK_EQ(q[i], 0x5a);
    free(q);
}

FERRY_TEST(clean_outside_sections)
{
    /* Outside a section everything is allowed. */
    void *volatile p = malloc(64);
    free(p);
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    CHECK_EQ(write(STDOUT_FILENO, "", 0), 0);
    usleep(1);
}

FERRY_TEST(clean_spsc)
{
    uint64_t buf[64], in[100], out[100];
    void *pbuf[8];   /* push_ptr/pop_ptr: a ring of pointer-size items */
    ferry_spsc q, pq;
    CHECK_EQ(ferry_spsc_init(&q, buf, sizeof buf[0], 64), 0);
    CHECK_EQ(ferry_spsc_init(&pq, pbuf, sizeof pbuf[0], 8), 0);
    for (int i = 0; i < 100; i++)
        in[i] = (uint64_t)i;
    ferry_rt_enter();
    CHECK(checker_sees_rt());
    size_t total = 0;
    for (int round = 0; round < 1000; round++) {
        size_t n = ferry_spsc_push(&q, in, (size_t)(round % 100) + 1);
        size_t m = ferry_spsc_pop(&q, out, 100);
        CHECK_EQ(n, m);
        total += m;
        CHECK(ferry_spsc_peek(&q) == NULL);
        ferry_spsc_push(&q, in, 1);
        CHECK(ferry_spsc_peek(&q) != NULL);
        ferry_spsc_consume(&q, 1);
        void *p;
        CHECK(ferry_spsc_push_ptr(&pq, &q));
        CHECK(ferry_spsc_pop_ptr(&pq, &p));
        CHECK(p == &q);
    }
    ferry_rt_exit();
    CHECK(total > 0);
}

typedef struct item {
    ferry_llq_node qn;
    ferry_defer_node dn;
    int id;
} item;

static int freed;
static void free_item(ferry_defer_node *n)
{
    free(ferry_container_of(n, item, dn));
    freed++;
}

FERRY_TEST(clean_llq)
{
    enum { N = 64 };
    item *items = calloc(N, sizeof *items);
    ferry_llq q;
    ferry_llq_init(&q);
    ferry_rt_enter();
    CHECK(checker_sees_rt());
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < N; i++) {
            items[i].id = i;
            ferry_llq_push(&q, &items[i].qn);
            if (i % 3 == 0) {   /* drain to the last node: stub recycling */
                ferry_llq_node *n;
                while ((n = ferry_llq_pop(&q)) != NULL)
                    (void)ferry_container_of(n, item, qn);
            }
        }
        while (ferry_llq_pop(&q))
            ;
    }
    CHECK(ferry_llq_empty(&q));
    ferry_rt_exit();
    free(items);
}

FERRY_TEST(clean_defer_push)
{
    enum { N = 1000 };
    item *items[N];
    for (int i = 0; i < N; i++)
        items[i] = calloc(1, sizeof(item));
    ferry_defer d;
    CHECK_EQ(ferry_defer_init(&d), 0);
    freed = 0;
    ferry_rt_enter();
    CHECK(checker_sees_rt());
    for (int i = 0; i < N; i++)
        ferry_defer_push(&d, &items[i]->dn, free_item);
    ferry_rt_exit();
    CHECK_EQ(ferry_defer_collect(&d), N);
    CHECK_EQ(freed, N);
    ferry_defer_fini(&d);
}

typedef struct obj {
    ferry_shared sh;
    char data[100];
} obj;
static int destroyed;
static void destroy_obj(ferry_shared *s)
{
    free(ferry_container_of(s, obj, sh));
    destroyed++;
}

FERRY_TEST(clean_shared_release)
{
    ferry_defer d;
    ferry_defer_init(&d);
    obj *o = malloc(sizeof *o);
    CHECK_EQ(ferry_shared_init(&o->sh, &d, destroy_obj), 0);
    ferry_shared_acquire(&o->sh);
    destroyed = 0;
    ferry_rt_enter();
    CHECK(checker_sees_rt());
    ferry_shared_acquire(&o->sh);
    ferry_shared_release(&o->sh);
    ferry_shared_release(&o->sh);
    ferry_shared_release(&o->sh);  /* the last one: deferred, no free here */
    ferry_rt_exit();
    CHECK_EQ(destroyed, 0);
    CHECK_EQ(ferry_defer_collect(&d), 1);
    CHECK_EQ(destroyed, 1);
    ferry_defer_fini(&d);
}

/* A real-time thread doing all of it while another thread allocates, locks
 * and writes outside any section: only the marked thread is checked. */
static ferry_spsc ring;
static uint64_t ringbuf[256];
static ferry_defer garbage;

static void *rt_thread(void *arg)
{
    (void)arg;
    uint64_t got[16];
    size_t n = 0;
    ferry_rt_enter();
    while (n < 10000) {
        size_t m = ferry_spsc_pop(&ring, got, 16);
        for (size_t i = 0; i < m; i++) {
            item *it = (item *)(uintptr_t)got[i];
            ferry_defer_push(&garbage, &it->dn, free_item);
        }
        n += m;
    }
    ferry_rt_exit();
    return NULL;
}

FERRY_TEST(clean_threads)
{
    ferry_spsc_init(&ring, ringbuf, sizeof ringbuf[0], 256);
    ferry_defer_init(&garbage);
    freed = 0;
    pthread_t t;
    pthread_create(&t, NULL, rt_thread, NULL);
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    for (int i = 0; i < 10000;) {
        uint64_t p = (uint64_t)(uintptr_t)calloc(1, sizeof(item));
        while (ferry_spsc_push(&ring, &p, 1) == 0) {
            pthread_mutex_lock(&m);
            pthread_mutex_unlock(&m);
            ferry_defer_collect(&garbage);
        }
        i++;
    }
    pthread_join(t, NULL);
    ferry_defer_fini(&garbage);
    CHECK_EQ(freed, 10000);
}

/* ---- misuse inside a section: ferry's own message, not a report of the
 * print that carries it ---- */

FERRY_DEATH_TEST(death_misuse_in_section_says_what, "ferry_defer_push: NULL fn for node")
{
    static ferry_defer d;
    static ferry_defer_node n;
    ferry_defer_init(&d);
    ferry_rt_enter();
    ferry_defer_push(&d, &n, NULL);
}

/* ---- each forbidden call is caught ---- */

FERRY_DEATH_TEST(death_malloc, "ferry-rtcheck: malloc in real-time section")
{
    ferry_rt_enter();
    void *volatile p = malloc(32);
    (void)p;
}

FERRY_DEATH_TEST(death_free, "ferry-rtcheck: free in real-time section")
{
    void *volatile p = malloc(32);
    ferry_rt_enter();
    free(p);
}

/* free(NULL) is a no-op, allowed in a section (it was reported, and a
 * cleanup with nothing to free, or a C++ delete of a null pointer, aborted
 * the program); realloc(NULL, n) allocates and is caught (death_realloc
 * and below). */
FERRY_TEST(clean_free_null)
{
    void *volatile none = NULL;
    ferry_rt_enter();
    CHECK(checker_sees_rt());
    free(none);
    ferry_rt_exit();
}

FERRY_DEATH_TEST(death_realloc_null, "ferry-rtcheck: realloc in real-time section")
{
    void *volatile none = NULL;
    ferry_rt_enter();
    void *volatile p = realloc(none, 16);
    (void)p;
}

FERRY_DEATH_TEST(death_calloc_nested, "ferry-rtcheck: calloc in real-time section")
{
    ferry_rt_enter();
    ferry_rt_enter();
    ferry_rt_exit();   /* still inside the outer section */
    void *volatile p = calloc(4, 8);
    (void)p;
}

FERRY_DEATH_TEST(death_mutex_lock, "ferry-rtcheck: pthread_mutex_lock in real-time section")
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    ferry_rt_enter();
    pthread_mutex_lock(&m);
}

FERRY_DEATH_TEST(death_cond_timedwait, "ferry-rtcheck: pthread_cond_timedwait in real-time section")
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    pthread_mutex_lock(&m);
    ferry_rt_enter();
    pthread_cond_timedwait(&c, &m, &ts);
}

FERRY_DEATH_TEST(death_sem_wait, "ferry-rtcheck: sem_wait in real-time section")
{
    sem_t s;
    sem_init(&s, 0, 1);
    ferry_rt_enter();
    sem_wait(&s);
}

FERRY_DEATH_TEST(death_write, "ferry-rtcheck: write in real-time section")
{
    ferry_rt_enter();
    CHECK_EQ(write(STDOUT_FILENO, "", 0), 0);
}

FERRY_DEATH_TEST(death_open, "ferry-rtcheck: open in real-time section")
{
    ferry_rt_enter();
    int fd = open("/dev/null", O_RDONLY);
    (void)fd;
}

FERRY_DEATH_TEST(death_usleep, "ferry-rtcheck: usleep in real-time section")
{
    ferry_rt_enter();
    usleep(1);
}

FERRY_DEATH_TEST(death_nanosleep, "ferry-rtcheck: nanosleep in real-time section")
{
    struct timespec ts = {0, 1000};
    ferry_rt_enter();
    nanosleep(&ts, NULL);
}

FERRY_DEATH_TEST(death_futex, "ferry-rtcheck: syscall(SYS_futex) in real-time section")
{
    static int word = 1;
    ferry_rt_enter();
    syscall(SYS_futex, &word, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
}

FERRY_DEATH_TEST(death_backtrace_printed, "rtcheck_test(")
{
    /* The report carries a backtrace: backtrace_symbols_fd prints each frame
     * as "module(symbol+offset) [address]", this program among them. */
    ferry_rt_enter();
    void *volatile p = malloc(1);
    (void)p;
}

FERRY_DEATH_TEST(death_printf, "ferry-rtcheck: printf in real-time section")
{
    ferry_rt_enter();
    printf("level %d\n", 3);
}

/* ---- I/O and waits beyond read/write/open: each blocks like them ---- */

FERRY_DEATH_TEST(death_pread, "ferry-rtcheck: pread in real-time section")
{
    char b[8];
    int fd = open("/dev/zero", O_RDONLY);
    ferry_rt_enter();
    CHECK_EQ(pread(fd, b, sizeof b, 0), (ssize_t)sizeof b);
}

FERRY_DEATH_TEST(death_pwrite, "ferry-rtcheck: pwrite in real-time section")
{
    int fd = open("/dev/null", O_WRONLY);
    ferry_rt_enter();
    CHECK_EQ(pwrite(fd, "x", 1, 0), 1);
}

FERRY_DEATH_TEST(death_readv, "ferry-rtcheck: readv in real-time section")
{
    char b[8];
    struct iovec v = { b, sizeof b };
    int fd = open("/dev/zero", O_RDONLY);
    ferry_rt_enter();
    CHECK_EQ(readv(fd, &v, 1), (ssize_t)sizeof b);
}

FERRY_DEATH_TEST(death_writev, "ferry-rtcheck: writev in real-time section")
{
    struct iovec v = { (void *)"x", 1 };
    int fd = open("/dev/null", O_WRONLY);
    ferry_rt_enter();
    CHECK_EQ(writev(fd, &v, 1), 1);
}

FERRY_DEATH_TEST(death_select, "ferry-rtcheck: select in real-time section")
{
    struct timeval tv = { 0, 1 };
    ferry_rt_enter();
    CHECK_EQ(select(0, NULL, NULL, NULL, &tv), 0);
}

FERRY_DEATH_TEST(death_recv, "ferry-rtcheck: recv in real-time section")
{
    int sv[2];
    char b[1];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(send(sv[1], "x", 1, 0), 1);
    ferry_rt_enter();
    CHECK_EQ(recv(sv[0], b, 1, 0), 1);
}

FERRY_DEATH_TEST(death_send, "ferry-rtcheck: send in real-time section")
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ferry_rt_enter();
    CHECK_EQ(send(sv[1], "x", 1, 0), 1);
}

FERRY_DEATH_TEST(death_fread_buffered, "ferry-rtcheck: fread in real-time section")
{
    /* The stream's buffer exists already: fread allocates nothing, and its
     * read() happens inside glibc where the read() wrapper cannot see it. */
    char b[8];
    FILE *f = fopen("/dev/zero", "r");
    CHECK(f != NULL);
    CHECK_EQ(fread(b, 1, sizeof b, f), sizeof b);
    ferry_rt_enter();
    CHECK_EQ(fread(b, 1, sizeof b, f), sizeof b);
}

FERRY_DEATH_TEST(death_fgets_buffered, "ferry-rtcheck: fgets in real-time section")
{
    char b[8];
    FILE *f = fopen("/dev/zero", "r");
    CHECK(f != NULL);
    CHECK(fgets(b, sizeof b, f) != NULL);
    ferry_rt_enter();
    CHECK(fgets(b, sizeof b, f) != NULL);
}

FERRY_DEATH_TEST(death_fsync, "ferry-rtcheck: fsync in real-time section")
{
    int fd = open("/dev/null", O_WRONLY);
    ferry_rt_enter();
    (void)fsync(fd);
}

static void *idle_thread(void *arg)
{
    return arg;
}

FERRY_DEATH_TEST(death_pthread_join, "ferry-rtcheck: pthread_join in real-time section")
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, idle_thread, NULL), 0);
    ferry_rt_enter();
    pthread_join(t, NULL);
}

FERRY_DEATH_TEST(death_mmap, "ferry-rtcheck: mmap in real-time section")
{
    ferry_rt_enter();
    void *volatile p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    (void)p;
}

FERRY_DEATH_TEST(death_munmap, "ferry-rtcheck: munmap in real-time section")
{
    void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    ferry_rt_enter();
    munmap(p, 4096);
}

FERRY_DEATH_TEST(death_mprotect, "ferry-rtcheck: mprotect in real-time section")
{
    void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    ferry_rt_enter();
    mprotect(p, 4096, PROT_READ | PROT_WRITE);
}

FERRY_DEATH_TEST(death_mremap, "ferry-rtcheck: mremap in real-time section")
{
    void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    ferry_rt_enter();
    void *volatile q = mremap(p, 4096, 8192, MREMAP_MAYMOVE);
    (void)q;
}

/* Outside a section mremap forwards its optional address intact. */
FERRY_TEST(clean_mremap_fixed_outside_sections)
{
    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    p[0] = 42;
    char *q = mremap(p, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, p + 2 * 4096);
    CHECK(q == p + 2 * 4096);
    CHECK_EQ(q[0], 42);
    munmap(p, 3 * 4096);
}

/* ---- the other forms of those calls: clock-based and C11 locks and
 * waits (libstdc++'s timed mutexes use the clock forms), spin locks,
 * joins with a deadline, waiting for a child or a signal ---- */

/* A deadline already past on CLOCK_MONOTONIC / CLOCK_REALTIME: a call the
 * checker let through would return at once instead of waiting. */
static struct timespec past(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts;
}

FERRY_DEATH_TEST(death_pvalloc, "ferry-rtcheck: pvalloc in real-time section")
{
    ferry_rt_enter();
    void *volatile p = pvalloc(32);
    (void)p;
}

FERRY_DEATH_TEST(death_mutex_clocklock, "ferry-rtcheck: pthread_mutex_clocklock in real-time section")
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    struct timespec ts = past(CLOCK_MONOTONIC);
    ferry_rt_enter();
    pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &ts);
}

FERRY_DEATH_TEST(death_rwlock_clockrdlock, "ferry-rtcheck: pthread_rwlock_clockrdlock in real-time section")
{
    static pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
    struct timespec ts = past(CLOCK_MONOTONIC);
    ferry_rt_enter();
    pthread_rwlock_clockrdlock(&l, CLOCK_MONOTONIC, &ts);
}

FERRY_DEATH_TEST(death_rwlock_clockwrlock, "ferry-rtcheck: pthread_rwlock_clockwrlock in real-time section")
{
    static pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
    struct timespec ts = past(CLOCK_MONOTONIC);
    ferry_rt_enter();
    pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &ts);
}

FERRY_DEATH_TEST(death_spin_lock, "ferry-rtcheck: pthread_spin_lock in real-time section")
{
    static pthread_spinlock_t l;
    pthread_spin_init(&l, PTHREAD_PROCESS_PRIVATE);
    ferry_rt_enter();
    pthread_spin_lock(&l);
}

FERRY_DEATH_TEST(death_sem_clockwait, "ferry-rtcheck: sem_clockwait in real-time section")
{
    sem_t s;
    sem_init(&s, 0, 1);
    struct timespec ts = past(CLOCK_MONOTONIC);
    ferry_rt_enter();
    sem_clockwait(&s, CLOCK_MONOTONIC, &ts);
}

FERRY_DEATH_TEST(death_timedjoin, "ferry-rtcheck: pthread_timedjoin_np in real-time section")
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, idle_thread, NULL), 0);
    struct timespec ts = past(CLOCK_REALTIME);
    ts.tv_sec += 10;
    ferry_rt_enter();
    pthread_timedjoin_np(t, NULL, &ts);
}

FERRY_DEATH_TEST(death_clockjoin, "ferry-rtcheck: pthread_clockjoin_np in real-time section")
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, idle_thread, NULL), 0);
    struct timespec ts = past(CLOCK_MONOTONIC);
    ts.tv_sec += 10;
    ferry_rt_enter();
    pthread_clockjoin_np(t, NULL, CLOCK_MONOTONIC, &ts);
}

FERRY_DEATH_TEST(death_mtx_lock, "ferry-rtcheck: mtx_lock in real-time section")
{
    static mtx_t m;
    CHECK_EQ(mtx_init(&m, mtx_plain), thrd_success);
    ferry_rt_enter();
    mtx_lock(&m);
}

FERRY_DEATH_TEST(death_mtx_timedlock, "ferry-rtcheck: mtx_timedlock in real-time section")
{
    static mtx_t m;
    CHECK_EQ(mtx_init(&m, mtx_timed), thrd_success);
    struct timespec ts = past(CLOCK_REALTIME);
    ferry_rt_enter();
    mtx_timedlock(&m, &ts);
}

FERRY_DEATH_TEST(death_cnd_wait, "ferry-rtcheck: cnd_wait in real-time section")
{
    static mtx_t m;
    static cnd_t c;
    CHECK_EQ(mtx_init(&m, mtx_plain), thrd_success);
    CHECK_EQ(cnd_init(&c), thrd_success);
    mtx_lock(&m);
    ferry_rt_enter();
    cnd_wait(&c, &m);   /* no one signals: only the checker ends this */
}

FERRY_DEATH_TEST(death_cnd_timedwait, "ferry-rtcheck: cnd_timedwait in real-time section")
{
    static mtx_t m;
    static cnd_t c;
    CHECK_EQ(mtx_init(&m, mtx_plain), thrd_success);
    CHECK_EQ(cnd_init(&c), thrd_success);
    mtx_lock(&m);
    struct timespec ts = past(CLOCK_REALTIME);
    ferry_rt_enter();
    cnd_timedwait(&c, &m, &ts);
}

FERRY_DEATH_TEST(death_thrd_sleep, "ferry-rtcheck: thrd_sleep in real-time section")
{
    struct timespec ts = {0, 1000};
    ferry_rt_enter();
    thrd_sleep(&ts, NULL);
}

static int idle_thrd(void *arg)
{
    (void)arg;
    return 0;
}

FERRY_DEATH_TEST(death_thrd_join, "ferry-rtcheck: thrd_join in real-time section")
{
    thrd_t t;
    CHECK_EQ(thrd_create(&t, idle_thrd, NULL), thrd_success);
    ferry_rt_enter();
    thrd_join(t, NULL);
}

FERRY_DEATH_TEST(death_waitpid, "ferry-rtcheck: waitpid in real-time section")
{
    ferry_rt_enter();
    waitpid(-1, NULL, WNOHANG);
}

/* wait3 and wait4 wait for a child as waitpid does (they were not
 * interposed). */
FERRY_DEATH_TEST(death_wait3, "ferry-rtcheck: wait3 in real-time section")
{
    ferry_rt_enter();
    (void)wait3(NULL, WNOHANG, NULL);
}

FERRY_DEATH_TEST(death_wait4, "ferry-rtcheck: wait4 in real-time section")
{
    ferry_rt_enter();
    (void)wait4(-1, NULL, WNOHANG, NULL);
}

FERRY_DEATH_TEST(death_wait, "ferry-rtcheck: wait in real-time section")
{
    ferry_rt_enter();
    wait(NULL);   /* no child: ECHILD at once if let through */
}

FERRY_DEATH_TEST(death_waitid, "ferry-rtcheck: waitid in real-time section")
{
    siginfo_t in;
    ferry_rt_enter();
    waitid(P_ALL, 0, &in, WEXITED | WNOHANG);
}

/* The signal waits: SIGUSR2, blocked, is never sent; each call that the
 * checker let through would wait for ever (or, timed, return EAGAIN). */
static sigset_t usr2_blocked(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
    return set;
}

FERRY_DEATH_TEST(death_pause, "ferry-rtcheck: pause in real-time section")
{
    ferry_rt_enter();
    pause();
}

FERRY_DEATH_TEST(death_sigsuspend, "ferry-rtcheck: sigsuspend in real-time section")
{
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGABRT);
    ferry_rt_enter();
    sigsuspend(&all);
}

FERRY_DEATH_TEST(death_sigwait, "ferry-rtcheck: sigwait in real-time section")
{
    sigset_t set = usr2_blocked();
    int sig;
    ferry_rt_enter();
    sigwait(&set, &sig);
}

FERRY_DEATH_TEST(death_sigwaitinfo, "ferry-rtcheck: sigwaitinfo in real-time section")
{
    sigset_t set = usr2_blocked();
    ferry_rt_enter();
    sigwaitinfo(&set, NULL);
}

FERRY_DEATH_TEST(death_sigtimedwait, "ferry-rtcheck: sigtimedwait in real-time section")
{
    sigset_t set = usr2_blocked();
    struct timespec zero = {0, 0};
    ferry_rt_enter();
    sigtimedwait(&set, NULL, &zero);
}

/* More I/O: vectored positioned, batched sockets, sendfile, file locks,
 * syncing a mapping or a file system. */
FERRY_DEATH_TEST(death_preadv, "ferry-rtcheck: preadv in real-time section")
{
    int fd = open("/dev/zero", O_RDONLY);
    CHECK(fd >= 0);
    char b[8];
    struct iovec v = {b, sizeof b};
    ferry_rt_enter();
    preadv(fd, &v, 1, 0);
}

FERRY_DEATH_TEST(death_pwritev, "ferry-rtcheck: pwritev in real-time section")
{
    int fd = open("/dev/null", O_WRONLY);
    CHECK(fd >= 0);
    char b[8] = {0};
    struct iovec v = {b, sizeof b};
    ferry_rt_enter();
    pwritev(fd, &v, 1, 0);
}

/* The flag-taking vectored calls, and SysV semaphores and message queues
 * (a semop or msgrcv waits until another process acts). The checker
 * reports a call before making it, so the SysV calls here name no object
 * (id -1: were one let through, it would fail at once, and the test with
 * it, for want of the report). */
FERRY_DEATH_TEST(death_preadv2, "ferry-rtcheck: preadv2 in real-time section")
{
    int fd = open("/dev/zero", O_RDONLY);
    CHECK(fd >= 0);
    char b[8];
    struct iovec v = {b, sizeof b};
    ferry_rt_enter();
    preadv2(fd, &v, 1, 0, 0);
}

FERRY_DEATH_TEST(death_pwritev2, "ferry-rtcheck: pwritev2 in real-time section")
{
    int fd = open("/dev/null", O_WRONLY);
    CHECK(fd >= 0);
    char b[8] = {0};
    struct iovec v = {b, sizeof b};
    ferry_rt_enter();
    pwritev2(fd, &v, 1, 0, 0);
}

FERRY_DEATH_TEST(death_semop, "ferry-rtcheck: semop in real-time section")
{
    int id = -1;
    struct sembuf op = {0, -1, IPC_NOWAIT};
    ferry_rt_enter();
    semop(id, &op, 1);
}

FERRY_DEATH_TEST(death_semtimedop, "ferry-rtcheck: semtimedop in real-time section")
{
    int id = -1;
    struct sembuf op = {0, -1, IPC_NOWAIT};
    struct timespec zero = {0, 0};
    ferry_rt_enter();
    semtimedop(id, &op, 1, &zero);
}

FERRY_DEATH_TEST(death_msgsnd, "ferry-rtcheck: msgsnd in real-time section")
{
    int id = -1;
    struct {
        long type;
        char text[4];
    } m = {1, "x"};
    ferry_rt_enter();
    msgsnd(id, &m, sizeof m.text, IPC_NOWAIT);
}

FERRY_DEATH_TEST(death_msgrcv, "ferry-rtcheck: msgrcv in real-time section")
{
    int id = -1;
    struct {
        long type;
        char text[4];
    } m;
    ferry_rt_enter();
    msgrcv(id, &m, sizeof m.text, 0, IPC_NOWAIT);
}

FERRY_DEATH_TEST(death_aio_suspend, "ferry-rtcheck: aio_suspend in real-time section")
{
    const struct aiocb *none[1] = {NULL};
    struct timespec zero = {0, 0};
    ferry_rt_enter();
    aio_suspend(none, 1, &zero);
}

FERRY_DEATH_TEST(death_recvmmsg, "ferry-rtcheck: recvmmsg in real-time section")
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    struct mmsghdr m;
    memset(&m, 0, sizeof m);
    ferry_rt_enter();
    recvmmsg(sv[0], &m, 1, MSG_DONTWAIT, NULL);
}

FERRY_DEATH_TEST(death_sendmmsg, "ferry-rtcheck: sendmmsg in real-time section")
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    struct mmsghdr m;
    memset(&m, 0, sizeof m);
    ferry_rt_enter();
    sendmmsg(sv[0], &m, 1, MSG_DONTWAIT);
}

FERRY_DEATH_TEST(death_sendfile, "ferry-rtcheck: sendfile in real-time section")
{
    int in = open("/dev/zero", O_RDONLY), out = open("/dev/null", O_WRONLY);
    CHECK(in >= 0 && out >= 0);
    ferry_rt_enter();
    sendfile(out, in, NULL, 8);
}

/* A file of its own to lock: the test's temporary directory or /tmp. */
static int temp_file(void)
{
    char path[] = "/tmp/ferry-rtcheck-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    return fd;
}

FERRY_DEATH_TEST(death_flock, "ferry-rtcheck: flock in real-time section")
{
    int fd = temp_file();
    ferry_rt_enter();
    flock(fd, LOCK_EX);
}

FERRY_DEATH_TEST(death_lockf, "ferry-rtcheck: lockf in real-time section")
{
    int fd = temp_file();
    ferry_rt_enter();
    lockf(fd, F_LOCK, 0);
}

FERRY_DEATH_TEST(death_msync, "ferry-rtcheck: msync in real-time section")
{
    void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    ferry_rt_enter();
    msync(p, 4096, MS_ASYNC);
}

FERRY_DEATH_TEST(death_syncfs, "ferry-rtcheck: syncfs in real-time section")
{
    int fd = temp_file();
    ferry_rt_enter();
    syncfs(fd);
}

/* stdio's character calls, with the stream's buffer already there (the
 * first use allocates it, which the malloc check would catch instead). */
FERRY_DEATH_TEST(death_putc, "ferry-rtcheck: putc in real-time section")
{
    fputs("", stdout);
    ferry_rt_enter();
    putc('\n', stdout);
}

FERRY_DEATH_TEST(death_fputc, "ferry-rtcheck: fputc in real-time section")
{
    fputs("", stdout);
    ferry_rt_enter();
    fputc('\n', stdout);
}

FERRY_DEATH_TEST(death_putchar, "ferry-rtcheck: putchar in real-time section")
{
    fputs("", stdout);
    int (*volatile put)(int) = putchar;   /* the library's, not glibc's inline form (putc) */
    ferry_rt_enter();
    put('\n');
}

FERRY_DEATH_TEST(death_getchar, "ferry-rtcheck: getchar in real-time section")
{
    int (*volatile get)(void) = getchar;   /* as putchar above */
    ferry_rt_enter();
    get();
}

/* ---- calls the checker missed: a barrier wait, fcntl's lock waits,
 * message queues, and the other stdio output forms (printf's va_list, fd
 * and wide forms, the _unlocked forms, perror) ---- */

FERRY_DEATH_TEST(death_barrier_wait, "ferry-rtcheck: pthread_barrier_wait in real-time section")
{
    static pthread_barrier_t b;
    CHECK_EQ(pthread_barrier_init(&b, NULL, 1), 0);
    ferry_rt_enter();
    pthread_barrier_wait(&b);
}

static void set_write_lock(int fd, int cmd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    fcntl(fd, cmd, &fl);
}

FERRY_DEATH_TEST(death_fcntl_setlkw, "ferry-rtcheck: fcntl(F_SETLKW) in real-time section")
{
    int fd = temp_file();
    ferry_rt_enter();
    set_write_lock(fd, F_SETLKW);
}

FERRY_DEATH_TEST(death_fcntl_ofd_setlkw, "ferry-rtcheck: fcntl(F_SETLKW) in real-time section")
{
    int fd = temp_file();
    ferry_rt_enter();
    set_write_lock(fd, F_OFD_SETLKW);
}

/* fcntl's other commands never wait: forwarded, not reported. */
FERRY_TEST(clean_fcntl_without_waiting)
{
    int fd = temp_file();
    ferry_rt_enter();
    CHECK(checker_sees_rt());
    int fl = fcntl(fd, F_GETFL);
    int set = fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int locked = fcntl(fd, F_SETLK, &lk);
    int got = fcntl(fd, F_GETFL);
    ferry_rt_exit();
    CHECK(fl >= 0);
    CHECK_EQ(set, 0);
    CHECK_EQ(locked, 0);
    CHECK(got & O_NONBLOCK);   /* the int argument was passed on */
    close(fd);
}

FERRY_DEATH_TEST(death_mq_receive, "ferry-rtcheck: mq_receive in real-time section")
{
    char buf[16];
    ferry_rt_enter();
    (void)mq_receive((mqd_t)-1, buf, sizeof buf, NULL);
}

FERRY_DEATH_TEST(death_mq_timedsend, "ferry-rtcheck: mq_timedsend in real-time section")
{
    struct timespec t = {0, 0};
    ferry_rt_enter();
    (void)mq_timedsend((mqd_t)-1, "x", 1, 0, &t);
}

static void call_vprintf(const char *fmt, ...)
{
    int (*volatile vp)(const char *, va_list) = vprintf;   /* not glibc's inline form */
    va_list ap;
    va_start(ap, fmt);
    vp(fmt, ap);
    va_end(ap);
}

FERRY_DEATH_TEST(death_vprintf, "ferry-rtcheck: vprintf in real-time section")
{
    fputs("", stdout);
    ferry_rt_enter();
    call_vprintf("level %d\n", 3);
}

FERRY_DEATH_TEST(death_dprintf, "ferry-rtcheck: dprintf in real-time section")
{
    int fd = temp_file();
    ferry_rt_enter();
    dprintf(fd, "level %d\n", 3);
}

static void call_vdprintf(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdprintf(fd, fmt, ap);
    va_end(ap);
}

FERRY_DEATH_TEST(death_vdprintf, "ferry-rtcheck: vdprintf in real-time section")
{
    int fd = temp_file();
    ferry_rt_enter();
    call_vdprintf(fd, "level %d\n", 3);
}

/* A stream of its own, set up (and its buffer allocated) before the
 * section. */
static FILE *temp_stream(void)
{
    FILE *f = fdopen(temp_file(), "w");
    CHECK(f != NULL);
    fputs("", f);
    return f;
}

FERRY_DEATH_TEST(death_fwrite_unlocked, "ferry-rtcheck: fwrite_unlocked in real-time section")
{
    FILE *f = temp_stream();
    size_t (*volatile w)(const void *, size_t, size_t, FILE *) = fwrite_unlocked;
    ferry_rt_enter();
    w("abc", 1, 3, f);
}

FERRY_DEATH_TEST(death_fputs_unlocked, "ferry-rtcheck: fputs_unlocked in real-time section")
{
    FILE *f = temp_stream();
    int (*volatile put)(const char *, FILE *) = fputs_unlocked;
    ferry_rt_enter();
    put("abc", f);
}

FERRY_DEATH_TEST(death_fwprintf, "ferry-rtcheck: fwprintf in real-time section")
{
    FILE *f = fdopen(temp_file(), "w");
    CHECK(f != NULL);
    fwide(f, 1);
    ferry_rt_enter();
    fwprintf(f, L"level %d\n", 3);
}

FERRY_DEATH_TEST(death_fputws, "ferry-rtcheck: fputws in real-time section")
{
    FILE *f = fdopen(temp_file(), "w");
    CHECK(f != NULL);
    fwide(f, 1);
    ferry_rt_enter();
    fputws(L"level\n", f);
}

FERRY_DEATH_TEST(death_perror, "ferry-rtcheck: perror in real-time section")
{
    ferry_rt_enter();
    errno = EAGAIN;
    perror("ferry");
}

/* Starting a thread or a process. The first pthread_create of a program is
 * seen through its calloc, a later one (a cached stack) only through free:
 * now each is named. */
FERRY_DEATH_TEST(death_pthread_create, "ferry-rtcheck: pthread_create in real-time section")
{
    pthread_t t;
    ferry_rt_enter();
    pthread_create(&t, NULL, idle_thread, NULL);
}

FERRY_DEATH_TEST(death_fork, "ferry-rtcheck: fork in real-time section")
{
    ferry_rt_enter();
    if (fork() == 0)
        _exit(0);
}

FERRY_DEATH_TEST(death_posix_spawn, "ferry-rtcheck: posix_spawn in real-time section")
{
    static char *argv[] = {"true", NULL};
    pid_t pid;
    ferry_rt_enter();
    posix_spawn(&pid, "/bin/true", NULL, NULL, argv, NULL);
}

FERRY_DEATH_TEST(death_system, "ferry-rtcheck: system in real-time section")
{
    ferry_rt_enter();
    CHECK(system("true") >= 0);
}

/* A copy of libferry loaded and unloaded while the checker runs (a plugin
 * host closing a plugin): the copy's sections are seen while it is loaded,
 * and after dlclose the checker no longer calls the copy's probe (it
 * crashed in the next malloc). Forty rounds, more than the checker has
 * slots, so the slot a closed copy gives back is reused. */
FERRY_TEST(clean_dlclose_of_a_copy)
{
    for (int round = 0; round < 40; round++) {
        void *h = dlopen(FERRY_TEST_LIBFERRY_SO, RTLD_NOW | RTLD_LOCAL);
        CHECK_MSG(h != NULL, "dlopen %s: %s", FERRY_TEST_LIBFERRY_SO, dlerror());
        void (*enter)(void), (*leave)(void);
        void *e = dlsym(h, "ferry_rt_enter"), *x = dlsym(h, "ferry_rt_exit");
        CHECK(e != NULL && x != NULL && e != (void *)ferry_rt_enter);
        memcpy(&enter, &e, sizeof enter);
        memcpy(&leave, &x, sizeof leave);
        enter();
        bool seen = checker_sees_rt();
        leave();
        CHECK(seen);
        CHECK(!checker_sees_rt());
        CHECK_EQ(dlclose(h), 0);
        void *volatile p = malloc(32);   /* asks every registered probe */
        free(p);
        CHECK(!checker_sees_rt());
    }
    ferry_rt_enter();   /* the program's own copy is still seen */
    bool seen = checker_sees_rt();
    ferry_rt_exit();
    CHECK(seen);
}

/* ---- the interposed calls that had no case of their own ---- */

FERRY_DEATH_TEST(death_realloc, "ferry-rtcheck: realloc in real-time section")
{
    void *p = malloc(16);
    ferry_rt_enter();
    void *volatile q = realloc(p, 4096);
    (void)q;
}

FERRY_DEATH_TEST(death_aligned_alloc, "ferry-rtcheck: aligned_alloc in real-time section")
{
    void *(*volatile al)(size_t, size_t) = aligned_alloc;   /* not elided as unused */
    ferry_rt_enter();
    al(64, 64);
}

FERRY_DEATH_TEST(death_posix_memalign, "ferry-rtcheck: posix_memalign in real-time section")
{
    void *p;
    ferry_rt_enter();
    CHECK_EQ(posix_memalign(&p, 64, 64), 0);
}

FERRY_DEATH_TEST(death_memalign, "ferry-rtcheck: memalign in real-time section")
{
    void *(*volatile al)(size_t, size_t) = memalign;
    ferry_rt_enter();
    al(64, 64);
}

FERRY_DEATH_TEST(death_valloc, "ferry-rtcheck: valloc in real-time section")
{
    void *(*volatile al)(size_t) = valloc;
    ferry_rt_enter();
    al(64);
}

FERRY_DEATH_TEST(death_sleep, "ferry-rtcheck: sleep in real-time section")
{
    ferry_rt_enter();
    sleep(0);
}

FERRY_DEATH_TEST(death_clock_nanosleep, "ferry-rtcheck: clock_nanosleep in real-time section")
{
    struct timespec ts = {0, 1000};
    ferry_rt_enter();
    clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

FERRY_DEATH_TEST(death_cond_wait, "ferry-rtcheck: pthread_cond_wait in real-time section")
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&m);
    ferry_rt_enter();
    pthread_cond_wait(&c, &m);
}

FERRY_DEATH_TEST(death_cond_clockwait, "ferry-rtcheck: pthread_cond_clockwait in real-time section")
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    struct timespec ts = {0, 0};
    pthread_mutex_lock(&m);
    ferry_rt_enter();
    pthread_cond_clockwait(&c, &m, CLOCK_MONOTONIC, &ts);
}

FERRY_DEATH_TEST(death_mutex_timedlock, "ferry-rtcheck: pthread_mutex_timedlock in real-time section")
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    struct timespec ts = {0, 0};
    ferry_rt_enter();
    pthread_mutex_timedlock(&m, &ts);
}

FERRY_DEATH_TEST(death_rwlock_rdlock, "ferry-rtcheck: pthread_rwlock_rdlock in real-time section")
{
    static pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
    ferry_rt_enter();
    pthread_rwlock_rdlock(&l);
}

FERRY_DEATH_TEST(death_rwlock_wrlock, "ferry-rtcheck: pthread_rwlock_wrlock in real-time section")
{
    static pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
    ferry_rt_enter();
    pthread_rwlock_wrlock(&l);
}

FERRY_DEATH_TEST(death_rwlock_timedrdlock, "ferry-rtcheck: pthread_rwlock_timedrdlock in real-time section")
{
    static pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
    struct timespec ts = {0, 0};
    ferry_rt_enter();
    pthread_rwlock_timedrdlock(&l, &ts);
}

FERRY_DEATH_TEST(death_rwlock_timedwrlock, "ferry-rtcheck: pthread_rwlock_timedwrlock in real-time section")
{
    static pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
    struct timespec ts = {0, 0};
    ferry_rt_enter();
    pthread_rwlock_timedwrlock(&l, &ts);
}

FERRY_DEATH_TEST(death_sem_timedwait, "ferry-rtcheck: sem_timedwait in real-time section")
{
    sem_t sem;
    struct timespec ts = {0, 0};
    sem_init(&sem, 0, 1);
    ferry_rt_enter();
    sem_timedwait(&sem, &ts);
}

FERRY_DEATH_TEST(death_read, "ferry-rtcheck: read in real-time section")
{
    int fd = open("/dev/null", O_RDONLY);
    char c;
    ferry_rt_enter();
    CHECK_EQ(read(fd, &c, 1), 0);
}

FERRY_DEATH_TEST(death_openat, "ferry-rtcheck: openat in real-time section")
{
    ferry_rt_enter();
    int fd = openat(AT_FDCWD, "/dev/null", O_RDONLY);
    (void)fd;
}

FERRY_DEATH_TEST(death_close, "ferry-rtcheck: close in real-time section")
{
    int fd = open("/dev/null", O_RDONLY);
    ferry_rt_enter();
    close(fd);
}

FERRY_DEATH_TEST(death_poll, "ferry-rtcheck: poll in real-time section")
{
    ferry_rt_enter();
    poll(NULL, 0, 0);
}

FERRY_DEATH_TEST(death_ppoll, "ferry-rtcheck: ppoll in real-time section")
{
    struct timespec ts = {0, 0};
    ferry_rt_enter();
    ppoll(NULL, 0, &ts, NULL);
}

FERRY_DEATH_TEST(death_epoll_wait, "ferry-rtcheck: epoll_wait in real-time section")
{
    int ep = epoll_create1(0);
    struct epoll_event ev;
    ferry_rt_enter();
    epoll_wait(ep, &ev, 1, 0);
}

FERRY_DEATH_TEST(death_epoll_pwait, "ferry-rtcheck: epoll_pwait in real-time section")
{
    int ep = epoll_create1(0);
    struct epoll_event ev;
    ferry_rt_enter();
    epoll_pwait(ep, &ev, 1, 0, NULL);
}

FERRY_DEATH_TEST(death_fprintf, "ferry-rtcheck: fprintf in real-time section")
{
    FILE *f = temp_stream();
    ferry_rt_enter();
    fprintf(f, "level %d\n", 3);
}

FERRY_DEATH_TEST(death_puts, "ferry-rtcheck: puts in real-time section")
{
    fputs("", stdout);
    int (*volatile put)(const char *) = puts;
    ferry_rt_enter();
    put("");
}

FERRY_DEATH_TEST(death_fputs, "ferry-rtcheck: fputs in real-time section")
{
    FILE *f = temp_stream();
    int (*volatile put)(const char *, FILE *) = fputs;
    ferry_rt_enter();
    put("abc", f);
}

FERRY_DEATH_TEST(death_fwrite, "ferry-rtcheck: fwrite in real-time section")
{
    FILE *f = temp_stream();
    size_t (*volatile w)(const void *, size_t, size_t, FILE *) = fwrite;
    ferry_rt_enter();
    w("abc", 1, 3, f);
}

FERRY_DEATH_TEST(death_fflush, "ferry-rtcheck: fflush in real-time section")
{
    FILE *f = temp_stream();
    ferry_rt_enter();
    fflush(f);
}

/* Formatted input reads inside glibc (out of the read wrapper's sight), and
 * syslog sends to the log socket there: they were not interposed. The
 * stream is buffered in our memory, so that the report is not a malloc. */
static FILE *memory_stream(void)
{
    static char text[] = "42 43\n", buf[64];
    FILE *f = fmemopen(text, sizeof text - 1, "r");
    CHECK(f != NULL);
    CHECK_EQ(setvbuf(f, buf, _IOFBF, sizeof buf), 0);
    return f;
}

FERRY_DEATH_TEST(death_fscanf, "ferry-rtcheck: fscanf in real-time section")
{
    FILE *f = memory_stream();
    int x;
    ferry_rt_enter();
    (void)!fscanf(f, "%d", &x);
}

/* The name C99 programs built without _GNU_SOURCE call (glibc's headers
 * send fscanf there). */
FERRY_DEATH_TEST(death_isoc99_fscanf, "ferry-rtcheck: fscanf in real-time section")
{
    FILE *f = memory_stream();
    int (*isoc99_fscanf)(FILE *, const char *, ...);
    void *sym = dlsym(RTLD_DEFAULT, "__isoc99_fscanf");
    CHECK(sym != NULL);
    memcpy(&isoc99_fscanf, &sym, sizeof isoc99_fscanf);
    int x;
    ferry_rt_enter();
    (void)isoc99_fscanf(f, "%d", &x);
}

/* Outside a section they read as before. */
FERRY_TEST(clean_fscanf_outside_sections)
{
    FILE *f = memory_stream();
    int (*isoc99_fscanf)(FILE *, const char *, ...);
    void *sym = dlsym(RTLD_DEFAULT, "__isoc99_fscanf");
    CHECK(sym != NULL);
    memcpy(&isoc99_fscanf, &sym, sizeof isoc99_fscanf);
    int x = 0, y = 0;
    CHECK_EQ(fscanf(f, "%d", &x), 1);
    CHECK_EQ(isoc99_fscanf(f, "%d", &y), 1);
    CHECK_EQ(x, 42);
    CHECK_EQ(y, 43);
    fclose(f);
}

FERRY_DEATH_TEST(death_syslog, "ferry-rtcheck: syslog in real-time section")
{
    setlogmask(LOG_MASK(LOG_EMERG));   /* nothing reaches the system's log */
    ferry_rt_enter();
    syslog(LOG_DEBUG, "rtcheck_test %d", 1);
}

FERRY_DEATH_TEST(death_getline, "ferry-rtcheck: getline in real-time section")
{
    FILE *f = fopen("/dev/null", "r");
    CHECK(f != NULL);
    char *line = NULL;
    size_t n = 0;
    ssize_t (*volatile get)(char **, size_t *, FILE *) = getline;
    ferry_rt_enter();
    get(&line, &n, f);
}

FERRY_DEATH_TEST(death_fdatasync, "ferry-rtcheck: fdatasync in real-time section")
{
    int fd = temp_file();
    ferry_rt_enter();
    fdatasync(fd);
}

FERRY_DEATH_TEST(death_connect, "ferry-rtcheck: connect in real-time section")
{
    int sv = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr sa = {.sa_family = AF_UNIX};
    ferry_rt_enter();
    connect(sv, &sa, sizeof sa);
}

/* syscall(): numbers other than the futex calls pass, unless
 * FERRY_RTCHECK_SYSCALLS=all (read when the checker starts: the death case
 * runs the clean one again in a new program with it set). */
FERRY_TEST(clean_syscall_other_numbers)
{
    ferry_rt_enter();
    CHECK(checker_sees_rt());
    long pid = syscall(SYS_getpid);
    ferry_rt_exit();
    CHECK_EQ(pid, (long)getpid());
}

FERRY_DEATH_TEST(death_any_syscall_with_all, "ferry-rtcheck: syscall in real-time section")
{
    CHECK_EQ(setenv("FERRY_RTCHECK_SYSCALLS", "all", 1), 0);
    execl("/proc/self/exe", "rtcheck_test", "clean_syscall_other_numbers", (char *)NULL);
}

/* A program that forks and execs under the checker: the child runs, and a
 * new program started from it (checker preloaded again) exits normally. */
FERRY_TEST(clean_fork_and_exec)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "exit 7", (char *)NULL);
        _exit(99);
    }
    int st = 0;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 7);
    CHECK(getenv("LD_PRELOAD") != NULL);
}

/* ---- ferry's own calls that may block: caught even when they would not
 * wait this time (src/rt_block.h), as pthread_mutex_lock is ---- */

/* A lock-free channel (capacity 4) holding one item, made and filled
 * before the section (opening allocates). */
static void chan_with_an_item(ferry_tx **tx, ferry_rx **rx)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 4};
    CHECK_EQ(ferry_chan_open(&cfg, tx, rx), 0);
    long v = 7;
    CHECK_EQ(ferry_try_send(*tx, &v, 1), 1);
}

FERRY_TEST(clean_channel_try_calls)
{
    ferry_tx *tx;
    ferry_rx *rx;
    chan_with_an_item(&tx, &rx);
    long v = 1;
    ferry_rt_enter();
    ssize_t sent = ferry_try_send(tx, &v, 1);
    ssize_t got = ferry_try_recv(rx, &v, 1);
    ferry_rt_exit();
    CHECK_EQ(sent, 1);
    CHECK_EQ(got, 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_DEATH_TEST(death_ferry_recv_with_items, "ferry-rtcheck: ferry_recv in real-time section")
{
    ferry_tx *tx;
    ferry_rx *rx;
    chan_with_an_item(&tx, &rx);
    long v;
    ferry_rt_enter();
    (void)ferry_recv(rx, &v, 1);
}

FERRY_DEATH_TEST(death_ferry_send_with_room, "ferry-rtcheck: ferry_send in real-time section")
{
    ferry_tx *tx;
    ferry_rx *rx;
    chan_with_an_item(&tx, &rx);
    long v = 1;
    ferry_rt_enter();
    (void)ferry_send(tx, &v, 1);
}

FERRY_DEATH_TEST(death_ferry_recv_until_past, "ferry-rtcheck: ferry_recv_until in real-time section")
{
    ferry_tx *tx;
    ferry_rx *rx;
    chan_with_an_item(&tx, &rx);
    long v;
    struct timespec past = {0, 0};
    ferry_rt_enter();
    (void)ferry_recv_until(rx, &v, 1, &past);
}

FERRY_DEATH_TEST(death_ferry_select_ready, "ferry-rtcheck: ferry_select in real-time section")
{
    ferry_tx *tx;
    ferry_rx *rx;
    chan_with_an_item(&tx, &rx);
    long v;
    ferry_select_case c[1];
    memset(c, 0, sizeof c);
    c[0].op = FERRY_SELECT_RECV;
    c[0].rx = rx;
    c[0].buf = &v;
    c[0].n = 1;
    ferry_rt_enter();
    (void)ferry_select(c, 1);
}

FERRY_DEATH_TEST(death_ferry_rcu_synchronize_no_readers, "ferry-rtcheck: ferry_rcu_synchronize in real-time section")
{
    ferry_rcu_register_thread();
    ferry_rt_enter();
    ferry_rcu_synchronize();
}

FERRY_DEATH_TEST(death_ferry_qsbr_synchronize, "ferry-rtcheck: ferry_qsbr_synchronize in real-time section")
{
    ferry_rt_enter();
    ferry_qsbr_synchronize();
}

FERRY_DEATH_TEST(death_ferry_rcu_barrier, "ferry-rtcheck: ferry_rcu_barrier in real-time section")
{
    ferry_rt_enter();
    ferry_rcu_barrier();
}

FERRY_DEATH_TEST(death_ferry_cond_wait_until_past, "ferry-rtcheck: ferry_cond_wait_until in real-time section")
{
    static ferry_mutex m;
    static ferry_cond c;
    CHECK_EQ(ferry_mutex_init(&m), 0);
    CHECK_EQ(ferry_cond_init(&c), 0);
    struct timespec past = {0, 0};
    ferry_mutex_lock(&m);
    ferry_rt_enter();
    (void)ferry_cond_wait_until(&c, &m, &past);
}

/* Waking: reported whether or not a thread waits (docs/rt.md), as
 * pthread_cond_signal is. */
FERRY_DEATH_TEST(death_ferry_cond_signal_no_waiter, "ferry-rtcheck: ferry_cond_signal in real-time section")
{
    static ferry_cond c;
    CHECK_EQ(ferry_cond_init(&c), 0);
    ferry_rt_enter();
    ferry_cond_signal(&c);
}

FERRY_DEATH_TEST(death_ferry_cond_broadcast_no_waiter, "ferry-rtcheck: ferry_cond_broadcast in real-time section")
{
    static ferry_cond c;
    CHECK_EQ(ferry_cond_init(&c), 0);
    ferry_rt_enter();
    ferry_cond_broadcast(&c);
}

FERRY_DEATH_TEST(death_ferry_rcu_sync_enter, "ferry-rtcheck: ferry_rcu_sync_enter in real-time section")
{
    static ferry_rcu_sync rs;
    CHECK_EQ(ferry_rcu_sync_init(&rs), 0);
    ferry_rt_enter();
    (void)ferry_rcu_sync_enter(&rs);
}

/* FERRY_RTCHECK_SITES=once: the table of call sites already reported. A
 * site is new once, then seen; 0 (no caller known) is never recorded; when
 * the table is full (4096 sites) a new site is reported every time rather
 * than dropped, and the sites already in it stay seen. */
FERRY_TEST(clean_site_table)
{
    bool (*first)(uintptr_t);
    void *sym = dlsym(RTLD_DEFAULT, "ferry_rtcheck__test_site_first");
    CHECK_MSG(sym != NULL, "libferry-rtcheck.so is not preloaded");
    memcpy(&first, &sym, sizeof first);
    enum { SITES = 4096 };
    /* Made-up return addresses, close together as real ones are. */
    uintptr_t base = (uintptr_t)0x10000;
    CHECK(first(0));
    CHECK(first(0));
    for (uintptr_t i = 0; i < SITES; i++)
        CHECK_MSG(first(base + 5 * i), "site %zu not new", (size_t)i);
    for (uintptr_t i = 0; i < SITES; i++)
        CHECK_MSG(!first(base + 5 * i), "site %zu reported twice", (size_t)i);
    for (uintptr_t i = SITES; i < SITES + 100; i++) {
        CHECK(first(base + 5 * i));   /* full: reported, each time */
        CHECK(first(base + 5 * i));
    }
    CHECK(!first(base));
}

/* The body that a program runs under FERRY_RTCHECK=warn (and maybe
 * FERRY_RTCHECK_SITES=once): ten allocations at one call site, one at
 * another. Each site is a function of its own, called through a volatile
 * pointer, so that the compiler cannot copy its call. Without the warn
 * setting (a plain run of the suite) it does nothing. */
__attribute__((noinline)) static void alloc_at_site_a(void)
{
    void *volatile p = malloc(16);
    free(p);
}

__attribute__((noinline)) static void alloc_at_site_b(void)
{
    void *volatile p = malloc(32);
    free(p);
}

FERRY_TEST(clean_sites_child)
{
    const char *mode = getenv("FERRY_RTCHECK");
    if (!mode || strcmp(mode, "warn") != 0)
        return;
    void (*volatile a)(void) = alloc_at_site_a;
    void (*volatile b)(void) = alloc_at_site_b;
    ferry_rt_enter();
    for (int i = 0; i < 10; i++)
        a();
    b();
    ferry_rt_exit();
}

static size_t count_of(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* Runs case `name` in a new program with the given FERRY_RTCHECK and
 * FERRY_RTCHECK_SITES (NULL: unset); returns its stderr (a static buffer)
 * and its wait status in *status. */
static const char *run_case(const char *name, const char *mode, const char *sites, int *status)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(p[1], STDERR_FILENO);
        close(p[0]);
        const char *names[] = {"FERRY_RTCHECK", "FERRY_RTCHECK_SITES"}, *values[] = {mode, sites};
        for (int i = 0; i < 2; i++) {
            if (values[i])
                setenv(names[i], values[i], 1);
            else
                unsetenv(names[i]);
        }
        execl("/proc/self/exe", "rtcheck_test", name, (char *)NULL);
        _exit(99);
    }
    close(p[1]);
    static char out[1 << 20];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof out - 1 && (r = read(p[0], out + len, sizeof out - 1 - len)) != 0) {
        if (r < 0) {
            CHECK(errno == EINTR);
            continue;
        }
        len += (size_t)r;
    }
    out[len] = '\0';
    close(p[0]);
    CHECK_EQ(waitpid(pid, status, 0), pid);
    return out;
}

/* Runs clean_sites_child under FERRY_RTCHECK=warn and FERRY_RTCHECK_SITES=
 * sites; returns how many malloc reports it printed. */
static size_t malloc_reports(const char *sites)
{
    int st;
    const char *out = run_case("clean_sites_child", "warn", sites, &st);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", (unsigned)st);
    CHECK_EQ(count_of(out, "ferry-rtcheck: free in real-time section"),
             count_of(out, "ferry-rtcheck: malloc in real-time section"));
    return count_of(out, "ferry-rtcheck: malloc in real-time section");
}

/* Every call is reported by default; with FERRY_RTCHECK_SITES=once each
 * call site only the first time (a loop that allocated in a section filled
 * the log with one report per round); another value is the default (and
 * said to be ignored: clean_settings_not_understood). */
FERRY_TEST(clean_warn_once_per_site)
{
    CHECK_EQ(malloc_reports(NULL), 11);
    CHECK_EQ(malloc_reports("once"), 2);
    CHECK_EQ(malloc_reports("every"), 11);
}

/* A setting with a value the checker does not know is ignored, and the
 * checker says so when it starts (FERRY_RTCHECK=Warn ran in the default
 * mode, aborting at the first report, without a word about why). */
FERRY_TEST(clean_settings_not_understood)
{
    int st;
    const char *out = run_case("clean_sites_child", "Warn", "1", &st);
    CHECK_MSG(strstr(out, "ferry-rtcheck: FERRY_RTCHECK=Warn not understood") != NULL, "%s", out);
    CHECK_MSG(strstr(out, "ferry-rtcheck: FERRY_RTCHECK_SITES=1 not understood") != NULL, "%s", out);
    /* Unknown: the default mode. The child case does nothing then. */
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    out = run_case("clean_sites_child", "", "", &st);   /* empty: unset */
    CHECK_MSG(strstr(out, "not understood") == NULL, "%s", out);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- pthread_once and call_once: reported while the routine has not
 * returned (the call would run it, or wait for the thread running it), not
 * once it has (a load and a branch). They were not interposed: a section
 * that ran a lazy initializer, or waited for another thread's, went
 * unreported. ---- */

static void once_routine(void)
{
}

FERRY_DEATH_TEST(death_pthread_once_first, "ferry-rtcheck: pthread_once in real-time section")
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    ferry_rt_enter();
    pthread_once(&once, once_routine);
}

FERRY_DEATH_TEST(death_call_once_first, "ferry-rtcheck: call_once in real-time section")
{
    static once_flag once = ONCE_FLAG_INIT;
    ferry_rt_enter();
    call_once(&once, once_routine);
}

/* Another thread is inside the routine: the section's call would wait. */
static atomic_int once_started;

static void once_routine_that_stays(void)
{
    /* Release: pairs with the acquire load in the test below. */
    atomic_store_explicit(&once_started, 1, memory_order_release);
    for (;;)
        pause();
}

static void *run_once_routine(void *arg)
{
    pthread_once(arg, once_routine_that_stays);
    return NULL;
}

FERRY_DEATH_TEST(death_pthread_once_running, "ferry-rtcheck: pthread_once in real-time section")
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, run_once_routine, &once), 0);
    /* Acquire: pairs with the release store in the routine. */
    while (!atomic_load_explicit(&once_started, memory_order_acquire))
        sched_yield();
    ferry_rt_enter();
    pthread_once(&once, once_routine);
}

/* Done before the section (its warm-up): allowed, each time. */
FERRY_TEST(clean_once_done)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    static once_flag c11_once = ONCE_FLAG_INIT;
    pthread_once(&once, once_routine);
    call_once(&c11_once, once_routine);
    ferry_rt_enter();
    CHECK(checker_sees_rt());
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(pthread_once(&once, once_routine), 0);
        call_once(&c11_once, once_routine);
    }
    ferry_rt_exit();
}

/* ---- stdio's inline paths: each call in a section is reported under its
 * name. glibc's headers expand putc_unlocked, getc_unlocked and their
 * kin inline (a store into the buffer, and __overflow when it is full;
 * a load from it, and __uflow when it is empty), and getline into
 * __getdelim; none of these, nor the library forms of the _unlocked
 * calls, nor the wide-character input calls, were interposed: a real-time
 * thread's putc_unlocked into stdout wrote unseen. A character that only
 * goes into the buffer makes no call and is not reported (the last
 * entry). The child case makes each call in its own section under
 * FERRY_RTCHECK=warn, after a line that names it; the test reads what
 * each printed. ---- */

static FILE *stdio_out, *stdio_unbuffered, *stdio_in, *stdio_win, *stdio_wout;

/* A stream reading lines of text from a file of its own (fmemopen's
 * streams cannot be wide), buffered in memory of ours: nothing to
 * allocate in the section. */
static FILE *text_stream(void)
{
    static char text[4096];
    static char bufs[2][256];
    static int used;
    memset(text, 'a', sizeof text);
    for (size_t i = 60; i < sizeof text; i += 61)
        text[i] = '\n';
    int fd = temp_file();
    CHECK_EQ(write(fd, text, sizeof text), (ssize_t)sizeof text);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    FILE *f = fdopen(fd, "r");
    CHECK(f != NULL && used < 2);
    CHECK_EQ(setvbuf(f, bufs[used++], _IOFBF, sizeof bufs[0]), 0);
    return f;
}

static void call_inline_putc(void)
{
#ifdef __putc_unlocked_body
    __putc_unlocked_body('x', stdio_unbuffered);   /* what putc_unlocked expands to */
#else
    __overflow(stdio_unbuffered, 'x');
#endif
}

static void call_inline_getc(void)
{
#ifdef __getc_unlocked_body
    (void)__getc_unlocked_body(stdio_in);   /* the buffer is empty: the first read */
#else
    __uflow(stdio_in);
#endif
}

static void call_inline_putc_buffered(void)
{
#ifdef __putc_unlocked_body
    __putc_unlocked_body('x', stdio_out);   /* room in the buffer: a store */
#endif
}

static void call_putc_unlocked(void)
{
    int (*volatile f)(int, FILE *) = putc_unlocked;
    f('x', stdio_out);
}

static void call_putchar_unlocked(void)
{
    int (*volatile f)(int) = putchar_unlocked;
    f('x');
}

static void call_getc_unlocked(void)
{
    int (*volatile f)(FILE *) = getc_unlocked;
    f(stdio_in);
}

static void call_getchar_unlocked(void)
{
    int (*volatile f)(void) = getchar_unlocked;
    f();
}

static void call_fgetc_unlocked(void)
{
    int (*volatile f)(FILE *) = fgetc_unlocked;
    f(stdio_in);
}

static void call_fread_unlocked(void)
{
    char b[8];
    size_t (*volatile f)(void *, size_t, size_t, FILE *) = fread_unlocked;
    f(b, 1, sizeof b, stdio_in);
}

static void call_fgets_unlocked(void)
{
    char b[8];
    char *(*volatile f)(char *, int, FILE *) = fgets_unlocked;
    f(b, sizeof b, stdio_in);
}

static char *stdio_line;   /* room for a line: getline does not allocate */
static size_t stdio_line_cap;

static void call_getdelim(void)
{
    extern ssize_t __getdelim(char **, size_t *, int, FILE *);   /* what getline expands to */
    (void)__getdelim(&stdio_line, &stdio_line_cap, '\n', stdio_in);
}

/* The wide calls and their _unlocked forms, through a pointer (a library
 * call, whatever the headers make of a direct one). */
static void read_wide_line(wchar_t *(*volatile f)(wchar_t *, int, FILE *))
{
    wchar_t b[8];
    f(b, 8, stdio_win);
}
static void call_fgetwc(void) { fgetwc(stdio_win); }
static void call_getwc(void)
{
    wint_t (*volatile f)(FILE *) = getwc;
    f(stdio_win);
}
static void call_getwchar(void) { getwchar(); }
static void call_fgetws(void) { read_wide_line(fgetws); }
static void call_fgetwc_unlocked(void) { fgetwc_unlocked(stdio_win); }
static void call_getwc_unlocked(void)
{
    wint_t (*volatile f)(FILE *) = getwc_unlocked;
    f(stdio_win);
}
static void call_getwchar_unlocked(void) { getwchar_unlocked(); }
static void call_fgetws_unlocked(void) { read_wide_line(fgetws_unlocked); }
static void call_fputwc_unlocked(void) { fputwc_unlocked(L'x', stdio_wout); }
static void call_putwc_unlocked(void)
{
    wint_t (*volatile f)(wchar_t, FILE *) = putwc_unlocked;
    f(L'x', stdio_wout);
}
static void call_putwchar_unlocked(void) { putwchar_unlocked(L'x'); }
static void call_fputws_unlocked(void) { fputws_unlocked(L"x", stdio_wout); }

/* Opening, closing and moving in a stream. */
static FILE *stdio_closed, *stdio_reopened;

static void call_fopen(void)
{
    FILE *volatile f = fopen("/dev/null", "r");
    (void)f;
}
static void call_fdopen(void)
{
    FILE *volatile f = fdopen(STDIN_FILENO, "r");
    (void)f;
}
static void call_freopen(void)
{
    FILE *volatile f = freopen("/dev/null", "r", stdio_reopened);
    (void)f;
}
static void call_fclose(void) { fclose(stdio_closed); }
static void call_tmpfile(void)
{
    FILE *volatile f = tmpfile();
    (void)f;
}
static void call_fseek(void) { fseek(stdio_in, 0, SEEK_SET); }
static void call_fseeko(void) { fseeko(stdio_in, 0, SEEK_SET); }
static void call_ftell(void) { (void)ftell(stdio_in); }
static void call_ftello(void) { (void)ftello(stdio_in); }
static void call_rewind(void) { rewind(stdio_in); }
static void call_fgetpos(void)
{
    fpos_t pos;
    (void)fgetpos(stdio_in, &pos);
}
static void call_fsetpos(void)
{
    static fpos_t pos;
    static bool got;
    if (!got)   /* outside the section: the child's setup */
        got = fgetpos(stdio_in, &pos) == 0;
    else
        (void)fsetpos(stdio_in, &pos);
}

/* The calls that take the stream's lock: on a stream of their own, which
 * nothing has been written to. */
static FILE *stdio_locked;

static void call_feof(void) { (void)feof(stdio_locked); }
static void call_ferror(void) { (void)ferror(stdio_locked); }
static void call_clearerr(void) { clearerr(stdio_locked); }
static void call_ungetc(void) { ungetc('a', stdio_in); }
static void call_ungetwc(void) { ungetwc(L'a', stdio_win); }
static void call_fwide(void) { (void)fwide(stdio_locked, 0); }
static void call_setvbuf(void) { (void)setvbuf(stdio_locked, NULL, _IOFBF, 0); }
static void call_setbuf(void) { setbuf(stdio_locked, NULL); }
static void call_setbuffer(void) { setbuffer(stdio_locked, NULL, 0); }
static void call_setlinebuf(void) { setlinebuf(stdio_locked); }
static void call_flockfile(void)
{
    flockfile(stdio_locked);
    funlockfile(stdio_locked);   /* never waits: not reported */
}
static void call_ftrylockfile(void)
{
    if (ftrylockfile(stdio_locked) == 0)
        funlockfile(stdio_locked);
}

static const struct {
    const char *reported;   /* NULL: nothing is */
    void (*call)(void);
} stdio_calls[] = {
    {"__overflow", call_inline_putc},
    {"__uflow", call_inline_getc},
    {"putc_unlocked", call_putc_unlocked},
    {"putchar_unlocked", call_putchar_unlocked},
    {"getc_unlocked", call_getc_unlocked},
    {"getchar_unlocked", call_getchar_unlocked},
    {"fgetc_unlocked", call_fgetc_unlocked},
    {"fread_unlocked", call_fread_unlocked},
    {"fgets_unlocked", call_fgets_unlocked},
    {"getline", call_getdelim},
    {"fgetwc", call_fgetwc},
    {"getwc", call_getwc},
    {"getwchar", call_getwchar},
    {"fgetws", call_fgetws},
    {"fgetwc_unlocked", call_fgetwc_unlocked},
    {"getwc_unlocked", call_getwc_unlocked},
    {"getwchar_unlocked", call_getwchar_unlocked},
    {"fgetws_unlocked", call_fgetws_unlocked},
    {"fputwc_unlocked", call_fputwc_unlocked},
    {"putwc_unlocked", call_putwc_unlocked},
    {"putwchar_unlocked", call_putwchar_unlocked},
    {"fputws_unlocked", call_fputws_unlocked},
    {"fopen", call_fopen},
    {"fdopen", call_fdopen},
    {"freopen", call_freopen},
    {"fclose", call_fclose},
    {"tmpfile", call_tmpfile},
    {"fseek", call_fseek},
    {"fseeko", call_fseeko},
    {"ftell", call_ftell},
    {"ftello", call_ftello},
    {"rewind", call_rewind},
    {"fgetpos", call_fgetpos},
    {"fsetpos", call_fsetpos},
    {"feof", call_feof},
    {"ferror", call_ferror},
    {"clearerr", call_clearerr},
    {"ungetc", call_ungetc},
    {"ungetwc", call_ungetwc},
    {"fwide", call_fwide},
    {"setvbuf", call_setvbuf},
    {"setbuf", call_setbuf},
    {"setbuffer", call_setbuffer},
    {"setlinebuf", call_setlinebuf},
    {"flockfile", call_flockfile},
    {NULL, call_ftrylockfile},
    {NULL, call_inline_putc_buffered},
};
enum { STDIO_CALLS = sizeof stdio_calls / sizeof stdio_calls[0] };

/* The child cases run their body only under FERRY_RTCHECK=warn (run by
 * their test through run_case); in a plain run of the suite they pass. */
static bool warn_child(void)
{
    const char *mode = getenv("FERRY_RTCHECK");
    return mode && strcmp(mode, "warn") == 0;
}

/* ferry_rtcheck__test_hold_reports: hold the report lock (1) or let it go. */
static void hold_reports(int on)
{
    void (*hold)(int);
    void *sym = dlsym(RTLD_DEFAULT, "ferry_rtcheck__test_hold_reports");
    CHECK_MSG(sym != NULL, "libferry-rtcheck.so is not preloaded");
    memcpy(&hold, &sym, sizeof hold);
    hold(on);
}

static void say_stdio_call(size_t i)
{
    char line[32];
    int n = snprintf(line, sizeof line, "[stdio call %zu]\n", i);
    CHECK_EQ(write(STDERR_FILENO, line, (size_t)n), n);
}

FERRY_TEST(clean_stdio_child)
{
    if (!warn_child())
        return;
    /* stdin reads nothing, stdout writes nowhere. */
    int null = open("/dev/null", O_RDWR);
    CHECK(null >= 0);
    CHECK_EQ(dup2(null, STDIN_FILENO), STDIN_FILENO);
    CHECK_EQ(dup2(null, STDOUT_FILENO), STDOUT_FILENO);
    stdio_out = fopen("/dev/null", "w");
    stdio_unbuffered = fopen("/dev/null", "w");
    stdio_wout = fopen("/dev/null", "w");
    CHECK(stdio_out && stdio_unbuffered && stdio_wout);
    static char out_buf[256];
    CHECK_EQ(setvbuf(stdio_out, out_buf, _IOFBF, sizeof out_buf), 0);
    CHECK_EQ(setvbuf(stdio_unbuffered, NULL, _IONBF, 0), 0);
    stdio_in = text_stream();
    stdio_win = text_stream();
    /* Wide streams get their wide buffers at their first use. */
    CHECK(fputwc(L'x', stdio_wout) == L'x');
    CHECK(fgetwc(stdio_win) == L'a');
    stdio_line_cap = 256;
    stdio_line = malloc(stdio_line_cap);
    stdio_closed = fopen("/dev/null", "r");
    stdio_reopened = fopen("/dev/null", "r");
    stdio_locked = fopen("/dev/null", "w");
    CHECK(stdio_closed && stdio_reopened && stdio_locked && stdio_line);
    call_fsetpos();   /* the position it goes back to */
    for (size_t i = 0; i < STDIO_CALLS; i++) {
        say_stdio_call(i);
        ferry_rt_enter();
        stdio_calls[i].call();
        ferry_rt_exit();
    }
    say_stdio_call(STDIO_CALLS);
}

FERRY_TEST(clean_stdio_inline_paths_reported)
{
    int st;
    const char *out = run_case("clean_stdio_child", "warn", NULL, &st);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x: %s", (unsigned)st, out);
    for (size_t i = 0; i < STDIO_CALLS; i++) {
        char mark[32], next[32], want[96];
        snprintf(mark, sizeof mark, "[stdio call %zu]\n", i);
        snprintf(next, sizeof next, "[stdio call %zu]\n", i + 1);
        const char *from = strstr(out, mark), *to = from ? strstr(from, next) : NULL;
        CHECK_MSG(from && to, "no [stdio call %zu] in the child's output: %s", i, out);
        from += strlen(mark);
        const char *report = strstr(from, "ferry-rtcheck: ");
        if (!stdio_calls[i].reported) {
            CHECK_MSG(!report || report >= to, "call %zu reported: %.*s", i, (int)(to - from), from);
            continue;
        }
        snprintf(want, sizeof want, "ferry-rtcheck: %s in real-time section\n", stdio_calls[i].reported);
        const char *found = strstr(from, want);
        CHECK_MSG(found && found < to, "%s not reported: %.*s", stdio_calls[i].reported,
                  (int)(to - from), from);
    }
}

/* ---- wakes: signalling a condition variable is reported (glibc's takes
 * the condition variable's internal lock when a thread waits, and may
 * wait for it behind a thread of ordinary priority), whether or not a
 * thread waits this time; an unlock after a try-lock and sem_post never
 * wait and pass. The signals were not interposed. ---- */

FERRY_DEATH_TEST(death_cond_signal, "ferry-rtcheck: pthread_cond_signal in real-time section")
{
    static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    ferry_rt_enter();
    pthread_cond_signal(&c);
}

FERRY_DEATH_TEST(death_cond_broadcast, "ferry-rtcheck: pthread_cond_broadcast in real-time section")
{
    static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    ferry_rt_enter();
    pthread_cond_broadcast(&c);
}

FERRY_DEATH_TEST(death_cnd_signal, "ferry-rtcheck: cnd_signal in real-time section")
{
    static cnd_t c;
    CHECK_EQ(cnd_init(&c), thrd_success);
    ferry_rt_enter();
    cnd_signal(&c);
}

FERRY_DEATH_TEST(death_cnd_broadcast, "ferry-rtcheck: cnd_broadcast in real-time section")
{
    static cnd_t c;
    CHECK_EQ(cnd_init(&c), thrd_success);
    ferry_rt_enter();
    cnd_broadcast(&c);
}

FERRY_TEST(clean_unlocks_and_posts)
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    pthread_spinlock_t spin;
    mtx_t c11_mutex;
    sem_t sem;
    CHECK_EQ(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE), 0);
    CHECK_EQ(mtx_init(&c11_mutex, mtx_plain), thrd_success);
    CHECK_EQ(sem_init(&sem, 0, 0), 0);
    ferry_rt_enter();
    CHECK(checker_sees_rt());
    CHECK_EQ(pthread_mutex_trylock(&m), 0);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_rwlock_tryrdlock(&rw), 0);
    CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
    CHECK_EQ(pthread_rwlock_trywrlock(&rw), 0);
    CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
    CHECK_EQ(pthread_spin_trylock(&spin), 0);
    CHECK_EQ(pthread_spin_unlock(&spin), 0);
    CHECK_EQ(mtx_trylock(&c11_mutex), thrd_success);
    CHECK_EQ(mtx_unlock(&c11_mutex), thrd_success);
    CHECK_EQ(sem_post(&sem), 0);
    CHECK_EQ(sem_trywait(&sem), 0);
    ferry_rt_exit();
    mtx_destroy(&c11_mutex);
    pthread_spin_destroy(&spin);
    sem_destroy(&sem);
}

/* ---- the program break: moving it is a system call under the memory-map
 * lock, as mmap is; reading it (sbrk(0)) is not. They were not
 * interposed. ---- */

FERRY_DEATH_TEST(death_sbrk, "ferry-rtcheck: sbrk in real-time section")
{
    ferry_rt_enter();
    void *volatile p = sbrk(4096);
    (void)p;
}

FERRY_DEATH_TEST(death_brk, "ferry-rtcheck: brk in real-time section")
{
    void *end = sbrk(0);
    ferry_rt_enter();
    (void)!brk(end);   /* where it is: moves nothing, still a system call */
}

FERRY_TEST(clean_sbrk_zero)
{
    void *before = sbrk(0);
    ferry_rt_enter();
    CHECK(checker_sees_rt());
    void *inside = sbrk(0);
    ferry_rt_exit();
    CHECK(inside == before);
}

/* ---- a thread that ends inside a section: pthread_exit and thrd_exit
 * are reported (they were not, and the thread's destructors' frees were
 * reported instead); outside a section they end the thread as before,
 * unwinding through the checker's frame to the cleanup handlers. ---- */

static void *exit_inside(void *arg)
{
    (void)arg;
    ferry_rt_enter();
    pthread_exit(NULL);
}

FERRY_DEATH_TEST(death_pthread_exit, "ferry-rtcheck: pthread_exit in real-time section")
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, exit_inside, NULL), 0);
    pthread_join(t, NULL);
}

static int thrd_exit_inside(void *arg)
{
    (void)arg;
    ferry_rt_enter();
    thrd_exit(1);
}

FERRY_DEATH_TEST(death_thrd_exit, "ferry-rtcheck: thrd_exit in real-time section")
{
    thrd_t t;
    CHECK_EQ(thrd_create(&t, thrd_exit_inside, NULL), thrd_success);
    thrd_join(t, NULL);
}

static void count_cleanup(void *arg)
{
    ++*(int *)arg;
}

static void *exit_outside(void *arg)
{
    pthread_cleanup_push(count_cleanup, arg);
    ferry_rt_enter();
    ferry_rt_exit();
    pthread_exit(arg);
    pthread_cleanup_pop(0);
    return NULL;
}

static int thrd_exit_outside(void *arg)
{
    (void)arg;
    thrd_exit(7);
}

FERRY_TEST(clean_thread_exit_outside_sections)
{
    int cleanups = 0;
    pthread_t t;
    void *result = NULL;
    CHECK_EQ(pthread_create(&t, NULL, exit_outside, &cleanups), 0);
    CHECK_EQ(pthread_join(t, &result), 0);
    CHECK(result == &cleanups);
    CHECK_EQ(cleanups, 1);
    thrd_t c11;
    int res = 0;
    CHECK_EQ(thrd_create(&c11, thrd_exit_outside, NULL), thrd_success);
    CHECK_EQ(thrd_join(c11, &res), thrd_success);
    CHECK_EQ(res, 7);
}

/* ---- reports of threads that report at once (FERRY_RTCHECK=warn) come
 * out one after the other, each line and backtrace whole: they were
 * interleaved, line into line. ---- */

enum { REPORTING_THREADS = 16, REPORTS_EACH = 40 };
static pthread_barrier_t reporting_start;

static void *report_many(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&reporting_start);
    ferry_rt_enter();
    for (int i = 0; i < REPORTS_EACH; i++) {
        void *volatile p = malloc(8);
        (void)p;
    }
    ferry_rt_exit();
    return NULL;
}

FERRY_TEST(clean_reports_child)
{
    if (!warn_child())
        return;
    pthread_t t[REPORTING_THREADS];
    CHECK_EQ(pthread_barrier_init(&reporting_start, NULL, REPORTING_THREADS), 0);
    for (int i = 0; i < REPORTING_THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, report_many, NULL), 0);
    for (int i = 0; i < REPORTING_THREADS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
}

FERRY_TEST(clean_reports_of_threads_whole)
{
    int st;
    const char *out = run_case("clean_reports_child", "warn", NULL, &st);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", (unsigned)st);
    const char *line = "ferry-rtcheck: malloc in real-time section\n";
    CHECK_EQ(count_of(out, line), (size_t)REPORTING_THREADS * REPORTS_EACH);
    /* Each report's line is followed by its backtrace, not by another
     * report's line; and the checker's name starts each line it is in. */
    CHECK_EQ(count_of(out, "ferry-rtcheck: "), (size_t)REPORTING_THREADS * REPORTS_EACH);
    for (const char *p = out; (p = strstr(p, line)) != NULL; p += strlen(line)) {
        CHECK(p == out || p[-1] == '\n');
        CHECK_MSG(strncmp(p + strlen(line), "ferry-rtcheck: ", 15) != 0, "a report without its backtrace");
    }
}

/* A blocking call that names itself NULL (ferry_rtcheck_blocking is
 * exported): reported, not a crash in the report. */
FERRY_DEATH_TEST(death_blocking_call_without_a_name,
                 "ferry-rtcheck: (a call that did not say its name) in real-time section")
{
    void (*blocking)(const char *);
    void *sym = dlsym(RTLD_DEFAULT, "ferry_rtcheck_blocking");
    CHECK_MSG(sym != NULL, "libferry-rtcheck.so is not preloaded");
    memcpy(&blocking, &sym, sizeof blocking);
    ferry_rt_enter();
    blocking(NULL);
}

/* ---- the dynamic loader and vfork: dlopen of a library already loaded,
 * dlopen(NULL) and dlclose take the loader's lock (which another thread's
 * dlopen holds while it reads files and runs constructors), vfork waits
 * for the child's exec; none was seen. dlopen, dlmopen and vfork look at
 * their caller, and are trampolines on x86-64 and i386 (elsewhere not
 * interposed): outside a section dlopen still expands $ORIGIN from the
 * caller's directory, and a vfork child returns into its caller. ---- */

#if defined(__x86_64__) || defined(__i386__)
FERRY_DEATH_TEST(death_dlopen_loaded, "ferry-rtcheck: dlopen in real-time section")
{
    ferry_rt_enter();
    void *volatile h = dlopen(NULL, RTLD_NOW);
    (void)h;
}

FERRY_DEATH_TEST(death_dlmopen, "ferry-rtcheck: dlmopen in real-time section")
{
    ferry_rt_enter();
    void *volatile h = dlmopen(LM_ID_BASE, NULL, RTLD_NOW);
    (void)h;
}

FERRY_DEATH_TEST(death_vfork, "ferry-rtcheck: vfork in real-time section")
{
    ferry_rt_enter();
    if (vfork() == 0)
        _exit(0);
}

/* The test program and libferry.so are built side by side: "$ORIGIN/"
 * names this program's directory only when dlopen sees this program as
 * its caller (the checker's is tools/). */
FERRY_TEST(clean_dlopen_sees_its_caller)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(n > 0);
    exe[n] = '\0';
    const char *lib = FERRY_TEST_LIBFERRY_SO, *exe_slash = strrchr(exe, '/'),
               *lib_slash = strrchr(lib, '/');
    CHECK(exe_slash && lib_slash);
    if ((size_t)(exe_slash - exe) != (size_t)(lib_slash - lib) ||
        strncmp(exe, lib, (size_t)(exe_slash - exe)) != 0)
        return;   /* not side by side in this tree */
    char path[4096];
    snprintf(path, sizeof path, "$ORIGIN/%s", lib_slash + 1);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CHECK_MSG(h != NULL, "dlopen %s: %s", path, dlerror());
    CHECK(dlsym(h, "ferry_rt_enter") != NULL);
    CHECK_EQ(dlclose(h), 0);
    void *lm = dlmopen(LM_ID_BASE, path, RTLD_NOW | RTLD_LOCAL);
    CHECK_MSG(lm != NULL, "dlmopen %s: %s", path, dlerror());
    CHECK_EQ(dlclose(lm), 0);
}

FERRY_TEST(clean_vfork_outside_sections)
{
    ferry_rt_enter();
    ferry_rt_exit();
    pid_t pid = vfork();
    if (pid == 0)
        _exit(3);
    CHECK(pid > 0);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
}
#endif

FERRY_DEATH_TEST(death_dlclose, "ferry-rtcheck: dlclose in real-time section")
{
    void *h = dlopen(NULL, RTLD_NOW);
    CHECK(h != NULL);
    ferry_rt_enter();
    dlclose(h);
}

/* ---- a child forked while a thread of its parent was reporting: the
 * report lock it inherits held is taken over (no thread of the child
 * holds it), and the child's own reports come out. ---- */

FERRY_TEST(clean_reports_child_of_fork)
{
    if (!warn_child())
        return;
    hold_reports(1);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        ferry_rt_enter();
        void *volatile p = malloc(8);
        ferry_rt_exit();
        free(p);
        _exit(0);
    }
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    hold_reports(0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

FERRY_TEST(clean_reports_after_fork)
{
    int st;
    const char *out = run_case("clean_reports_child_of_fork", "warn", NULL, &st);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x: %s", (unsigned)st, out);
    CHECK_EQ(count_of(out, "ferry-rtcheck: malloc in real-time section\n"), 1);
}

/* ---- a signal handler that runs on a thread inside a section is inside
 * it: its calls are reported (and a handler's own section on a thread
 * outside any is checked as any other). ---- */

static void allocating_handler(int sig)
{
    (void)sig;
    void *volatile p = malloc(8);
    (void)p;
}

FERRY_DEATH_TEST(death_malloc_in_handler_in_section, "ferry-rtcheck: malloc in real-time section")
{
    struct sigaction sa = {.sa_handler = allocating_handler};
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    ferry_rt_enter();
    raise(SIGUSR1);
}

static void handler_with_a_section(int sig)
{
    (void)sig;
    ferry_rt_enter();
    void *volatile p = malloc(8);
    (void)p;
}

FERRY_DEATH_TEST(death_malloc_in_handlers_section, "ferry-rtcheck: malloc in real-time section")
{
    struct sigaction sa = {.sa_handler = handler_with_a_section};
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    raise(SIGUSR1);
}

/* ---- a report whose lock stays held (its holder waits for the dynamic
 * loader's lock, which a thread inside dlopen holds while it reports the
 * loader's allocations in a section) goes ahead after a while rather than
 * hang the program. The child holds the lock itself, for ever, and
 * another of its threads reports. ---- */

static void *allocate_in_section(void *arg)
{
    (void)arg;
    ferry_rt_enter();
    void *volatile p = malloc(8);
    ferry_rt_exit();
    free(p);
    return NULL;
}

FERRY_TEST(clean_report_lock_held_child)
{
    if (!warn_child())
        return;
    hold_reports(1);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, allocate_in_section, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    hold_reports(0);
}

FERRY_TEST(clean_report_when_the_lock_stays_held)
{
    int st;
    const char *out = run_case("clean_report_lock_held_child", "warn", NULL, &st);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x: %s", (unsigned)st, out);
    CHECK_EQ(count_of(out, "ferry-rtcheck: malloc in real-time section\n"), 1);
}

/* ---- a thread inside dlopen reports the loader's allocations in its
 * section (holding the loader's lock) while another thread reports: the
 * second named its frames under the report lock (which takes the loader's
 * lock), the first waited for the report lock, and the two hung. The
 * child's reports go to /dev/null: only that it ends matters. ---- */

static void *load_in_section(void *arg)
{
    (void)arg;
    for (int i = 0; i < 300; i++) {
        ferry_rt_enter();
        void *h = dlopen(FERRY_TEST_LIBFERRY_SO, RTLD_NOW | RTLD_LOCAL);
        ferry_rt_exit();
        CHECK_MSG(h != NULL, "dlopen %s: %s", FERRY_TEST_LIBFERRY_SO, dlerror());
        dlclose(h);
    }
    return NULL;
}

static void *allocate_in_sections(void *arg)
{
    (void)arg;
    for (int i = 0; i < 6000; i++)
        allocate_in_section(NULL);
    return NULL;
}

FERRY_TEST(clean_loader_reports_child)
{
    if (!warn_child())
        return;
    int null = open("/dev/null", O_WRONLY);
    CHECK(null >= 0);
    CHECK_EQ(dup2(null, STDERR_FILENO), STDERR_FILENO);
    pthread_t loader, allocator;
    CHECK_EQ(pthread_create(&loader, NULL, load_in_section, NULL), 0);
    CHECK_EQ(pthread_create(&allocator, NULL, allocate_in_sections, NULL), 0);
    CHECK_EQ(pthread_join(loader, NULL), 0);
    CHECK_EQ(pthread_join(allocator, NULL), 0);
}

FERRY_TEST(clean_reports_while_the_loader_reports)
{
    int st;
    const char *out = run_case("clean_loader_reports_child", "warn", NULL, &st);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x: %s", (unsigned)st, out);
}
