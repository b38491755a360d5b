/* SPDX-License-Identifier: MIT */
/* QSBR flavor: readers announce quiescent states; a grace period advances
 * the global counter and waits until every online reader has copied it. The
 * counter is an unsigned long moving by 2 (odd while nonzero). With 64 bits
 * it cannot wrap in practice and one advance is enough (no phase flip).
 * With 32 bits it wraps after 2^31 grace periods, and a thread that read it
 * in thread_online before a wrap and stores it after would pass for current
 * when the counter comes round to its value again: there a grace period
 * advances and waits twice (QSBR_PHASES), and that value cannot be the
 * current one at both scans. */
#include "rcu_common.h"

#include <ferry/rcu_qsbr.h>

#include <limits.h>
#include <string.h>

__thread FERRY__TLS_IE struct ferry__rcu_reader ferry__qsbr_reader;
struct ferry__rcu_gp ferry__qsbr_gp __attribute__((aligned(FERRY_CACHELINE))) = { 1, 0, 1 };

void ferry__qsbr_check(const char *what, bool need_online, const char *file, int line)
{
    struct ferry__rcu_reader *r = &ferry__qsbr_reader;
    if (!file)
        file = "(unknown call site)";
    if (FERRY_UNLIKELY(!r->registered))
        ferry__die_at(file, line, "%s in a thread that is not registered "
                      "(call ferry_qsbr_register_thread first)", what);
    if (need_online && FERRY_UNLIKELY(atomic_load_explicit(&r->ctr, memory_order_relaxed) == 0))
        ferry__die_at(file, line, "%s in a thread that is offline", what);
    if (!need_online && FERRY_UNLIKELY(atomic_load_explicit(&r->ctr, memory_order_relaxed) != 0))
        ferry__die_at(file, line, "%s in a thread that is already online", what);
    if (FERRY_UNLIKELY(r->nest != 0 && strcmp(what, "ferry_qsbr_read_lock") != 0))
        ferry__die_at(file, line, "%s inside a ferry_qsbr read-side section", what);
}

void ferry__qsbr_die_unbalanced(const char *file, int line)
{
    ferry__die_at(file ? file : "(unknown call site)", line,
                  "ferry_qsbr_read_unlock without a matching ferry_qsbr_read_lock");
}

static void qsbr_mb(void)
{
    atomic_thread_fence(memory_order_seq_cst);
}

static enum ferry__rcu_state qsbr_state(unsigned long gp_ctr, unsigned long v)
{
    if (v == 0)
        return FERRY__RCU_INACTIVE;
    return v == gp_ctr ? FERRY__RCU_CURRENT : FERRY__RCU_OLD;
}

#define QSBR_PHASES (ULONG_MAX > 0xffffffffu ? 1 : 2)

static void qsbr_run_gp(struct ferry__rcu_flavor *f)
{
    ferry_mutex_lock(&f->registry_lock);
    /* Orders the caller's removal before the advance (pairs with readers'
     * fences around their counter updates). */
    atomic_thread_fence(memory_order_seq_cst);
    for (int phase = 0; phase < QSBR_PHASES; phase++) {
        ferry_list qs = { 0 };
        /* Relaxed: only grace periods store it, under registry_lock. */
        unsigned long c = atomic_load_explicit(&ferry__qsbr_gp.ctr, memory_order_relaxed);
        atomic_store_explicit(&ferry__qsbr_gp.ctr, c + 2, FERRY__RCU_ORD);
        /* Orders the advance before the scan (pairs with the readers'
         * fences after their counter stores). */
        atomic_thread_fence(memory_order_seq_cst);
        ferry__rcu_wait_for_readers(f, &f->registry, NULL, &qs);
        ferry_list_splice_tail(&f->registry, &qs);
    }
    /* Orders the scan before the caller's reclamation. */
    atomic_thread_fence(memory_order_seq_cst);
    ferry_mutex_unlock(&f->registry_lock);
}

static bool qsbr_in_read_section(void)
{
    return ferry__qsbr_reader.nest != 0;
}

static struct ferry__rcu_reader *qsbr_self(void)
{
    return &ferry__qsbr_reader;
}

/* The callback thread: registered, offline and not counted except while it
 * runs callbacks. */
static void qsbr_worker_init(void)
{
    (void)ferry__rcu_register(&ferry__rcu_qsbr_flavor, &ferry__qsbr_reader, true);   /* parked: never fails */
}

static void qsbr_worker_enter(bool running)
{
    if (running) {
        ferry__rcu_park(&ferry__rcu_qsbr_flavor, &ferry__qsbr_reader, false);
        ferry_qsbr_thread_online();
    } else {
        ferry_qsbr_thread_offline();
        ferry__rcu_park(&ferry__rcu_qsbr_flavor, &ferry__qsbr_reader, true);
    }
}

static void qsbr_worker_fini(void)
{
    ferry__rcu_unregister(&ferry__rcu_qsbr_flavor, &ferry__qsbr_reader);
}

struct ferry__rcu_flavor ferry__rcu_qsbr_flavor =
    FERRY__RCU_FLAVOR_INIT(ferry__rcu_qsbr_flavor, "ferry_qsbr", FERRY__RCU_QSBR, &ferry__qsbr_gp,
                           qsbr_state, qsbr_mb, qsbr_run_gp, qsbr_self,
                           ferry_qsbr_unregister_thread, qsbr_worker_init, qsbr_worker_enter,
                           qsbr_worker_fini, qsbr_in_read_section, NULL);

#define qsbr ferry__rcu_qsbr_flavor

void ferry_qsbr_register_thread(void)
{
    ferry__rcu_register_or_die(&qsbr, &ferry__qsbr_reader);
    ferry__qsbr_thread_online_at(__FILE__, __LINE__);
}

void ferry_qsbr_unregister_thread(void)
{
    ferry__rcu_check_not_own_worker(&qsbr, "ferry_qsbr_unregister_thread");
    if (FERRY_UNLIKELY(ferry__qsbr_reader.nest != 0))
        ferry__die("ferry_qsbr_unregister_thread inside a read-side section "
                   "(or the thread exited inside one)");
    if (ferry_qsbr_read_ongoing())
        ferry__qsbr_thread_offline_at(__FILE__, __LINE__);
    ferry__rcu_unregister(&qsbr, &ferry__qsbr_reader);
}

/* Run fn offline when the caller is online (it would wait for itself). */
#define OFFLINE_AROUND(call)                                       \
    do {                                                           \
        bool was_online = ferry_qsbr_read_ongoing();              \
        if (was_online)                                            \
            ferry__qsbr_thread_offline_at(file, line);             \
        call;                                                      \
        if (was_online)                                            \
            ferry__qsbr_thread_online_at(file, line);              \
    } while (0)

void ferry_qsbr_synchronize_at(const char *file, int line)
{
    ferry__rcu_check_not_reading(&qsbr, "ferry_qsbr_synchronize", file, line);
    OFFLINE_AROUND(ferry__rcu_synchronize(&qsbr));
}

void ferry_qsbr_call_at(ferry_rcu_head *head, void (*fn)(ferry_rcu_head *), const char *file,
                        int line)
{
    ferry__rcu_call(&qsbr, head, fn, file, line);
}

void ferry_qsbr_barrier_at(const char *file, int line)
{
    ferry__rcu_check_not_reading(&qsbr, "ferry_qsbr_barrier", file, line);
    OFFLINE_AROUND(ferry__rcu_barrier(&qsbr, file, line));
}

/* w's pending callbacks wait for a grace period, which would wait for an
 * online caller: offline around it, as barrier. */
int ferry_qsbr_worker_destroy(ferry_rcu_worker *w)
{
    const char *file = NULL;
    int line = 0, rc;
    ferry__rcu_check_not_reading(&qsbr, "ferry_qsbr_worker_destroy", file, line);
    OFFLINE_AROUND(rc = ferry__rcu_worker_destroy(&qsbr, w));
    return rc;
}

FERRY__RCU_DEFINE_COMMON_API(ferry_qsbr, qsbr)
