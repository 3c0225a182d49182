/*
 * sync_int.h - the wait queues shared by the synchronisation objects.
 */
#ifndef CORO_SRC_SYNC_INT_H
#define CORO_SRC_SYNC_INT_H

#include "coro/sync.h"
#include "coro_int.h"

/* A blocked coroutine: the one wait record (coro_int.h) and its place in
 * the object's queue, on the waiter's stack for as long as it waits. */
typedef struct coro__wnode {
    coro__wait base;                 /* first: a wait is a node */
    coro_waitq *q;                   /* the queue it is in, NULL once taken off */
    struct coro__wnode *prev, *next; /* in that queue */
    void *data;                      /* channel: where to copy from/to */
} coro__wnode;

/* Block the running coroutine in q until someone wakes it; returns the
 * result the waker set (or -EPERM from main, -ECANCELED if cancelled).
 * ops->describe says what it waits for; reason: lock, cond, waitgroup,
 * channel; op names the call ("lock", "send", "recv", "wait"). */
int coro__sync_block(const char *file, int line, coro_waitq *q, coro__wnode *n,
                     const coro__wait_ops *ops, const coro_named *obj, const char *reason,
                     const char *op);
/* Take the first waiter off q (NULL if none). */
coro__wnode *coro__sync_pop(coro_waitq *q);
/* Make a popped waiter runnable with result; traces wake (cause "wake"). */
void coro__sync_wake(coro__wnode *n, int result, const char *file, int line);
/* Trace the creation of a sync object. */
void coro__sync_created(const coro_named *n, const char *kind);
/* attach and detach of every sync wait: into and out of its queue. */
int coro__sync_attach(coro__wait *w, const char *file, int line);
void coro__sync_detach(coro__wait *w);
/* move of every sync wait: its queue links follow it (a copy-mode stack);
 * a channel's, with its data pointer. */
void coro__sync_move(coro__wait *w, const char *lo, const char *hi, ptrdiff_t delta);
void coro__sync_move_data(coro__wait *w, const char *lo, const char *hi, ptrdiff_t delta);

#endif
