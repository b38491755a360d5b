/* SPDX-License-Identifier: MIT */
/* ferry/rcuhash.h: automatic resizing in a child forked while the table's
 * resize callback was in flight -- running on the callback thread, queued
 * and waiting for its grace period, or being queued by another thread --
 * for ferry's flavors and for a flavor of the test's own whose callbacks a
 * child may drop or carry. In every case the child's table must grow by
 * itself again, and the parent's too.
 *
 * How the child tells: its table starts at one bucket with 5 keys (the add
 * of the 5th walked 4 nodes, which asks for a resize: the one in flight),
 * and the child adds 20 more: chains stay below the length at which an
 * updater grows the table itself (32), so only the queued resize can grow
 * it. Before the fix, a child whose callback was lost kept one bucket.
 *
 * This program compiles the table itself (src/rcuhash.c) with
 * FERRY_LFHT_TEST_HOOKS: the hook below holds resize_cb at its start, and
 * with its calls of free() logged (freed_log), so a test can tell that a
 * head was freed. */
#define FERRY_LFHT_TEST_HOOKS 1
#include <stdlib.h>
static void logged_free(void *p);
#define free(p) logged_free(p)
#include "../../src/rcuhash.c"
#undef free

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

#include "test.h"
#include "../torture/rcu_fork_tsan.h"

#define CHILD_SECONDS 20
enum { KEYS_AT_FORK = 5, KEYS = 25 };   /* KEYS < 32 */

struct item {
    unsigned long key;
    ferry_lfht_node node;
};

static struct item items[KEYS];

/* Key k's hash: its reversed hash (the list order) is k + 1 in the top 5
 * bits, so at one bucket every add walks past all the keys before it (the
 * add of key 4 walks 4), and the hashes spread over 32 buckets. */
static unsigned long hash_of(unsigned long k) { return bit_reverse((k + 1) << (LONG_BITS - 5)); }

static int match_key(ferry_lfht_node *node, const void *key)
{
    return ferry_container_of(node, struct item, node)->key == *(const unsigned long *)key;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------------ */
/* The table's calls of free(), the last FREED_LOG of them.                  */

enum { FREED_LOG = 64 };
static void *freed_log[FREED_LOG];
static FERRY_ATOMIC(unsigned) freed_n;

static void logged_free(void *p)
{
    if (p)
        freed_log[atomic_fetch_add(&freed_n, 1) % FREED_LOG] = p;
    free(p);
}

static bool was_freed(const void *p)
{
    unsigned n = atomic_load(&freed_n);
    for (unsigned i = n > FREED_LOG ? n - FREED_LOG : 0; i < n; i++)
        if (freed_log[i % FREED_LOG] == p)
            return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* Holding resize_cb at its start (the table's test hook).                   */

static FERRY_ATOMIC(int) hold_cb;   /* 1: resize_cb waits at its start */
static FERRY_ATOMIC(int) cb_held;   /* a resize_cb is waiting */

void ferry__lfht_test_hook(int point)
{
    if (point != HOOK_CALLBACK || !atomic_load(&hold_cb))
        return;
    atomic_store(&cb_held, 1);
    while (atomic_load(&hold_cb))
        pause_ms(1);
}

/* ------------------------------------------------------------------------ */
/* A flavor of the test's own: call queues on a list that only
 * manual_barrier runs (after a grace period of the default flavor), so the
 * test decides what a child does with it. Its call can also stop after
 * queueing, as if the calling thread were still inside it at the fork. */

static pthread_mutex_t manual_lock = PTHREAD_MUTEX_INITIALIZER;
static ferry_rcu_head *manual_queue;   /* newest first */
static FERRY_ATOMIC(int) hold_call;    /* 1: the next call waits after queueing */
static FERRY_ATOMIC(int) call_held;

static void manual_read_lock(void) { ferry_rcu_read_lock(); }
static void manual_read_unlock(void) { ferry_rcu_read_unlock(); }
static void manual_quiescent(void) {}
static bool manual_ongoing(void) { return ferry_rcu_read_ongoing(); }

static void manual_call(ferry_rcu_head *h, void (*fn)(ferry_rcu_head *))
{
    pthread_mutex_lock(&manual_lock);
    h->fn = fn;
    h->next = manual_queue;
    manual_queue = h;
    pthread_mutex_unlock(&manual_lock);
    if (atomic_load(&hold_call)) {
        atomic_store(&call_held, 1);
        while (atomic_load(&hold_call))
            pause_ms(1);
    }
}

/* Run everything queued, oldest first, until nothing is (callbacks may
 * queue more). */
static void manual_barrier(void)
{
    for (;;) {
        pthread_mutex_lock(&manual_lock);
        ferry_rcu_head *q = manual_queue;
        manual_queue = NULL;
        pthread_mutex_unlock(&manual_lock);
        if (!q)
            return;
        ferry_rcu_synchronize();
        ferry_rcu_head *fifo = NULL;
        while (q) {
            ferry_rcu_head *next = q->next;
            q->next = fifo;
            fifo = q;
            q = next;
        }
        while (fifo) {
            ferry_rcu_head *next = fifo->next;
            fifo->fn(fifo);
            fifo = next;
        }
    }
}

static const ferry_lfht_flavor manual = {
    manual_read_lock, manual_read_unlock, manual_quiescent, manual_call, manual_barrier, manual_ongoing,
};

/* ------------------------------------------------------------------------ */
/* The table and the checks.                                                 */

static ferry_lfht *ht;

static void add_keys(unsigned long from, unsigned long to)
{
    ht->fl->read_lock();
    for (unsigned long k = from; k < to; k++) {
        items[k].key = k;
        CHECK_EQ(ferry_lfht_add(ht, hash_of(k), &items[k].node), 0);
    }
    ht->fl->read_unlock();
}

static struct ferry__lfht_stats stats(void)
{
    struct ferry__lfht_stats st;
    ferry__lfht_stats(ht, &st);
    return st;
}

/* After the flavor's barrier: the table grew by itself to serve `keys`
 * keys, nothing is left queued, every key is found; then empty it and
 * destroy it. */
static void check_grown_and_destroy(unsigned long keys, const char *who)
{
    ht->fl->barrier();
    struct ferry__lfht_stats st = stats();
    CHECK_MSG(st.size > 1, "%s: the table did not resize itself (size %lu, target %lu, queued %d)", who,
              st.size, st.target, st.queued);
    CHECK_EQ(st.queued, 0);
    CHECK_EQ(st.target, st.size);
    ht->fl->read_lock();
    for (unsigned long k = 0; k < keys; k++) {
        ferry_lfht_iter it;
        ferry_lfht_lookup(ht, hash_of(k), match_key, &k, &it);
        CHECK_MSG(ferry_lfht_iter_get_node(&it) == &items[k].node, "%s: key %lu missing", who, k);
    }
    for (unsigned long k = 0; k < keys; k++)
        CHECK_EQ(ferry_lfht_del(ht, &items[k].node), 0);
    ht->fl->read_unlock();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
}

/* Table of one bucket holding KEYS_AT_FORK keys; the last add queued the
 * resize. */
static void make_table(const ferry_lfht_flavor *fl)
{
    ht = ferry_lfht_new_flavor(1, 1, 0, FERRY_LFHT_AUTO_RESIZE, fl);
    CHECK(ht != NULL);
    add_keys(0, KEYS_AT_FORK);
}

/* Wait (announcing quiescent states, for QSBR) until *flag is set. */
static void wait_for(FERRY_ATOMIC(int) *flag)
{
    for (int i = 0; !atomic_load(flag); i++) {
        CHECK_MSG(i < 20000, "the resize never reached the point the test waits for");
        ht->fl->quiescent_state();
        pause_ms(1);
    }
}

enum child_queue { KEEP_QUEUE, DROP_QUEUE, IN_SECTION, EXPLICIT_RCU };

/* Fork; the child (under an alarm) lets go of what the parent holds,
 * drops the manual flavor's queue if asked, adds the rest of the keys and
 * checks that its table grew. IN_SECTION: fork inside a read-side section
 * and leave it in the child only after the adds, so that no callback runs
 * in the child before them. EXPLICIT_RCU: fork between explicit
 * ferry_rcu_before_fork / after_fork_* calls (RCU's automatic handlers then
 * do nothing, and the child's callback threads restart only at the
 * explicit call). Returns the child's pid. */
static pid_t fork_test_child(enum child_queue q)
{
    if (q == IN_SECTION)
        ht->fl->read_lock();
    if (q == EXPLICIT_RCU)
        ferry_rcu_before_fork();
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(CHILD_SECONDS);
        if (q == EXPLICIT_RCU)
            ferry_rcu_after_fork_child();
        atomic_store(&hold_cb, 0);
        atomic_store(&hold_call, 0);
        if (q == DROP_QUEUE)
            manual_queue = NULL;   /* a flavor that loses callbacks at fork */
        add_keys(KEYS_AT_FORK, KEYS);
        if (q == IN_SECTION)
            ht->fl->read_unlock();
        check_grown_and_destroy(KEYS, "child");
        fflush(NULL);
        _exit(0);
    }
    if (q == IN_SECTION)
        ht->fl->read_unlock();
    if (q == EXPLICIT_RCU)
        ferry_rcu_after_fork_parent();
    return pid;
}

static void reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        CHECK_EQ(errno, EINTR);
    CHECK_MSG(!(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM),
              "the child hung (killed by its %d s alarm)", CHILD_SECONDS);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed (%s %d)",
              WIFSIGNALED(status) ? "signal" : "exit status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* Fork (fork_test_child); in the parent let go of *hold (if any), join t
 * (if any), reap the child and check the parent's table. */
static void fork_and_finish(enum child_queue q, FERRY_ATOMIC(int) *hold, pthread_t *t)
{
    pid_t pid = fork_test_child(q);
    if (hold)
        atomic_store(hold, 0);
    if (t)
        CHECK_EQ(pthread_join(*t, NULL), 0);
    reap(pid);
    check_grown_and_destroy(KEYS_AT_FORK, "parent");
}

/* ------------------------------------------------------------------------ */
/* ferry's flavors.                                                          */

/* resize_cb started on the callback thread and is held there at the fork:
 * it does not run in the child. */
static void callback_running_at_fork(const ferry_lfht_flavor *fl, enum child_queue q)
{
    atomic_store(&hold_cb, 1);
    atomic_store(&cb_held, 0);
    make_table(fl);
    wait_for(&cb_held);
    CHECK_EQ(stats().queued, 1);
    fork_and_finish(q, &hold_cb, NULL);
}

FERRY_TEST(memb_callback_running_at_fork)
{
    ferry_rcu_register_thread();
    callback_running_at_fork(&ferry_lfht_flavor_memb, KEEP_QUEUE);
    ferry_rcu_unregister_thread();
}

/* The same inside explicit ferry_rcu_before_fork / after_fork_* calls: the
 * table's own child handler sees to it (RCU's runs later). */
FERRY_TEST(memb_callback_running_at_fork_inside_explicit_rcu_calls)
{
    ferry_rcu_register_thread();
    callback_running_at_fork(&ferry_lfht_flavor_memb, EXPLICIT_RCU);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(qsbr_callback_running_at_fork)
{
    ferry_qsbr_register_thread();
    callback_running_at_fork(&ferry_lfht_flavor_qsbr, KEEP_QUEUE);
    ferry_qsbr_unregister_thread();
}

/* A reader of another thread holds the grace period up, so resize_cb is
 * queued and not started at the fork: it runs in the child (which must not
 * queue the head a second time: RCU would abort; the child's adds come
 * before the callback can run there) and in the parent. */
static FERRY_ATOMIC(int) reader_in, hold_reader;

static void *reader(void *arg)
{
    (void)arg;
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    atomic_store(&reader_in, 1);
    while (atomic_load(&hold_reader))
        pause_ms(1);
    ferry_rcu_read_unlock();
    ferry_rcu_unregister_thread();
    return NULL;
}

FERRY_TEST(memb_callback_queued_at_fork)
{
    ferry_rcu_register_thread();
    atomic_store(&hold_reader, 1);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, reader, NULL), 0);
    while (!atomic_load(&reader_in))
        pause_ms(1);
    make_table(&ferry_lfht_flavor_memb);
    pause_ms(20);   /* the callback thread takes the head and waits */
    struct ferry__lfht_stats st = stats();
    CHECK_EQ(st.queued, 1);
    CHECK_EQ(st.size, 1);
    fork_and_finish(IN_SECTION, &hold_reader, &t);
    ferry_rcu_unregister_thread();
}

/* ------------------------------------------------------------------------ */
/* A flavor of the user's.                                                   */

/* Queued, not started; the child's flavor drops it (the table must queue
 * a new head) or carries it (the old head runs there and does nothing;
 * ASan: nothing freed twice). */
static void manual_queued_at_fork(enum child_queue q)
{
    ferry_rcu_register_thread();
    make_table(&manual);
    CHECK(manual_queue != NULL);
    CHECK_EQ(stats().queued, 1);
    fork_and_finish(q, NULL, NULL);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(custom_flavor_drops_queued_callback)
{
    manual_queued_at_fork(DROP_QUEUE);
}

FERRY_TEST(custom_flavor_carries_queued_callback)
{
    manual_queued_at_fork(KEEP_QUEUE);
}

/* Running at the fork (another thread runs the flavor's queue and is held
 * in resize_cb): lost in the child, whose table queues the same head. */
static void *run_manual(void *arg)
{
    (void)arg;
    ferry_rcu_register_thread();
    manual_barrier();
    ferry_rcu_unregister_thread();
    return NULL;
}

FERRY_TEST(custom_flavor_callback_running_at_fork)
{
    ferry_rcu_register_thread();
    atomic_store(&hold_cb, 1);
    atomic_store(&cb_held, 0);
    make_table(&manual);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, run_manual, NULL), 0);
    wait_for(&cb_held);
    CHECK(manual_queue == NULL);
    fork_and_finish(KEEP_QUEUE, &hold_cb, &t);
    ferry_rcu_unregister_thread();
}

/* Another thread is inside the flavor's call (the head is queued, the
 * call has not returned) at the fork: the child cannot know whether the
 * head was queued, gives it up, and the old head, carried, does nothing. */
static void *add_fifth(void *arg)
{
    (void)arg;
    ferry_rcu_register_thread();
    add_keys(KEYS_AT_FORK - 1, KEYS_AT_FORK);
    ferry_rcu_unregister_thread();
    return NULL;
}

static void call_under_way_at_fork(enum child_queue q)
{
    ferry_rcu_register_thread();
    ht = ferry_lfht_new_flavor(1, 1, 0, FERRY_LFHT_AUTO_RESIZE, &manual);
    CHECK(ht != NULL);
    add_keys(0, KEYS_AT_FORK - 1);
    CHECK(manual_queue == NULL);
    atomic_store(&hold_call, 1);
    atomic_store(&call_held, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, add_fifth, NULL), 0);
    wait_for(&call_held);
    fork_and_finish(q, &hold_call, &t);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(custom_flavor_call_under_way_at_fork_carried)
{
    call_under_way_at_fork(KEEP_QUEUE);
}

FERRY_TEST(custom_flavor_call_under_way_at_fork_dropped)
{
    call_under_way_at_fork(DROP_QUEUE);
}

/* A head allocated by a fork child (its call was under way at the fork),
 * queued in that child and given up again by a fork of the child, whose
 * flavor drops it: the grandchild's destroy frees it (before the fix it
 * was never freed). The child runs it (carried) and destroys its table
 * too; ASan: nothing freed twice. */
enum { KEYS_IN_CHILD = 15 };   /* between KEYS_AT_FORK and KEYS */

static void grandchild(struct resize_req *first)
{
    alarm(CHILD_SECONDS);
    manual_queue = NULL;   /* the flavor drops the child's queued head */
    atomic_store(&freed_n, 0);
    CHECK_MSG(ht->req != first, "the grandchild did not give the child's head up");
    add_keys(KEYS_IN_CHILD, KEYS);   /* queues the grandchild's own head */
    check_grown_and_destroy(KEYS, "grandchild");
    CHECK_MSG(was_freed(first), "the head given up twice was not freed");
    fflush(NULL);
    _exit(0);
}

FERRY_TEST(custom_flavor_head_given_up_twice_dropped_is_freed)
{
    ferry_rcu_register_thread();
    ht = ferry_lfht_new_flavor(1, 1, 0, FERRY_LFHT_AUTO_RESIZE, &manual);
    CHECK(ht != NULL);
    add_keys(0, KEYS_AT_FORK - 1);
    atomic_store(&hold_call, 1);
    atomic_store(&call_held, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, add_fifth, NULL), 0);
    wait_for(&call_held);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(CHILD_SECONDS);
        atomic_store(&hold_call, 0);
        manual_queue = NULL;
        struct resize_req *first = ht->req;
        CHECK_MSG(first != &ht->own_req, "the child did not give the table's head up");
        add_keys(KEYS_AT_FORK, KEYS_IN_CHILD);   /* queues `first` */
        CHECK(manual_queue == &first->rh);
        CHECK_EQ(stats().queued, 1);
        fflush(NULL);
        pid_t g = fork();
        CHECK(g >= 0);
        if (g == 0)
            grandchild(first);
        reap(g);
        check_grown_and_destroy(KEYS_IN_CHILD, "child");
        fflush(NULL);
        _exit(0);
    }
    atomic_store(&hold_call, 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    reap(pid);
    check_grown_and_destroy(KEYS_AT_FORK, "parent");
    ferry_rcu_unregister_thread();
}
