/*
 * sync_int.h - the wait queues shared by the synchronisation objects.
 */
#ifndef CORO_SRC_SYNC_INT_H
#define CORO_SRC_SYNC_INT_H

#include "coro/sync.h"
#include "coro_int.h"

/* A blocked coroutine, on its own stack for as long as it waits. It is in
 * its object's queue and in the thread's list of blocked coroutines. */
typedef struct coro__wnode {
    coro_t *co;
    struct coro__wnode *next;          /* in the object's queue */
    struct coro__wnode *bprev, *bnext; /* in the thread's blocked list */
    const coro_named *obj;
    char what[96]; /* "lock mutex[table]" */
    int result;    /* set by the waker */
    void *data;    /* channel: where to copy from/to */
} coro__wnode;

/* Block the running coroutine in q until someone wakes it; returns the
 * result the waker set. reason: lock, cond, waitgroup, channel. */
int coro__sync_block(const char *file, int line, coro_waitq *q, coro__wnode *n,
                     const coro_named *obj, const char *reason);
/* Take the first waiter off q (NULL if none). */
coro__wnode *coro__sync_pop(coro_waitq *q);
/* Make a popped waiter runnable with result; traces wake (cause "wake"). */
void coro__sync_wake(coro__wnode *n, int result, const char *file, int line);
/* Trace the creation of a sync object. */
void coro__sync_created(const coro_named *n, const char *kind);

#endif
