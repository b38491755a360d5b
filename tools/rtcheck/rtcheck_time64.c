/* SPDX-License-Identifier: MIT */
/* The checker catches the timed calls of a program built with 64-bit time
 * on a 32-bit target (-m32 -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64), where
 * glibc's headers send nanosleep to __nanosleep64, sem_timedwait to
 * __sem_timedwait64, and so on: those were not interposed, and a real-time
 * thread of such a program slept uncaught. Built and run with the checker
 * preloaded by tests/build/rtcheck_flags.sh (on any x86-64 host with
 * gcc-multilib) and, in a 32-bit build (the m32 job), by CMake
 * (cmake/parts/rt.cmake). On a 64-bit target it checks the plain calls.
 *
 * It does not link libferry: it registers a real-time depth of its own with
 * the checker (ferry_rtcheck_register, as libferry's rt.c does). Each call
 * runs in a child: once outside a section (it must go through: the checker
 * found the real definition), and once inside (the child must die of
 * SIGABRT with the checker's report naming the call). No call is made so
 * that it could wait: every deadline is past, every lock free.
 * Exit status 0 when every call is caught, 1 otherwise. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#if defined(__TIMESIZE) && __TIMESIZE == 32
_Static_assert(sizeof(time_t) == 8, "build with -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64");
#endif

static __thread unsigned depth;
static unsigned *probe(void)
{
    return &depth;
}

static const struct timespec zero = {0, 0};
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
static sem_t sem;
static mtx_t c11_mutex;
static cnd_t c11_cond;
static pthread_t joinable;
static int sv[2], epfd, lockfd;
static unsigned futex_word;

static void *run_forever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

/* Each call, with depth (0 or 1) set just before it. The result is not
 * looked at: outside a section only reaching the real call matters. */
static void call_nanosleep(void) { nanosleep(&zero, NULL); }
static void call_clock_nanosleep(void) { clock_nanosleep(CLOCK_MONOTONIC, 0, &zero, NULL); }
static void call_thrd_sleep(void) { thrd_sleep(&zero, NULL); }
static void call_mutex_timedlock(void) { pthread_mutex_timedlock(&mutex, &zero); }
static void call_mutex_clocklock(void) { pthread_mutex_clocklock(&mutex, CLOCK_MONOTONIC, &zero); }
static void call_rdlock_timed(void) { pthread_rwlock_timedrdlock(&rwlock, &zero); }
static void call_wrlock_timed(void) { pthread_rwlock_timedwrlock(&rwlock, &zero); }
static void call_rdlock_clock(void) { pthread_rwlock_clockrdlock(&rwlock, CLOCK_MONOTONIC, &zero); }
static void call_wrlock_clock(void) { pthread_rwlock_clockwrlock(&rwlock, CLOCK_MONOTONIC, &zero); }
static void call_sem_timedwait(void) { sem_timedwait(&sem, &zero); }
static void call_sem_clockwait(void) { sem_clockwait(&sem, CLOCK_MONOTONIC, &zero); }
static void call_timedjoin(void) { pthread_timedjoin_np(joinable, NULL, &zero); }
static void call_clockjoin(void) { pthread_clockjoin_np(joinable, NULL, CLOCK_MONOTONIC, &zero); }
static void call_mtx_timedlock(void) { mtx_timedlock(&c11_mutex, &zero); }
static void call_select(void)
{
    struct timeval tv = {0, 0};
    select(0, NULL, NULL, NULL, &tv);
}
static void call_pselect(void) { pselect(0, NULL, NULL, NULL, &zero, NULL); }
static void call_ppoll(void) { ppoll(NULL, 0, &zero, NULL); }
static void call_recvmmsg(void)
{
    struct timespec t = zero;
    char b[1];
    struct iovec v = {b, 1};
    struct mmsghdr m = {.msg_hdr = {.msg_iov = &v, .msg_iovlen = 1}};
    recvmmsg(sv[0], &m, 1, MSG_DONTWAIT, &t);
}
static void call_mq_timedreceive(void)
{
    char b[16];
    (void)mq_timedreceive((mqd_t)-1, b, sizeof b, NULL, &zero);
}
static void call_mq_timedsend(void) { (void)mq_timedsend((mqd_t)-1, "x", 1, 0, &zero); }
static void call_sigtimedwait(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigtimedwait(&s, NULL, &zero);
}
static void call_fcntl_setlkw(void)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    fcntl(lockfd, F_SETLKW, &fl);
}
static void call_futex(void)
{
#ifdef SYS_futex_time64
    syscall(SYS_futex_time64, &futex_word, FUTEX_WAKE, 1, NULL, NULL, 0);
#else
    syscall(SYS_futex, &futex_word, FUTEX_WAKE, 1, NULL, NULL, 0);
#endif
}
/* These two wait with the lock held: taken before the section. */
static void call_cond_timedwait(void)
{
    pthread_cond_timedwait(&cond, &mutex, &zero);
}
static void call_cond_clockwait(void)
{
    pthread_cond_clockwait(&cond, &mutex, CLOCK_MONOTONIC, &zero);
}
static void call_cnd_timedwait(void) { cnd_timedwait(&c11_cond, &c11_mutex, &zero); }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 35)
static void call_epoll_pwait2(void)
{
    struct epoll_event ev;
    epoll_pwait2(epfd, &ev, 1, &zero, NULL);
}
#endif

enum { PLAIN, HOLD_MUTEX, HOLD_C11_MUTEX };
static const struct {
    const char *name;   /* as the checker reports it */
    void (*call)(void);
    int setup;
} calls[] = {
    {"nanosleep", call_nanosleep, PLAIN},
    {"clock_nanosleep", call_clock_nanosleep, PLAIN},
    {"thrd_sleep", call_thrd_sleep, PLAIN},
    {"pthread_mutex_timedlock", call_mutex_timedlock, PLAIN},
    {"pthread_mutex_clocklock", call_mutex_clocklock, PLAIN},
    {"pthread_cond_timedwait", call_cond_timedwait, HOLD_MUTEX},
    {"pthread_cond_clockwait", call_cond_clockwait, HOLD_MUTEX},
    {"pthread_rwlock_timedrdlock", call_rdlock_timed, PLAIN},
    {"pthread_rwlock_timedwrlock", call_wrlock_timed, PLAIN},
    {"pthread_rwlock_clockrdlock", call_rdlock_clock, PLAIN},
    {"pthread_rwlock_clockwrlock", call_wrlock_clock, PLAIN},
    {"sem_timedwait", call_sem_timedwait, PLAIN},
    {"sem_clockwait", call_sem_clockwait, PLAIN},
    {"pthread_timedjoin_np", call_timedjoin, PLAIN},
    {"pthread_clockjoin_np", call_clockjoin, PLAIN},
    {"mtx_timedlock", call_mtx_timedlock, PLAIN},
    {"cnd_timedwait", call_cnd_timedwait, HOLD_C11_MUTEX},
    {"sigtimedwait", call_sigtimedwait, PLAIN},
    {"select", call_select, PLAIN},
    {"pselect", call_pselect, PLAIN},
    {"ppoll", call_ppoll, PLAIN},
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 35)
    {"epoll_pwait2", call_epoll_pwait2, PLAIN},
#endif
    {"recvmmsg", call_recvmmsg, PLAIN},
    {"mq_timedreceive", call_mq_timedreceive, PLAIN},
    {"mq_timedsend", call_mq_timedsend, PLAIN},
    {"fcntl(F_SETLKW)", call_fcntl_setlkw, PLAIN},
#ifdef SYS_futex_time64
    {"syscall(SYS_futex_time64)", call_futex, PLAIN},
#else
    {"syscall(SYS_futex)", call_futex, PLAIN},
#endif
};

/* Runs calls[i] in a child with the given depth; returns its wait status
 * and what it wrote to stderr (in out, NUL-terminated). */
static int run_child(size_t i, unsigned d, char *out, size_t cap)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(p[1], STDERR_FILENO);
        close(p[0]);
        if (calls[i].setup == HOLD_MUTEX)
            pthread_mutex_lock(&mutex);
        if (calls[i].setup == HOLD_C11_MUTEX)
            mtx_lock(&c11_mutex);
        depth = d;
        calls[i].call();
        depth = 0;
        _exit(0);
    }
    close(p[1]);
    size_t len = 0;
    ssize_t r;
    while ((r = read(p[0], out + len, cap - 1 - len)) > 0 || (r < 0 && errno == EINTR))
        if (r > 0 && (len += (size_t)r) == cap - 1)
            break;
    out[len] = '\0';
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return st;
}

int main(void)
{
    int (*reg)(unsigned *(*)(void));
    void *sym = dlsym(RTLD_DEFAULT, "ferry_rtcheck_register");
    if (!sym) {
        fprintf(stderr, "rtcheck_time64: libferry-rtcheck.so is not preloaded\n");
        return 1;
    }
    memcpy(&reg, &sym, sizeof reg);
    if (reg(probe) != 0) {
        fprintf(stderr, "rtcheck_time64: ferry_rtcheck_register failed\n");
        return 1;
    }
    char path[] = "/tmp/rtcheck_time64.XXXXXX";
    lockfd = mkstemp(path);
    if (lockfd < 0 || sem_init(&sem, 0, 1) != 0 || mtx_init(&c11_mutex, mtx_timed) != thrd_success ||
        cnd_init(&c11_cond) != thrd_success || socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0 ||
        (epfd = epoll_create1(0)) < 0 || pthread_create(&joinable, NULL, run_forever, NULL) != 0) {
        perror("rtcheck_time64: setup");
        return 1;
    }
    unlink(path);
    int failed = 0;
    size_t n = sizeof calls / sizeof calls[0];
    static char out[65536];
    for (size_t i = 0; i < n; i++) {
        int st = run_child(i, 0, out, sizeof out);
        if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || out[0]) {
            printf("%s outside a section: status %#x, stderr: %.200s\n", calls[i].name,
                   (unsigned)st, out);
            failed++;
            continue;
        }
        st = run_child(i, 1, out, sizeof out);
        char want[128];
        snprintf(want, sizeof want, "ferry-rtcheck: %s in real-time section", calls[i].name);
        if (st < 0 || !WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT || !strstr(out, want)) {
            printf("%s in a section not caught: status %#x, stderr: %.200s\n", calls[i].name,
                   (unsigned)st, out);
            failed++;
        }
    }
    printf("rtcheck_time64 (time_t of %zu bytes): %zu calls, %d not as expected: %s\n",
           sizeof(time_t), n, failed, failed ? "FAILED" : "ok");
    return failed != 0;
}
