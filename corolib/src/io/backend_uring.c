/*
 * backend_uring.c - the proactor on io_uring: a coroutine submits its call
 * (recv, send, accept, connect) and is resumed by the call's completion,
 * with the result already there; and, for what is still a readiness wait
 * (the syscall hooks, coro_wait_fd), a one-shot poll request.
 *
 * Every request is a slot of the context's table; the kernel's user_data
 * is the slot's index and generation, so a completion that arrives after
 * its wait has ended (cancelled, timed out, its coroutine destroyed) finds
 * a newer generation and is dropped. A wait that ends before its request
 * completes must make sure the kernel is done with it before the waiter's
 * stack can go away: a request not yet submitted is turned into a no-op, a
 * submitted one is cancelled synchronously (io_uring_register_sync_cancel
 * returns once the kernel has finished with it). Deadlines of submitted
 * calls are linked timeouts: the kernel itself cancels the call, so its
 * completion says truthfully whether data moved.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "io_int.h"

#if CORO_HAVE_URING
#include <liburing.h>

#define RING_ENTRIES 256
#define UD_EVENTFD   1ull         /* the eventfd's poll */
#define UD_IGNORE    2ull         /* a no-op standing in for a withdrawn request */
#define UD_LINK      (1ull << 63) /* a linked timeout's own completion */

typedef struct slot {
    uint32_t gen;
    bool busy, submitted, timed_out;
    coro__waiter *w;
    struct io_uring_sqe *sqe[2]; /* until submitted: the request and its timeout */
} slot;

typedef struct uring {
    struct io_uring ring;
    slot *slots;
    uint32_t nslots, *free, nfree;
    uint32_t *pending, npending; /* slots with requests not yet submitted */
    bool evfd_armed;
    uint64_t ops; /* requests submitted so far: the trace numbers them */
} uring;

static uring *U(coro_ctx *c)
{
    return c->be_data;
}

static uint64_t ud_of(uring *u, uint32_t i)
{
    return (uint64_t)u->slots[i].gen << 32 | (uint64_t)(i + 16);
}

static slot *slot_of(uring *u, uint64_t ud, uint32_t *index)
{
    uint32_t i = (uint32_t)(ud & 0xffffffffu) - 16;
    if (i >= u->nslots || !u->slots[i].busy || u->slots[i].gen != (uint32_t)(ud >> 32 & 0x7fffffff))
        return NULL;
    if (index) *index = i;
    return &u->slots[i];
}

static void submit_pending(uring *u)
{
    CORO__ASSERT(io_uring_submit(&u->ring) >= 0);
    for (uint32_t k = 0; k < u->npending; k++) u->slots[u->pending[k]].submitted = true;
    u->npending = 0;
}

/* Make room for n SQEs in a row (a call and its linked timeout), submitting
 * what is queued if the ring is full. */
static void reserve(uring *u, unsigned n)
{
    if (io_uring_sq_space_left(&u->ring) < n) submit_pending(u);
}

static struct io_uring_sqe *get_sqe(uring *u)
{
    reserve(u, 1);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    CORO__ASSERT(sqe != NULL);
    return sqe;
}

static int slot_take(uring *u, coro__waiter *w, uint32_t *index)
{
    if (!u->nfree) {
        uint32_t n = u->nslots ? u->nslots * 2 : 64;
        slot *s = realloc(u->slots, n * sizeof *s);
        if (!s) return -ENOMEM;
        u->slots = s;
        uint32_t *f = realloc(u->free, n * sizeof *f), *p = realloc(u->pending, n * sizeof *p);
        if (f) u->free = f;
        if (p) u->pending = p;
        if (!f || !p) return -ENOMEM;
        memset(s + u->nslots, 0, (n - u->nslots) * sizeof *s);
        for (uint32_t i = n; i > u->nslots; i--) u->free[u->nfree++] = i - 1;
        u->nslots = n;
    }
    uint32_t i = u->free[--u->nfree];
    slot *s = &u->slots[i];
    s->busy = true;
    s->submitted = s->timed_out = false;
    s->w = w;
    s->sqe[0] = s->sqe[1] = NULL;
    u->pending[u->npending++] = i;
    *index = i;
    return 0;
}

/* The wait of slot i ended before its completion: make the kernel let go
 * of it, then free the slot (a late completion finds a newer generation). */
static void slot_withdraw(uring *u, uint32_t i)
{
    slot *s = &u->slots[i];
    if (!s->submitted) {
        for (int k = 0; k < 2; k++)
            if (s->sqe[k]) {
                io_uring_prep_nop(s->sqe[k]);
                io_uring_sqe_set_data64(s->sqe[k], UD_IGNORE);
            }
    } else {
        struct io_uring_sync_cancel_reg reg = {.addr = ud_of(u, i)};
        reg.timeout.tv_sec = reg.timeout.tv_nsec = -1;
        int rc = io_uring_register_sync_cancel(&u->ring, &reg);
        /* 0: cancelled; -ENOENT/-EALREADY: it completed (its completion
         * waits in the queue and will be dropped). */
        CORO__ASSERT(rc == 0 || rc == -ENOENT || rc == -EALREADY);
    }
    s->busy = false;
    s->gen = (s->gen + 1) & 0x7fffffff;
    u->free[u->nfree++] = i;
}

static void slot_release(uring *u, uint32_t i)
{
    slot *s = &u->slots[i];
    s->busy = false;
    s->gen = (s->gen + 1) & 0x7fffffff;
    u->free[u->nfree++] = i;
}

static void arm_eventfd(coro_ctx *c)
{
    uring *u = U(c);
    if (u->evfd_armed) return;
    struct io_uring_sqe *sqe = get_sqe(u);
    io_uring_prep_poll_add(sqe, c->evfd, POLLIN);
    io_uring_sqe_set_data64(sqe, UD_EVENTFD);
    u->evfd_armed = true;
}

static int ur_init(coro_ctx *c)
{
    uring *u = calloc(1, sizeof *u);
    if (!u) return -ENOMEM;
    int rc = io_uring_queue_init(RING_ENTRIES, &u->ring, 0);
    if (rc < 0) {
        free(u);
        return rc;
    }
    c->be_data = u;
    c->epfd = -1;
    arm_eventfd(c);
    return 0;
}

static void ur_fini(coro_ctx *c)
{
    uring *u = U(c);
    io_uring_queue_exit(&u->ring); /* cancels and waits for what is left */
    free(u->slots);
    free(u->free);
    free(u->pending);
    free(u);
    c->be_data = NULL;
}

static int ur_add(coro_ctx *c, coro_sock *s)
{
    (void)c, (void)s;
    return 0;
}

static void ur_del(coro_ctx *c, coro_sock *s)
{
    (void)c, (void)s;
}

/* A readiness wait: a one-shot poll request. */
static int ur_arm(coro_ctx *c, coro__waiter *w)
{
    uring *u = U(c);
    reserve(u, 1);
    uint32_t i;
    int rc = slot_take(u, w, &i);
    if (rc) return rc;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    io_uring_prep_poll_add(sqe, w->sock->fd, w->dir == CORO__READ ? POLLIN | POLLRDHUP : POLLOUT);
    io_uring_sqe_set_data64(sqe, ud_of(u, i));
    u->slots[i].sqe[0] = sqe;
    w->be_op = ud_of(u, i);
    return 0;
}

static void ur_disarm(coro_ctx *c, coro__waiter *w)
{
    uring *u = U(c);
    uint32_t i;
    if (w->be_op && slot_of(u, w->be_op, &i)) slot_withdraw(u, i);
    w->be_op = 0;
}

static void trace_complete(coro_ctx *c, coro__waiter *w, int res)
{
    if (!CORO_TRACE_ON()) return;
    coro_trace_ev ev = {
        .kind = CORO_EV_COMPLETE, .reason = w->base.op, .detail = w->base.op, .wait = w->op_no};
    ev.has = CORO_EVH_WAIT | CORO_EVH_VALUE;
    ev.value = res;
    if (w->sock) {
        ev.fd = w->sock->fd;
        ev.has |= CORO_EVH_FD;
        ev.obj = coro_named_ref(&w->sock->named);
    } else {
        ev.obj = coro_named_ref(&c->named);
    }
    coro__ev_co(&ev, w->base.co);
    coro_trace_emit(&ev);
}

/* One completion: a readiness poll wakes its waiter with 0, a submitted
 * call with its result (bytes, a new fd, or -errno). */
static void complete(coro_ctx *c, uint64_t ud, int res, bool *posted)
{
    uring *u = U(c);
    if (ud == UD_EVENTFD) {
        u->evfd_armed = false;
        *posted = true;
        return;
    }
    if (ud == UD_IGNORE) return;
    uint32_t i;
    slot *s = slot_of(u, ud & ~UD_LINK, &i);
    if (!s) return; /* its wait ended first */
    if (ud & UD_LINK) {
        if (res == -ETIME) s->timed_out = true;
        return;
    }
    coro__waiter *w = s->w;
    bool timed_out = s->timed_out || (res == -ECANCELED && w->proactor);
    slot_release(u, i);
    w->be_op = 0;
    if (!w->proactor) {
        coro__trace_dispatch(c, w->sock, w, res > 0 ? (uint32_t)res : 0);
        coro__io_wake(c, w, res < 0 && res != -ECANCELED ? res : 0, "io", (uint32_t)res);
        return;
    }
    if (res == -ECANCELED && timed_out) res = -ETIMEDOUT;
    trace_complete(c, w, res);
    /* A deadline is a timer on either backend (here the kernel's). */
    coro__wakeinfo wi = {.cause = res == -ETIMEDOUT ? "timer" : "complete",
                         .detail = w->base.op,
                         .call = w->base.op,
                         .wait = w->op_no};
    wi.obj = coro_named_ref(&w->sock->named);
    wi.fd = w->sock->fd;
    wi.has = CORO_EVH_WAIT | CORO_EVH_FD;
    coro__wait_end(&w->base, res, &wi, NULL, 0);
}

static int ur_wait(coro_ctx *c, int timeout, bool *posted)
{
    uring *u = U(c);
    arm_eventfd(c);
    struct __kernel_timespec ts = {timeout / 1000, (long long)(timeout % 1000) * 1000000};
    struct io_uring_cqe *cqe = NULL;
    int rc = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, timeout < 0 ? NULL : &ts, NULL);
    for (uint32_t k = 0; k < u->npending; k++) u->slots[u->pending[k]].submitted = true;
    u->npending = 0;
    /* -ETIME: the timeout passed; -EINTR: a signal; anything else means
     * the ring itself is broken, and going round again would spin. */
    CORO__ASSERT(rc >= 0 || rc == -ETIME || rc == -EINTR);
    unsigned head, n = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe) n++;
    coro__trace_loop_wait(c, timeout, (int)n);
    /* Completions are handled one at a time and marked seen first: waking
     * a waiter may withdraw other requests (sync cancel reads the queue). */
    while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
        uint64_t ud = io_uring_cqe_get_data64(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&u->ring, cqe);
        complete(c, ud, res, posted);
    }
    return (int)n;
}

static const coro__backend uring_backend = {
    "io_uring", ur_init, ur_fini, ur_add, ur_del, ur_arm, ur_disarm, ur_wait,
};
const coro__backend *const coro__backend_uring = &uring_backend;

/* ---- the proactor: a call submitted, its completion awaited ------------- */

typedef struct uring_call {
    coro__waiter w; /* first */
    int op;
    void *buf;
    size_t len;
    struct __kernel_timespec deadline;
} uring_call;

static int call_attach(coro__wait *base, const char *file, int line)
{
    uring_call *call = (uring_call *)base;
    coro__waiter *w = &call->w;
    coro_ctx *c = w->ctx;
    if (c->closing)
        return coro__fail(file, line, ECANCELED, "%s: %s is being destroyed", base->op,
                          c->named.name);
    coro__waiter *other = w->sock->waiter[w->dir];
    if (other)
        return coro__fail(file, line, EBUSY, "%s on %s: %s already waits to %s it", base->op,
                          w->sock->named.name, other->base.co->named.name,
                          w->dir == CORO__READ ? "read" : "write");
    uring *u = U(c);
    reserve(u, 2); /* before taking the slot: a submission marks pending slots */
    uint32_t i;
    int rc = slot_take(u, w, &i);
    if (rc) return coro__fail(file, line, -rc, "%s: out of memory", base->op);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    int fd = w->sock->fd;
    switch (call->op) {
    case 'r':
        io_uring_prep_recv(sqe, fd, call->buf, call->len, 0);
        break;
    case 's':
        io_uring_prep_send(sqe, fd, call->buf, call->len, MSG_NOSIGNAL);
        break;
    case 'c':
        io_uring_prep_connect(sqe, fd, call->buf, (socklen_t)call->len);
        break;
    default:
        io_uring_prep_accept(sqe, fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
    }
    io_uring_sqe_set_data64(sqe, ud_of(u, i));
    u->slots[i].sqe[0] = sqe;
    if (base->ms >= 0) {
        sqe->flags |= IOSQE_IO_LINK;
        call->deadline.tv_sec = base->ms / 1000;
        call->deadline.tv_nsec = (base->ms % 1000) * 1000000;
        struct io_uring_sqe *t = io_uring_get_sqe(&u->ring);
        io_uring_prep_link_timeout(t, &call->deadline, 0);
        io_uring_sqe_set_data64(t, ud_of(u, i) | UD_LINK);
        u->slots[i].sqe[1] = t;
    }
    w->be_op = ud_of(u, i);
    w->op_no = ++u->ops;
    w->sock->waiter[w->dir] = w;
    if (CORO_TRACE_ON()) {
        coro_trace_ev ev = {
            .kind = CORO_EV_SUBMIT, .reason = base->op, .detail = base->op, .wait = w->op_no};
        ev.has = CORO_EVH_WAIT | CORO_EVH_FD;
        ev.fd = fd;
        ev.file = file;
        ev.line = line;
        if (base->ms >= 0) {
            ev.timeout_ms = (int)(base->ms > 3600000 ? 3600000 : base->ms);
            ev.has |= CORO_EVH_TIMEOUT;
        }
        ev.obj = coro_named_ref(&w->sock->named);
        coro__ev_co(&ev, coro__t.current);
        coro_trace_emit(&ev);
    }
    return 0;
}

static void call_detach(coro__wait *base)
{
    coro__waiter *w = &((uring_call *)base)->w;
    if (w->sock->waiter[w->dir] == w) w->sock->waiter[w->dir] = NULL;
    ur_disarm(w->ctx, w);
}

/* No move: the kernel keeps the addresses of the call's buffer and deadline
 * (on the waiter's stack), so a copy-mode coroutine is refused (wait.c). */
static const coro__wait_ops call_ops = {call_attach, call_detach, NULL, NULL};

ssize_t coro__uring_call(const char *file, int line, coro_sock *s, int op, void *buf, size_t len,
                         int64_t timeout_ms, const char *opname)
{
    uring_call call = {.op = op, .buf = buf, .len = len};
    coro__waiter *w = &call.w;
    w->ctx = s->ctx;
    w->sock = s;
    w->dir = op == 's' || op == 'c' ? CORO__WRITE : CORO__READ;
    w->proactor = true;
    w->timer.index = SIZE_MAX;
    w->timer.waiter = w;
    w->base = (coro__wait){.ops = &call_ops, .kind = CORO__WAIT_IO, .reason = "io", .op = opname};
    w->base.obj = &s->named;
    w->base.home = s->ctx;
    w->base.fd = s->fd;
    w->base.ms = timeout_ms < 0 ? -1 : timeout_ms;
    return coro__wait_for(&w->base, file, line);
}

#else /* built without liburing */

const coro__backend *const coro__backend_uring = NULL;

ssize_t coro__uring_call(const char *file, int line, coro_sock *s, int op, void *buf, size_t len,
                         int64_t timeout_ms, const char *opname)
{
    (void)s, (void)op, (void)buf, (void)len, (void)timeout_ms;
    return coro__fail(file, line, ENOSYS, "%s: corolib was built without liburing", opname);
}

#endif
