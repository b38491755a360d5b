/* SPDX-License-Identifier: MIT */
/* select_worker: a worker that takes jobs from a high- and a low-priority
 * channel and stops when a quit channel is closed -- the worked example of
 * docs/chan.md, "Select".
 *
 *   cc -std=c11 select_worker.c $(pkg-config --cflags --libs ferry)
 *
 * The channels are typed (FERRY_CHAN_TYPED: a `struct job *` channel cannot
 * be sent anything else). The worker loops:
 *   1. urgent work first: whatever the high channel holds now (a try
 *      receive; select alone is fair, so it would not prefer high);
 *   2. nothing urgent: wait for whichever comes first -- a high job, a low
 *      job, or the quit channel closing (a closed channel is ready: its
 *      case completes with 0) -- with ferry_select_until and a deadline
 *      100 ms ahead, so that an idle worker can do its housekeeping.
 * Closing quit is a broadcast: every worker selecting on it wakes, however
 * many there are, and a worker that selects on it later finds it ready at
 * once.
 *
 * The program checks itself and exits 0 only if: the 20 urgent jobs queued
 * before the worker started ran before any of the 200 ordinary ones queued
 * with them (the high channel is always looked at first); every job of the
 * second, concurrent phase ran exactly once; and the worker stopped because
 * quit was closed, with nothing left in either job channel. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <ferry/select.h>
#include <ferry/typed.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct job {
    int id;
    bool urgent;
};

FERRY_CHAN_TYPED(jobq, struct job *);

enum { URGENT0 = 20, ORDINARY0 = 200, PHASE2 = 2000, BATCH = 16 };

struct worker {
    jobq_rx *high, *low;
    ferry_rx *quit;
    int order[URGENT0 + ORDINARY0 + PHASE2]; /* job ids in the order they ran */
    int ran;
    int idle_ticks;
    bool quit_seen;
};

static void run(struct worker *w, struct job **jobs, ssize_t n)
{
    for (ssize_t i = 0; i < n; i++) {
        w->order[w->ran++] = jobs[i]->id; /* the work itself */
        free(jobs[i]);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct job *batch[BATCH];
    char token;
    ferry_select_case cases[3] = {{0}};
    jobq_select_recv(&cases[0], w->high, batch, BATCH);
    jobq_select_recv(&cases[1], w->low, batch, BATCH);
    cases[2] = (ferry_select_case){.op = FERRY_SELECT_RECV, .rx = w->quit, .buf = &token, .n = 1};
    for (;;) {
        /* 1. Urgent work first. */
        ssize_t n = jobq_try_recv(w->high, batch, BATCH);
        if (n > 0) {
            run(w, batch, n);
            continue;
        }
        /* 2. Wait for a job of either kind, or quit. */
        struct timespec tick = ferry_deadline_in_ms(100);
        int i = ferry_select_until(cases, 3, &tick);
        if (i == -ETIMEDOUT) {
            w->idle_ticks++; /* housekeeping would go here */
            continue;
        }
        if (i < 0) {
            fprintf(stderr, "select_worker: ferry_select_until: %d\n", i);
            exit(1);
        }
        if (i == 2) { /* quit closed: result 0 */
            w->quit_seen = cases[2].result == 0;
            return NULL;
        }
        if (cases[i].result == 0) { /* a job channel closed: stop looking at it */
            cases[i].rx = NULL;
            continue;
        }
        run(w, batch, cases[i].result);
    }
}

static void send_job(jobq_tx *tx, int id, bool urgent)
{
    struct job *j = malloc(sizeof *j);
    if (!j) {
        fprintf(stderr, "select_worker: out of memory\n");
        exit(1);
    }
    j->id = id;
    j->urgent = urgent;
    if (jobq_send(tx, &j, 1) != 1) {
        fprintf(stderr, "select_worker: send failed\n");
        exit(1);
    }
}

int main(void)
{
    jobq_tx *high_tx, *low_tx;
    jobq_rx *high_rx, *low_rx;
    ferry_tx *quit_tx;
    ferry_rx *quit_rx;
    ferry_chan_config jobs_cfg = {.capacity = 256, .name = "jobs"}; /* elem_size: set by jobq_open */
    ferry_chan_config quit_cfg = {.elem_size = 1, .capacity = 0, .name = "quit"};
    if (jobq_open(&jobs_cfg, &high_tx, &high_rx) || jobq_open(&jobs_cfg, &low_tx, &low_rx) ||
        ferry_chan_open(&quit_cfg, &quit_tx, &quit_rx)) {
        fprintf(stderr, "select_worker: cannot open the channels\n");
        return 1;
    }
    static struct worker w;
    w.high = high_rx;
    w.low = low_rx;
    w.quit = quit_rx;

    /* Phase 1: a backlog of both kinds before the worker starts. */
    int id = 0;
    for (int i = 0; i < ORDINARY0; i++)
        send_job(low_tx, id++, false);
    for (int i = 0; i < URGENT0; i++)
        send_job(high_tx, id++, true);
    pthread_t t;
    if (pthread_create(&t, NULL, worker_main, &w) != 0)
        return 1;

    /* Phase 2: both kinds while it runs (every tenth job urgent). */
    for (int i = 0; i < PHASE2; i++)
        send_job(i % 10 == 0 ? high_tx : low_tx, id++, i % 10 == 0);
    /* Wait until both job channels are empty, then say quit: closing is
     * seen by every worker that selects on the channel. */
    struct ferry_chan_stats hs, ls;
    do {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
        ferry_chan_stats(jobq_tx_handle(high_tx), &hs);
        ferry_chan_stats(jobq_tx_handle(low_tx), &ls);
    } while (hs.items_received + ls.items_received < (uint64_t)id);
    ferry_tx_release(quit_tx);
    pthread_join(t, NULL);

    /* Check. */
    int bad = 0;
    for (int i = 0; i < URGENT0; i++)
        if (w.order[i] < ORDINARY0) { /* an ordinary job ran among the first urgent ones */
            fprintf(stderr, "select_worker: job %d ran before urgent job %d\n", w.order[i], i);
            bad = 1;
            break;
        }
    static unsigned char seen[URGENT0 + ORDINARY0 + PHASE2];
    for (int i = 0; i < w.ran; i++)
        seen[w.order[i]]++;
    for (int i = 0; i < id; i++)
        if (seen[i] != 1) {
            fprintf(stderr, "select_worker: job %d ran %d times\n", i, seen[i]);
            bad = 1;
            break;
        }
    struct job *left;
    if (w.ran != id || !w.quit_seen || jobq_try_recv(high_rx, &left, 1) != -EAGAIN ||
        jobq_try_recv(low_rx, &left, 1) != -EAGAIN) {
        fprintf(stderr, "select_worker: ran %d of %d jobs, quit %s\n", w.ran, id, w.quit_seen ? "seen" : "not seen");
        bad = 1;
    }
    printf("select_worker: %d jobs (%d urgent first), %d idle ticks, stopped by quit: %s\n", w.ran, URGENT0,
           w.idle_ticks, bad ? "FAILED" : "ok");
    jobq_tx_release(high_tx);
    jobq_tx_release(low_tx);
    jobq_rx_release(high_rx);
    jobq_rx_release(low_rx);
    ferry_rx_release(quit_rx);
    return bad;
}
