/*
 * waitq.c - blocking and waking for the synchronisation objects, and the
 * thread's list of blocked coroutines that makes a deadlock reportable.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sync_int.h"

static _Thread_local coro__wnode *blocked_head;
static _Thread_local size_t blocked_count;

size_t coro_sync_blocked(void)
{
    return blocked_count;
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

int coro__sync_block(const char *file, int line, coro_waitq *q, coro__wnode *n,
                     const coro_named *obj, const char *reason)
{
    coro__thread *t = coro__thread_get();
    coro_t *self = t->current;
    if (self->is_main || !self->resumer)
        return coro__fail(file, line, EPERM,
                          "%s: must be called inside a coroutine run by a scheduler (not main)",
                          n->what);
    n->co = self;
    n->obj = obj;
    n->next = NULL;
    n->result = 0;
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
    n->bprev = NULL;
    n->bnext = blocked_head;
    if (blocked_head) blocked_head->bprev = n;
    blocked_head = n;
    blocked_count++;
    coro__suspend(file, line, reason, n->what, coro_named_ref(obj));
    return n->result;
}

coro__wnode *coro__sync_pop(coro_waitq *q)
{
    coro__wnode *n = q->head;
    if (!n) return NULL;
    q->head = n->next;
    if (!q->head) q->tail = NULL;
    n->next = NULL;
    return n;
}

void coro__sync_wake(coro__wnode *n, int result, const char *file, int line)
{
    if (n->bprev)
        n->bprev->bnext = n->bnext;
    else
        blocked_head = n->bnext;
    if (n->bnext) n->bnext->bprev = n->bprev;
    blocked_count--;
    n->result = result;
    coro__wakeinfo w = {
        .cause = "wake", .by = coro__t.current->named.id, .obj = coro_named_ref(n->obj)};
    coro__wake(n->co, &w, file, line);
}

size_t coro_deadlock_report(FILE *out)
{
    size_t n = 0;
    for (coro__wnode *w = blocked_head; w; w = w->bnext, n++)
        fprintf(out, "  %-24s waits on %s\n", w->co->named.name, w->what);
    return n;
}

size_t coro__sync_report_stuck(void)
{
    size_t n = 0;
    for (coro__wnode *w = blocked_head; w; w = w->bnext, n++)
        coro__fail(NULL, 0, EDEADLK, "deadlock: %s waits on %s and nothing can wake it",
                   w->co->named.name, w->what);
    return n;
}
