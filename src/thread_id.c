/* SPDX-License-Identifier: MIT */
/* The calling thread's kernel id, cached (platform.h, ferry__self_tid).
 *
 * The cache must not outlive a fork(): in the child, the forking thread has
 * a new id, and a thread the child creates later may be given the id the
 * forking thread had in the parent (once that thread is gone and the id
 * space wraps). A stale cache would then make two threads of the child look
 * like one -- the channel's check for a call from inside its own callback
 * would abort a thread that is not in one. A fork counter, raised by a
 * child handler registered when the library loads (not on first use: that
 * first use may be in a real-time section, and pthread_atfork allocates),
 * tells each thread's cache that it is stale.
 *
 * The id the forking thread had before the fork is kept
 * (ferry__tid_prev_tls): a mutex it locked before the fork still names it
 * as the owner, and the debug owner check accepts it (docs/mutex.md,
 * "fork()"). */
#include "platform.h"

#include <pthread.h>

FERRY__TID_TLS uint32_t ferry__tid_tls;
FERRY__TID_TLS uint32_t ferry__tid_gen_tls;
FERRY__TID_TLS uint32_t ferry__tid_prev_tls;
FERRY_ATOMIC(uint32_t) ferry__tid_fork_gen;

static void tid_forked_child(void)
{
    /* Relaxed: the child has one thread while its handlers run; threads it
     * creates later are ordered after this by pthread_create. */
    atomic_fetch_add_explicit(&ferry__tid_fork_gen, 1, memory_order_relaxed);
}

__attribute__((constructor)) static void tid_register(void)
{
    /* On failure (no memory at load time) the cache is as fork-unsafe as
     * it was before the handler existed; nothing else depends on it. */
    (void)pthread_atfork(NULL, NULL, tid_forked_child);
}

uint32_t ferry__tid_refresh(void)
{
    /* Relaxed: see tid_forked_child. */
    uint32_t gen = atomic_load_explicit(&ferry__tid_fork_gen, memory_order_relaxed);
    uint32_t tid = (uint32_t)syscall(SYS_gettid);
    if (ferry__tid_tls != 0 && ferry__tid_tls != tid)
        ferry__tid_prev_tls = ferry__tid_tls;
    ferry__tid_tls = tid;
    ferry__tid_gen_tls = gen;
    return tid;
}
