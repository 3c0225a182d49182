/*
 * context.c - the io_context's loop: ready coroutines, epoll_wait, dispatch,
 * timers, posts. In the spirit of Redis's ae.c, the whole loop is here.
 *
 * Sockets are registered once, edge-triggered, for input and output. A
 * coroutine always tries its system call first and waits only on EAGAIN;
 * since edge-triggered epoll reports every new arrival after that, no
 * readiness is lost, and an fd costs one epoll_ctl in its life, not two per
 * wait. Waking and running are separate steps: dispatch only moves waiting
 * coroutines to the ready queue, so nothing can close a socket while the
 * loop is still walking the events that name it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "coro/sync.h"
#include "io_int.h"

static _Thread_local coro_ctx *thread_ctx;

#define MAX_EVENTS 256

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

coro_ctx *coro_ctx_create(const char *fmt, ...)
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
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    c->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->epfd < 0 || c->evfd < 0) {
        int e = errno;
        if (c->epfd >= 0) close(c->epfd);
        if (c->evfd >= 0) close(c->evfd);
        free(c);
        coro__fail(NULL, 0, e, "coro_ctx_create: %s", strerror(e));
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->evfd, &ev);
    va_list ap;
    va_start(ap, fmt);
    coro_named_vinit(&c->named, "context", fmt, ap);
    va_end(ap);
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

void coro_ctx_destroy(coro_ctx *c)
{
    if (!c) return;
    coro__fdwait_release(c);
    if (thread_ctx == c) {
        thread_ctx = NULL;
        coro__t.drive = NULL;
        coro__t.drive_arg = NULL;
    }
    close(c->epfd);
    close(c->evfd);
    for (coro__post *p = c->post_head, *n; p; p = n) {
        n = p->next;
        free(p);
    }
    pthread_mutex_destroy(&c->post_lock);
    free(c->heap);
    coro_named_fini(&c->named);
    free(c);
}

void coro_ctx_stop(coro_ctx *c)
{
    atomic_store(&c->stop, true);
    uint64_t one = 1;
    ssize_t r = write(c->evfd, &one, sizeof one);
    (void)r;
}

int coro_ctx_post(coro_ctx *c, void (*fn)(void *), void *arg)
{
    coro__post *p = malloc(sizeof *p);
    if (!p) return -ENOMEM;
    *p = (coro__post){NULL, fn, arg};
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
    (void)r;
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
    if (w->woken) return;
    w->woken = true;
    coro__timer_del(c, &w->timer);
    if (w->sock && w->sock->waiter[w->dir] == w) w->sock->waiter[w->dir] = NULL;
    w->result = result;
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
    coro__wake(w->co, &wi, NULL, 0);
}

int coro__io_register(coro_ctx *c, coro_sock *s)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = s};
    if (s->listener) ev.events = EPOLLIN | EPOLLET;
    return epoll_ctl(c->epfd, EPOLL_CTL_ADD, s->fd, &ev) == 0 ? 0 : -errno;
}

/* Suspend in w, listed so that coro_cancel_wait can find it. */
static void wait_in(coro_ctx *c, coro__waiter *w, const char *file, int line, const char *reason,
                    const char *detail, const coro_named *obj)
{
    w->next = c->waiters;
    if (c->waiters) c->waiters->prev = w;
    c->waiters = w;
    c->waiting++;
    coro__suspend(file, line, reason, detail, coro_named_ref(obj));
    c->waiting--;
    if (w->prev)
        w->prev->next = w->next;
    else
        c->waiters = w->next;
    if (w->next) w->next->prev = w->prev;
}

int coro_cancel_wait(coro_t *co)
{
    coro_ctx *c = thread_ctx;
    if (!c) return coro__fail(NULL, 0, EPERM, "coro_cancel_wait: this thread has no context");
    for (coro__waiter *w = c->waiters; w; w = w->next)
        if (w->co == co && !w->woken) {
            coro__io_wake(c, w, -ECANCELED, "wake", 0);
            return 0;
        }
    return -ESRCH;
}

int coro__io_wait(const char *file, int line, coro_sock *s, int dir, int64_t timeout_ms,
                  const char *what)
{
    return coro__io_wait_why(file, line, s, dir, timeout_ms, "io", what);
}

int coro__io_wait_why(const char *file, int line, coro_sock *s, int dir, int64_t timeout_ms,
                      const char *reason, const char *what)
{
    coro_ctx *c = s->ctx;
    coro_t *self = coro_self();
    if (coro_is_main(self) || !coro_resumer(self))
        return coro__fail(file, line, EPERM, "%s: must be called inside a coroutine run by %s",
                          what, c->named.name);
    if (s->waiter[dir])
        return coro__fail(file, line, EBUSY, "%s on %s: %s already waits to %s it", what,
                          s->named.name, coro_name(s->waiter[dir]->co),
                          dir == CORO__READ ? "read" : "write");
    coro__waiter w = {.co = self, .result = 0, .sock = s, .dir = dir};
    w.timer.index = SIZE_MAX;
    w.timer.waiter = &w;
    s->waiter[dir] = &w;
    if (timeout_ms >= 0) coro__timer_add(c, &w.timer, coro__now_ms() + timeout_ms);
    char detail[96];
    snprintf(detail, sizeof detail, "%s fd=%d", what, s->fd);
    wait_in(c, &w, file, line, reason, detail, &s->named);
    return w.result;
}

int coro_sleep_at(const char *file, int line, int64_t ms)
{
    coro_ctx *c = thread_ctx;
    coro_t *self = coro_self();
    if (!c || coro_is_main(self) || !coro_resumer(self))
        return coro__fail(file, line, EPERM,
                          "coro_sleep: must be called inside a coroutine run by a context");
    coro__waiter w = {.co = self};
    w.timer.index = SIZE_MAX;
    w.timer.waiter = &w;
    coro__timer_add(c, &w.timer, coro__now_ms() + (ms > 0 ? ms : 0));
    char detail[48];
    snprintf(detail, sizeof detail, "sleep %lld ms", (long long)ms);
    wait_in(c, &w, file, line, "timer", detail, &c->named);
    return w.result;
}

static void fire_timers(coro_ctx *c)
{
    int64_t now = coro__now_ms();
    coro__timer *t;
    while ((t = coro__timer_peek(c)) && t->deadline_ms <= now) {
        coro__waiter *w = t->waiter;
        coro__timer_del(c, t);
        if (CORO_TRACE_ON()) {
            coro_trace_ev ev = {.kind = CORO_EV_TIMER, .detail = w->sock ? "deadline" : "sleep"};
            coro__ev_co(&ev, w->co);
            ev.obj = w->sock ? coro_named_ref(&w->sock->named) : coro_named_ref(&c->named);
            coro_trace_emit(&ev);
        }
        coro__io_wake(c, w, w->sock ? -ETIMEDOUT : 0, "timer", 0);
    }
}

static void dispatch(coro_ctx *c, coro_sock *s, uint32_t events)
{
    static const uint32_t want[2] = {EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP,
                                     EPOLLOUT | EPOLLERR | EPOLLHUP};
    for (int dir = 0; dir < 2; dir++) {
        coro__waiter *w = s->waiter[dir];
        if (!w || !(events & want[dir])) continue;
        if (CORO_TRACE_ON()) {
            coro_trace_ev ev = {
                .kind = CORO_EV_EPOLL_DISPATCH, .fd = s->fd, .events = events, .wait = c->waits};
            ev.has = CORO_EVH_FD | CORO_EVH_EVENTS | CORO_EVH_WAIT;
            coro__ev_co(&ev, w->co);
            ev.obj = coro_named_ref(&s->named);
            ev.obj_kind = s->listener ? "acceptor" : "conn";
            coro_trace_emit(&ev);
        }
        coro__io_wake(c, w, 0, "io", events);
    }
}

/* Is anything left that could ever make a coroutine runnable? */
static bool has_work(coro_ctx *c, coro__thread *t)
{
    return t->rq_head || c->waiting || c->nheap || atomic_load(&c->posts);
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
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(c->epfd, evs, MAX_EVENTS, timeout);
    if (n < 0) {
        if (errno != EINTR) coro__fail(NULL, 0, errno, "epoll_wait: %s", strerror(errno));
        n = 0;
    }
    c->waits++;
    if (CORO_TRACE_ON()) {
        coro_trace_ev ev = {
            .kind = CORO_EV_EPOLL_WAIT, .timeout_ms = timeout, .nready = n, .wait = c->waits};
        ev.has = CORO_EVH_TIMEOUT | CORO_EVH_NREADY | CORO_EVH_WAIT;
        coro__ev_co(&ev, t->current);
        ev.obj = coro_named_ref(&c->named);
        coro_trace_emit(&ev);
    }
    bool posted = false;
    for (int i = 0; i < n; i++) {
        if (!evs[i].data.ptr)
            posted = true;
        else
            dispatch(c, evs[i].data.ptr, evs[i].events);
    }
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
    if (!coro_is_main(t->current))
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

int coro_ctx_send(coro_ctx *to, coro_t *co)
{
    if (!to || !co || coro_is_main(co)) return -EINVAL;
    if (co->state == CORO_RUNNING || co->state == CORO_READY || co->state == CORO_DEAD ||
        (co->state == CORO_SUSPENDED && co->block != CORO__BLOCK_NONE) || co->awaiter)
        return coro__fail(NULL, 0, EBUSY, "coro_ctx_send(%s): it is %s", co->named.name,
                          coro_state_name(co->state));
    co->migrates = true;
    co->resumer = NULL;
    co->block = CORO__BLOCK_EVENT; /* nobody here may resume it any more */
    if (CORO_TRACE_ON()) {
        coro_trace_ev ev = {.kind = CORO_EV_POST, .detail = "coroutine handed over"};
        coro__ev_co(&ev, co);
        ev.obj = coro_named_ref(&to->named);
        coro_trace_emit(&ev);
    }
    return coro_ctx_post(to, receive, co);
}
