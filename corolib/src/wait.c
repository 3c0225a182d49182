/*
 * wait.c - the one wait: every blocking operation of the runtime (a
 * socket's recv, a raw fd, a sleep, a mutex, a channel, a wait group, the
 * syscall hooks) suspends here, in a record (coro__wait) on the waiter's
 * own stack, and ends here, by its waker, a cancel, or a teardown.
 *
 *   coro__wait_for:   gate -> attach -> list -> trace suspend -> park
 *                     ... -> unlist -> result
 *   coro__wait_end:   detach -> result -> wake (ready queue)
 *
 * The record says what is awaited in typed fields (op, object, fd), so the
 * wait path formats no text unless a trace records it. The kind of wait
 * supplies its functions (coro__wait_ops): attach links the record into
 * the object (a socket's waiter slot and the timer heap, a mutex's queue),
 * detach unlinks it, describe says it in words, move re-links it when a
 * copy-mode coroutine's stack, record included, is copied off the shared
 * stack or back (coro__wait_moved, called by stack_copy.c). With them, any
 * wait can be cancelled (coro_cancel_wait), dropped when its coroutine is
 * destroyed, and ended when its context goes away, without knowing what it
 * waits on.
 * libdill's clauses (cr.c) are the model: a clause with a cancel callback.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coro/io.h"
#include "coro_int.h"

void coro__assert_failed(const char *what, const char *file, int line, const char *fn)
{
    char msg[512];
    int n = snprintf(msg, sizeof msg, "corolib: %s:%d: %s: invariant broken: %s\n", file, line, fn,
                     what);
    if (n > 0) {
        ssize_t r = write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
        (void)r;
    }
    abort();
}

bool coro_may_block(void)
{
    return coro__can_block(coro__thread_get()->current);
}

void coro__wait_describe(const coro__wait *w, char *buf, size_t n)
{
    if (w->ops->describe)
        w->ops->describe(w, buf, n);
    else
        coro_trace_describe(buf, n, w->op, w->fd, w->obj ? w->obj->name : NULL);
}

static void list_add(coro__thread *t, coro__wait *w)
{
    w->prev = NULL;
    w->next = t->waits;
    if (t->waits) t->waits->prev = w;
    t->waits = w;
    t->waiting[w->kind]++;
}

static void list_del(coro__thread *t, coro__wait *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        t->waits = w->next;
    if (w->next) w->next->prev = w->prev;
    w->prev = w->next = NULL;
    if (!w->ended) t->waiting[w->kind]--;
}

static __attribute__((noinline)) void trace_suspend(coro_t *self, const coro__wait *w,
                                                    const char *file, int line)
{
    char detail[160];
    coro_trace_ev ev = {.kind = CORO_EV_SUSPEND, .reason = w->reason};
    if (w->ops->describe) {
        w->ops->describe(w, detail, sizeof detail);
        ev.detail = detail;
    } else {
        ev.op = w->op; /* the tracer words it (coro_trace_describe) when it must */
    }
    ev.file = file;
    ev.line = line;
    if (w->obj) ev.obj = coro_named_ref(w->obj);
    if (w->fd >= 0) {
        ev.fd = w->fd;
        ev.has |= CORO_EVH_FD;
    }
    coro__ev_co(&ev, self);
    ev.to = coro_named_ref(&self->resumer->named);
    coro_trace_emit(&ev);
}

/* The refusals are out of line: their text buffers would otherwise be in
 * coro__wait_for's frame, on the stack of every waiting coroutine (memory,
 * in the copy mode: 160 bytes of each one's saved stack). */
static __attribute__((noinline, cold)) int refuse_main(const coro__wait *w, const char *file,
                                                       int line)
{
    char what[160];
    coro__wait_describe(w, what, sizeof what);
    return coro__fail(file, line, EPERM,
                      "%s: must be called inside a coroutine run by a scheduler or a "
                      "context (not main)",
                      what);
}

static __attribute__((noinline, cold)) int refuse_copy(const coro_t *self, const coro__wait *w,
                                                       const char *file, int line)
{
    char what[160];
    coro__wait_describe(w, what, sizeof what);
    return coro__fail(file, line, ENOTSUP,
                      "%s: coroutine '%s' has a copy stack, which moves its wait record away "
                      "while it waits, and this wait cannot follow it (io_uring holds its "
                      "address); use the epoll backend, or the slab or guarded stack mode",
                      what, self->named.name);
}

/* The wait itself, in two copies: `traced` is a constant in each, so the
 * untraced one keeps nothing alive across the attach for a suspend event. */
static inline __attribute__((always_inline)) int wait(coro__thread *t, coro_t *self, coro__wait *w,
                                                      const char *file, int line, bool traced)
{
    w->co = self;
    w->result = 0;
    w->ended = false;
    int rc = w->ops->attach ? w->ops->attach(w, file, line) : 0;
    if (rc) return rc;
    list_add(t, w);
    self->wait = w;
    if (traced) trace_suspend(self, w, file, line);
    coro__park(t, self, w);
    /* Only coro__wait_end makes a waiting coroutine ready. */
    CORO__ASSERT(w->ended && self->wait == w);
    self->wait = NULL;
    list_del(&coro__t, w);
    return w->result;
}

static __attribute__((noinline)) int wait_traced(coro__thread *t, coro_t *self, coro__wait *w,
                                                 const char *file, int line)
{
    return wait(t, self, w, file, line, true);
}

int coro__wait_for(coro__wait *w, const char *file, int line)
{
    coro__thread *t = coro__thread_get();
    coro_t *self = t->current;
    if (!coro__can_block(self)) return refuse_main(w, file, line);
    if (self->stack.mode == CORO__COPY && !w->ops->move) return refuse_copy(self, w, file, line);
    if (CORO_TRACE_ON()) return wait_traced(t, self, w, file, line);
    return wait(t, self, w, file, line, false);
}

void coro__wait_moved(coro_t *co, const char *lo, const char *hi, ptrdiff_t delta)
{
    coro__wait *old = co->wait;
    /* Not on the stack that moved: AddressSanitizer's fake stack holds it. */
    if (!old || (const char *)old < lo || (const char *)old >= hi) return;
    coro__wait *w = (coro__wait *)((char *)old + delta);
    CORO__ASSERT(w->co == co && w->ops->move); /* wait_for refused kinds that cannot move */
    co->wait = w;
    if (w->prev) {
        CORO__ASSERT(w->prev->next == old);
        w->prev->next = w;
    } else {
        CORO__ASSERT(coro__t.waits == old);
        coro__t.waits = w;
    }
    if (w->next) {
        CORO__ASSERT(w->next->prev == old);
        w->next->prev = w;
    }
    w->ops->move(w, lo, hi, delta);
}

static const char *result_name(int result)
{
    switch (result) {
    case -ETIMEDOUT:
        return "result -ETIMEDOUT";
    case -ECANCELED:
        return "result -ECANCELED";
    case -EPIPE:
        return "result -EPIPE";
    default:
        return "result: error";
    }
}

bool coro__wait_end(coro__wait *w, int result, coro__wakeinfo *wi, const char *file, int line)
{
    if (w->ended) return false;
    w->ops->detach(w);
    w->ended = true;
    w->result = result;
    coro__t.waiting[w->kind]--;
    if (result) {
        wi->value = result;
        wi->has |= CORO_EVH_VALUE;
        if (result < 0) wi->detail = result_name(result); /* > 0: bytes, an fd (io_uring) */
    }
    coro__wake(w->co, wi, file, line);
    return true;
}

bool coro__wait_cancel(coro__wait *w, const char *file, int line)
{
    coro__wakeinfo wi = {.cause = "wake", .by = coro__thread_get()->current->named.id};
    if (w->obj) wi.obj = coro_named_ref(w->obj);
    if (w->fd >= 0) {
        wi.fd = w->fd;
        wi.has |= CORO_EVH_FD;
    }
    return coro__wait_end(w, -ECANCELED, &wi, file, line);
}

void coro__wait_drop(coro__wait *w)
{
    CORO__ASSERT(!w->ended); /* an ended wait's coroutine is ready: not destroyable */
    w->ops->detach(w);
    list_del(&coro__t, w);
    w->ended = true;
    w->co->wait = NULL;
}

int coro_cancel_wait(coro_t *h)
{
    coro__thread_get();
    coro_t *co = coro__checked(NULL, 0, h, "coro_cancel_wait");
    if (!co) return -EINVAL;
    if (!co->wait || co->wait->ended) return -ESRCH;
    coro__wait_cancel(co->wait, NULL, 0);
    return 0;
}
