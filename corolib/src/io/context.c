/*
 * context.c - the io_context's loop: ready coroutines, the kernel wait,
 * timers, posts. In the spirit of Redis's ae.c, the whole loop is here and
 * the kernel's mechanism is a backend (backend.h): epoll, the reactor, or
 * io_uring, the proactor, chosen per context at creation.
 *
 * Waking and running are separate steps: a backend's dispatch only moves
 * waiting coroutines to the ready queue, so nothing can close a socket
 * while the loop is still walking the events that name it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "coro/sync.h"
#include "io_int.h"

static _Thread_local coro_ctx *thread_ctx;

coro_ctx *coro_ctx_current(void)
{
    return thread_ctx;
}

static bool drive(void *arg);

void coro__trace_object(const coro_named *n, const char *kind, const char *file, int line)
{
    if (!CORO_TRACE_ON()) return;
    coro__thread *t = coro__thread_get();
    coro_trace_ev ev = {.kind = CORO_EV_CREATE, .obj_kind = kind, .file = file, .line = line};
    coro__ev_co(&ev, t->current);
    ev.obj = coro_named_ref(n);
    coro_trace_emit(&ev);
}

/* The backend a context gets when its options do not say:
 * CORO_IO_BACKEND=io_uring|epoll, else epoll. */
static coro_io_backend default_backend(void)
{
    const char *e = getenv("CORO_IO_BACKEND");
    if (e && (!strcmp(e, "io_uring") || !strcmp(e, "uring"))) return CORO_IO_URING;
    return CORO_IO_EPOLL;
}

/* Start the chosen backend; io_uring falls back to epoll, saying why once
 * per process (it may be disabled by sysctl, seccomp or an old kernel). */
static int start_backend(coro_ctx *c, coro_io_backend want)
{
    static atomic_bool told;
    if (want == CORO_IO_DEFAULT) want = default_backend();
    if (want == CORO_IO_URING) {
        int rc = coro__backend_uring ? coro__backend_uring->init(c) : -ENOSYS;
        if (rc == 0) {
            c->be = coro__backend_uring;
            return 0;
        }
        if (!atomic_exchange(&told, true))
            fprintf(stderr,
                    "corolib: io_uring is not available (%s%s): contexts use epoll instead\n",
                    coro__backend_uring ? "io_uring_queue_init: " : "built without liburing",
                    coro__backend_uring ? strerror(-rc) : "");
    }
    c->be = &coro__backend_epoll;
    return c->be->init(c);
}

const char *coro_ctx_backend(const coro_ctx *c)
{
    return c ? c->be->name : NULL;
}

coro_ctx *coro_ctx_create(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    coro_ctx *c = coro__ctx_vcreate(NULL, fmt, ap);
    va_end(ap);
    return c;
}

coro_ctx *coro_ctx_create_opts(const coro_ctx_options *opt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    coro_ctx *c = coro__ctx_vcreate(opt, fmt, ap);
    va_end(ap);
    return c;
}

coro_ctx *coro__ctx_vcreate(const coro_ctx_options *opt, const char *fmt, va_list ap)
{
    coro__thread_get();
    if (thread_ctx) {
        coro__fail(NULL, 0, EBUSY, "coro_ctx_create: this thread already has %s",
                   thread_ctx->named.name);
        return NULL;
    }
    coro_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        coro__fail(NULL, 0, ENOMEM, "coro_ctx_create: out of memory");
        return NULL;
    }
    c->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int rc = c->evfd < 0 ? -errno : start_backend(c, opt ? opt->backend : CORO_IO_DEFAULT);
    if (rc) {
        if (c->evfd >= 0) close(c->evfd);
        free(c);
        coro__fail(NULL, 0, -rc, "coro_ctx_create: %s", strerror(-rc));
        return NULL;
    }
    coro_named_vinit(&c->named, "context", fmt, ap);
    if (!fmt) coro_named_rename(&c->named, "ctx#%llu", (unsigned long long)c->named.id);
    pthread_mutex_init(&c->post_lock, NULL);
    c->thread = pthread_self();
    thread_ctx = c;
    /* main's coro_await() of an io-driven child turns this loop. */
    coro__t.drive = drive;
    coro__t.drive_arg = c;
    coro__trace_object(&c->named, "context", NULL, 0);
    return c;
}

/* Waits on c that have not yet returned to their coroutine. */
static bool has_waits_on(coro__thread *t, coro_ctx *c)
{
    for (coro__wait *w = t->waits; w; w = w->next)
        if (w->home == c) return true;
    return false;
}

int coro_ctx_destroy(coro_ctx *c)
{
    if (!c) return -EINVAL;
    coro__thread *t = coro__thread_get();
    if (c->running)
        return coro__fail(NULL, 0, EBUSY, "coro_ctx_destroy(%s): its loop is running",
                          c->named.name);
    if (!pthread_equal(c->thread, pthread_self()))
        return coro__fail(NULL, 0, EPERM, "coro_ctx_destroy(%s): called on another thread",
                          c->named.name);
    /* Coroutines still waiting on it end their wait with -ECANCELED, and
     * run now, while their sockets still exist, so they can unwind; any
     * wait they start from here on is refused at once. */
    c->closing = true;
    for (coro__wait *w = t->waits; w; w = w->next)
        if (w->home == c && !w->ended) coro__wait_cancel(w, NULL, 0);
    for (size_t steps = 0; steps < 100000 && t->rq_head && has_waits_on(t, c); steps++)
        coro__run_ready(coro__rq_pop(t));
    while (c->socks) {
        if (c->socks->adopted)
            coro__sock_forget(c->socks);
        else
            coro_close(c->socks);
    }
    coro__fdwait_release(c);
    if (thread_ctx == c) {
        thread_ctx = NULL;
        coro__t.drive = NULL;
        coro__t.drive_arg = NULL;
    }
    c->be->fini(c);
    close(c->evfd);
    for (coro__post *p = c->post_head, *n; p; p = n) {
        n = p->next;
        free(p);
    }
    pthread_mutex_destroy(&c->post_lock);
    free(c->heap);
    coro_named_fini(&c->named);
    free(c);
    return 0;
}

void coro_ctx_stop(coro_ctx *c)
{
    atomic_store(&c->stop, true);
    uint64_t one = 1;
    ssize_t r = write(c->evfd, &one, sizeof one);
    (void)r;
}

/* Queue p and wake the loop: cannot fail, so callers allocate first. */
static void post_enqueue(coro_ctx *c, coro__post *p)
{
    pthread_mutex_lock(&c->post_lock);
    if (c->post_tail)
        c->post_tail->next = p;
    else
        c->post_head = p;
    c->post_tail = p;
    atomic_fetch_add(&c->posts, 1);
    pthread_mutex_unlock(&c->post_lock);
    uint64_t one = 1;
    ssize_t r = write(c->evfd, &one, sizeof one);
    (void)r; /* EAGAIN: the counter is already non-zero, the loop wakes anyway */
}

int coro_ctx_post(coro_ctx *c, void (*fn)(void *), void *arg)
{
    coro__post *p = malloc(sizeof *p);
    if (!p) return -ENOMEM;
    *p = (coro__post){NULL, fn, arg};
    post_enqueue(c, p);
    return 0;
}

static void run_posts(coro_ctx *c)
{
    uint64_t n;
    while (read(c->evfd, &n, sizeof n) > 0) {
    }
    pthread_mutex_lock(&c->post_lock);
    coro__post *p = c->post_head;
    c->post_head = c->post_tail = NULL;
    pthread_mutex_unlock(&c->post_lock);
    while (p) {
        coro__post *next = p->next;
        if (CORO_TRACE_ON()) {
            coro_trace_ev ev = {.kind = CORO_EV_POST, .detail = "posted function runs"};
            coro__ev_co(&ev, coro__t.current);
            ev.obj = coro_named_ref(&c->named);
            coro_trace_emit(&ev);
        }
        p->fn(p->arg);
        atomic_fetch_sub(&c->posts, 1);
        free(p);
        p = next;
    }
}

void coro__io_wake(coro_ctx *c, coro__waiter *w, int result, const char *cause, uint32_t events)
{
    if (w->base.ended) return;
    coro__wakeinfo wi = {.cause = cause, .by = 0, .wait = c->waits};
    wi.has = CORO_EVH_WAIT;
    if (w->sock) {
        wi.obj = coro_named_ref(&w->sock->named);
        wi.fd = w->sock->fd;
        wi.events = events;
        wi.has |= CORO_EVH_FD | CORO_EVH_EVENTS;
    } else {
        wi.obj = coro_named_ref(&c->named);
    }
    coro__wait_end(&w->base, result, &wi, NULL, 0);
}

int coro__io_register(coro_ctx *c, coro_sock *s)
{
    int rc = c->be->add(c, s);
    if (rc) return rc;
    s->prev = NULL;
    s->next = c->socks;
    if (c->socks) c->socks->prev = s;
    c->socks = s;
    return 0;
}

void coro__io_unregister(coro_sock *s)
{
    coro_ctx *c = s->ctx;
    for (int dir = 0; dir < 2; dir++)
        if (s->waiter[dir]) coro__wait_cancel(&s->waiter[dir]->base, NULL, 0);
    c->be->del(c, s);
    if (s->prev)
        s->prev->next = s->next;
    else
        c->socks = s->next;
    if (s->next) s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

/* ---- the io wait and the sleep: kinds of the one wait (wait.c) ---------- */

static int io_attach(coro__wait *base, const char *file, int line)
{
    coro__waiter *w = (coro__waiter *)base;
    if (w->ctx->closing)
        return coro__fail(file, line, ECANCELED, "%s: %s is being destroyed", base->op,
                          w->ctx->named.name);
    if (w->sock) {
        coro__waiter *other = w->sock->waiter[w->dir];
        if (other)
            return coro__fail(file, line, EBUSY, "%s on %s: %s already waits to %s it", base->op,
                              w->sock->named.name, other->base.co->named.name,
                              w->dir == CORO__READ ? "read" : "write");
        int rc = w->ctx->be->arm(w->ctx, w);
        if (rc)
            return coro__fail(file, line, -rc, "%s on %s: %s", base->op, w->sock->named.name,
                              strerror(-rc));
        w->sock->waiter[w->dir] = w;
    }
    if (base->ms >= 0) coro__timer_add(w->ctx, &w->timer, coro__now_ms() + base->ms);
    return 0;
}

static void io_detach(coro__wait *base)
{
    coro__waiter *w = (coro__waiter *)base;
    coro__timer_del(w->ctx, &w->timer);
    if (w->sock && w->sock->waiter[w->dir] == w) {
        w->sock->waiter[w->dir] = NULL;
        w->ctx->be->disarm(w->ctx, w);
    }
}

/* The record moved with a copy-mode stack: the heap and the socket's slot
 * point at it (the epoll backend keeps no address of it). */
static void io_move(coro__wait *base, const char *lo, const char *hi, ptrdiff_t delta)
{
    (void)lo, (void)hi;
    coro__waiter *w = (coro__waiter *)base, *old = (coro__waiter *)((char *)w - delta);
    w->timer.waiter = w;
    if (w->timer.index != SIZE_MAX) {
        CORO__ASSERT(w->ctx->heap[w->timer.index] == &old->timer);
        w->ctx->heap[w->timer.index] = &w->timer;
    }
    if (w->sock && w->sock->waiter[w->dir] == old) w->sock->waiter[w->dir] = w;
}

static void sleep_describe(const coro__wait *w, char *buf, size_t n)
{
    snprintf(buf, n, "sleep %lld ms", (long long)w->ms);
}

static const coro__wait_ops io_ops = {io_attach, io_detach, NULL, io_move};
/* A socket wait on a backend that keeps the record's address (io_uring's
 * poll request): it cannot move, so the one wait refuses a copy-mode waiter. */
static const coro__wait_ops io_pinned_ops = {io_attach, io_detach, NULL, NULL};
static const coro__wait_ops sleep_ops = {io_attach, io_detach, sleep_describe, io_move};

int coro__io_wait(const char *file, int line, coro_sock *s, int dir, int64_t timeout_ms,
                  const char *reason, const char *op)
{
    coro__waiter w = {.ctx = s->ctx, .sock = s, .dir = dir};
    const coro__wait_ops *ops = s->ctx->be == &coro__backend_epoll ? &io_ops : &io_pinned_ops;
    w.base = (coro__wait){.ops = ops, .kind = CORO__WAIT_IO, .reason = reason, .op = op};
    w.base.obj = &s->named;
    w.base.home = s->ctx;
    w.base.fd = s->fd;
    w.base.ms = timeout_ms < 0 ? -1 : timeout_ms;
    w.timer.index = SIZE_MAX;
    w.timer.waiter = &w;
    return coro__wait_for(&w.base, file, line);
}

int coro_sleep_at(const char *file, int line, int64_t ms)
{
    coro_ctx *c = thread_ctx;
    if (!c)
        return coro__fail(file, line, EPERM,
                          "coro_sleep: must be called inside a coroutine run by a context");
    coro__waiter w = {.ctx = c};
    w.base = (coro__wait){.ops = &sleep_ops, .kind = CORO__WAIT_SLEEP, .reason = "timer"};
    w.base.op = "sleep";
    w.base.obj = &c->named;
    w.base.home = c;
    w.base.fd = -1;
    w.base.ms = ms > 0 ? ms : 0;
    w.timer.index = SIZE_MAX;
    w.timer.waiter = &w;
    return coro__wait_for(&w.base, file, line);
}

static void fire_timers(coro_ctx *c)
{
    if (!coro__timer_peek(c)) return; /* no timer: no clock to read */
    int64_t now = coro__now_ms();
    coro__timer *t;
    while ((t = coro__timer_peek(c)) && t->deadline_ms <= now) {
        coro__waiter *w = t->waiter;
        coro__timer_del(c, t);
        if (CORO_TRACE_ON()) {
            coro_trace_ev ev = {.kind = CORO_EV_TIMER, .detail = w->sock ? "deadline" : "sleep"};
            coro__ev_co(&ev, w->base.co);
            ev.obj = w->sock ? coro_named_ref(&w->sock->named) : coro_named_ref(&c->named);
            coro_trace_emit(&ev);
        }
        coro__io_wake(c, w, w->sock ? -ETIMEDOUT : 0, "timer", 0);
    }
}

void coro__trace_dispatch(coro_ctx *c, coro_sock *s, coro__waiter *w, uint32_t events)
{
    if (!CORO_TRACE_ON()) return;
    coro_trace_ev ev = {
        .kind = CORO_EV_EPOLL_DISPATCH, .fd = s->fd, .events = events, .wait = c->waits};
    ev.has = CORO_EVH_FD | CORO_EVH_EVENTS | CORO_EVH_WAIT;
    coro__ev_co(&ev, w->base.co);
    ev.obj = coro_named_ref(&s->named);
    ev.obj_kind = s->listener ? "acceptor" : "conn";
    coro_trace_emit(&ev);
}

void coro__trace_loop_wait(coro_ctx *c, int timeout, int n)
{
    c->waits++;
    if (!CORO_TRACE_ON()) return;
    coro_trace_ev ev = {
        .kind = CORO_EV_EPOLL_WAIT, .timeout_ms = timeout, .nready = n, .wait = c->waits};
    ev.has = CORO_EVH_TIMEOUT | CORO_EVH_NREADY | CORO_EVH_WAIT;
    if (c->be != &coro__backend_epoll) ev.reason = c->be->name; /* "io_uring" */
    coro__ev_co(&ev, coro__t.current);
    ev.obj = coro_named_ref(&c->named);
    coro_trace_emit(&ev);
}

/* Is anything left that could ever make a coroutine runnable? */
static bool has_work(coro_ctx *c, coro__thread *t)
{
    return t->rq_head || t->waiting[CORO__WAIT_IO] || t->waiting[CORO__WAIT_SLEEP] || c->nheap ||
           atomic_load(&c->posts);
}

/* One turn of the loop. block: wait in epoll_wait for the nearest timer
 * (or forever) when nothing is ready. Returns false when nothing is left. */
static bool turn(coro_ctx *c, bool block)
{
    coro__thread *t = coro__thread_get();
    for (size_t n = t->rq_len; n && t->rq_head; n--) coro__run_ready(coro__rq_pop(t));
    if (atomic_load(&c->stop) || !has_work(c, t)) return false;
    int timeout = 0;
    if (block && !t->rq_head) {
        coro__timer *tm = coro__timer_peek(c);
        if (tm) {
            int64_t d = tm->deadline_ms - coro__now_ms();
            timeout = d < 0 ? 0 : d > 3600000 ? 3600000 : (int)d;
        } else {
            timeout = -1;
        }
    }
    bool posted = false;
    c->be->wait(c, timeout, &posted);
    fire_timers(c);
    if (posted || atomic_load(&c->posts)) run_posts(c);
    return true;
}

static bool drive(void *arg)
{
    return turn(arg, true);
}

int coro_ctx_run(coro_ctx *c)
{
    coro__thread *t = coro__thread_get();
    if (!pthread_equal(c->thread, pthread_self()))
        return coro__fail(NULL, 0, EPERM, "coro_ctx_run(%s): called on another thread",
                          c->named.name);
    if (!t->current->is_main)
        return coro__fail(NULL, 0, EPERM,
                          "coro_ctx_run(%s): must be called from the thread's main coroutine",
                          c->named.name);
    if (c->running)
        return coro__fail(NULL, 0, EBUSY, "coro_ctx_run(%s): already running", c->named.name);
    c->running = true;
    /* A stop sent before run() started counts: clearing it here would lose
     * a stop() that another thread sent while this one was starting up. */
    while (turn(c, true)) {
    }
    c->running = false;
    /* Nothing left that could wake the coroutines blocked on sync objects. */
    if (!atomic_load(&c->stop) && coro_sync_blocked()) {
        coro__sync_report_stuck();
        return -EDEADLK;
    }
    atomic_store(&c->stop, false); /* consumed: the next run() runs */
    return 0;
}

/* Runs on the receiving thread, from its loop. */
static void receive(void *arg)
{
    coro_t *co = arg;
    coro__wakeinfo w = {.cause = "post", .by = coro__thread_get()->current->named.id};
    w.obj = coro_named_ref(&coro_ctx_current()->named);
    coro__wake(co, &w, NULL, 0);
}

int coro_ctx_send(coro_ctx *to, coro_t *h)
{
    coro_t *co = coro__checked(NULL, 0, h, "coro_ctx_send");
    if (!to || !co || co->is_main) return -EINVAL;
    if (co->state == CORO_RUNNING || co->state == CORO_READY || co->state == CORO_DEAD ||
        (co->state == CORO_SUSPENDED && co->block != CORO__BLOCK_NONE) || co->awaiter)
        return coro__fail(NULL, 0, EBUSY, "coro_ctx_send(%s): it is %s", co->named.name,
                          coro_state_name(co->state));
    /* Allocate first: a failed post must leave co exactly as it was. */
    coro__post *p = malloc(sizeof *p);
    if (!p) return coro__fail(NULL, 0, ENOMEM, "coro_ctx_send(%s): out of memory", co->named.name);
    *p = (coro__post){NULL, receive, co};
    co->migrates = true;
    co->resumer = NULL;
    coro__move(co, co->state, CORO__BLOCK_EVENT); /* nobody here may resume it any more */
    if (CORO_TRACE_ON()) {
        coro_trace_ev ev = {.kind = CORO_EV_POST, .detail = "coroutine handed over"};
        coro__ev_co(&ev, co);
        ev.obj = coro_named_ref(&to->named);
        coro_trace_emit(&ev);
    }
    post_enqueue(to, p);
    return 0;
}
