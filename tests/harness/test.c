/* SPDX-License-Identifier: MIT */
/* Test runner: see test.h. */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CASES 512

static struct {
    const char *name;
    ferry_test_fn fn;
    const char *death_msg;
    const char *kind;
} cases[MAX_CASES];
static int ncases;

void ferry_test_register_kind(const char *name, ferry_test_fn fn, const char *death_msg, const char *kind)
{
    if (ncases == MAX_CASES) {
        fprintf(stderr, "too many test cases\n");
        exit(2);
    }
    for (int i = 0; i < ncases; i++) {
        if (strcmp(cases[i].name, name) == 0) {
            fprintf(stderr, "two test cases named %s\n", name);
            exit(2);
        }
    }
    cases[ncases].name = name;
    cases[ncases].fn = fn;
    cases[ncases].death_msg = death_msg;
    cases[ncases].kind = kind;
    ncases++;
}

void ferry_test_register(const char *name, ferry_test_fn fn, const char *death_msg)
{
    ferry_test_register_kind(name, fn, death_msg, death_msg ? "death" : "plain");
}

void ferry_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: FAILED: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    _exit(1);
}

double ferry_test_scale(void)
{
    const char *s = getenv("FERRY_TEST_SCALE");
    double v = s ? atof(s) : 1.0;
    return v > 0 ? v : 1.0;
}

size_t ferry_test_scaled(size_t n)
{
    double v = (double)n * ferry_test_scale();
    return v < 1 ? 1 : (size_t)v;
}

void ferry_test_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

unsigned long long ferry_test_vm_bytes(void)
{
    int fd = open("/proc/self/statm", O_RDONLY);
    CHECK(fd >= 0);
    char text[64] = {0};
    CHECK(read(fd, text, sizeof text - 1) > 0);
    close(fd);
    unsigned long long pages = strtoull(text, NULL, 10);
    CHECK(pages > 0);
    return pages * (unsigned long long)sysconf(_SC_PAGESIZE);
}

struct timespec ferry_test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

struct timespec ferry_test_deadline_ms(long ms)
{
    struct timespec ts = ferry_test_now();
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    } else if (ts.tv_nsec < 0) { /* ms < 0: a deadline in the past, still a valid timespec */
        ts.tv_sec--;
        ts.tv_nsec += 1000000000L;
    }
    return ts;
}

long long ferry_test_ns_between(struct timespec a, struct timespec b)
{
    return (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
}

/* Run a death test: the body in a child whose stderr we capture. */
static int run_death(const char *name, ferry_test_fn fn, const char *msg)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return 2;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        fn();
        fprintf(stderr, "death test body returned without aborting\n");
        fflush(stderr);
        _exit(3);
    }
    close(fds[1]);
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    for (;;) {
        if (len + 1 == cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        ssize_t r = read(fds[0], out + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    out[len] = 0;
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    int ok = 1;
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
        fprintf(stderr, "%s: child did not abort (%s %d)\n", name,
                WIFSIGNALED(status) ? "signal" : "exit status",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        ok = 0;
    }
    if (!strstr(out, msg)) {
        fprintf(stderr, "%s: expected message not found: \"%s\"\n", name, msg);
        ok = 0;
    }
    fprintf(stderr, "--- child stderr ---\n%s--- end ---\n", out);
    free(out);
    return ok ? 0 : 1;
}

static int run_case(int i)
{
    if (cases[i].death_msg)
        return run_death(cases[i].name, cases[i].fn, cases[i].death_msg);
    cases[i].fn();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < ncases; i++)
            printf("%s %s\n", cases[i].name, cases[i].kind);
        return 0;
    }
    int failed = 0, ran = 0;
    for (int i = 0; i < ncases; i++) {
        bool want = argc < 2;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], cases[i].name) == 0)
                want = true;
        if (!want)
            continue;
        ran++;
        int rc = run_case(i);
        printf("%-50s %s\n", cases[i].name, rc ? "FAILED" : "ok");
        failed |= rc;
    }
    if (ran == 0) {
        fprintf(stderr, "no such case\n");
        return 2;
    }
    return failed;
}
