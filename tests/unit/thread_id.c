/* SPDX-License-Identifier: MIT */
/* The thread id ferry's misuse checks compare (src/platform.h,
 * ferry__self_tid; src/thread_id.c): the kernel's id of the calling thread,
 * per thread, and the child's own after a fork() -- a cache that kept the
 * parent's would make a later thread of the child that is given that id
 * look like the forking thread (the channel's check for calls from inside
 * a callback would then abort a thread that is in none). The id the
 * forking thread had before the fork still counts as its own (a mutex it
 * locked then names it as the owner). */
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform.h"
#include "test.h"
#include "../torture/rcu_fork_tsan.h"

static uint32_t kernel_tid(void)
{
    return (uint32_t)syscall(SYS_gettid);
}

static void *ids_of_a_new_thread(void *arg)
{
    uint32_t forker_before = *(uint32_t *)arg;
    /* Its own id, and not the forking thread's old one. */
    bool ok = ferry__self_tid() == kernel_tid() && ferry__is_self_tid(kernel_tid()) &&
              (forker_before == 0 || !ferry__is_self_tid(forker_before));
    return ok ? (void *)1 : NULL;
}

FERRY_TEST(each_thread_has_its_kernel_id)
{
    CHECK_EQ(ferry__self_tid(), kernel_tid());
    CHECK_EQ(ferry__self_tid(), kernel_tid()); /* cached: the same */
    CHECK(ferry__is_self_tid(kernel_tid()));
    CHECK(!ferry__is_self_tid(0));
    uint32_t none = 0;
    pthread_t t;
    void *ok = NULL;
    CHECK_EQ(pthread_create(&t, NULL, ids_of_a_new_thread, &none), 0);
    CHECK_EQ(pthread_join(t, &ok), 0);
    CHECK(ok != NULL);
    CHECK(!ferry__is_self_tid(kernel_tid() + 1));
}

FERRY_TEST(the_child_of_a_fork_has_its_own_id)
{
    uint32_t before = ferry__self_tid(); /* cached in the parent */
    CHECK_EQ(before, kernel_tid());
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int bad = 0;
        if (ferry__self_tid() != kernel_tid() || ferry__self_tid() == before)
            bad |= 1; /* the parent's id, cached */
        if (!ferry__is_self_tid(before))
            bad |= 2; /* the id it had before the fork is still its own */
        pthread_t t;
        void *ok = NULL;
        if (pthread_create(&t, NULL, ids_of_a_new_thread, &before) != 0 || pthread_join(t, &ok) != 0 || !ok)
            bad |= 4;
        /* A second fork: the grandchild's id is its own again. */
        pid_t g = fork();
        if (g == 0)
            _exit(ferry__self_tid() == kernel_tid() ? 0 : 1);
        int st = 0;
        while (g > 0 && waitpid(g, &st, 0) < 0 && errno == EINTR)
            ;
        if (g < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad |= 8;
        _exit(bad);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        CHECK_EQ(errno, EINTR);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child: %s %d (1: the parent's id cached, "
              "2: its id before the fork not its own, 4: a new thread's ids, 8: a grandchild's id)",
              WIFSIGNALED(status) ? "signal" : "exit status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    CHECK_EQ(ferry__self_tid(), before); /* the parent is unchanged */
}
