/*
 * backend.h - what the io_context's loop needs from the kernel, behind one
 * small interface, one file per mechanism (Redis's ae.c picks ae_epoll.c or
 * ae_kqueue.c the same way):
 *
 *   backend_epoll.c   the reactor: sockets registered once, edge-triggered;
 *                     a wait is readiness, the coroutine then does the call
 *   backend_uring.c   io_uring: readiness waits as one-shot poll requests,
 *                     and recv/send/accept as submitted operations whose
 *                     completion resumes the coroutine (the proactor)
 *
 * context.c runs the loop (ready queue, timers, posts) and calls these.
 */
#ifndef CORO_SRC_IO_BACKEND_H
#define CORO_SRC_IO_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

typedef struct coro_ctx coro_ctx;
typedef struct coro_sock coro_sock;
typedef struct coro__waiter coro__waiter;

typedef struct coro__backend {
    const char *name; /* "epoll", "io_uring": the trace's and the docs' word */
    /* Set up c->be (the eventfd c->evfd already exists and must wake the
     * wait). 0 or a negative errno. */
    int (*init)(coro_ctx *c);
    void (*fini)(coro_ctx *c);
    /* A socket joins or leaves the context. */
    int (*add)(coro_ctx *c, coro_sock *s);
    void (*del)(coro_ctx *c, coro_sock *s);
    /* A readiness wait of w begins or ends (epoll: nothing to do). */
    int (*arm)(coro_ctx *c, coro__waiter *w);
    void (*disarm)(coro_ctx *c, coro__waiter *w);
    /* Block for at most timeout_ms (-1: no limit) and hand what happened to
     * the waiters (coro__io_wake); *posted is set when the eventfd fired.
     * Returns the number of events the kernel reported. */
    int (*wait)(coro_ctx *c, int timeout_ms, bool *posted);
} coro__backend;

extern const coro__backend coro__backend_epoll;
/* NULL when corolib was built without liburing. */
extern const coro__backend *const coro__backend_uring;

#endif
