/* SPDX-License-Identifier: MIT */
/* ferry/waitlist.h: link, unlink, rounds (the starvation guard), wakesets,
 * and each misuse that must abort. */
#include <ferry/waitlist.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cancel_inside.h"
#include "test.h"

typedef struct w {
    ferry_waiter waiter;
    int id;
    int woken;
} w_t;

static int wake_order[64];
static int nwake;

static void on_wake(ferry_waiter *fw)
{
    w_t *w = ferry_container_of(fw, w_t, waiter);
    CHECK(!ferry_waiter_linked(fw));
    CHECK(!ferry_waiter_taken(fw));
    w->woken++;
    wake_order[nwake++] = w->id;
}

static void init_ws(w_t *ws, int n)
{
    for (int i = 0; i < n; i++) {
        ws[i].id = i;
        ws[i].woken = 0;
        ferry_waiter_init(&ws[i].waiter, on_wake);
    }
}

FERRY_TEST(zero_filled_is_valid)
{
    ferry_waitlist wl;
    memset(&wl, 0, sizeof wl);
    CHECK(ferry_waitlist_empty(&wl));
    CHECK(ferry_waitlist_peek(&wl, FERRY_ROUND_ALL) == NULL);
    ferry_wakeset ws = FERRY_WAKESET_INIT;
    CHECK_EQ(ferry_waitlist_take(&wl, FERRY_ROUND_ALL, &ws, 10), 0);
    CHECK_EQ(ferry_wakeset_wake(&ws), 0);
    w_t a[1];
    init_ws(a, 1);
    ferry_waitlist_link(&wl, &a[0].waiter);
    CHECK_EQ(ferry_waitlist_len(&wl), 1);
    CHECK(ferry_waitlist_unlink(&wl, &a[0].waiter));
    ferry_waiter_fini(&a[0].waiter);
    ferry_waitlist_fini(&wl);
}

FERRY_TEST(link_unlink)
{
    ferry_waitlist wl;
    ferry_waitlist_init(&wl, "wl");
    w_t a[3];
    init_ws(a, 3);
    for (int i = 0; i < 3; i++)
        ferry_waitlist_link(&wl, &a[i].waiter);
    CHECK_EQ(ferry_waitlist_len(&wl), 3);
    CHECK(ferry_waiter_linked(&a[1].waiter));
    CHECK(ferry_waitlist_unlink(&wl, &a[1].waiter));
    CHECK(!ferry_waiter_linked(&a[1].waiter));
    CHECK(!ferry_waitlist_unlink(&wl, &a[1].waiter)); /* not linked: no-op */
    CHECK_EQ(ferry_waitlist_len(&wl), 2);
    ferry_waiter *p = ferry_waitlist_peek(&wl, FERRY_ROUND_ALL);
    CHECK_PTR_EQ(p, &a[0].waiter);
    CHECK_PTR_EQ(ferry_waitlist_next(&wl, p, FERRY_ROUND_ALL), &a[2].waiter);
    CHECK(ferry_waitlist_next(&wl, &a[2].waiter, FERRY_ROUND_ALL) == NULL);
    CHECK(ferry_waitlist_unlink(&wl, &a[0].waiter));
    CHECK(ferry_waitlist_unlink(&wl, &a[2].waiter));
    for (int i = 0; i < 3; i++)
        ferry_waiter_fini(&a[i].waiter);
    ferry_waitlist_fini(&wl);
}

FERRY_TEST(unlink_never_linked_is_noop)
{
    ferry_waitlist wl = FERRY_WAITLIST_INIT;
    w_t a[1];
    init_ws(a, 1);
    CHECK(!ferry_waitlist_unlink(&wl, &a[0].waiter));
    ferry_waitlist_fini(&wl);
}

FERRY_TEST(take_is_fifo_and_wakes_after)
{
    ferry_waitlist wl = FERRY_WAITLIST_INIT;
    w_t a[5];
    init_ws(a, 5);
    for (int i = 0; i < 5; i++)
        ferry_waitlist_link(&wl, &a[i].waiter);
    ferry_wakeset ws;
    ferry_wakeset_init(&ws);
    uint64_t r = ferry_waitlist_round(&wl);
    CHECK_EQ(ferry_waitlist_take(&wl, r, &ws, 3), 3);
    CHECK_EQ(ferry_waitlist_len(&wl), 2);
    /* Taken, not yet woken: neither linked nor woken. */
    CHECK(!ferry_waiter_linked(&a[0].waiter));
    CHECK(ferry_waiter_taken(&a[0].waiter));
    CHECK_EQ(a[0].woken, 0);
    nwake = 0;
    CHECK_EQ(ferry_wakeset_wake(&ws), 3);
    CHECK_EQ(nwake, 3);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(wake_order[i], i);
        CHECK_EQ(a[i].woken, 1);
    }
    CHECK(ferry_wakeset_empty(&ws));
    CHECK_EQ(ferry_waitlist_take(&wl, r, &ws, 10), 2);
    CHECK_EQ(ferry_wakeset_wake(&ws), 2);
    CHECK_EQ(wake_order[3], 3);
    CHECK_EQ(wake_order[4], 4);
    ferry_waitlist_fini(&wl);
    for (int i = 0; i < 5; i++)
        ferry_waiter_fini(&a[i].waiter);
}

FERRY_TEST(round_excludes_waiters_linked_after_it_began)
{
    /* The starvation guard: a waiter that is woken and links itself again
     * during the same round is not taken twice by that round, and the waiter
     * behind it is reached. */
    ferry_waitlist wl = FERRY_WAITLIST_INIT;
    w_t a[3];
    init_ws(a, 3);
    for (int i = 0; i < 3; i++)
        ferry_waitlist_link(&wl, &a[i].waiter);
    uint64_t round = ferry_waitlist_round(&wl);
    ferry_wakeset ws = FERRY_WAKESET_INIT;
    nwake = 0;
    for (int step = 0; step < 10; step++) {
        if (ferry_waitlist_take(&wl, round, &ws, 1) == 0)
            break;
        ferry_wakeset_wake(&ws);
        /* The woken waiter found nothing and waits again: links at the tail. */
        w_t *last = &a[wake_order[nwake - 1]];
        ferry_waitlist_link(&wl, &last->waiter);
    }
    CHECK_EQ(nwake, 3); /* each exactly once in this round */
    CHECK_EQ(wake_order[0], 0);
    CHECK_EQ(wake_order[1], 1);
    CHECK_EQ(wake_order[2], 2);
    CHECK_EQ(ferry_waitlist_len(&wl), 3);
    CHECK(ferry_waitlist_peek(&wl, round) == NULL);
    /* A new round admits them again, still FIFO. */
    CHECK_PTR_EQ(ferry_waitlist_peek(&wl, ferry_waitlist_round(&wl)), &a[0].waiter);
    while (ferry_waitlist_take(&wl, FERRY_ROUND_ALL, &ws, 100))
        ferry_wakeset_wake(&ws);
    ferry_waitlist_fini(&wl);
}

FERRY_TEST(move_specific_waiter)
{
    ferry_waitlist wl = FERRY_WAITLIST_INIT;
    w_t a[3];
    init_ws(a, 3);
    for (int i = 0; i < 3; i++)
        ferry_waitlist_link(&wl, &a[i].waiter);
    ferry_wakeset ws = FERRY_WAKESET_INIT;
    ferry_waitlist_move(&wl, &a[1].waiter, &ws);
    nwake = 0;
    CHECK_EQ(ferry_wakeset_wake(&ws), 1);
    CHECK_EQ(wake_order[0], 1);
    CHECK_EQ(ferry_waitlist_len(&wl), 2);
    ferry_waitlist_take(&wl, FERRY_ROUND_ALL, &ws, 2);
    ferry_wakeset_wake(&ws);
    ferry_waitlist_fini(&wl);
}

static void free_on_wake(ferry_waiter *fw)
{
    /* The wake function may free the waiter's memory: nothing touches it
     * afterwards (ASan would see it). */
    w_t *w = ferry_container_of(fw, w_t, waiter);
    ferry_waiter_fini(fw);
    wake_order[nwake++] = w->id;
    free(w);
}

FERRY_TEST(wake_function_may_free_waiter)
{
    ferry_waitlist wl = FERRY_WAITLIST_INIT;
    for (int i = 0; i < 8; i++) {
        w_t *w = malloc(sizeof *w);
        w->id = i;
        ferry_waiter_init(&w->waiter, free_on_wake);
        ferry_waitlist_link(&wl, &w->waiter);
    }
    ferry_wakeset ws = FERRY_WAKESET_INIT;
    nwake = 0;
    ferry_waitlist_take(&wl, FERRY_ROUND_ALL, &ws, 100);
    CHECK_EQ(ferry_wakeset_wake(&ws), 8);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(wake_order[i], i);
    ferry_waitlist_fini(&wl);
}

/* A thread cancelled inside a wake function (one that writes to an event
 * loop's pipe reaches a cancellation point) still wakes every waiter of
 * its wakeset: they are on no list any more, and the wakeset, usually on
 * its stack, would be gone with it (their owners waiting for ever). */
enum { CANCEL_WAITERS = 3 };
static ferry_waitlist cancel_wl = FERRY_WAITLIST_INIT;
static ferry_waiter cancel_w[CANCEL_WAITERS];
static atomic_int cancel_woken;

static void cancel_wake(ferry_waiter *fw)
{
    atomic_fetch_add(&cancel_woken, 1);
    if (fw == &cancel_w[0]) {
        ferry_test_cancel_me(); /* a cancellation point, the request pending */
    }
}

/* (The wakeset is static, not on the stack as usual: AddressSanitizer
 * misreads a cancelled thread's unwound stack frames that had redzones.) */
static ferry_wakeset cancel_ws;

static void *cancel_waker(void *arg)
{
    (void)arg;
    CHECK_EQ(ferry_waitlist_take(&cancel_wl, FERRY_ROUND_ALL, &cancel_ws, CANCEL_WAITERS), CANCEL_WAITERS);
    ferry_wakeset_wake(&cancel_ws);
    pthread_testcancel();   /* where the request takes effect */
    return NULL;
}

FERRY_TEST(waker_cancelled_inside_a_wake_function_wakes_the_rest)
{
    for (int i = 0; i < CANCEL_WAITERS; i++) {
        ferry_waiter_init(&cancel_w[i], cancel_wake);
        ferry_waitlist_link(&cancel_wl, &cancel_w[i]);
    }
    ferry_test_cancel_inside(cancel_waker);
    CHECK_EQ(atomic_load(&cancel_woken), CANCEL_WAITERS);
    for (int i = 0; i < CANCEL_WAITERS; i++) {
        CHECK(!ferry_waiter_taken(&cancel_w[i]));
        ferry_waiter_fini(&cancel_w[i]);
    }
    ferry_waitlist_fini(&cancel_wl);
}

FERRY_DEATH_TEST(fini_nonempty_list_aborts, "waitlist 'chan.receivers'")
{
    ferry_waitlist wl;
    ferry_waitlist_init(&wl, "chan.receivers");
    w_t a[1];
    init_ws(a, 1);
    ferry_waitlist_link(&wl, &a[0].waiter);
    ferry_waitlist_fini(&wl);
}

FERRY_DEATH_TEST(fini_linked_waiter_aborts, "still links a waiter that is being finished")
{
    ferry_waitlist wl;
    ferry_waitlist_init(&wl, "q");
    w_t a[1];
    init_ws(a, 1);
    ferry_waitlist_link(&wl, &a[0].waiter);
    ferry_waiter_fini(&a[0].waiter);
}

FERRY_DEATH_TEST(fini_taken_waiter_aborts, "finished before it was woken")
{
    ferry_waitlist wl = FERRY_WAITLIST_INIT;
    w_t a[1];
    init_ws(a, 1);
    ferry_waitlist_link(&wl, &a[0].waiter);
    ferry_wakeset ws = FERRY_WAKESET_INIT;
    ferry_waitlist_take(&wl, FERRY_ROUND_ALL, &ws, 1);
    ferry_waiter_fini(&a[0].waiter);
}

FERRY_DEATH_TEST(link_twice_aborts, "already linked")
{
    ferry_waitlist wl = FERRY_WAITLIST_INIT;
    w_t a[1];
    init_ws(a, 1);
    ferry_waitlist_link(&wl, &a[0].waiter);
    ferry_waitlist_link(&wl, &a[0].waiter);
}

FERRY_DEATH_TEST(unlink_from_wrong_list_aborts, "linked on another list")
{
    ferry_waitlist a = FERRY_WAITLIST_INIT, b = FERRY_WAITLIST_INIT;
    ferry_waitlist_init(&b, "b");
    w_t w[1];
    init_ws(w, 1);
    ferry_waitlist_link(&a, &w[0].waiter);
    ferry_waitlist_unlink(&b, &w[0].waiter);
}

/* A waiter with no wake function (zero-filled, or initialized with NULL:
 * the channel links such waiters and wakes their ops itself) that ends up
 * in ferry_wakeset_wake: a clear abort, not a jump to address 0. */
FERRY_DEATH_TEST(wake_of_waiter_without_wake_function_aborts, "has no wake function")
{
    ferry_waitlist wl = FERRY_WAITLIST_INIT;
    ferry_waitlist_init(&wl, "q");
    static ferry_waiter zero; /* zero-filled: a valid waiter, wake NULL */
    ferry_waitlist_link(&wl, &zero);
    ferry_wakeset ws = FERRY_WAKESET_INIT;
    CHECK_EQ(ferry_waitlist_take(&wl, FERRY_ROUND_ALL, &ws, 1), 1);
    ferry_wakeset_wake(&ws);
}
