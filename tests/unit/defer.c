/* SPDX-License-Identifier: MIT */
/* ferry/defer.h: collect order and counts, re-pushing from fn, fini, and the
 * ferry_shared handle (direct vs deferred destruction, misuse). */
#include <ferry/defer.h>
#include <ferry/list.h>
#include <ferry/rt.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "step.h"
#include "cancel_inside.h"
#include "test.h"

typedef struct obj {
    ferry_defer_node dn;
    int id;
    int runs;
} obj;

static int order[100];
static int nrun;

static void record(ferry_defer_node *n)
{
    obj *o = ferry_container_of(n, obj, dn);
    o->runs++;
    order[nrun++] = o->id;
}

FERRY_TEST(init_and_zero_filled)
{
    CHECK_EQ(ferry_defer_init(NULL), -EINVAL);
    ferry_defer d;
    memset(&d, 0, sizeof d);
    CHECK(!ferry_defer_pending(&d));
    CHECK_EQ(ferry_defer_collect(&d), 0);
    CHECK_EQ(ferry_defer_init(&d), 0);
    CHECK_EQ(ferry_defer_collect(&d), 0);
    ferry_defer_fini(&d);
    ferry_defer_fini(NULL);
}

FERRY_TEST(collect_runs_in_push_order)
{
    ferry_defer d;
    ferry_defer_init(&d);
    obj o[10];
    nrun = 0;
    for (int i = 0; i < 10; i++) {
        o[i].id = i;
        o[i].runs = 0;
        ferry_defer_push(&d, &o[i].dn, record);
    }
    CHECK(ferry_defer_pending(&d));
    CHECK_EQ(ferry_defer_collect(&d), 10);
    CHECK(!ferry_defer_pending(&d));
    for (int i = 0; i < 10; i++) {
        CHECK_EQ(order[i], i);
        CHECK_EQ(o[i].runs, 1);
    }
    CHECK_EQ(ferry_defer_collect(&d), 0);
    ferry_defer_fini(&d);
}

static ferry_defer *again_d;
static obj *again_o;
static void push_again(ferry_defer_node *n)
{
    record(n);
    if (again_o->runs < 3)   /* re-queue itself: collected next time */
        ferry_defer_push(again_d, n, push_again);
}

FERRY_TEST(fn_may_push_again)
{
    ferry_defer d;
    ferry_defer_init(&d);
    obj o = {.id = 7};
    again_d = &d;
    again_o = &o;
    nrun = 0;
    ferry_defer_push(&d, &o.dn, push_again);
    CHECK_EQ(ferry_defer_collect(&d), 1);
    CHECK_EQ(o.runs, 1);
    ferry_defer_fini(&d);   /* collects until nothing is left */
    CHECK_EQ(o.runs, 3);
    CHECK(!ferry_defer_pending(&d));
}

FERRY_TEST(fini_collects_rest)
{
    ferry_defer d;
    ferry_defer_init(&d);
    obj o[3] = {{.id = 0}, {.id = 1}, {.id = 2}};
    nrun = 0;
    for (int i = 0; i < 3; i++)
        ferry_defer_push(&d, &o[i].dn, record);
    ferry_defer_fini(&d);
    CHECK_EQ(nrun, 3);
    CHECK_EQ(order[2], 2);
}

/* ---- ferry_shared ---- */

typedef struct sobj {
    ferry_shared sh;
    int destroyed;
} sobj;

static void destroy(ferry_shared *s)
{
    ferry_container_of(s, sobj, sh)->destroyed++;
}

FERRY_TEST(shared_init_rejects_null)
{
    ferry_defer d;
    ferry_defer_init(&d);
    sobj s;
    CHECK_EQ(ferry_shared_init(NULL, &d, destroy), -EINVAL);
    CHECK_EQ(ferry_shared_init(&s.sh, NULL, destroy), -EINVAL);
    CHECK_EQ(ferry_shared_init(&s.sh, &d, NULL), -EINVAL);
}

FERRY_TEST(shared_last_release_outside_rt_destroys_now)
{
    ferry_defer d;
    ferry_defer_init(&d);
    sobj s = {.destroyed = 0};
    ferry_shared_init(&s.sh, &d, destroy);
    CHECK_PTR_EQ(ferry_shared_acquire(&s.sh), &s.sh);
    CHECK_EQ(ferry_shared_refs(&s.sh), 2);
    ferry_shared_release(&s.sh);
    CHECK_EQ(s.destroyed, 0);
    ferry_shared_release(&s.sh);
    CHECK_EQ(s.destroyed, 1);
    CHECK(!ferry_defer_pending(&d));
}

FERRY_TEST(shared_last_release_in_rt_is_deferred)
{
    ferry_defer d;
    ferry_defer_init(&d);
    sobj s = {.destroyed = 0};
    ferry_shared_init(&s.sh, &d, destroy);
    ferry_rt_enter();
    ferry_shared_release(&s.sh);
    ferry_rt_exit();
    CHECK_EQ(s.destroyed, 0);
    CHECK(ferry_defer_pending(&d));
    CHECK_EQ(ferry_defer_collect(&d), 1);
    CHECK_EQ(s.destroyed, 1);
}

FERRY_TEST(shared_release_deferred_always_defers)
{
    ferry_defer d;
    ferry_defer_init(&d);
    sobj s = {.destroyed = 0};
    ferry_shared_init(&s.sh, &d, destroy);
    ferry_shared_release_deferred(&s.sh);
    CHECK_EQ(s.destroyed, 0);
    ferry_defer_fini(&d);
    CHECK_EQ(s.destroyed, 1);
}

FERRY_DEATH_TEST(shared_double_release, "released more often than acquired")
{
    ferry_defer d;
    ferry_defer_init(&d);
    sobj s = {.destroyed = 0};
    ferry_shared_init(&s.sh, &d, destroy);
    ferry_shared_release(&s.sh);
    ferry_shared_release(&s.sh);
}

FERRY_DEATH_TEST(shared_acquire_after_last_release, "acquired after its last release")
{
    ferry_defer d;
    ferry_defer_init(&d);
    sobj s = {.destroyed = 0};
    ferry_shared_init(&s.sh, &d, destroy);
    ferry_shared_release(&s.sh);
    ferry_shared_acquire(&s.sh);
}

/* A count that is already the largest size_t cannot take one more: the
 * acquire used to wrap it to 0 (the next release then aborted with "released
 * more often than acquired", far from the cause). Reaching it takes 2^32
 * acquires on a 32-bit machine (a reference leaked per audio block, for a
 * few months): the test starts there. */
FERRY_DEATH_TEST(shared_acquire_at_the_largest_count_aborts, "too many references")
{
    ferry_defer d;
    ferry_defer_init(&d);
    sobj s = {.destroyed = 0};
    ferry_shared_init(&s.sh, &d, destroy);
    atomic_store_explicit(&s.sh.refs, SIZE_MAX - 1, memory_order_relaxed);
    CHECK_PTR_EQ(ferry_shared_acquire(&s.sh), &s.sh);   /* SIZE_MAX references: still fine */
    CHECK_EQ(ferry_shared_refs(&s.sh), SIZE_MAX);
    ferry_shared_acquire(&s.sh);
}

/* fork() while another thread pushes (defer.h): the child re-initializes
 * its copy of the list, as the header says to, and then pushes and
 * collects normally, whatever state the fork caught the list in (a push
 * half done included: collecting without the init could wait for ever);
 * the parent's list loses nothing. The pusher recycles its nodes once they
 * are collected, so that it is still pushing at every fork. */
enum { FORK_NODES = 256, FORKS = 20 };
static ferry_defer fork_d;
static ferry_defer_node fork_nodes[FORK_NODES];
static atomic_bool fork_busy[FORK_NODES];
static atomic_size_t fork_pushed, fork_ran;
static atomic_bool fork_stop;

static void fork_count(ferry_defer_node *n)
{
    atomic_store(&fork_busy[n - fork_nodes], false);
    atomic_fetch_add(&fork_ran, 1);
}

static void *fork_pusher(void *arg)
{
    (void)arg;
    for (size_t i = 0; !atomic_load(&fork_stop); i = (i + 1) % FORK_NODES) {
        if (atomic_load(&fork_busy[i])) {
            sched_yield();   /* not collected yet */
            continue;
        }
        atomic_store(&fork_busy[i], true);
        ferry_defer_push(&fork_d, &fork_nodes[i], fork_count);
        atomic_fetch_add(&fork_pushed, 1);
    }
    return NULL;
}

static bool fork_mine_ran;
static void fork_mine(ferry_defer_node *n)
{
    (void)n;
    fork_mine_ran = true;
}

FERRY_TEST(fork_child_reinitializes_and_collects)
{
    pthread_t t;
    CHECK_EQ(ferry_defer_init(&fork_d), 0);
    CHECK_EQ(pthread_create(&t, NULL, fork_pusher, NULL), 0);
    for (int i = 0; i < FORKS; i++) {
        while (atomic_load(&fork_pushed) < (size_t)i * 100)
            sched_yield();   /* let it push between forks */
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            static ferry_defer_node mine;
            bool ok = ferry_defer_init(&fork_d) == 0 && !ferry_defer_pending(&fork_d);
            ferry_defer_push(&fork_d, &mine, fork_mine);
            ok = ok && ferry_defer_collect(&fork_d) == 1 && fork_mine_ran;
            ferry_defer_fini(&fork_d);
            _exit(ok ? 0 : 1);
        }
        int st;
        CHECK_EQ(waitpid(pid, &st, 0), pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        ferry_defer_collect(&fork_d);   /* the parent collects meanwhile */
    }
    atomic_store(&fork_stop, true);
    pthread_join(t, NULL);
    ferry_defer_fini(&fork_d);
    CHECK_EQ(atomic_load(&fork_ran), atomic_load(&fork_pushed));
    CHECK(atomic_load(&fork_pushed) >= (FORKS - 1) * 100);
}

#ifdef FERRY_TEST_CAN_STEP_LONG_CALLS
/* A push after ANY instruction of a collect (tests/harness/step.h): the
 * collect runs what was pushed before it began, in push order, and the
 * push it overlapped runs then or at the next collect, never twice and
 * never before an older node. With 0 to 3 nodes queued before. (A long
 * call: collect calls into libc for the cancellation state.) */
static ferry_defer step_d;
static ferry_defer_node step_nodes[8];
static int step_pushed, step_ran, step_order[8];

static void step_record(ferry_defer_node *n)
{
    step_order[step_ran++] = (int)(n - step_nodes);
}

static void step_push(void)
{
    ferry_defer_push(&step_d, &step_nodes[step_pushed], step_record);
    step_pushed++;
}

static size_t step_collected;
static void step_collect(void)
{
    step_collected = ferry_defer_collect(&step_d);
}

FERRY_TEST(push_after_any_instruction_of_a_collect)
{
    int runs = 0;
    for (int queued = 0; queued < 4; queued++) {
        for (int k = 1;; k++) {
            CHECK_EQ(ferry_defer_init(&step_d), 0);
            step_pushed = step_ran = 0;
            for (int i = 0; i < queued; i++)
                step_push();
            bool more = step_run(step_collect, step_push, k);
            CHECK((int)step_collected >= queued);
            CHECK_EQ((int)step_collected, step_ran);
            ferry_defer_fini(&step_d);
            CHECK_EQ(step_ran, step_pushed);
            for (int i = 0; i < step_ran; i++)
                CHECK_EQ(step_order[i], i);
            runs++;
            if (!more)
                break;
        }
    }
    CHECK(runs > 4 * 3);
}
#endif /* FERRY_TEST_CAN_STEP_LONG_CALLS */

/* A collector cancelled inside a function it runs (a destroy function that
 * closes a file or writes a log reaches a cancellation point) loses
 * nothing: collect runs its whole batch, then the cancellation takes
 * effect. The batch used to be lost with the thread: taken off the list,
 * never run, invisible to ferry_defer_fini. */
enum { CANCEL_NODES = 10 };
static ferry_defer cancel_d;
static ferry_defer_node cancel_nodes[CANCEL_NODES];
static atomic_int cancel_ran;

static void cancel_fn(ferry_defer_node *n)
{
    atomic_fetch_add(&cancel_ran, 1);
    if (n == &cancel_nodes[0]) {
        ferry_test_cancel_me(); /* a cancellation point, the request pending */
    }
}

static void *cancel_collector(void *arg)
{
    (void)arg;
    ferry_defer_collect(&cancel_d);
    pthread_testcancel();   /* where the request takes effect */
    return NULL;
}

FERRY_TEST(collector_cancelled_inside_a_function_loses_nothing)
{
    CHECK_EQ(ferry_defer_init(&cancel_d), 0);
    for (int i = 0; i < CANCEL_NODES; i++)
        ferry_defer_push(&cancel_d, &cancel_nodes[i], cancel_fn);
    ferry_test_cancel_inside(cancel_collector);
    ferry_defer_fini(&cancel_d);
    CHECK_EQ(atomic_load(&cancel_ran), CANCEL_NODES);
}
