/*
 * coro/io.h - the io_context: an epoll event loop, timers and sockets, with
 * every dispatch traced.
 *
 * One context per thread. A context owns an epoll instance, a timer heap and
 * a queue of functions posted from other threads; its loop uses the
 * thread's ready queue (coro_spawn, coro_yield). coro_ctx_run():
 *
 *   1. resumes every ready coroutine,
 *   2. waits in epoll_wait, with the nearest timer as the timeout,
 *   3. hands each ready fd to the coroutine waiting on it (traced as
 *      epoll_dispatch, then wake, then resume with cause "io"),
 *   4. fires expired timers, runs posted functions,
 * and returns when nothing is left: no ready coroutine, no waiting
 * operation, no timer, or when coro_ctx_stop() was called.
 *
 * Sockets are non-blocking; a call that would block suspends the calling
 * coroutine until its fd is ready, the deadline passes (-ETIMEDOUT), or the
 * socket is closed or coro_cancel_wait() is called (-ECANCELED). Errors are
 * negative errno values and go to the one coroutine concerned: a peer that
 * resets a connection ends that coroutine's recv with -ECONNRESET, never the
 * server. SIGPIPE is never raised (MSG_NOSIGNAL).
 *
 * Timeouts are in milliseconds; CORO_FOREVER (-1) waits without a deadline.
 */
#ifndef CORO_IO_H
#define CORO_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "coro/api.h"
#include "coro/coro.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CORO_FOREVER (-1)

typedef struct coro_ctx coro_ctx;
typedef struct coro_sock coro_sock;

/* ---- the context --------------------------------------------------------- */

/*
 * Create a context for the calling thread, named printf-style (NULL:
 * "ctx#<id>"). At most one per thread. Returns NULL with errno set
 * (EBUSY: this thread has one; EMFILE/ENOMEM from epoll or eventfd).
 * Traces `create` (obj_kind "context").
 */
CORO_API coro_ctx *coro_ctx_create(const char *fmt, ...) CORO_PRINTF(1, 2);

/* The kernel mechanism a context's loop uses (docs/io.md, "Backends"). */
typedef enum coro_io_backend {
    CORO_IO_DEFAULT = 0, /* CORO_IO_BACKEND=io_uring|epoll from the environment, else epoll */
    CORO_IO_EPOLL,       /* the reactor: wait for readiness, then make the call */
    CORO_IO_URING,       /* the proactor: submit the call, be resumed by its completion */
} coro_io_backend;

typedef struct coro_ctx_options {
    coro_io_backend backend;
} coro_ctx_options;

/*
 * coro_ctx_create with options (NULL: the defaults). When io_uring is
 * asked for but the kernel refuses it (sysctl kernel.io_uring_disabled,
 * seccomp, an old kernel) or corolib was built without liburing, the
 * context uses epoll and corolib says why on stderr, once per process.
 */
CORO_API coro_ctx *coro_ctx_create_opts(const coro_ctx_options *opt, const char *fmt, ...)
    CORO_PRINTF(2, 3);

/* "epoll" or "io_uring": the backend the context got. */
CORO_API const char *coro_ctx_backend(const coro_ctx *ctx);

/*
 * Free a context whose loop is not running, on its own thread. Every
 * coroutine still waiting on it (recv, accept, sleep, coro_wait_fd, ...)
 * ends that wait with -ECANCELED and runs, from this call, until it has
 * left the wait (so it may close its sockets); a wait started from then on
 * fails with -ECANCELED at once. Then the sockets still open are closed
 * (their coro_sock is freed: do not use it afterwards), the descriptors of
 * coro_wait_fd are forgotten (not closed: they are the program's), and the
 * posts never run are dropped. Returns 0, -EINVAL (NULL), -EBUSY (its loop
 * is running: call it after coro_ctx_run() returns, as libuv's
 * uv_loop_close), -EPERM (another thread).
 */
CORO_API int coro_ctx_destroy(coro_ctx *ctx);

/* The calling thread's context, or NULL. */
CORO_API coro_ctx *coro_ctx_current(void);

/*
 * Run the loop until nothing is left to do or coro_ctx_stop(). Must be
 * called from the thread's main coroutine, on the context's own thread.
 * Returns 0, -EPERM (wrong thread or inside a coroutine), -EBUSY (already
 * running). Traces epoll_wait, epoll_dispatch, timer, post.
 */
CORO_API int coro_ctx_run(coro_ctx *ctx);

/* Make run() return at its next turn, once the coroutines already ready
 * have run. Any thread. A stop sent while run() is not running makes the
 * next run() return; run() consumes it. Suspended coroutines stay so. */
CORO_API void coro_ctx_stop(coro_ctx *ctx);

/*
 * Run fn(arg) on the context's thread, from its loop. Any thread; wakes the
 * loop through an eventfd. Returns 0 or -ENOMEM. Traces `post`.
 */
CORO_API int coro_ctx_post(coro_ctx *ctx, void (*fn)(void *arg), void *arg);

/*
 * Hand coroutine co to another thread's context: it continues there, in
 * that loop's ready queue (traced as a post, then a resume with cause
 * "post" on the other thread). co must not be running or waiting: created
 * and never run, or suspended by coro_yield() outside a scheduler. From
 * then on it belongs to that thread; a coroutine must never be resumed on
 * two threads. errno travels with it; the rule of coro/ws.h about errno and
 * thread-locals applies to its code. Returns 0, -EBUSY (running, ready or
 * waiting), -EINVAL.
 */
CORO_API int coro_ctx_send(coro_ctx *to, coro_t *co);

/* ---- timers ------------------------------------------------------------- */

/* Suspend the running coroutine for ms milliseconds. Returns 0, -ECANCELED
 * (coro_cancel_wait), or -EPERM outside a coroutine run by a context.
 * Traces suspend (reason timer), timer, resume (cause timer). */
#define coro_sleep(ms) coro_sleep_at(__FILE__, __LINE__, (ms))
CORO_API int coro_sleep_at(const char *file, int line, int64_t ms);

/* coro_cancel_wait(co), which ends an io wait too, is in coro/coro.h. */

/* Milliseconds on the loop's monotonic clock. */
CORO_API int64_t coro_now_ms(void);

/* ---- sockets ------------------------------------------------------------ */

/*
 * Listen on host:port over TCP ("0.0.0.0", "::", "127.0.0.1", ...; the
 * family follows the address), or on a Unix socket path when host starts
 * with '/' (port ignored). port 0 picks a free port (see coro_sock_port).
 * Named "acceptor[host:port]". Returns NULL with errno set.
 */
CORO_API coro_sock *coro_listen(coro_ctx *ctx, const char *host, int port, int backlog);

/*
 * Accept a connection, suspending until one arrives. Returns the connection
 * (named "conn[peer]") or NULL with errno: ETIMEDOUT, ECANCELED (listener
 * closed), EMFILE/ENFILE (out of descriptors: the pending connection is
 * refused through a reserved descriptor, so the loop does not spin; try
 * again later), EPERM (not in a coroutine).
 */
#define coro_accept(l, timeout_ms) coro_accept_at(__FILE__, __LINE__, (l), (timeout_ms))
CORO_API coro_sock *coro_accept_at(const char *file, int line, coro_sock *l, int64_t timeout_ms);

/* Connect to host:port (or a Unix path), suspending until connected.
 * Returns NULL with errno: ETIMEDOUT, ECONNREFUSED, ... */
#define coro_connect(ctx, host, port, timeout_ms)                                                  \
    coro_connect_at(__FILE__, __LINE__, (ctx), (host), (port), (timeout_ms))
CORO_API coro_sock *coro_connect_at(const char *file, int line, coro_ctx *ctx, const char *host,
                                    int port, int64_t timeout_ms);

/* Receive up to len bytes. Returns the count, 0 at end of stream, or
 * -ETIMEDOUT, -ECANCELED, -ECONNRESET, -EBUSY (another coroutine already
 * waits to read this socket), ... Suspends while nothing is available. */
#define coro_recv(s, buf, len, timeout_ms)                                                         \
    coro_recv_at(__FILE__, __LINE__, (s), (buf), (len), (timeout_ms))
CORO_API ssize_t coro_recv_at(const char *file, int line, coro_sock *s, void *buf, size_t len,
                              int64_t timeout_ms);

/* Send up to len bytes; returns how many were sent (at least 1) or an
 * error (-EPIPE, -ECONNRESET, -ETIMEDOUT, -ECANCELED, -EBUSY). */
#define coro_send(s, buf, len, timeout_ms)                                                         \
    coro_send_at(__FILE__, __LINE__, (s), (buf), (len), (timeout_ms))
CORO_API ssize_t coro_send_at(const char *file, int line, coro_sock *s, const void *buf, size_t len,
                              int64_t timeout_ms);

/* Send all len bytes; returns len or an error (bytes may have been sent). */
#define coro_send_all(s, buf, len, timeout_ms)                                                     \
    coro_send_all_at(__FILE__, __LINE__, (s), (buf), (len), (timeout_ms))
CORO_API ssize_t coro_send_all_at(const char *file, int line, coro_sock *s, const void *buf,
                                  size_t len, int64_t timeout_ms);

/* shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR. Returns 0 or -errno. */
CORO_API int coro_shutdown(coro_sock *s, int how);

/* Close the socket and free it. A coroutine waiting on it is woken with
 * -ECANCELED (it must not use the socket afterwards). Returns 0. */
CORO_API int coro_close(coro_sock *s);

CORO_API int coro_sock_fd(const coro_sock *s);
CORO_API int coro_sock_port(const coro_sock *s); /* local port */
CORO_API const char *coro_sock_name(const coro_sock *s);
CORO_API coro_named *coro_sock_named(coro_sock *s);

/* ---- descriptors the program opened itself ---------------------------- */

enum { CORO_WAIT_READ = 0, CORO_WAIT_WRITE = 1 };

/*
 * Suspend until fd, a non-blocking descriptor the program opened (a socket,
 * a pipe), is ready to read or write; the syscall hooks (libcorohook) are
 * built on this. An fd that is ready already (data still buffered) returns
 * 0 at once, without suspending. `what` names the wait in the trace ("read"
 * -> detail "read fd=5"; a name starting with "hook:" makes the suspend
 * reason "hook", and means the caller has just seen EAGAIN, so the
 * readiness check is skipped). Returns 0, -ETIMEDOUT, -ECANCELED
 * (coro_fd_forget or coro_cancel_wait during the wait), -EBUSY, -EBADF,
 * -EPERM (not in a coroutine run by this thread's context).
 */
#define coro_wait_fd(fd, dir, timeout_ms)                                                          \
    coro_wait_fd_at(__FILE__, __LINE__, (fd), (dir), (timeout_ms), "wait")
CORO_API int coro_wait_fd_at(const char *file, int line, int fd, int dir, int64_t timeout_ms,
                             const char *what);

/* Stop watching fd (call it before closing fd); wakes a waiter with
 * -ECANCELED. Harmless for an fd that was never waited on. */
CORO_API void coro_fd_forget(int fd);

/* ---- a buffered writer with water marks -------------------------------- */

/*
 * Output that a coroutine produces faster than the peer reads is buffered
 * up to `high` bytes; a write that would go past it suspends the writer
 * until the buffer has drained below `low`. So a slow reader bounds the
 * server's memory per connection to about `high`, instead of letting it
 * grow without limit.
 */
typedef struct coro_writer {
    coro_sock *sock;
    char *buf;
    size_t len, cap;
    size_t high, low;
    size_t peak; /* the largest the buffer has been */
} coro_writer;

CORO_API int coro_writer_init(coro_writer *w, coro_sock *s, size_t high, size_t low);
/* Queue len bytes; sends what the socket takes; suspends above the high
 * water mark until below the low one. Returns 0 or an error of coro_send. */
#define coro_writer_write(w, buf, len) coro_writer_write_at(__FILE__, __LINE__, (w), (buf), (len))
CORO_API int coro_writer_write_at(const char *file, int line, coro_writer *w, const void *buf,
                                  size_t len);
/* Send everything buffered (suspending as needed). */
#define coro_writer_flush(w) coro_writer_flush_at(__FILE__, __LINE__, (w))
CORO_API int coro_writer_flush_at(const char *file, int line, coro_writer *w);
CORO_API void coro_writer_fini(coro_writer *w);

#ifdef __cplusplus
}
#endif
#endif /* CORO_IO_H */
