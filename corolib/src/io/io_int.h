/*
 * io_int.h - what the io_context's files share (internal prefix coro__).
 */
#ifndef CORO_SRC_IO_INT_H
#define CORO_SRC_IO_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

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

/* A suspended coroutine's wait, kept on its own stack while it waits. */
struct coro__waiter {
    coro_t *co;
    int result; /* set by whoever wakes it: 0, -ETIMEDOUT, -ECANCELED */
    bool woken; /* already on the ready queue: a second wake would run it twice */
    coro_sock *sock;
    int dir;
    coro__timer timer;
    coro__waiter *prev, *next; /* the context's list of waits, for coro_cancel_wait */
};

typedef struct coro__post {
    struct coro__post *next;
    void (*fn)(void *);
    void *arg;
} coro__post;

struct coro_ctx {
    coro_named named;
    int epfd, evfd;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    uint64_t waits; /* epoll_wait calls, numbered in the trace */
    size_t waiting; /* coroutines suspended on an fd or a timer */
    coro__waiter *waiters;
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
    coro__waiter *waiter[2];
};

/* timer.c */
void coro__timer_add(coro_ctx *ctx, coro__timer *t, int64_t deadline_ms);
void coro__timer_del(coro_ctx *ctx, coro__timer *t);
coro__timer *coro__timer_peek(coro_ctx *ctx);
int64_t coro__now_ms(void);

/* context.c: suspend the running coroutine until s is ready in direction
 * dir (or until the deadline); returns 0, -ETIMEDOUT, -ECANCELED, -EBUSY. */
int coro__io_wait(const char *file, int line, coro_sock *s, int dir, int64_t timeout_ms,
                  const char *what);
/* The same with another suspend reason ("hook"). */
int coro__io_wait_why(const char *file, int line, coro_sock *s, int dir, int64_t timeout_ms,
                      const char *reason, const char *what);
/* Wrap a descriptor the program opened itself (the syscall hooks): named
 * "fd[N]", registered with the loop; forget() unregisters without closing. */
coro_sock *coro__sock_adopt(coro_ctx *ctx, int fd);
void coro__sock_forget(coro_sock *s);
/* fdwait.c: drop the raw descriptors adopted for c (context destroyed). */
void coro__fdwait_release(coro_ctx *c);
/* Wake a waiter with result and cause ("io", "timer", "wake"). */
void coro__io_wake(coro_ctx *ctx, coro__waiter *w, int result, const char *cause, uint32_t events);
/* Register a new socket with the context's epoll. */
int coro__io_register(coro_ctx *ctx, coro_sock *s);
/* Trace the creation of a runtime object. */
void coro__trace_object(const coro_named *n, const char *kind, const char *file, int line);

#endif
