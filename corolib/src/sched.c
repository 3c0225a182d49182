/*
 * sched.c - the per-thread ready queue.
 *
 * A coroutine that can run but is not running waits here: a spawned one
 * before its first start, one that yielded while run by a scheduler, one
 * whose io, timer or lock became ready. coro_run() and the io_context's loop
 * take them off in FIFO order, so nobody starves, and resume each with the
 * cause its waker recorded: the log can say why every coroutine runs.
 */
#include <string.h>

#include "coro/sync.h"
#include "coro_int.h"

void coro__rq_push(coro__thread *t, coro_t *co)
{
    co->next = NULL;
    if (t->rq_tail)
        t->rq_tail->next = co;
    else
        t->rq_head = co;
    t->rq_tail = co;
    t->rq_len++;
}

/* The wake event, and the waking object's name kept for the resume event
 * (the object may be gone by then). Out of line: a wake that nothing
 * records keeps a small frame. */
static __attribute__((noinline)) void
trace_wake(coro__thread *t, coro_t *co, const coro__wakeinfo *w, const char *file, int line)
{
    /* w may be co->wake itself, whose name is replaced by its copy below */
    coro_trace_ref obj = w->obj;
    if (w->obj.name) {
        size_t n = strlen(w->obj.name);
        if (n < sizeof co->wake_obj_name) {
            memcpy(co->wake_obj_name, w->obj.name, n + 1);
            co->wake.obj.name = co->wake_obj_name;
        } else {
            co->wake.obj.name = NULL; /* the id alone; the wake event has the name */
        }
    }
    bool first = w->cause[0] == 's' && w->cause[1] == 't'; /* "start" */
    coro_trace_ev ev = {.kind = first ? CORO_EV_SPAWN : CORO_EV_WAKE, .cause = w->cause};
    ev.file = file;
    ev.line = line;
    coro__ev_co(&ev, co);
    ev.depth = t->current->depth; /* indented where it happened */
    if (w->by == t->current->named.id)
        ev.by = coro_named_ref(&t->current->named);
    else
        ev.by.id = w->by;
    coro__ev_wake(&ev, w);
    ev.obj = obj;
    ev.detail = w->detail;
    coro_trace_emit(&ev);
}

static inline void enqueue(coro__thread *t, coro_t *co)
{
    if (co->ws)
        coro__ws_push(co);
    else
        coro__rq_push(t, co);
}

/* The wake event, then the queue: once queued on a scheduler, another
 * thread may run it. One call that ends coro__wake, so that its path
 * without tracing makes no call and saves no registers. */
static __attribute__((noinline)) void
traced_wake(coro__thread *t, coro_t *co, const coro__wakeinfo *w, const char *file, int line)
{
    trace_wake(t, co, w, file, line);
    enqueue(t, co);
}

void coro__wake(coro_t *co, const coro__wakeinfo *w, const char *file, int line)
{
    /* a wake comes from a thread that runs coroutines: its state is made */
    coro__thread *t = &coro__t;
    if (w != &co->wake) co->wake = *w; /* a sync wake builds it there */
    coro__move(co, CORO_READY, CORO__BLOCK_NONE);
    if (CORO_TRACE_ON()) {
        traced_wake(t, co, w, file, line);
        return;
    }
    co->wake.obj.name = NULL; /* the id is enough when nothing records */
    enqueue(t, co);
}

void coro__run_ready(coro_t *co)
{
    coro__thread *t = &coro__t;
    coro_t *self = t->current;
    co->resumer = self;
    co->scheduled = true;
    coro__move_before_transfer(self, CORO_SUSPENDED, CORO__BLOCK_RESUMING);
    coro__transfer(t, self, co, co->wake.cause, co->wake.by, &co->wake, NULL, 0);
}

size_t coro_run(void)
{
    coro__thread *t = coro__thread_get();
    /* A coroutine this loop resumes may resume the next ready one itself
     * (coro.c, leave_scheduled) and count it in t->runs; a coro_run()
     * inside one of them has its own loop, so the outer one's are kept. */
    coro_t *outer = t->runner;
    size_t outer_runs = t->runs;
    t->runner = t->current;
    t->runs = 0;
    coro_t *co;
    while ((co = coro__rq_pop(t))) {
        t->runs++;
        coro__run_ready(co);
    }
    size_t n = t->runs;
    t->runner = outer;
    t->runs = outer_runs;
    /* Without an event loop nothing else can wake a coroutine blocked on a
     * mutex, channel, ...: say so, naming each. */
    if (!t->drive && coro_sync_blocked()) coro__sync_report_stuck();
    return n;
}
