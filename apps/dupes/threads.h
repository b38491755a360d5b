/* SPDX-License-Identifier: MIT */
/* Starting and joining the stage threads. A thread that cannot be started
 * (RLIMIT_NPROC, RLIMIT_AS, memory) is not a crash: with at least one
 * walker and one reader the run goes on with fewer (and says so); without
 * them, or without the grouper, matcher or writer, the threads already
 * started are drained and the run ends with exit status 2. */
#ifndef FERRY_DUPES_THREADS_H
#define FERRY_DUPES_THREADS_H

#include "dupes.h"

struct threads {
    pthread_t *walkers, *readers, grouper, matcher, writer;
    struct walker_arg *wargs;
    unsigned nwalkers, nreaders;  /* started */
    unsigned readers_joined;      /* readers[0 .. readers_joined) are joined */
    bool grouper_started, matcher_started, writer_started;
};

/* Queue the roots' directories and start every stage; each thread gets
 * clones of the channel handles it releases, and main's own handles but
 * dirs_tx are released here. 0, or -1 after a message: a stage could not
 * be started; d->stop is set and the threads that did start drain (join
 * them). */
int threads_start(struct dupes *d, struct threads *t);
/* Join the threads that started; free t's arrays. */
void threads_join(struct threads *t, struct dupes *d);

/* Once the run stops (d->stop): interrupt each reader not yet joined in
 * the read(2) it may be blocked in (signals_kick); it then drops its file
 * (ST_DROPPED) and drains like the others. Called again and again until
 * they are joined: a kick that comes just before the read is lost. */
void threads_kick_readers(struct threads *t);

#endif
