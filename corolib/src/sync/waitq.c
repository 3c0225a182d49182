/*
 * waitq.c - the queues of the synchronisation objects: a kind of the one
 * wait (wait.c), and the deadlock report over the thread's sync waits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sync_int.h"

size_t coro_sync_blocked(void)
{
    return coro__thread_get()->waiting[CORO__WAIT_SYNC];
}

void coro__sync_created(const coro_named *n, const char *kind)
{
    coro__thread *t = coro__thread_get();
    if (!CORO_TRACE_ON()) return;
    coro_trace_ev ev = {.kind = CORO_EV_CREATE, .obj_kind = kind};
    coro__ev_co(&ev, t->current);
    ev.obj = coro_named_ref(n);
    coro_trace_emit(&ev);
}

int coro__sync_attach(coro__wait *w, const char *file, int line)
{
    (void)file;
    (void)line;
    coro__wnode *n = (coro__wnode *)w;
    coro_waitq *q = n->q;
    n->next = NULL;
    n->prev = q->tail;
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
    return 0;
}

static void unlink_node(coro_waitq *q, coro__wnode *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        q->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        q->tail = n->prev;
    n->prev = n->next = NULL;
    n->q = NULL;
}

void coro__sync_detach(coro__wait *w)
{
    coro__wnode *n = (coro__wnode *)w;
    if (n->q) unlink_node(n->q, n);
}

/* The node moved with a copy-mode stack: its queue neighbours (or the
 * queue's ends) point at it. */
void coro__sync_move(coro__wait *w, const char *lo, const char *hi, ptrdiff_t delta)
{
    (void)lo, (void)hi, (void)delta;
    coro__wnode *n = (coro__wnode *)w;
    if (n->q) {
        if (n->prev)
            n->prev->next = n;
        else
            n->q->head = n;
        if (n->next)
            n->next->prev = n;
        else
            n->q->tail = n;
    }
}

/* A channel's node also points at the element to copy, on that stack too
 * (a local of the sender or the receiver). */
void coro__sync_move_data(coro__wait *w, const char *lo, const char *hi, ptrdiff_t delta)
{
    coro__sync_move(w, lo, hi, delta);
    coro__wnode *n = (coro__wnode *)w;
    n->data = coro__moved(n->data, lo, hi, delta);
}

int coro__sync_block(const char *file, int line, coro_waitq *q, coro__wnode *n,
                     const coro__wait_ops *ops, const coro_named *obj, const char *reason,
                     const char *op)
{
    /* Field by field, not a compound literal that zeroes the whole record
     * first: coro__wait_for sets co, result, ended and the list links. */
    n->base.ops = ops;
    n->base.kind = CORO__WAIT_SYNC;
    n->base.reason = reason;
    n->base.op = op;
    n->base.obj = obj;
    n->base.home = NULL;
    n->base.fd = -1;
    n->base.ms = 0;
    n->q = q;
    return coro__wait_for(&n->base, file, line);
}

coro__wnode *coro__sync_pop(coro_waitq *q)
{
    coro__wnode *n = q->head;
    if (n) unlink_node(q, n);
    return n;
}

void coro__sync_wake(coro__wnode *n, int result, const char *file, int line)
{
    /* Built where coro__wake keeps it, the waiter's record, rather than
     * here and copied there. */
    coro__wakeinfo *w = &n->base.co->wake;
    *w = (coro__wakeinfo){.cause = "wake", .by = coro__t.current->named.id};
    w->obj = coro_named_ref(n->base.obj);
    coro__wait_end(&n->base, result, w, file, line);
}

size_t coro_deadlock_report(FILE *out)
{
    size_t n = 0;
    char what[160];
    for (coro__wait *w = coro__thread_get()->waits; w; w = w->next)
        if (w->kind == CORO__WAIT_SYNC && !w->ended) {
            coro__wait_describe(w, what, sizeof what);
            fprintf(out, "  %-24s waits on %s\n", w->co->named.name, what);
            n++;
        }
    return n;
}

size_t coro__sync_report_stuck(void)
{
    size_t n = 0;
    char what[160];
    for (coro__wait *w = coro__thread_get()->waits; w; w = w->next)
        if (w->kind == CORO__WAIT_SYNC && !w->ended) {
            coro__wait_describe(w, what, sizeof what);
            coro__fail(NULL, 0, EDEADLK, "deadlock: %s waits on %s and nothing can wake it",
                       w->co->named.name, what);
            n++;
        }
    return n;
}
