/*
 * coro_int.h - the coroutine record and the per-thread runtime state,
 * shared by the files of corolib (internal prefix coro__).
 *
 * Memory layout of a coroutine made by coro_create() or coro_spawn():
 *
 *   high addresses  +---------------------------+
 *                   | struct coro (this record) |  <- coro_t *
 *                   +---------------------------+
 *                   | usable stack, grows down  |
 *                   |            ...            |
 *                   +---------------------------+  <- stack.lo
 *                   | guard page (PROT_NONE)    |  <- stack.map
 *   low addresses   +---------------------------+
 *
 * One mapping holds both, so creating a coroutine from the pool costs no
 * allocation at all, and a stack overflow runs into the guard page rather
 * than into the record. The main coroutine of each thread is a thread-local
 * record with no stack of ours.
 */
#ifndef CORO_SRC_CORO_INT_H
#define CORO_SRC_CORO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coro/coro.h"
#include "coro/trace.h"
#include "switch.h"

typedef struct coro__stack {
    void *map;       /* start of the mapping (the guard page) */
    size_t map_size; /* whole mapping, guard and record included */
    void *lo;        /* lowest usable stack byte */
    size_t size;     /* usable bytes */
    unsigned vg_id;  /* valgrind stack id */
} coro__stack;

/* Why a suspended coroutine is not running; decides who may resume it. */
typedef enum coro__block {
    CORO__BLOCK_NONE,     /* yielded: anyone may resume it */
    CORO__BLOCK_RESUMING, /* it resumed another that has not given control back */
    CORO__BLOCK_AWAIT,    /* waits for the child in `awaiting` to finish */
    CORO__BLOCK_EVENT,    /* waits for an event; only the waker may make it ready */
} coro__block;

/* What made a ready coroutine runnable; repeated on the resume event. */
typedef struct coro__wake {
    const char *cause; /* "start", "ready", "io", "timer", "post", "wake" */
    uint64_t by;       /* id of the waker (0 = the loop itself) */
    coro_trace_ref obj;
    int fd;
    uint32_t events;
    uint64_t wait;
    unsigned has; /* CORO_EVH_FD / EVENTS / WAIT */
} coro__wakeinfo;

struct coro {
    coro__ctx ctx;
    coro_named named;
    coro_state state;
    coro__block block;
    bool detached;  /* spawned: reclaimed on finish */
    bool scheduled; /* last resumed by a scheduler: a yield requeues it */
    bool is_main;
    int depth; /* await depth */

    coro_fn fn;
    void *arg;
    void *result;

    coro_t *resumer;  /* where control goes when this one suspends */
    coro_t *awaiter;  /* continuation: resumed when this one finishes */
    coro_t *awaiting; /* the child this one waits for */
    coro_t *next;     /* ready-queue link */
    coro__wakeinfo wake;
    /* The woken-by object's name, copied: the object (a socket being
     * closed, say) may be gone by the time the resume is traced. */
    char wake_obj_name[64];

    coro__stack stack;
    const char *fn_name;

    struct coro_ws *ws;    /* the work-stealing scheduler it belongs to, or NULL */
    bool migrates;         /* may continue on another thread (ws, coro_ctx_send) */
    int saved_errno;       /* errno travels with a coroutine that migrates */
    void *asan_fake_stack; /* AddressSanitizer's per-fiber bookkeeping */
    void *tsan_fiber;      /* ThreadSanitizer's fiber handle */
};

/* Per-thread runtime state. */
typedef struct coro__thread {
    bool ready;      /* initialised */
    coro_t *current; /* the running coroutine */
    coro_t *rq_head, *rq_tail;
    size_t rq_len;
    coro_t *reap;       /* a detached coroutine that finished: freed once off its stack */
    coro_t *ws_pending; /* a scheduler coroutine that yielded: queued once off its stack */
    /* One iteration of an event loop, set by an io_context while it runs, so
     * that main's coro_await() can wait for io-driven children. Returns
     * false when nothing can ever make progress. */
    bool (*drive)(void *arg);
    void *drive_arg;
    char err[512];
    coro_t *asan_from; /* the coroutine we are switching away from */
    coro_t main;
} coro__thread;

extern _Thread_local coro__thread coro__t;

/* The thread's state, initialised on first use (creates "main"). */
coro__thread *coro__thread_get(void);

/* Record a sentence for coro_last_error() and, when tracing, an error
 * event; returns -err for convenience. */
int coro__fail(const char *file, int line, int err, const char *fmt, ...) CORO_PRINTF(4, 5);

/* ---- stack.c ---- */
int coro__stack_alloc(coro__stack *s, size_t usable, size_t record_size, const char *who);
void coro__stack_free(coro__stack *s);
size_t coro__stack_round(size_t usable);

/* ---- ws.c: the work-stealing scheduler ---- */
void coro__ws_push(coro_t *co);
void coro__ws_finished(coro_t *co);
void coro__ws_count(coro_t *co);
/* After a switch on a coroutine that may have migrated: the current
 * thread's state, fetched anew, with the coroutine's errno restored. */
coro__thread *coro__ws_landed(coro_t *self);
coro_t *coro__create(const char *file, int line, const coro_attr *attr, const char *fn_name,
                     coro_fn fn, void *arg, const char *fmt, va_list ap);

/* ---- sync/waitq.c ---- */
/* Trace an error naming each coroutine stuck on a sync object; returns how
 * many (a deadlock: nothing can wake them). */
size_t coro__sync_report_stuck(void);

/* ---- overflow.c ---- */
/* Install the guard-page SIGSEGV handler and this thread's signal stack. */
void coro__overflow_thread_init(void);
/* Release this thread's signal stack (at thread exit). */
void coro__overflow_thread_fini(void);

/* ---- coro.c: transfers, used by sched.c and the io_context ---- */

/* Stop the running coroutine for an event (reason "io", "timer", ...; detail
 * like "recv fd=7") and give control to its resumer. Returns when some waker
 * has called coro__wake() and a scheduler resumed it. Must not be called
 * from the main coroutine (-EPERM). */
int coro__suspend(const char *file, int line, const char *reason, const char *detail,
                  coro_trace_ref obj);

/* Make a suspended or new coroutine ready: appends to the ready queue and
 * traces `wake` (or `spawn` for a first start). */
void coro__wake(coro_t *co, const coro__wakeinfo *w, const char *file, int line);

/* Resume a coroutine taken off the ready queue, with the cause its waker
 * recorded. Called by coro_run() and by the io_context loop. */
void coro__run_ready(coro_t *co);

/* Pass control from the running coroutine `from` to `to`; traces `resume`
 * with cause (none if NULL). The caller sets from's state first. */
void coro__transfer(coro__thread *t, coro_t *from, coro_t *to, const char *cause, uint64_t by,
                    const coro__wakeinfo *w, const char *file, int line);

/* Pop the head of the ready queue, or NULL. */
coro_t *coro__rq_pop(coro__thread *t);
void coro__rq_push(coro__thread *t, coro_t *co);

/* Fill the common fields of an event about co (id, name, depth). */
static inline void coro__ev_co(coro_trace_ev *ev, const coro_t *co)
{
    ev->co = coro_named_ref(&co->named);
    ev->depth = co->depth;
    ev->has |= CORO_EVH_DEPTH;
}

#endif /* CORO_SRC_CORO_INT_H */
