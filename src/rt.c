/* SPDX-License-Identifier: MIT */
/* Real-time section marks (ferry/rt.h).
 *
 * The depth lives in a thread-local counter of this library; entering and
 * leaving a section is an increment and a decrement of it, nothing more.
 *
 * The checker (tools/rtcheck, libferry-rtcheck.so, LD_PRELOAD) must be able to
 * read that counter, whether libferry is a shared library or was linked
 * statically into the executable (where none of its symbols are exported).
 * So instead of the checker looking for us, we look for it: a constructor
 * asks the dynamic linker for the checker's entry point
 * "ferry_rtcheck_register" (present only when the checker is preloaded) and
 * hands it a probe that returns the address of the calling thread's counter.
 * The checker calls the probe from its interposed functions, so the cost of
 * checking is paid only when the checker is loaded, and only on the
 * intercepted (non-real-time-safe) calls.
 */
#include <ferry/rt.h>

#include <dlfcn.h>
#include <limits.h>

#include "platform.h"
#include "rt_block.h"

#ifdef FERRY_RTSAN
/* clang's RealtimeSanitizer runtime (sanitizer/rtsan_interface.h). */
void __rtsan_realtime_enter(void);
void __rtsan_realtime_exit(void);
#endif

/* initial-exec: no allocation and no __tls_get_addr on access, so the probe
 * can be called from inside the checker's malloc. */
static FERRY_TLS unsigned ferry__rt_depth_tls;

void ferry_rt_enter(void)
{
    /* 2^32 - 1 levels: one more would wrap to 0 and leave the thread
     * looking outside any section (an enter without its exit in a loop
     * gets there). */
    if (FERRY_UNLIKELY(ferry__rt_depth_tls == UINT_MAX))
        ferry__die("ferry_rt_enter(): real-time sections nested too deep (2^32 - 1 levels)");
    ferry__rt_depth_tls++;
    /* Keep the compiler from sinking the increment below code that follows
     * the call after inlining (LTO): the checker reads it from the same
     * thread, so a compiler barrier is all the ordering needed. */
    atomic_signal_fence(memory_order_seq_cst);
#ifdef FERRY_RTSAN
    __rtsan_realtime_enter();
#endif
}

void ferry_rt_exit(void)
{
    if (FERRY_UNLIKELY(ferry__rt_depth_tls == 0))
        ferry__die("ferry_rt_exit() without a matching ferry_rt_enter()");
#ifdef FERRY_RTSAN
    __rtsan_realtime_exit();
#endif
    atomic_signal_fence(memory_order_seq_cst); /* see ferry_rt_enter */
    ferry__rt_depth_tls--;
}

void ferry__rt_leave_all(void)
{
    ferry__rt_depth_tls = 0;
    atomic_signal_fence(memory_order_seq_cst); /* see ferry_rt_enter */
}

bool ferry_rt_active(void)
{
    return ferry__rt_depth_tls != 0;
}

unsigned ferry_rt_depth(void)
{
    return ferry__rt_depth_tls;
}

static unsigned *ferry__rt_probe(void)
{
    return &ferry__rt_depth_tls;
}

typedef int (*ferry__rtcheck_register_fn)(unsigned *(*probe)(void));
typedef void (*ferry__rtcheck_unregister_fn)(unsigned *(*probe)(void));

/* The checker's unregister call, when this copy registered: the destructor
 * takes the probe back before the copy is unloaded. */
static ferry__rtcheck_unregister_fn ferry__rt_unregister;

FERRY_ATOMIC(ferry__rt_block_fn) ferry__rt_block_hook; /* rt_block.h */

__attribute__((constructor)) static void ferry__rt_attach_checker(void)
{
    /* Present only when libferry-rtcheck.so is loaded (LD_PRELOAD). The
     * cast from void * goes through a union-free memcpy-less idiom that both
     * gcc and clang accept under -pedantic. */
    void *sym = dlsym(RTLD_DEFAULT, "ferry_rtcheck_register");
    if (sym) {
        ferry__rtcheck_register_fn reg;
        *(void **)&reg = sym;
        if (reg(ferry__rt_probe) == 0) {
            /* An older checker has no unregister call: then nothing. */
            sym = dlsym(RTLD_DEFAULT, "ferry_rtcheck_unregister");
            if (sym)
                *(void **)&ferry__rt_unregister = sym;
        }
    }
    /* ferry's own calls that may block report through this (rt_block.h);
     * an older checker without it leaves them to its futex check. */
    sym = dlsym(RTLD_DEFAULT, "ferry_rtcheck_blocking");
    if (sym) {
        ferry__rt_block_fn fn;
        *(void **)&fn = sym;
        /* Relaxed: rt_block.h. */
        atomic_store_explicit(&ferry__rt_block_hook, fn, memory_order_relaxed);
    }
}

/* This copy of libferry is being unloaded (dlclose of libferry.so, or of a
 * plugin linked with libferry.a), or the process is exiting: the checker
 * must not call the probe, whose code goes away with the copy. Wrappers
 * called after this (by later destructors) see this copy's sections no
 * more. */
__attribute__((destructor)) static void ferry__rt_detach_checker(void)
{
    if (ferry__rt_unregister)
        ferry__rt_unregister(ferry__rt_probe);
}
