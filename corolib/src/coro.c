/*
 * coro.c - coroutine lifecycle and every transfer of control.
 *
 * All switches go through transfer(): it traces the `resume` event, updates
 * the states, tells the sanitizers which stack we are moving to, switches,
 * and on the way back reaps a detached coroutine that finished (its stack
 * cannot be freed while it is still running on it, so the next one to run
 * frees it).
 *
 * The rules for where control goes are in coro/coro.h; in short: suspend ->
 * resumer, finish -> continuation (awaiter) if any, else resumer, and a
 * child started by coro_await() inherits its parent's resumer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro_int.h"
#include "stack_switch.h"

#if defined(CORO_ASAN)
#include <sanitizer/asan_interface.h>
#endif
#if defined(CORO_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

_Thread_local coro__thread coro__t;

static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

/* A thread that used coroutines gives its pooled stacks back when it ends. */
static void thread_exit(void *arg)
{
    coro__inspect_free(&((coro__thread *)arg)->main);
    coro_stack_pool_drain();
    coro__overflow_thread_fini();
}

static bool exit_key_made;

static void make_exit_key(void)
{
    /* Fails only when the process has used up its keys (EAGAIN): threads
     * then keep their pooled stacks until exit, which loses nothing. */
    exit_key_made = pthread_key_create(&exit_key, thread_exit) == 0;
}

/* ---- thread state, errors -------------------------------------------- */

static void created(coro_t *co, coro_t *by, const char *file, int line);

/* coro__thread_get's first call on a thread (current is set once it is
 * ready; ready alone while main is being made) */
coro__thread *coro__thread_init(void)
{
    coro__thread *t = &coro__t;
    if (t->ready) return t;
    t->ready = true;
    coro_t *m = &t->main;
    memset(m, 0, sizeof *m);
    coro_named_init(&m->named, "coro", "main");
    m->is_main = true;
    m->handle = coro__handle(m);
    m->state = CORO_RUNNING;
    m->fn_name = "main";
#if defined(CORO_TSAN)
    m->tsan_fiber = __tsan_get_current_fiber();
#endif
    t->current = m;
    t->errno_at = &errno;
    coro__overflow_thread_init();
    pthread_once(&exit_once, make_exit_key);
    /* ENOMEM here only means this thread keeps its pooled stacks until exit. */
    if (exit_key_made && pthread_setspecific(exit_key, t) != 0) coro__t.err[0] = 0;
    created(m, NULL, NULL, 0);
    return t;
}

int coro__fail(const char *file, int line, int err, const char *fmt, ...)
{
    coro__thread *t = &coro__t;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
    if (CORO_TRACE_ON() && t->ready) {
        coro_trace_ev ev = {.kind = CORO_EV_ERROR, .detail = t->err, .file = file, .line = line};
        coro__ev_co(&ev, t->current);
        coro_trace_emit(&ev);
    }
    errno = err;
    return -err;
}

const char *coro_last_error(void)
{
    return coro__t.err[0] ? coro__t.err : "no error";
}

/* ---- tracing helpers -------------------------------------------------- */

/* The trace points' events are built out of line: a path that nothing
 * records keeps a small frame. */
static __attribute__((noinline)) void trace_create(coro_t *co, coro_t *by, const char *file,
                                                   int line)
{
    coro_trace_ev ev = {.kind = CORO_EV_CREATE, .file = file, .line = line};
    coro__ev_co(&ev, co);
    if (by) {
        ev.by = coro_named_ref(&by->named);
        ev.depth = by->depth; /* indented where it happened: in the creator */
    }
    if (!co->is_main) {
        ev.value = (int64_t)co->stack.size;
        ev.has |= CORO_EVH_VALUE;
    }
    ev.detail = co->fn_name;
    coro_trace_emit(&ev);
}

/* A coroutine was made: its row in the live table, its create event. */
static inline void created(coro_t *co, coro_t *by, const char *file, int line)
{
    if (CORO__INSPECT_ON()) coro__inspect_created(co, by);
    if (CORO_TRACE_ON()) trace_create(co, by, file, line);
}

/* Out of line, so the switch paths that call it when tracing keep a small
 * frame when not tracing. */
static __attribute__((noinline)) void trace_resume(coro_t *from, coro_t *to, const char *cause,
                                                   uint64_t by, const coro__wakeinfo *w,
                                                   const char *file, int line)
{
    if (!w) { /* the usual resume: recorded without a coro_trace_ev */
        coro_trace_ref r = coro_named_ref(&to->named);
        coro_trace_brief e = {.kind = CORO_EV_RESUME,
                              .depth = to->depth,
                              .co = r,
                              .from = coro_named_ref(&from->named),
                              .to = r,
                              .by = by,
                              .cause = cause,
                              .file = file,
                              .line = line};
        coro_trace_emit_resume(&e);
        return;
    }
    coro_trace_ev ev = {.kind = CORO_EV_RESUME, .cause = cause, .file = file, .line = line};
    coro__ev_co(&ev, to);
    ev.from = coro_named_ref(&from->named);
    ev.to = ev.co;
    if (by == from->named.id)
        ev.by = ev.from;
    else
        ev.by.id = by;
    coro__ev_wake(&ev, w);
    coro_trace_emit(&ev);
}

/* ---- the switch -------------------------------------------------------- */

static void reap(coro__thread *t);

#if defined(CORO_ASAN)
/* AddressSanitizer must be told which stack we are moving to before every
 * switch, and told we arrived after it. A main coroutine's stack is not
 * ours: ASan reports its bounds the first time we leave it, and we keep
 * them for the way back. */
static void asan_before(coro__thread *t, coro_t *from, coro_t *to)
{
    t->asan_from = from;
    __sanitizer_start_switch_fiber(from->state == CORO_DEAD ? NULL : &from->asan_fake_stack,
                                   to->stack.lo, to->stack.size);
}

static void asan_after(coro__thread *t, coro_t *self)
{
    const void *bottom = NULL;
    size_t size = 0;
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, &bottom, &size);
    coro_t *from = t->asan_from;
    if (from && from->is_main && !from->stack.lo) {
        from->stack.lo = (void *)bottom;
        from->stack.size = size;
    }
}
#endif

/* What a switch left for the side it landed on: a finished detached
 * coroutine to free, a yielded scheduler coroutine to queue. */
static __attribute__((noinline)) void after_switch(coro__thread *t)
{
    if (t->reap) reap(t);
    if (t->ws_pending && !t->current->ws) {
        /* back on a worker's own stack: the coroutine that yielded is off
         * its stack now, so another worker may take it */
        coro_t *y = t->ws_pending;
        t->ws_pending = NULL;
        coro__ws_push(y);
    }
}

/* Land in `self` after a switch: tell the sanitizers, free what finished. */
static inline void landed(coro__thread *t, coro_t *self)
{
#if defined(CORO_ASAN)
    asan_after(t, self);
#else
    (void)self;
#endif
    /* one test for the rare work after a switch */
    if (__builtin_expect(((uintptr_t)t->reap | (uintptr_t)t->ws_pending) != 0, 0)) after_switch(t);
}

/*
 * Pass control from `from` (the running coroutine) to `to`. The caller has
 * already set from->state and from->block; this traces the resume (unless
 * cause is NULL), marks `to` running and switches. Returns when something
 * transfers back to `from`.
 */
static inline __attribute__((always_inline)) void transfer(coro__thread *t, coro_t *from,
                                                           coro_t *to, const char *cause,
                                                           uint64_t by, const coro__wakeinfo *w,
                                                           const char *file, int line)
{
    if (cause && CORO_TRACE_ON()) trace_resume(from, to, cause, by, w, file, line);
    coro__move_before_transfer(to, CORO_RUNNING, CORO__BLOCK_NONE);
    if (CORO__INSPECT_ON()) coro__inspect_transfer(from, to); /* before current changes */
    t->current = to;
#if defined(CORO_ASAN)
    asan_before(t, from, to);
#endif
#if defined(CORO_TSAN)
    if (!to->tsan_fiber) to->tsan_fiber = __tsan_create_fiber(0);
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    /* kept in case it is handed to another thread; errno's address is the
     * thread's for its lifetime, fetched once (no call per switch) */
    from->saved_errno = *t->errno_at;
    coro__stack_switch(from, to);
    /* A scheduler coroutine may continue on another thread: t and errno's
     * address would be the old thread's, so fetch them anew. */
    if (__builtin_expect(from->migrates, 0)) t = coro__ws_landed(from);
    landed(t, from);
}

/* The traced transfer out of line, so that the untraced one (a scheduler's
 * resume of a ready coroutine) passes no event's arguments. */
static __attribute__((noinline)) void transfer_traced(coro__thread *t, coro_t *from, coro_t *to,
                                                      const char *cause, uint64_t by,
                                                      const coro__wakeinfo *w, const char *file,
                                                      int line)
{
    transfer(t, from, to, cause, by, w, file, line);
}

/* Every `ret` after a switch is mispredicted (the return stack buffer holds
 * the other coroutine's callers), so the hot paths inline the transfer and
 * keep the call chain around a switch short. */
void coro__transfer(coro__thread *t, coro_t *from, coro_t *to, const char *cause, uint64_t by,
                    const coro__wakeinfo *w, const char *file, int line)
{
    if (CORO_TRACE_ON() && cause) {
        transfer_traced(t, from, to, cause, by, w, file, line);
        return;
    }
    transfer(t, from, to, NULL, 0, NULL, NULL, 0);
}

static __attribute__((noinline)) void trace_finish(coro_t *co, void *result)
{
    coro_trace_ev ev = {.kind = CORO_EV_FINISH, .value = (int64_t)(intptr_t)result};
    ev.has = CORO_EVH_VALUE;
    coro__ev_co(&ev, co);
    if (co->awaiter) ev.to = coro_named_ref(&co->awaiter->named);
    coro_trace_emit(&ev);
}

/* noinline: entry() must not keep the thread-local address it had before the
 * body ran (a scheduler coroutine may finish on another thread). */
static void finish(coro_t *co, void *result) __attribute__((noreturn, noinline));

static void entry(void *arg)
{
    coro_t *co = arg;
    landed(&coro__t, co);
    finish(co, co->fn(co->arg));
}

static void finish(coro_t *co, void *result)
{
    coro__thread *t = &coro__t;
    co->result = result;
    coro__move_before_transfer(co, CORO_DEAD, CORO__BLOCK_NONE);
    coro_t *next;
    const char *cause;
    if (co->awaiter) {
        next = co->awaiter;
        next->awaiting = NULL;
        /* The continuation takes over the child's place: it returns where
         * the child would have. main has no resumer and keeps none. */
        if (!next->is_main) next->resumer = co->resumer;
        next->scheduled = co->scheduled;
        cause = "continuation";
    } else {
        next = co->resumer;
        cause = "return";
    }
    if (CORO_TRACE_ON()) trace_finish(co, result);
    co->awaiter = NULL;
    co->resumer = NULL;
    if (co->ws) coro__ws_finished(co);
    if (co->detached) t->reap = co;
    transfer(t, co, next, cause, 0, NULL, NULL, 0);
    abort(); /* a dead coroutine is never switched to */
}

static void free_coro(coro_t *co)
{
    co->handle = NULL; /* a handle kept past this point no longer matches */
    if (co->irow) coro__inspect_free(co);
#if defined(CORO_TSAN)
    if (co->tsan_fiber) __tsan_destroy_fiber(co->tsan_fiber);
#endif
    coro_named_fini(&co->named);
    coro__stack st = co->stack;
    coro__stack_free(&st);
}

static void reap(coro__thread *t)
{
    coro_t *co = t->reap;
    t->reap = NULL;
    if (CORO_TRACE_ON()) {
        coro_trace_ev ev = {.kind = CORO_EV_DESTROY, .detail = "detached, finished"};
        coro__ev_co(&ev, co);
        ev.by = coro_named_ref(&t->current->named);
        ev.depth = t->current->depth;
        coro_trace_emit(&ev);
    }
    free_coro(co);
}

/* ---- creating ----------------------------------------------------------- */

coro_t *coro__create(const char *file, int line, const coro_attr *attr, const char *fn_name,
                     coro_fn fn, void *arg, const char *fmt, va_list ap)
{
    coro__thread *t = coro__thread_get();
    if (!fn) {
        coro__fail(file, line, EINVAL, "coro_create: the function is NULL");
        return NULL;
    }
    coro__stack st;
    if (coro__stack_alloc(&st, attr, sizeof(struct coro) + 64, fmt ? fmt : fn_name) != 0)
        return NULL;
    /* The record sits at the top of the mapping, 64-byte aligned. */
    uintptr_t top = (uintptr_t)st.map + st.map_size;
    coro_t *co = (coro_t *)((top - sizeof(struct coro)) & ~(uintptr_t)63);
    memset(co, 0, sizeof *co);
    co->stack = st;
    co->fn = fn;
    co->arg = arg;
    co->fn_name = fn_name;
    co->state = CORO_CREATED;
    coro__named_vinit(&co->named, "coro", fn_name ? fn_name : "coro", fmt, ap);
    co->handle = coro__handle(co); /* the tag comes from the id */
    coro__stack_ctx_init(&co->stack, &co->ctx, entry, co);
    created(co, t->current, file, line);
    return co;
}

coro_t *coro_create_at(const char *file, int line, const coro_attr *attr, const char *fn_name,
                       coro_fn fn, void *arg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    coro_t *co = coro__create(file, line, attr, fn_name, fn, arg, fmt, ap);
    va_end(ap);
    return coro__handle(co);
}

coro_t *coro_spawn_at(const char *file, int line, const coro_attr *attr, const char *fn_name,
                      coro_fn fn, void *arg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    coro_t *co = coro__create(file, line, attr, fn_name, fn, arg, fmt, ap);
    va_end(ap);
    if (!co) return NULL;
    co->detached = true;
    if (coro__t.current->ws) { /* spawned by a scheduler coroutine: stays on the scheduler */
        co->ws = coro__t.current->ws;
        co->migrates = true;
        coro__ws_count(co);
    }
    coro_t *h = coro__handle(co); /* before the wake: on a scheduler it may be gone at once */
    coro__wakeinfo w = {.cause = "start", .by = coro__t.current->named.id};
    coro__wake(co, &w, file, line);
    return h;
}

coro_t *coro__checked(const char *file, int line, const coro_t *h, const char *fn)
{
    coro_t *co = coro__deref(h);
    if (!co && h)
        coro__fail(file, line, EINVAL,
                   "%s: the handle names a coroutine that was freed (a stale handle)", fn);
    else if (!co)
        coro__fail(file, line, EINVAL, "%s: the coroutine is NULL", fn);
    return co;
}

static __attribute__((noinline)) void trace_destroy(coro__thread *t, coro_t *co, bool in_wait,
                                                    const char *file, int line)
{
    coro_trace_ev ev = {.kind = CORO_EV_DESTROY, .file = file, .line = line};
    coro__ev_co(&ev, co);
    ev.by = coro_named_ref(&t->current->named);
    ev.depth = t->current->depth;
    ev.detail = in_wait ? "suspended in a wait, abandoned" : coro_state_name(co->state);
    coro_trace_emit(&ev);
}

int coro_destroy_at(const char *file, int line, coro_t *h)
{
    coro__thread *t = coro__thread_get();
    coro_t *co = coro__checked(file, line, h, "coro_destroy");
    if (!co) return -EINVAL;
    if (co->is_main)
        return coro__fail(file, line, EINVAL, "coro_destroy: cannot destroy a main coroutine");
    if (co->detached)
        return coro__fail(file, line, EINVAL,
                          "coro_destroy(%s): a spawned coroutine is reclaimed when it finishes",
                          co->named.name);
    /* A coroutine suspended in a wait is abandoned: its wait is unlinked
     * first, so nothing keeps a pointer into the stack about to be freed. */
    bool in_wait = co->state == CORO_SUSPENDED && co->block == CORO__BLOCK_EVENT && co->wait &&
                   !co->wait->ended;
    if (co->state == CORO_RUNNING || co->state == CORO_READY || co->awaiter ||
        (co->state == CORO_SUSPENDED && co->block != CORO__BLOCK_NONE && !in_wait))
        return coro__fail(file, line, EBUSY, "coro_destroy(%s): it is %s%s", co->named.name,
                          coro_state_name(co->state),
                          co->awaiter                         ? " and awaited"
                          : co->block == CORO__BLOCK_RESUMING ? " while it resumes another"
                          : co->block == CORO__BLOCK_AWAIT    ? " awaiting a child"
                          : co->block == CORO__BLOCK_EVENT    ? " waiting for an event"
                                                              : "");
    if (CORO_TRACE_ON()) trace_destroy(t, co, in_wait, file, line);
    if (in_wait) coro__wait_drop(co->wait);
    free_coro(co);
    return 0;
}

/* ---- transfers ---------------------------------------------------------- */

/* Is `x` somewhere up co's chain of resumers? */
static bool in_resumer_chain(const coro_t *co, const coro_t *x)
{
    for (const coro_t *r = co; r; r = r->resumer)
        if (r == x) return true;
    return false;
}

/* Every case of coro_resume, with its errors and its trace event. */
static __attribute__((noinline)) int resume_checked(const char *file, int line, coro_t *h)
{
    coro__thread *t = coro__thread_get();
    coro_t *self = t->current;
    coro_t *co = coro__checked(file, line, h, "coro_resume");
    if (!co) return -EINVAL;
    if (co == self)
        return coro__fail(file, line, EDEADLK, "coro_resume(%s): a coroutine cannot resume itself",
                          co->named.name);
    switch (co->state) {
    case CORO_DEAD:
        return coro__fail(file, line, EALREADY, "coro_resume(%s): it has finished", co->named.name);
    case CORO_RUNNING:
    case CORO_READY:
        return coro__fail(file, line, EBUSY, "coro_resume(%s): it is %s", co->named.name,
                          coro_state_name(co->state));
    case CORO_SUSPENDED:
        if (co->block == CORO__BLOCK_RESUMING && in_resumer_chain(self, co))
            return coro__fail(file, line, EDEADLK,
                              "coro_resume(%s): it is waiting for %s to give control back",
                              co->named.name, self->named.name);
        if (co->block != CORO__BLOCK_NONE)
            return coro__fail(
                file, line, EBUSY, "coro_resume(%s): it waits for %s; only that can resume it",
                co->named.name, co->block == CORO__BLOCK_AWAIT ? "a child to finish" : "an event");
        break;
    case CORO_CREATED:
        break;
    }
    /* main is never created, and suspends only with a block (it resumes or
     * awaits; it cannot yield or wait), so the tests above refuse it */
    const char *cause = co->state == CORO_CREATED ? "start" : "resume";
    co->resumer = self;
    co->scheduled = false;
    coro__move_before_transfer(self, CORO_SUSPENDED, CORO__BLOCK_RESUMING);
    transfer(t, self, co, cause, self->named.id, NULL, file, line);
    return 0;
}

/*
 * The usual case on its own, so that it keeps few values live across the
 * switch (fewer registers to save): a created or yielded coroutine resumed
 * while nothing records. Anything else, an error included, goes through
 * resume_checked, which tests it again.
 */
int coro_resume_at(const char *file, int line, coro_t *h)
{
    coro__thread *t = &coro__t;
    coro_t *self = t->current; /* NULL before the thread's first call */
    coro_t *co = coro__deref(h);
    if (__builtin_expect(!self || !co || CORO_TRACE_ON() ||
                             (co->state != CORO_CREATED &&
                              (co->state != CORO_SUSPENDED || co->block != CORO__BLOCK_NONE)),
                         0))
        return resume_checked(file, line, h);
    co->resumer = self;
    co->scheduled = false;
    coro__move_from(self, CORO_RUNNING, CORO_SUSPENDED, CORO__BLOCK_RESUMING);
    transfer(t, self, co, NULL, 0, NULL, NULL, 0);
    return 0;
}

/* Give control to co's resumer after a suspend or await was traced; the
 * resume is traced with `cause` (NULL: the caller knows nothing records). */
static inline __attribute__((always_inline)) void leave(coro__thread *t, coro_t *self,
                                                        const char *cause)
{
    coro_t *to = self->resumer;
    self->resumer = NULL;
    transfer(t, self, to, cause, 0, NULL, NULL, 0);
}

/*
 * Give control away from a coroutine, while nothing records: when
 * coro_run()'s loop resumed it (its resumer is t->runner) and another
 * coroutine is ready, straight to that one, as the loop would do next, in
 * one switch instead of two (into the loop and out); when the one ready is
 * itself (it yielded, alone), back to it without a switch. The loop's own
 * resumes are what the trace and the live table show, so the callers take
 * the long way when tracing (leave), and this one when inspecting.
 */
static inline __attribute__((always_inline)) void leave_scheduled(coro__thread *t, coro_t *self)
{
    coro_t *to = self->resumer;
    coro_t *next = t->rq_head;
    if (to == t->runner && next && !CORO__INSPECT_ON()) {
        coro__rq_pop(t);
        t->runs++;
        if (next == self) { /* ready again, and the loop would resume it now */
            coro__move_before_transfer(self, CORO_RUNNING, CORO__BLOCK_NONE);
            return;
        }
        next->resumer = to; /* as if the loop had resumed it */
        next->scheduled = true;
        to = next;
    }
    self->resumer = NULL;
    transfer(t, self, to, NULL, 0, NULL, NULL, 0);
}

/* The long way, traced: to the resumer, which records the resume. */
static __attribute__((noinline)) void leave_traced(coro__thread *t, coro_t *self)
{
    leave(t, self, "return");
}

/* then: the cause of the resumer's resume, when control goes straight back
 * to it (recorded with the suspend, coro_trace_brief), or NULL. */
static __attribute__((noinline)) void trace_yield(coro_t *self, const char *then, const char *file,
                                                  int line)
{
    coro_trace_brief e = {.kind = CORO_EV_SUSPEND,
                          .depth = self->depth,
                          .co = coro_named_ref(&self->named),
                          .to = coro_named_ref(&self->resumer->named),
                          .reason = "yield",
                          .file = file,
                          .line = line,
                          .then = then,
                          .then_depth = then ? self->resumer->depth : 0};
    coro_trace_emit_suspend(&e);
}

/* A scheduled coroutine that yields goes back on its scheduler's queue. */
static inline void requeue(coro__thread *t, coro_t *self, const char *file, int line)
{
    self->wake = (coro__wakeinfo){.cause = "ready", .by = self->named.id};
    if (self->ws) {
        /* queued by the worker once we are off this stack (ws.c) */
        coro__move_before_transfer(self, CORO_READY, CORO__BLOCK_NONE);
        t->ws_pending = self;
    } else {
        coro__wake(self, &self->wake, file, line);
    }
}

/* A yield while something records: its suspend event, the long way. */
static __attribute__((noinline)) void yield_traced(coro__thread *t, coro_t *self, const char *file,
                                                   int line)
{
    if (!self->scheduled) { /* straight back: the suspend and the resume in one */
        trace_yield(self, "return", file, line);
        coro__move_from(self, CORO_RUNNING, CORO_SUSPENDED, CORO__BLOCK_NONE);
        leave(t, self, NULL);
        return;
    }
    trace_yield(self, NULL, file, line);
    coro__move_from(self, CORO_RUNNING, CORO_SUSPENDED, CORO__BLOCK_NONE);
    requeue(t, self, file, line);
    leave_traced(t, self);
}

/* Every case of coro_yield. */
static __attribute__((noinline)) void yield_checked(const char *file, int line)
{
    coro__thread *t = coro__thread_get();
    coro_t *self = t->current;
    if (self->is_main || !self->resumer) {
        /* Nobody to yield to: let the ready coroutines run once each. */
        for (size_t n = t->rq_len; n && t->rq_head; n--) coro__run_ready(coro__rq_pop(t));
        return;
    }
    if (CORO_TRACE_ON()) {
        yield_traced(t, self, file, line);
        return;
    }
    coro__move_from(self, CORO_RUNNING, CORO_SUSPENDED, CORO__BLOCK_NONE);
    if (self->scheduled) requeue(t, self, file, line);
    leave_scheduled(t, self);
}

/* The usual case on its own (see coro_resume_at): back to the resumer,
 * not scheduled, while nothing records. */
void coro_yield_at(const char *file, int line)
{
    coro__thread *t = &coro__t;
    coro_t *self = t->current;
    if (__builtin_expect(
            !self || self->is_main || !self->resumer || self->scheduled || CORO_TRACE_ON(), 0)) {
        yield_checked(file, line);
        return;
    }
    coro__move_from(self, CORO_RUNNING, CORO_SUSPENDED, CORO__BLOCK_NONE);
    leave(t, self, NULL);
}

void coro__park(coro__thread *t, coro_t *self, coro__wait *w)
{
    (void)w;
    coro__move_from(self, CORO_RUNNING, CORO_SUSPENDED, CORO__BLOCK_EVENT);
    if (CORO_TRACE_ON())
        leave_traced(t, self);
    else
        leave_scheduled(t, self);
}

/* Does x wait (directly or through a chain of awaits) for co? */
static bool awaits(const coro_t *co, const coro_t *x)
{
    for (const coro_t *a = co->awaiter; a; a = a->awaiter)
        if (a == x) return true;
    return false;
}

/* main (or a coroutine nobody resumed) has nobody to hand control to, so
 * it drives: it starts the child, then runs ready coroutines (and the event
 * loop, if one is running) until the child's finish continues here. */
static int await_from_main(coro__thread *t, coro_t *self, coro_t *child, const char *file, int line)
{
    while (child->state != CORO_DEAD) {
        if (child->state == CORO_CREATED) {
            /* main acts as the scheduler while it waits, so a yield in the
             * child (or below) requeues it. */
            child->resumer = self;
            child->scheduled = true;
            coro__move_before_transfer(self, CORO_SUSPENDED, CORO__BLOCK_AWAIT);
            transfer(t, self, child, "start", self->named.id, NULL, file, line);
        } else if (child->state == CORO_SUSPENDED && child->block == CORO__BLOCK_NONE) {
            /* It yielded to us: keep it going. */
            child->resumer = self;
            coro__move_before_transfer(self, CORO_SUSPENDED, CORO__BLOCK_AWAIT);
            transfer(t, self, child, "resume", self->named.id, NULL, file, line);
        } else if (t->rq_head) {
            coro__run_ready(coro__rq_pop(t));
        } else if (!t->drive || !t->drive(t->drive_arg)) {
            child->awaiter = NULL;
            self->awaiting = NULL;
            return coro__fail(file, line, EDEADLK,
                              "coro_await(%s): it is %s and nothing can wake it", child->named.name,
                              coro_state_name(child->state));
        }
    }
    return 0;
}

/* A coroutine gives control away while it waits: to the child if it has
 * not started (which inherits its resumer), else to its own resumer. The
 * child's finish continues it. */
static void await_from_coro(coro__thread *t, coro_t *self, coro_t *child, const char *file,
                            int line)
{
    coro__move_before_transfer(self, CORO_SUSPENDED, CORO__BLOCK_AWAIT);
    if (child->state == CORO_CREATED) {
        child->resumer = self->resumer;
        child->scheduled = self->scheduled;
        self->resumer = NULL;
        transfer(t, self, child, "start", self->named.id, NULL, file, line);
    } else {
        leave(t, self, "return");
    }
}

int coro_await_at(const char *file, int line, coro_t *h, void **result)
{
    coro__thread *t = coro__thread_get();
    coro_t *self = t->current;
    coro_t *child = coro__checked(file, line, h, "coro_await");
    if (!child) return -EINVAL;
    if (child == self)
        return coro__fail(file, line, EDEADLK, "coro_await(%s): a coroutine cannot await itself",
                          child->named.name);
    if (child->detached)
        return coro__fail(file, line, EPERM,
                          "coro_await(%s): a spawned coroutine cannot be awaited; create it "
                          "with coro_create",
                          child->named.name);
    if (child->awaiter)
        return coro__fail(file, line, EBUSY, "coro_await(%s): %s already awaits it",
                          child->named.name, child->awaiter->named.name);
    if (awaits(self, child))
        return coro__fail(file, line, EDEADLK,
                          "coro_await(%s): it is waiting for %s, so neither could finish",
                          child->named.name, self->named.name);
    if (child->is_main)
        return coro__fail(file, line, EINVAL, "coro_await(%s): main never finishes",
                          child->named.name);

    if (CORO_TRACE_ON()) {
        coro_trace_ev ev = {.kind = CORO_EV_AWAIT, .file = file, .line = line};
        coro__ev_co(&ev, self);
        ev.to = coro_named_ref(&child->named);
        if (child->state == CORO_DEAD) ev.detail = "already finished";
        coro_trace_emit(&ev);
    }
    if (child->state != CORO_DEAD) {
        child->awaiter = self;
        child->depth = self->depth + 1;
        self->awaiting = child;
        if (!coro__can_block(self)) {
            int rc = await_from_main(t, self, child, file, line);
            if (rc) return rc;
        } else {
            await_from_coro(t, self, child, file, line);
        }
    }
    if (result) *result = child->result;
    return 0;
}

/* ---- asking and naming ------------------------------------------------- */

/* The getters take handles; a stale one (see coro_int.h) reads as a dead,
 * nameless coroutine rather than as whoever reuses the record. */
coro_t *coro_self(void)
{
    return coro__handle(coro__thread_get()->current);
}
bool coro_is_main(const coro_t *h)
{
    const coro_t *co = coro__deref(h);
    return co && co->is_main;
}
coro_state coro_get_state(const coro_t *h)
{
    const coro_t *co = coro__deref(h);
    return co ? co->state : CORO_DEAD;
}
const char *coro_name(const coro_t *h)
{
    const coro_t *co = coro__deref(h);
    return co ? co->named.name : "(freed coroutine)";
}
uint64_t coro_id(const coro_t *h)
{
    const coro_t *co = coro__deref(h);
    return co ? co->named.id : 0;
}
void *coro_result(const coro_t *h)
{
    const coro_t *co = coro__deref(h);
    return co && co->state == CORO_DEAD ? co->result : NULL;
}
size_t coro_stack_size(const coro_t *h)
{
    const coro_t *co = coro__deref(h);
    return co ? co->stack.size : 0;
}
coro_named *coro_named_of(coro_t *h)
{
    coro_t *co = coro__deref(h);
    return co ? &co->named : NULL;
}
coro_t *coro_resumer(const coro_t *h)
{
    const coro_t *co = coro__deref(h);
    return co ? coro__handle(co->resumer) : NULL;
}
coro_t *coro_awaiter(const coro_t *h)
{
    const coro_t *co = coro__deref(h);
    return co ? coro__handle(co->awaiter) : NULL;
}

const char *coro_state_name(coro_state s)
{
    switch (s) {
    case CORO_CREATED:
        return "created";
    case CORO_READY:
        return "ready";
    case CORO_RUNNING:
        return "running";
    case CORO_SUSPENDED:
        return "suspended";
    case CORO_DEAD:
        return "dead";
    }
    return "?";
}

int coro_rename_at(const char *file, int line, coro_t *h, const char *fmt, ...)
{
    coro__thread_get();
    coro_t *co = coro__checked(file, line, h, "coro_rename");
    if (!co) return -EINVAL;
    if (!fmt) return coro__fail(file, line, EINVAL, "coro_rename: NULL argument");
    char old[sizeof co->named.buf + 8];
    snprintf(old, sizeof old, "%s", co->named.name);
    if (strlen(co->named.name) >= sizeof old) memcpy(old + sizeof old - 4, "...", 4);
    va_list ap;
    va_start(ap, fmt);
    int rc = coro_named_vrename(&co->named, fmt, ap);
    va_end(ap);
    if (rc) return coro__fail(file, line, -rc, "coro_rename: no memory for the new name");
    co->irenamed = true; /* its row in the inspection table, at its next change */
    if (CORO_TRACE_ON()) {
        coro_trace_ev ev = {.kind = CORO_EV_RENAME, .detail = old, .file = file, .line = line};
        coro__ev_co(&ev, co);
        ev.by = coro_named_ref(&coro__t.current->named);
        ev.depth = coro__t.current->depth;
        coro_trace_emit(&ev);
    }
    return 0;
}

void coro_log_at(const char *file, int line, const char *fmt, ...)
{
    coro__thread *t = coro__thread_get();
    if (!CORO_TRACE_ON()) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    coro_trace_ev ev = {.kind = CORO_EV_LOG, .detail = buf, .file = file, .line = line};
    coro__ev_co(&ev, t->current);
    coro_trace_emit(&ev);
}
