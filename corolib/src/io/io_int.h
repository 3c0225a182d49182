/*
 * io_int.h - what the io_context's files share (internal prefix coro__).
 */
#ifndef CORO_SRC_IO_INT_H
#define CORO_SRC_IO_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend.h"
#include "coro/io.h"
#include "coro_int.h"

enum { CORO__READ = 0, CORO__WRITE = 1 };

typedef struct coro__waiter coro__waiter;

/* A timer in the context's heap: a sleeping coroutine or an io deadline. */
typedef struct coro__timer {
    int64_t deadline_ms;
    uint64_t order; /* ties fire in the order they were set */
    size_t index;   /* position in the heap, or SIZE_MAX when not in it */
    coro__waiter *waiter;
} coro__timer;

/* An io or sleep wait: the one wait record (coro_int.h) and where it is
 * linked in the context, on the waiter's stack while it waits (the small
 * fields last: no padding, as it is part of every waiting stack). */
struct coro__waiter {
    coro__wait base; /* first: the loop gets from one to the other */
    coro_ctx *ctx;
    coro_sock *sock; /* NULL for a sleep */
    coro__timer timer;
    uint64_t be_op; /* the backend's handle of its request (io_uring), or 0 */
    uint64_t op_no; /* io_uring: the submission's number in the trace */
    int dir;
    bool proactor; /* io_uring: a submitted call, not a readiness wait */
};

typedef struct coro__post {
    struct coro__post *next;
    void (*fn)(void *);
    void *arg;
} coro__post;

struct coro_ctx {
    coro_named named;
    const coro__backend *be;
    int epfd;      /* backend_epoll.c */
    void *be_data; /* the other backends' own state */
    int evfd;      /* written to wake the loop from another thread */
    pthread_t thread;
    bool running;
    atomic_bool stop;
    uint64_t waits;   /* epoll_wait calls, numbered in the trace */
    bool closing;     /* being destroyed: a new wait is refused (-ECANCELED) */
    coro_sock *socks; /* every open socket, closed with the context */
    /* the timer heap */
    coro__timer **heap;
    size_t nheap, heap_cap;
    uint64_t timer_order;
    /* functions posted from any thread */
    pthread_mutex_t post_lock;
    coro__post *post_head, *post_tail;
    atomic_size_t posts;
};

struct coro_sock {
    coro_named named;
    coro_ctx *ctx;
    int fd;
    int port;
    bool listener;
    int reserve_fd; /* listeners: spare descriptor for EMFILE */
    bool adopted;   /* a descriptor of the program's (coro_wait_fd): not ours to close */
    coro__waiter *waiter[2];
    coro_sock *prev, *next; /* the context's list of sockets */
};

/* timer.c */
void coro__timer_add(coro_ctx *ctx, coro__timer *t, int64_t deadline_ms);
void coro__timer_del(coro_ctx *ctx, coro__timer *t);
coro__timer *coro__timer_peek(coro_ctx *ctx);
int64_t coro__now_ms(void);

/* context.c: suspend the running coroutine until s is ready in direction
 * dir (or until the deadline); returns 0, -ETIMEDOUT, -ECANCELED, -EBUSY,
 * -EPERM. op names the call ("recv"); reason is the suspend's ("io", "hook"). */
int coro__io_wait(const char *file, int line, coro_sock *s, int dir, int64_t timeout_ms,
                  const char *reason, const char *op);
/* Wrap a descriptor the program opened itself (the syscall hooks): named
 * "fd[N]", registered with the loop; forget() unregisters without closing. */
coro_sock *coro__sock_adopt(coro_ctx *ctx, int fd);
void coro__sock_forget(coro_sock *s);
/* fdwait.c: drop the raw descriptors adopted for c (context destroyed). */
void coro__fdwait_release(coro_ctx *c);
/* Wake a waiter with result and cause ("io", "timer", "wake"). */
void coro__io_wake(coro_ctx *ctx, coro__waiter *w, int result, const char *cause, uint32_t events);
/* Register a new socket with the context's epoll, and list it. */
int coro__io_register(coro_ctx *ctx, coro_sock *s);
/* Unregister and unlist it; waiters get -ECANCELED. */
void coro__io_unregister(coro_sock *s);
/* backend_uring.c: make the call op ('r' recv, 's' send, 'a' accept,
 * 'c' connect to the address buf of len bytes) as
 * a submission and wait for its completion; its result (bytes, a new fd),
 * or -ETIMEDOUT, -ECANCELED, -errno. Only on an io_uring context. */
ssize_t coro__uring_call(const char *file, int line, coro_sock *s, int op, void *buf, size_t len,
                         int64_t timeout_ms, const char *opname);
/* Create a context with options (NULL: defaults). */
coro_ctx *coro__ctx_vcreate(const coro_ctx_options *opt, const char *fmt, va_list ap);
/* Trace the kernel wait of one turn (numbering it), and a dispatch to w. */
void coro__trace_loop_wait(coro_ctx *c, int timeout, int n);
void coro__trace_dispatch(coro_ctx *c, coro_sock *s, coro__waiter *w, uint32_t events);
/* Trace the creation of a runtime object. */
void coro__trace_object(const coro_named *n, const char *kind, const char *file, int line);

#endif
