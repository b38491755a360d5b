/* SPDX-License-Identifier: MIT */
/* Internal: the parts of RCU shared by the flavors (src/rcu.c, memb, and
 * src/rcu_qsbr.c): the reader registry, the reader scan with its futex
 * sleep, grace-period sharing among concurrent synchronize callers, polled
 * grace periods, and the call_rcu worker with barrier. A flavor supplies how
 * to classify a reader's counter, its update-side barrier and how to run one
 * grace period.
 */
#ifndef FERRY_SRC_RCU_COMMON_H
#define FERRY_SRC_RCU_COMMON_H

#include <ferry/rcu.h>
#include <pthread.h>

enum ferry__rcu_state { FERRY__RCU_INACTIVE, FERRY__RCU_CURRENT, FERRY__RCU_OLD };

struct ferry__rcu_flavor {
    const char *name;                    /* "ferry_rcu" or "ferry_qsbr" (messages) */
    struct ferry__rcu_gp *gp;
    /* Classify a reader counter value against the global counter. */
    enum ferry__rcu_state (*state)(unsigned long gp_ctr, unsigned long reader_ctr);
    void (*mb_master)(void);             /* update-side barrier paired with readers' */
    void (*run_gp)(struct ferry__rcu_flavor *f);  /* one grace period; gp_lock held */
    void (*worker_init)(void);           /* register the callback thread */
    void (*worker_online)(bool online);  /* QSBR: around running callbacks; or NULL */
    bool (*in_read_section)(void);       /* debug checks */
    void (*thread_exit)(void *reader);   /* key destructor: exit while registered */

    pthread_mutex_t gp_lock;             /* one grace period at a time */
    pthread_mutex_t registry_lock;       /* registry and the scan's lists */
    ferry_list registry;                 /* struct ferry__rcu_reader.node */

    pthread_mutex_t waiters_lock;        /* synchronize callers not yet served */
    ferry_list waiters;
    /* Grace-period sequence: odd while one runs; +2 per grace period. */
    FERRY_ATOMIC(unsigned long) gp_seq;

    /* call_rcu: a lock-free stack of heads (LIFO; the worker reverses it). */
    FERRY_ATOMIC(ferry_rcu_head *) cbs __attribute__((aligned(FERRY_CACHELINE)));
    FERRY_ATOMIC(uint32_t) worker_state; /* 0 running, 1 sleeping on the futex */
    FERRY_ATOMIC(int) worker_started;
    FERRY_ATOMIC(unsigned long) poll_target;  /* gp_seq the worker must reach */
    pthread_mutex_t worker_lock;         /* worker start, exit_key creation */
    FERRY_ATOMIC(int) exit_key_ready;
    pthread_key_t exit_key;
};

#define FERRY__RCU_FLAVOR_INIT(nm, gpp, st, mb, run, winit, wonline, inrs, texit) \
    {                                                                      \
        .name = (nm), .gp = (gpp), .state = (st), .mb_master = (mb),       \
        .run_gp = (run), .worker_init = (winit), .worker_online = (wonline), \
        .in_read_section = (inrs), .thread_exit = (texit),                 \
        .gp_lock = PTHREAD_MUTEX_INITIALIZER,                              \
        .registry_lock = PTHREAD_MUTEX_INITIALIZER,                        \
        .waiters_lock = PTHREAD_MUTEX_INITIALIZER,                         \
        .worker_lock = PTHREAD_MUTEX_INITIALIZER,                          \
    }

/* FERRY_RCU_STRICT=1: one grace period per callback, no batching. */
extern bool ferry__rcu_strict;

void ferry__rcu_register(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r);
void ferry__rcu_unregister(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r);

/* Scan `input` until no reader in it is OLD: INACTIVE readers move to qs,
 * CURRENT ones to cur_snap (or qs when cur_snap is NULL). Called with
 * registry_lock held; drops it while sleeping. */
void ferry__rcu_wait_for_readers(struct ferry__rcu_flavor *f, ferry_list *input,
                                 ferry_list *cur_snap, ferry_list *qs);

void ferry__rcu_synchronize(struct ferry__rcu_flavor *f);
void ferry__rcu_call(struct ferry__rcu_flavor *f, ferry_rcu_head *head,
                     void (*fn)(ferry_rcu_head *), const char *file, int line);
void ferry__rcu_barrier(struct ferry__rcu_flavor *f, const char *file, int line);
unsigned long ferry__rcu_start_poll(struct ferry__rcu_flavor *f);
bool ferry__rcu_poll(struct ferry__rcu_flavor *f, unsigned long cookie);

/* Debug: abort if the caller is inside a read-side section of f. */
void ferry__rcu_check_not_reading(struct ferry__rcu_flavor *f, const char *what,
                                  const char *file, int line);

#endif
