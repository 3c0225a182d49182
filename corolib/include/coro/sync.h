/*
 * coro/sync.h - mutex, condition variable, wait group and channel for the
 * coroutines of one thread.
 *
 * Every object has a name ("mutex[table]", "chan[jobs]") and every block
 * and wake is traced with it: a coroutine that cannot proceed traces
 * `suspend` (reason lock, cond, waitgroup or channel; detail such as
 * "send chan[jobs] (full)"; obj = the object), and the one that lets it go
 * on traces `wake` with cause "wake" and the same object, so the viewer can
 * draw who waits on what.
 *
 * Waiters are served in FIFO order, and a mutex is handed to the first
 * waiter on unlock (no barging), so nobody starves.
 *
 * Blocking calls must be made from a coroutine run by a scheduler
 * (coro_run() or an io_context); from the main coroutine they return
 * -EPERM. These objects belong to one thread: they are not for sharing
 * between threads.
 *
 * Deadlocks: when coroutines are blocked on these objects and nothing can
 * wake them (the ready queue is empty and no io_context has work),
 * coro_ctx_run() returns -EDEADLK, and coro_run() (without a context)
 * notices too; both trace an `error` event naming each stuck coroutine and
 * what it waits on, and coro_deadlock_report() prints the same table.
 */
#ifndef CORO_SYNC_H
#define CORO_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coro/api.h"
#include "coro/coro.h"
#include "coro/named.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A queue of blocked coroutines (the nodes live on their stacks). */
typedef struct coro_waitq {
    struct coro__wnode *head, *tail;
} coro_waitq;

/* ---- mutex -------------------------------------------------------------- */

typedef struct coro_mutex {
    coro_named named;
    /* The holder by id, not by pointer: a coroutine that finishes while
     * holding it is reclaimed, and its record may be reused by another. */
    uint64_t owner;
    char owner_name[40];
    coro_waitq waiters;
} coro_mutex;

/* Name printf-style ("mutex[%s]", ...); NULL: "mutex#<id>". Traces create. */
CORO_API void coro_mutex_init(coro_mutex *m, const char *fmt, ...) CORO_PRINTF(2, 3);
/* Returns 0 or -EBUSY if it is held or waited for. */
CORO_API int coro_mutex_destroy(coro_mutex *m);
/* Lock, suspending while another holds it. 0, -EPERM (main), -EDEADLK (you hold it). */
#define coro_mutex_lock(m) coro_mutex_lock_at(__FILE__, __LINE__, (m))
CORO_API int coro_mutex_lock_at(const char *file, int line, coro_mutex *m);
/* 0, or -EBUSY without waiting. */
CORO_API int coro_mutex_trylock(coro_mutex *m);
/* Hand it to the first waiter, if any. 0, or -EPERM if you do not hold it. */
#define coro_mutex_unlock(m) coro_mutex_unlock_at(__FILE__, __LINE__, (m))
CORO_API int coro_mutex_unlock_at(const char *file, int line, coro_mutex *m);

/* ---- condition variable --------------------------------------------------- */

typedef struct coro_cond {
    coro_named named;
    coro_waitq waiters;
} coro_cond;

CORO_API void coro_cond_init(coro_cond *c, const char *fmt, ...) CORO_PRINTF(2, 3);
CORO_API int coro_cond_destroy(coro_cond *c);
/* Unlock m, wait for a signal, lock m again. 0, -EPERM (m not held, or main). */
#define coro_cond_wait(c, m) coro_cond_wait_at(__FILE__, __LINE__, (c), (m))
CORO_API int coro_cond_wait_at(const char *file, int line, coro_cond *c, coro_mutex *m);
/* Wake the first waiter / all of them. Never suspend. */
#define coro_cond_signal(c) coro_cond_signal_at(__FILE__, __LINE__, (c))
CORO_API void coro_cond_signal_at(const char *file, int line, coro_cond *c);
#define coro_cond_broadcast(c) coro_cond_broadcast_at(__FILE__, __LINE__, (c))
CORO_API void coro_cond_broadcast_at(const char *file, int line, coro_cond *c);

/* ---- wait group ------------------------------------------------------------ */

typedef struct coro_waitgroup {
    coro_named named;
    long count;
    coro_waitq waiters;
} coro_waitgroup;

CORO_API void coro_waitgroup_init(coro_waitgroup *wg, const char *fmt, ...) CORO_PRINTF(2, 3);
/* Add n (may be negative); at zero every waiter wakes. -EINVAL below zero. */
#define coro_waitgroup_add(wg, n) coro_waitgroup_add_at(__FILE__, __LINE__, (wg), (n))
CORO_API int coro_waitgroup_add_at(const char *file, int line, coro_waitgroup *wg, long n);
#define coro_waitgroup_done(wg) coro_waitgroup_add_at(__FILE__, __LINE__, (wg), -1)
/* Suspend until the count is zero. 0 or -EPERM. */
#define coro_waitgroup_wait(wg) coro_waitgroup_wait_at(__FILE__, __LINE__, (wg))
CORO_API int coro_waitgroup_wait_at(const char *file, int line, coro_waitgroup *wg);

/* ---- channel --------------------------------------------------------------- */

#define CORO_CHAN_UNBOUNDED ((size_t)-1)

typedef struct coro_chan coro_chan;

/*
 * A channel of elements of elem_size bytes. capacity 0: unbuffered (a send
 * waits for a receiver: a rendezvous); CORO_CHAN_UNBOUNDED: sends never
 * wait. Named printf-style ("chan[%s]"). NULL with errno on failure.
 */
CORO_API coro_chan *coro_chan_create(size_t elem_size, size_t capacity, const char *fmt, ...)
    CORO_PRINTF(3, 4);
/* Free it: -EBUSY while coroutines wait on it. */
CORO_API int coro_chan_destroy(coro_chan *ch);
/* Send a copy of *elem, suspending while the channel is full. 0, -EPIPE
 * (closed, before or while waiting), -EPERM. */
#define coro_chan_send(ch, elem) coro_chan_send_at(__FILE__, __LINE__, (ch), (elem))
CORO_API int coro_chan_send_at(const char *file, int line, coro_chan *ch, const void *elem);
/* Receive into *out, suspending while empty. 0, or -EPIPE when closed and
 * drained (elements sent before close are still received). */
#define coro_chan_recv(ch, out) coro_chan_recv_at(__FILE__, __LINE__, (ch), (out))
CORO_API int coro_chan_recv_at(const char *file, int line, coro_chan *ch, void *out);
/* Close: waiting receivers get -EPIPE once the buffer is drained, waiting
 * and later senders get -EPIPE. -EALREADY if already closed. */
#define coro_chan_close(ch) coro_chan_close_at(__FILE__, __LINE__, (ch))
CORO_API int coro_chan_close_at(const char *file, int line, coro_chan *ch);
CORO_API size_t coro_chan_len(const coro_chan *ch);
CORO_API const char *coro_chan_name(const coro_chan *ch);

/* ---- deadlocks --------------------------------------------------------------- */

/* Coroutines of this thread blocked on these objects right now. */
CORO_API size_t coro_sync_blocked(void);
/* Print "coroutine  waits on" for each; returns how many. */
CORO_API size_t coro_deadlock_report(FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* CORO_SYNC_H */
