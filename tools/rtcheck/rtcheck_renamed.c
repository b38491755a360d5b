/* SPDX-License-Identifier: MIT */
/* The checker catches the calls that glibc's headers rename:
 *
 * - with _FORTIFY_SOURCE (a distribution's default flags, set below),
 *   printf becomes __printf_chk, read __read_chk where the buffer's size is
 *   known, open with flags that are not a constant __open_2, ...;
 * - with 64-bit file offsets (_FILE_OFFSET_BITS=64, set below; on 64-bit
 *   targets too), openat becomes openat64, preadv preadv64, lockf lockf64,
 *   sendfile sendfile64, ...;
 * - with 64-bit time on a 32-bit target (-m32 -D_FILE_OFFSET_BITS=64
 *   -D_TIME_BITS=64), nanosleep becomes __nanosleep64, sem_timedwait
 *   __sem_timedwait64, ...
 *
 * Neither kind was interposed, and a real-time thread of such a program
 * printed or slept uncaught. Built and run with the checker preloaded by
 * tests/build/rtcheck_flags.sh (under each of its flag sets, -m32 ones
 * included on an x86-64 host with gcc-multilib) and by CMake
 * (cmake/parts/rt.cmake: unit.rtcheck.renamed_calls, with 64-bit time in a
 * 32-bit build such as the m32 job's). It must be built optimizing
 * (_FORTIFY_SOURCE needs it).
 *
 * It does not link libferry: it registers a real-time depth of its own with
 * the checker (ferry_rtcheck_register, as libferry's rt.c does). Each call
 * runs in a child: once outside a section (it must go through: the checker
 * found the real definition), and once inside (the child must die of
 * SIGABRT with the checker's report naming the call). No call is made so
 * that it could wait: every deadline is past, every lock free, every
 * descriptor ready or non-blocking, every stream buffered in memory the
 * program gave it (so that no first-use malloc is reported instead).
 * Exit status 0 when every call is caught, 1 otherwise. */
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#undef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <aio.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
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

#if !defined(__OPTIMIZE__)
#error "build optimizing: _FORTIFY_SOURCE needs it"
#endif
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
static FILE *in, *out, *wout;   /* buffered in memory of ours */
static char in_data[] = "line one\nline two\n";
static char in_buf[256], out_buf[256], wout_buf[256];
/* Sizes the compiler cannot see through, so that the _chk forms are
 * called (with a constant size that fits it checks at compile time and
 * calls the plain form). */
static volatile size_t some = 4;
static volatile int flags_of_open = O_RDONLY;

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
/* _FORTIFY_SOURCE's forms. */
static void call_printf(void) { printf("%zu", some); }
static void call_fprintf(void) { fprintf(out, "%zu", some); }
static void call_dprintf(void) { dprintf(lockfd, "%zu", some); }
static void call_wprintf(void) { wprintf(L"%zu", some); }
static void call_fwprintf(void) { fwprintf(wout, L"%zu", some); }
static void v_print(int which, ...)
{
    va_list ap;
    va_start(ap, which);
    if (which == 0)
        vprintf("%zu", ap);
    else if (which == 1)
        vfprintf(out, "%zu", ap);
    else if (which == 2)
        vdprintf(lockfd, "%zu", ap);
    else if (which == 3)
        vwprintf(L"%zu", ap);
    else
        vfwprintf(wout, L"%zu", ap);
    va_end(ap);
}
static void call_vprintf(void) { v_print(0, some); }
static void call_vfprintf(void) { v_print(1, some); }
static void call_vdprintf(void) { v_print(2, some); }
static void call_vwprintf(void) { v_print(3, some); }
static void call_vfwprintf(void) { v_print(4, some); }
/* Filtered by the mask main sets: nothing reaches the system's log. */
static void call_syslog(void) { syslog(LOG_DEBUG, "rtcheck_renamed %zu", some); }
static void v_log(int unused, ...)
{
    va_list ap;
    va_start(ap, unused);
    vsyslog(LOG_DEBUG, "rtcheck_renamed %zu", ap);
    va_end(ap);
}
static void call_vsyslog(void) { v_log(0, some); }
static void call_read(void)
{
    char b[8];
    (void)!read(lockfd, b, some);
}
static void call_pread(void)
{
    char b[8];
    (void)!pread(lockfd, b, some, 0);
}
static void call_recv(void)
{
    char b[8];
    (void)!recv(sv[0], b, some, MSG_DONTWAIT);
}
static void call_recvfrom(void)
{
    char b[8];
    (void)!recvfrom(sv[0], b, some, MSG_DONTWAIT, NULL, NULL);
}
static void call_poll(void)
{
    struct pollfd f[2] = {{sv[1], POLLOUT, 0}, {sv[1], POLLOUT, 0}};
    poll(f, some / 4, 0);
}
static void call_ppoll_fds(void)
{
    struct pollfd f[2] = {{sv[1], POLLOUT, 0}, {sv[1], POLLOUT, 0}};
    ppoll(f, some / 4, &zero, NULL);
}
static void call_fread(void)
{
    char b[8];
    (void)!fread(b, 1, some, in);
}
static void call_fgets(void)
{
    char b[8];
    (void)!fgets(b, (int)some, in);
}
/* stdio's inline forms (optimizing): a putc_unlocked into a full buffer
 * calls __overflow, a getc_unlocked from an empty one __uflow (the
 * stream is fresh in each child), getline is __getdelim; and
 * _FORTIFY_SOURCE's fgets_unlocked, fread_unlocked, fgetws and
 * fgetws_unlocked. */
static char *line;
static size_t line_cap;
static FILE *win;   /* wide, reading a file */
static void call_putc_unlocked(void)
{
    for (size_t i = 0; i <= sizeof out_buf; i++)
        putc_unlocked('x', out);
}
static void call_getc_unlocked(void) { (void)getc_unlocked(in); }
static void call_getline(void) { (void)!getline(&line, &line_cap, in); }
static void call_fgets_unlocked(void)
{
    char b[8];
    (void)!fgets_unlocked(b, (int)some, in);
}
static void call_fread_unlocked(void)
{
    char b[8];
    (void)!fread_unlocked(b, 1, some, in);
}
static void call_fgetws(void)
{
    wchar_t b[8];
    (void)!fgetws(b, (int)some, win);
}
static void call_fgetws_unlocked(void)
{
    wchar_t b[8];
    (void)!fgetws_unlocked(b, (int)some, win);
}
/* 64-bit offsets' stream calls: fopen64, freopen64, tmpfile64, fseeko64,
 * ftello64, fgetpos64, fsetpos64. */
static void call_fopen(void)
{
    FILE *f = fopen("/dev/null", "r");
    if (f)
        fclose(f);
}
static void call_freopen(void) { (void)!freopen("/dev/null", "w", out); }
static void call_tmpfile(void)
{
    FILE *f = tmpfile();
    if (f)
        fclose(f);
}
static void call_fseeko(void) { fseeko(in, 0, SEEK_SET); }
static void call_ftello(void) { (void)ftello(in); }
static void call_fgetpos(void)
{
    fpos_t p;
    if (fgetpos(in, &p) == 0)
        fsetpos(in, &p);
}
static void call_open(void)
{
    int fd = open("/dev/null", flags_of_open);
    if (fd >= 0)
        close(fd);
}
static void call_openat(void)
{
    int fd = openat(AT_FDCWD, "/dev/null", flags_of_open);
    if (fd >= 0)
        close(fd);
}

/* 64-bit offsets' forms (with constant arguments, which _FORTIFY_SOURCE
 * checks at compile time and then calls the plain form). */
static void call_openat64(void)
{
    int fd = openat(AT_FDCWD, "/dev/null", O_RDONLY);
    if (fd >= 0)
        close(fd);
}
static void call_open64(void)
{
    int fd = open("/dev/null", O_RDONLY);
    if (fd >= 0)
        close(fd);
}
static void call_pwrite(void) { (void)!pwrite(lockfd, "x", 1, 0); }
static void call_preadv(void)
{
    char b[4];
    struct iovec v = {b, sizeof b};
    (void)!preadv(lockfd, &v, 1, 0);
}
static void call_pwritev(void)
{
    struct iovec v = {(void *)"x", 1};
    (void)!pwritev(lockfd, &v, 1, 0);
}
static void call_preadv2(void)
{
    char b[4];
    struct iovec v = {b, sizeof b};
    (void)!preadv2(lockfd, &v, 1, 0, 0);
}
static void call_pwritev2(void)
{
    struct iovec v = {(void *)"x", 1};
    (void)!pwritev2(lockfd, &v, 1, 0, 0);
}
/* A SysV semaphore at 0: the decrement waits, for no time. */
static int semid = -1;
static void call_semtimedop(void)
{
    struct sembuf op = {0, -1, 0};
    semtimedop(semid, &op, 1, &zero);
}
static void call_aio_suspend(void)
{
    const struct aiocb *none[1] = {NULL};
    aio_suspend(none, 1, &zero);
}
static void call_lockf(void) { (void)!lockf(lockfd, F_TEST, 0); }
static void call_sendfile(void)
{
    off_t at = 0;
    (void)!sendfile(sv[1], lockfd, &at, 0);
}
/* 64-bit time's forms of these two take a struct rusage of 64-bit time. */
static void call_wait3(void)
{
    struct rusage ru;
    wait3(NULL, WNOHANG, &ru);
}
static void call_wait4(void)
{
    struct rusage ru;
    wait4(-1, NULL, WNOHANG, &ru);
}
static void call_mmap(void)
{
    void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED)
        munmap(p, 4096);
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
    {"printf", call_printf, PLAIN},
    {"fprintf", call_fprintf, PLAIN},
    {"dprintf", call_dprintf, PLAIN},
    {"wprintf", call_wprintf, PLAIN},
    {"fwprintf", call_fwprintf, PLAIN},
    /* glibc's headers make vprintf a vfprintf on stdout when optimizing. */
    {"vfprintf", call_vprintf, PLAIN},
    {"vfprintf", call_vfprintf, PLAIN},
    {"vdprintf", call_vdprintf, PLAIN},
    {"vwprintf", call_vwprintf, PLAIN},
    {"vfwprintf", call_vfwprintf, PLAIN},
    {"syslog", call_syslog, PLAIN},
    {"vsyslog", call_vsyslog, PLAIN},
    {"read", call_read, PLAIN},
    {"pread", call_pread, PLAIN},
    {"recv", call_recv, PLAIN},
    {"recvfrom", call_recvfrom, PLAIN},
    {"poll", call_poll, PLAIN},
    {"ppoll", call_ppoll_fds, PLAIN},
    {"fread", call_fread, PLAIN},
    {"fgets", call_fgets, PLAIN},
    {"__overflow", call_putc_unlocked, PLAIN},
    {"__uflow", call_getc_unlocked, PLAIN},
    {"getline", call_getline, PLAIN},
    {"fopen", call_fopen, PLAIN},
    {"freopen", call_freopen, PLAIN},
    {"tmpfile", call_tmpfile, PLAIN},
    {"fseeko", call_fseeko, PLAIN},
    {"ftello", call_ftello, PLAIN},
    {"fgetpos", call_fgetpos, PLAIN},
    {"fgets_unlocked", call_fgets_unlocked, PLAIN},
    {"fread_unlocked", call_fread_unlocked, PLAIN},
    {"fgetws", call_fgetws, PLAIN},
    {"fgetws_unlocked", call_fgetws_unlocked, PLAIN},
    {"open", call_open, PLAIN},
    {"openat", call_openat, PLAIN},
    {"openat", call_openat64, PLAIN},
    {"open", call_open64, PLAIN},
    {"pwrite", call_pwrite, PLAIN},
    {"preadv", call_preadv, PLAIN},
    {"pwritev", call_pwritev, PLAIN},
    {"preadv2", call_preadv2, PLAIN},
    {"pwritev2", call_pwritev2, PLAIN},
    {"semtimedop", call_semtimedop, PLAIN},
    {"aio_suspend", call_aio_suspend, PLAIN},
    {"lockf", call_lockf, PLAIN},
    {"sendfile", call_sendfile, PLAIN},
    {"mmap", call_mmap, PLAIN},
    {"wait3", call_wait3, PLAIN},
    {"wait4", call_wait4, PLAIN},
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
        fprintf(stderr, "rtcheck_renamed: libferry-rtcheck.so is not preloaded\n");
        return 1;
    }
    memcpy(&reg, &sym, sizeof reg);
    if (reg(probe) != 0) {
        fprintf(stderr, "rtcheck_renamed: ferry_rtcheck_register failed\n");
        return 1;
    }
    /* Every stream the calls use is buffered in our memory, stdout too
     * (before anything is written to it), so that a first use allocates
     * nothing: the report must name the call, not a malloc inside it. */
    setlogmask(LOG_MASK(LOG_EMERG));
    static char stdout_buf[4096];
    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
    in = fmemopen(in_data, sizeof in_data - 1, "r");
    out = fopen("/dev/null", "w");
    wout = fopen("/dev/null", "w");
    if (!in || !out || !wout || setvbuf(in, in_buf, _IOFBF, sizeof in_buf) != 0 ||
        setvbuf(out, out_buf, _IOFBF, sizeof out_buf) != 0 ||
        setvbuf(wout, wout_buf, _IOFBF, sizeof wout_buf) != 0 || fwide(wout, 1) <= 0) {
        fprintf(stderr, "rtcheck_renamed: cannot set up the streams\n");
        return 1;
    }
    char path[] = "/tmp/rtcheck_renamed.XXXXXX";
    lockfd = mkstemp(path);
    if (lockfd < 0 || sem_init(&sem, 0, 1) != 0 || mtx_init(&c11_mutex, mtx_timed) != thrd_success ||
        cnd_init(&c11_cond) != thrd_success || socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0 ||
        (epfd = epoll_create1(0)) < 0 || pthread_create(&joinable, NULL, run_forever, NULL) != 0) {
        perror("rtcheck_renamed: setup");
        return 1;
    }
    unlink(path);
    char wpath[] = "/tmp/rtcheck_renamed.XXXXXX";
    int wfd = mkstemp(wpath);
    line_cap = 64;
    line = malloc(line_cap);
    if (wfd < 0 || write(wfd, in_data, sizeof in_data - 1) != (ssize_t)sizeof in_data - 1 ||
        lseek(wfd, 0, SEEK_SET) != 0 || !(win = fdopen(wfd, "r")) || fwide(win, 1) <= 0 || !line) {
        perror("rtcheck_renamed: setup of the wide stream");
        return 1;
    }
    unlink(wpath);
    semid = semget(IPC_PRIVATE, 1, 0600);
    if (semid < 0) {
        perror("rtcheck_renamed: semget");
        return 1;
    }
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
    semctl(semid, 0, IPC_RMID);
    printf("rtcheck_renamed (off_t and time_t of %zu and %zu bytes, _FORTIFY_SOURCE %d): %zu calls, %d not as expected: %s\n",
           sizeof(off_t), sizeof(time_t), __USE_FORTIFY_LEVEL, n, failed, failed ? "FAILED" : "ok");
    return failed != 0;
}
