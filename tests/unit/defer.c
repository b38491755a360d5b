/* SPDX-License-Identifier: MIT */
/* ferry/defer.h: collect order and counts, re-pushing from fn, fini, and the
 * ferry_shared handle (direct vs deferred destruction, misuse). */
#include <ferry/defer.h>
#include <ferry/list.h>
#include <ferry/rt.h>

#include <errno.h>
#include <string.h>

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
