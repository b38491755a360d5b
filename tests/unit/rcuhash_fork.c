/* SPDX-License-Identifier: MIT */
/* ferry/rcuhash.h across fork(): a child forked while another thread of the
 * parent resizes the table in a loop finds every key, can resize the table
 * itself, empty it and destroy it. (The resizer held the table's resize
 * lock at nearly every instant, and the child's first resize waited for it
 * for ever.) Each child runs under an alarm, so a hang is a failure. */
#include <ferry/rcuhash.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "../torture/rcu_fork_tsan.h"

#define CHILD_SECONDS 20
enum { KEYS = 2000, FORKS = 5 };

struct item {
    unsigned long key;
    ferry_lfht_node node;
};

static struct item items[KEYS];
static ferry_lfht *ht;
static FERRY_ATOMIC(int) stop;
static FERRY_ATOMIC(unsigned long) resizes;

static unsigned long hash_of(unsigned long k) { return k * 0x9e3779b97f4a7c15ul; }

static int match_key(ferry_lfht_node *node, const void *key)
{
    return ferry_container_of(node, struct item, node)->key == *(const unsigned long *)key;
}

static void check_all_present(void)
{
    ferry_rcu_read_lock();
    for (unsigned long k = 0; k < KEYS; k++) {
        ferry_lfht_iter it;
        ferry_lfht_lookup(ht, hash_of(k), match_key, &k, &it);
        CHECK_MSG(ferry_lfht_iter_get_node(&it) == &items[k].node, "key %lu missing", k);
    }
    unsigned long n = 0;
    CHECK_EQ(ferry_lfht_count_nodes(ht, NULL, &n, NULL), 0);
    CHECK_EQ(n, KEYS);
    ferry_rcu_read_unlock();
}

static void empty_and_destroy(void)
{
    ferry_rcu_read_lock();
    for (unsigned long k = 0; k < KEYS; k++)
        CHECK_EQ(ferry_lfht_del(ht, &items[k].node), 0);
    ferry_rcu_read_unlock();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
}

static void *resizer(void *arg)
{
    (void)arg;
    ferry_rcu_register_thread();
    for (unsigned long i = 0; !atomic_load(&stop); i++) {
        CHECK_EQ(ferry_lfht_resize(ht, 1UL << (4 + i % 8)), 0);
        atomic_fetch_add(&resizes, 1);
    }
    ferry_rcu_unregister_thread();
    return NULL;
}

static void child(void)
{
    alarm(CHILD_SECONDS);
    check_all_present();
    CHECK_EQ(ferry_lfht_resize(ht, 4096), 0);
    check_all_present();
    CHECK_EQ(ferry_lfht_resize(ht, 2), 0);
    check_all_present();
    empty_and_destroy();
    fflush(NULL);
    _exit(0);
}

FERRY_TEST(child_of_a_fork_during_resizes_can_resize)
{
    ferry_rcu_register_thread();
    ht = ferry_lfht_new(16, 1, 0, 0);
    CHECK(ht != NULL);
    ferry_rcu_read_lock();
    for (unsigned long k = 0; k < KEYS; k++) {
        items[k].key = k;
        CHECK_EQ(ferry_lfht_add(ht, hash_of(k), &items[k].node), 0);
    }
    ferry_rcu_read_unlock();
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, resizer, NULL), 0);
    for (int f = 0; f < FORKS; f++) {
        /* Fork while the resizer is at work (and, under sanitizers, fully
         * started: see tests/unit/rcu_fork.c). */
        unsigned long before = atomic_load(&resizes);
        while (atomic_load(&resizes) < before + 2)
            sched_yield();
        fflush(NULL);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0)
            child();
        int status;
        while (waitpid(pid, &status, 0) < 0)
            CHECK_EQ(errno, EINTR);
        CHECK_MSG(!(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM),
                  "fork %d: the child hung (killed by its %d s alarm)", f, CHILD_SECONDS);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork %d: the child failed (%s %d)", f,
                  WIFSIGNALED(status) ? "signal" : "exit status",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    }
    atomic_store(&stop, 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    check_all_present();
    empty_and_destroy();
    ferry_rcu_unregister_thread();
}
