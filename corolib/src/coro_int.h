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
 *                   | guard (PROT_NONE, 64 KiB) |  <- stack.map
 *   low addresses   +---------------------------+
 *
 * One mapping holds both, so creating a coroutine from the pool costs no
 * allocation at all, and a stack overflow runs into the guard page rather
 * than into the record. (That is the guarded stack mode; stack.h has the
 * others.) The main coroutine of each thread is a thread-local
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

#include "stack.h" /* coro__stack and the stack modes */

/* Why a suspended coroutine is not running; decides who may resume it. */
typedef enum coro__block {
    CORO__BLOCK_NONE,     /* yielded: anyone may resume it */
    CORO__BLOCK_RESUMING, /* it resumed another that has not given control back */
    CORO__BLOCK_AWAIT,    /* waits for the child in `awaiting` to finish */
    CORO__BLOCK_EVENT,    /* waits for an event; only the waker may make it ready */
} coro__block;

/* What made a ready coroutine runnable; repeated on the resume event. */
typedef struct coro__wake {
    const char *cause;  /* "start", "ready", "io", "timer", "post", "wake" */
    const char *detail; /* on the wake event: the wait's result in words */
    const char *call;   /* an io_uring operation it ends ("recv"): the events' reason */
    uint64_t by;        /* id of the waker (0 = the loop itself) */
    coro_trace_ref obj;
    int fd;
    uint32_t events;
    uint64_t wait;
    int64_t value; /* the result of the wait it ends (0, -ETIMEDOUT, ...) */
    unsigned has;  /* CORO_EVH_FD / EVENTS / WAIT / VALUE */
} coro__wakeinfo;

/* ---- the one wait ------------------------------------------------------ */

typedef struct coro__wait coro__wait;

/* What a kind of wait does with the thing awaited (a socket, the timer
 * heap, a mutex's queue): the wait machinery itself is in wait.c. */
typedef struct coro__wait_ops {
    /* Link w into what it waits on; 0, or a negative errno to refuse
     * (someone already waits there, the context is closing). */
    int (*attach)(coro__wait *w, const char *file, int line);
    /* Unlink it; idempotent. Called whenever the wait ends: by its waker,
     * by coro_cancel_wait, by destroying the waiter or its context. */
    void (*detach)(coro__wait *w);
    /* The trace's detail ("recv fd=7", "lock mutex[m] (held by a)"):
     * called only while tracing, and for the deadlock report. */
    void (*describe)(const coro__wait *w, char *buf, size_t n);
    /* The record was copied by delta bytes with the copy-mode stack that
     * holds it, from [lo, hi) (stack_copy.c saves a suspended coroutine's
     * stack off the shared one, and restores it): w is the new place. Point
     * the kind's links at w, and move w's own pointers into [lo, hi). NULL:
     * the kind cannot follow a moving record, and refuses copy-mode waiters. */
    void (*move)(coro__wait *w, const char *lo, const char *hi, ptrdiff_t delta);
} coro__wait_ops;

/* p, moved by delta if it points into [lo, hi): for a kind's move. */
static inline void *coro__moved(void *p, const char *lo, const char *hi, ptrdiff_t delta)
{
    return (const char *)p >= lo && (const char *)p < hi ? (char *)p + delta : p;
}

/* The kinds, counted per thread: an io_context has work while io or
 * sleep waits exist; sync waits alone with nothing ready are a deadlock. */
typedef enum coro__wait_kind { CORO__WAIT_IO, CORO__WAIT_SLEEP, CORO__WAIT_SYNC } coro__wait_kind;

/*
 * One record for every blocking operation (socket, fd, sleep, mutex,
 * cond, channel, wait group, the hooks), kept on the waiter's stack for as
 * long as it waits; in the spirit of libdill's clauses. Typed fields, not
 * text: the detail string is formatted only when a trace records it. A
 * copy-mode coroutine's record moves with its stack, and coro__wait_moved
 * re-points what links to it, so that it costs no memory beside the stack.
 */
struct coro__wait {
    const coro__wait_ops *ops;
    coro__wait_kind kind;
    int fd;                  /* the descriptor, or -1 (here, not below: no padding) */
    const char *reason;      /* the suspend's reason: io, hook, timer, lock, channel, ... */
    const char *op;          /* the call: "recv", "accept", "hook:read", "lock", ... */
    const coro_named *obj;   /* what is awaited: a socket, the context, a mutex, ... */
    void *home;              /* the context an io or sleep wait belongs to */
    int64_t ms;              /* sleep: its length */
    coro_t *co;              /* the waiter */
    int result;              /* set when it ends: 0, -ETIMEDOUT, -ECANCELED, -EPIPE, ... */
    bool ended;              /* its waker (or a cancel) made the waiter ready */
    coro__wait *prev, *next; /* the thread's list of waits */
};

struct coro {
    coro__ctx ctx;
    coro_t *handle; /* the handle the API gave out, from create to free (else NULL) */
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
    coro__wait *wait; /* the wait it is suspended in, or NULL */
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
    uint32_t irow;         /* its row in the inspection table + 1 (inspect.c), or 0 */
    bool irenamed;         /* renamed since its row was written */
};

/* Per-thread runtime state. */
typedef struct coro__thread {
    bool ready;      /* initialised */
    coro_t *current; /* the running coroutine */
    coro_t *rq_head, *rq_tail;
    size_t rq_len;
    coro_t *reap;       /* a detached coroutine that finished: freed once off its stack */
    coro_t *ws_pending; /* a scheduler coroutine that yielded: queued once off its stack */
    int *errno_at;      /* this thread's errno */
    /* One iteration of an event loop, set by an io_context while it runs, so
     * that main's coro_await() can wait for io-driven children. Returns
     * false when nothing can ever make progress. */
    bool (*drive)(void *arg);
    void *drive_arg;
    /* The coroutine running coro_run()'s loop, NULL outside it: one that
     * it resumed may hand control straight to the next ready coroutine
     * (coro.c, leave_scheduled), counted in runs for coro_run's result. */
    coro_t *runner;
    size_t runs;
    coro__wait *waits; /* every wait of this thread, for teardown and reports */
    size_t waiting[3]; /* waits not yet ended, by kind */
    char err[512];
    coro_t *asan_from; /* the coroutine we are switching away from */
    coro_t main;
} coro__thread;

extern _Thread_local coro__thread coro__t;

/* coro_named_vinit, with the prefix of the name "PREFIX#ID" that n gets
 * when fmt is NULL (named.c): a coroutine's is its function's name. */
void coro__named_vinit(coro_named *n, const char *kind, const char *unnamed, const char *fmt,
                       va_list ap);

/* The thread's state, initialised on first use (creates "main"). Inline:
 * every blocking and waking call asks for it, and after the first call it
 * is one load and a test. */
coro__thread *coro__thread_init(void);
static inline coro__thread *coro__thread_get(void)
{
    coro__thread *t = &coro__t;
    if (__builtin_expect(t->current != NULL, 1)) return t;
    return coro__thread_init();
}

/* Record a sentence for coro_last_error() and, when tracing, an error
 * event; returns -err for convenience. */
int coro__fail(const char *file, int line, int err, const char *fmt, ...) CORO_PRINTF(4, 5);

/* Always-on check of an invariant whose failure would corrupt memory, or
 * of a system call that cannot fail: names the place and aborts. */
#define CORO__ASSERT(cond)                                                                         \
    ((cond) ? (void)0 : coro__assert_failed(#cond, __FILE__, __LINE__, __func__))
void coro__assert_failed(const char *what, const char *file, int line, const char *fn)
    __attribute__((noreturn, cold));

/* The gate: may the running coroutine block? Not main, and something
 * (a scheduler or a resumer) to give control to. */
static inline bool coro__can_block(const coro_t *co)
{
    return !co->is_main && co->resumer;
}

/* ---- handles ---- */
/*
 * A coro_t * the API hands out is not the bare record address: the top 16
 * bits carry a tag, taken from the coroutine's unique id (user addresses fit
 * in 47 bits on x86-64 and aarch64). A record keeps the handle it gave
 * out, NULL once freed, and a record reused from the stack pool holds
 * another id's handle, so a
 * handle kept past coro_destroy (or past a spawned coroutine's end) no
 * longer matches and the call fails instead of acting on another
 * coroutine, unless the ids differ by a multiple of 2^15 (the tag's width:
 * documented in coro.h, pinned by test_stale_handle_window). Internal code
 * uses bare addresses; coro__handle() and coro__deref() convert at the
 * API's edge.
 */
#define CORO__TAG_SHIFT 48
#define CORO__ADDR_MASK ((UINT64_C(1) << CORO__TAG_SHIFT) - 1)

static inline uint64_t coro__tag(const coro_t *co)
{
    /* never 0, so a bare address is never a valid handle; 0 (no tag) for
     * records above 2^47, where the bits are the address's own */
    if ((uintptr_t)co >> 47) return 0;
    return (co->named.id & 0x7fff) | 0x8000;
}

static inline coro_t *coro__handle(const coro_t *co)
{
    return co ? (coro_t *)((uintptr_t)co | (uintptr_t)(coro__tag(co) << CORO__TAG_SHIFT)) : NULL;
}

/* The record a handle names, or NULL if it is NULL or stale. Tagged
 * handles have bit 63 set (the tag's top bit); user addresses never do. */
static inline coro_t *coro__deref(const coro_t *h)
{
    if (!h) return NULL;
    uintptr_t u = (uintptr_t)h;
    coro_t *co = (coro_t *)(u >> 63 ? u & CORO__ADDR_MASK : u);
    if (co->handle != h) return NULL;
    return co;
}

/* The record behind a handle from the user; NULL (and coro_last_error
 * says why: NULL, or stale) otherwise. fn names the API call. */
coro_t *coro__checked(const char *file, int line, const coro_t *h, const char *fn);

/* ---- the state machine ---- */
/*
 * Every change of a coroutine's state goes through coro__move(), which
 * asserts the move is one of these (the machine `coroscope check` holds a
 * trace to, viz/view_check.c):
 *
 *   created   -> ready (spawn, coro_ctx_send) | running (resume, await)
 *   ready     -> running (a scheduler: coro_run, the loop, a ws worker)
 *   running   -> suspended (yield, a wait, await, resuming another) | dead (finish)
 *   suspended -> running (resume, return, continuation) | ready (a waker, a yield requeued)
 *   created, suspended -> the same state with another block (coro_ctx_send)
 *
 * dead is final: destroy frees from created, suspended or dead.
 */
#define CORO__BIT(s) (1u << (s))
/* from's row of the machine: the states it may move to */
#define CORO__LEGAL_FROM(from)                                                                     \
    ((from) == CORO_CREATED                                                                        \
         ? CORO__BIT(CORO_READY) | CORO__BIT(CORO_RUNNING) | CORO__BIT(CORO_CREATED)               \
     : (from) == CORO_READY   ? CORO__BIT(CORO_RUNNING)                                            \
     : (from) == CORO_RUNNING ? CORO__BIT(CORO_SUSPENDED) | CORO__BIT(CORO_DEAD)                   \
     : (from) == CORO_SUSPENDED                                                                    \
         ? CORO__BIT(CORO_RUNNING) | CORO__BIT(CORO_READY) | CORO__BIT(CORO_SUSPENDED)             \
         : 0u)
static const unsigned coro__legal[5] = {[CORO_CREATED] = CORO__LEGAL_FROM(CORO_CREATED),
                                        [CORO_READY] = CORO__LEGAL_FROM(CORO_READY),
                                        [CORO_RUNNING] = CORO__LEGAL_FROM(CORO_RUNNING),
                                        [CORO_SUSPENDED] = CORO__LEGAL_FROM(CORO_SUSPENDED),
                                        [CORO_DEAD] = CORO__LEGAL_FROM(CORO_DEAD)};

/* ---- inspect.c: the table `coroscope ps PID` reads ---- */
extern int coro__inspect_on;   /* set once, before main(), by CORO_INSPECT=1 or tracing */
extern uint64_t coro__renames; /* renames of named things so far (named.c) */
#define CORO__INSPECT_ON()                                                                         \
    __builtin_expect(__atomic_load_n(&coro__inspect_on, __ATOMIC_RELAXED) != 0, 0)
void coro__inspect_start(void);
void coro__inspect_created(coro_t *co, const coro_t *by);
void coro__inspect_move(coro_t *co) __attribute__((cold));
void coro__inspect_transfer(coro_t *from, coro_t *to) __attribute__((cold));
void coro__inspect_free(coro_t *co);

/* A move that the transfer following it publishes (transfer() publishes
 * both its parties with one test of the flag): the hot paths use it, so
 * that a resume+yield round trip tests the flag twice, not four times. */
static inline __attribute__((always_inline)) void
coro__move_before_transfer(coro_t *co, coro_state to, coro__block block)
{
    CORO__ASSERT((unsigned)co->state < 5 && (coro__legal[co->state] & CORO__BIT(to)));
    co->state = to;
    co->block = block;
}

/* Every other move is published in the table here, when inspection is on. */
static inline __attribute__((always_inline)) void coro__move(coro_t *co, coro_state to,
                                                             coro__block block)
{
    coro__move_before_transfer(co, to, block);
    if (CORO__INSPECT_ON()) coro__inspect_move(co);
}

/* A move before a transfer where the caller knows the state it leaves (the
 * running coroutine suspending): the move is checked against the machine
 * when compiled, and the state at run time with one compare. */
#define coro__move_from(co, from, to, blk)                                                         \
    do {                                                                                           \
        _Static_assert(CORO__LEGAL_FROM(from) & CORO__BIT(to), "not a move of the machine");       \
        CORO__ASSERT((co)->state == (from));                                                       \
        (co)->state = (to);                                                                        \
        (co)->block = (blk);                                                                       \
    } while (0)

/* ---- wait.c: the one wait ---- */
/* Wait in w (ops, kind, reason, op, obj, fd set by the caller): the gate,
 * attach, trace `suspend`, suspend, and back; returns w's result, or the
 * gate's -EPERM or attach's refusal without suspending. */
int coro__wait_for(coro__wait *w, const char *file, int line);
/* End w with result and make its waiter ready, traced as `wake` with wi's
 * cause (value: the result). False if it had already ended. */
bool coro__wait_end(coro__wait *w, int result, coro__wakeinfo *wi, const char *file, int line);
/* End w with -ECANCELED, cause "wake", by the running coroutine. */
bool coro__wait_cancel(coro__wait *w, const char *file, int line);
/* Drop the wait of a coroutine about to be freed: detached, unlisted, not woken. */
void coro__wait_drop(coro__wait *w);
/* co's stack moved by delta from [lo, hi) (stack_copy.c): if its wait
 * record was in it, follow it there (co->wait, the thread's list, the
 * kind's links through ops->move). */
void coro__wait_moved(coro_t *co, const char *lo, const char *hi, ptrdiff_t delta);
/* The detail text of w (op and object, "recv fd=7"). */
void coro__wait_describe(const coro__wait *w, char *buf, size_t n);

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

/* Stop the running coroutine, which passed the gate and traced its
 * suspend, in wait w; give control to its resumer (under coro_run, to the
 * next ready coroutine). Returns when its waker has called coro__wake()
 * and a scheduler resumed it. */
void coro__park(coro__thread *t, coro_t *self, coro__wait *w);

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

/* Pop the head of the ready queue, or NULL. Inline: the switch paths
 * take the head themselves (coro.c, leave_scheduled). */
static inline coro_t *coro__rq_pop(coro__thread *t)
{
    coro_t *co = t->rq_head;
    if (!co) return NULL;
    t->rq_head = co->next;
    if (!t->rq_head) t->rq_tail = NULL;
    co->next = NULL;
    t->rq_len--;
    return co;
}
void coro__rq_push(coro__thread *t, coro_t *co);

/* Fill the common fields of an event about co (id, name, depth). */
static inline void coro__ev_co(coro_trace_ev *ev, const coro_t *co)
{
    ev->co = coro_named_ref(&co->named);
    ev->depth = co->depth;
    ev->has |= CORO_EVH_DEPTH;
}

/* Fill what a wake says about its cause (the object, fd, wait, result, the
 * io_uring call): the wake event and the resume that follows carry it. */
static inline void coro__ev_wake(coro_trace_ev *ev, const coro__wakeinfo *w)
{
    ev->obj = w->obj;
    ev->fd = w->fd;
    ev->events = w->events;
    ev->wait = w->wait;
    ev->value = w->value;
    ev->reason = w->call;
    ev->has |= w->has;
}

#endif /* CORO_SRC_CORO_INT_H */
