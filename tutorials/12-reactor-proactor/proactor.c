/*
 * proactor.c - chapter 12: reactor and proactor. corolib's loop is a
 * reactor: it says when a descriptor is *ready*, and the coroutine then
 * makes the call itself. A proactor takes the whole operation ("read 64
 * bytes into this buffer") and calls you back when it has *completed*.
 * Here a small completion API (async_read, async_write with callbacks, as
 * asio offers) is built on the reactor, the way asio does it on epoll: the
 * operation waits for readiness, performs the call, then posts its
 * completion handler to the loop. The code that uses it has no coroutine of
 * its own: only callbacks, post and run.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coro/coro.h"
#include "coro/io.h"

/* ---- a completion API on top of readiness ------------------------------ */

typedef void (*completion)(void *arg, ssize_t result);

typedef struct op {
    int fd, dir;
    char *buf;
    size_t len;
    ssize_t result;
    completion done;
    void *arg;
} op;

static void complete(void *p) /* runs from the loop: the completion */
{
    op *o = p;
    o->done(o->arg, o->result);
    free(o);
}

static void *perform(void *p) /* the reactor's part: wait until ready, then do it */
{
    op *o = p;
    for (;;) {
        o->result =
            o->dir == CORO_WAIT_READ ? read(o->fd, o->buf, o->len) : write(o->fd, o->buf, o->len);
        if (o->result >= 0) break;
        if (errno != EAGAIN) {
            o->result = -errno;
            break;
        }
        coro_wait_fd(o->fd, o->dir, CORO_FOREVER);
    }
    coro_ctx_post(coro_ctx_current(), complete, o);
    return NULL;
}

static void async_op(int fd, int dir, void *buf, size_t len, completion done, void *arg)
{
    op *o = malloc(sizeof *o);
    *o = (op){.fd = fd, .dir = dir, .buf = buf, .len = len, .done = done, .arg = arg};
    coro_spawn(perform, o, "%s", dir == CORO_WAIT_READ ? "async_read" : "async_write");
}

static void async_read(int fd, void *buf, size_t len, completion done, void *arg)
{
    async_op(fd, CORO_WAIT_READ, buf, len, done, arg);
}

static void async_write(int fd, const char *buf, size_t len, completion done, void *arg)
{
    async_op(fd, CORO_WAIT_WRITE, (void *)buf, len, done, arg);
}

/* ---- a program written against it: callbacks only ---------------------- */

static int sv[2]; /* a connected pair of sockets */
static char inbox[64];

static void on_read(void *arg, ssize_t n)
{
    (void)arg;
    coro_log("read completed: %zd bytes, \"%.*s\"", n, (int)(n > 0 ? n : 0), inbox);
}

static void on_write(void *arg, ssize_t n)
{
    coro_log("write completed: %zd bytes of \"%s\"", n, (const char *)arg);
}

static void hello(void *arg)
{
    coro_log("posted from another thread: %s", (const char *)arg);
}

/* asio lets several threads call run() on one io_context; corolib's loop
 * belongs to the thread that created it. */
static void *other_thread(void *arg)
{
    coro_ctx *ctx = arg;
    coro_ctx_post(ctx, hello, "hello");
    int rc = coro_ctx_run(ctx);
    printf("another thread's coro_ctx_run: %s (%s)\n", strerror(-rc), coro_last_error());
    return NULL;
}

int main(void)
{
    coro_ctx *ctx = coro_ctx_create("loop");
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv)) return 1;
    async_read(sv[0], inbox, sizeof inbox, on_read, NULL); /* started first, completes second */
    async_write(sv[1], "ping", 4, on_write, "ping");
    pthread_t t;
    pthread_create(&t, NULL, other_thread, ctx);
    pthread_join(t, NULL);
    coro_ctx_run(ctx); /* asio's io_context::run(): until no work is left */
    close(sv[0]);
    close(sv[1]);
    coro_ctx_destroy(ctx);
    return 0;
}
