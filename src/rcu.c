/* SPDX-License-Identifier: MIT */
/* Default RCU flavor ("memb"): readers keep a nest count and a phase bit in
 * a thread-local word and issue only compiler barriers; the updater orders
 * them with membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), or readers use
 * full fences when that is unavailable. Two-phase grace periods (see
 * docs/rcu.md and models/rcu_gp.pml). */
#include "rcu_common.h"

#include <linux/membarrier.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread FERRY__TLS_IE struct ferry__rcu_reader ferry__rcu_reader;

/* ctr starts with a nest count of 1 and phase 0: an outermost read_lock
 * copies it (nest 1, current phase). use_fences is 1 until the constructor
 * has registered for membarrier. */
struct ferry__rcu_gp ferry__rcu_gp __attribute__((aligned(FERRY_CACHELINE))) = {
    FERRY__RCU_NEST_COUNT, 0, 1,
};

static bool have_membarrier;

static int membarrier(int cmd)
{
    return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

__attribute__((constructor)) static void rcu_memb_init(void)
{
#ifdef FERRY__RCU_TSAN
    /* TSan cannot see membarrier's ordering: keep the fence path. */
    return;
#else
    const char *no = getenv("FERRY_RCU_NO_MEMBARRIER");
    if (no && *no && strcmp(no, "0") != 0)
        return;
    int mask = membarrier(MEMBARRIER_CMD_QUERY);
    if (mask < 0 || !(mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
        return;
    if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0)
        return;
    have_membarrier = true;
    atomic_store_explicit(&ferry__rcu_gp.use_fences, 0, memory_order_seq_cst);
#endif
}

bool ferry_rcu_uses_membarrier(void)
{
    return have_membarrier;
}

/* In a forked child: registration for membarrier belongs to the process
 * (its mm). Linux 6.18 carries it over to the child (registering again
 * returns at once); registering again keeps a kernel that does not working. */
void ferry__rcu_membarrier_after_fork_child(void)
{
    if (have_membarrier && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0)
        ferry__die("membarrier registration failed in a forked child");
}

/* Update-side barrier: every running thread of the process executes a full
 * barrier (membarrier) or, in fence mode, a fence here pairs with readers'. */
void ferry__rcu_mb_master(void)
{
    if (have_membarrier) {
        if (FERRY_UNLIKELY(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0))
            ferry__die("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed after registration");
    } else {
        atomic_thread_fence(memory_order_seq_cst);
    }
}

enum ferry__rcu_state ferry__rcu_memb_state(unsigned long gp_ctr, unsigned long v)
{
    if (!(v & FERRY__RCU_NEST_MASK))
        return FERRY__RCU_INACTIVE;
    if (!((v ^ gp_ctr) & FERRY__RCU_PHASE))
        return FERRY__RCU_CURRENT;
    return FERRY__RCU_OLD;
}

/* Two-phase grace period (liburcu's algorithm), shared with the bp flavor.
 * With one phase bit a reader that read the global counter before a flip
 * but published it after could look "current" to the next grace period;
 * waiting on both phases closes it. */
void ferry__rcu_two_phase_gp(struct ferry__rcu_flavor *f)
{
    ferry_list cur_snap = { 0 }, qs = { 0 };
    ferry_mutex_lock(&f->registry_lock);
    /* Orders the caller's removal before the scans (pairs with readers'). */
    ferry__rcu_mb_master();
    /* Phase 1: wait for readers still in the previous phase. */
    ferry__rcu_wait_for_readers(f, &f->registry, &cur_snap, &qs);
    /* Finish the first scan before the flip becomes visible. */
    atomic_thread_fence(memory_order_seq_cst);
    unsigned long c = atomic_load_explicit(&f->gp->ctr, memory_order_relaxed);
    atomic_store_explicit(&f->gp->ctr, c ^ FERRY__RCU_PHASE, FERRY__RCU_ORD);
    atomic_thread_fence(memory_order_seq_cst);
    /* Phase 2: wait for readers that were current before the flip. */
    ferry__rcu_wait_for_readers(f, &cur_snap, NULL, &qs);
    ferry_list_splice_tail(&f->registry, &qs);
    /* Orders the scans before the caller's reclamation. */
    ferry__rcu_mb_master();
    ferry_mutex_unlock(&f->registry_lock);
}

static bool memb_in_read_section(void)
{
    return ferry_rcu_read_ongoing();
}

static struct ferry__rcu_reader *memb_self(void)
{
    return &ferry__rcu_reader;
}

/* The callback thread: registered, counted only while running callbacks. */
static void memb_worker_init(void)
{
    (void)ferry__rcu_register(&ferry__rcu_memb, &ferry__rcu_reader, true);   /* parked: never fails */
}

static void memb_worker_enter(bool running)
{
    ferry__rcu_park(&ferry__rcu_memb, &ferry__rcu_reader, !running);
}

static void memb_worker_fini(void)
{
    ferry__rcu_unregister(&ferry__rcu_memb, &ferry__rcu_reader);
}

struct ferry__rcu_flavor ferry__rcu_memb =
    FERRY__RCU_FLAVOR_INIT(ferry__rcu_memb, "ferry_rcu", FERRY__RCU_MEMB, &ferry__rcu_gp,
                           ferry__rcu_memb_state, ferry__rcu_mb_master, ferry__rcu_two_phase_gp,
                           memb_self, ferry_rcu_unregister_thread, memb_worker_init,
                           memb_worker_enter, memb_worker_fini, memb_in_read_section, NULL);

#define memb ferry__rcu_memb

void ferry_rcu_register_thread(void)
{
    ferry__rcu_register_or_die(&memb, &ferry__rcu_reader);
}
void ferry_rcu_unregister_thread(void)
{
    ferry__rcu_check_not_own_worker(&memb, "ferry_rcu_unregister_thread");
    if (FERRY_UNLIKELY(ferry_rcu_read_ongoing()))
        ferry__die("ferry_rcu_unregister_thread inside a read-side section "
                   "(or the thread exited inside one)");
    ferry__rcu_unregister(&memb, &ferry__rcu_reader);
}

void ferry_rcu_synchronize_at(const char *file, int line)
{
    ferry__rcu_check_not_reading(&memb, "ferry_rcu_synchronize", file, line);
    ferry__rcu_synchronize(&memb);
}

void (ferry_rcu_synchronize)(void)
{
    ferry_rcu_synchronize_at(NULL, 0);
}

void ferry_rcu_call_at(ferry_rcu_head *head, void (*fn)(ferry_rcu_head *), const char *file,
                       int line)
{
    ferry__rcu_call(&memb, head, fn, file, line);
}

void (ferry_rcu_call)(ferry_rcu_head *head, void (*fn)(ferry_rcu_head *))
{
    ferry__rcu_call(&memb, head, fn, NULL, 0);
}

void ferry_rcu_barrier_at(const char *file, int line)
{
    ferry__rcu_check_not_reading(&memb, "ferry_rcu_barrier", file, line);
    ferry__rcu_barrier(&memb, file, line);
}

void (ferry_rcu_barrier)(void)
{
    ferry_rcu_barrier_at(NULL, 0);
}

/* Waits for w's pending callbacks, hence for a grace period: as barrier,
 * not inside a read-side section (it would wait for the caller). */
int ferry_rcu_worker_destroy(ferry_rcu_worker *w)
{
    ferry__rcu_check_not_reading(&memb, "ferry_rcu_worker_destroy", NULL, 0);
    return ferry__rcu_worker_destroy(&memb, w);
}

FERRY__RCU_DEFINE_COMMON_API(ferry_rcu, memb)
