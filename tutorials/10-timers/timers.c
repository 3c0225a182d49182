/*
 * timers.c - chapter 10: timers and deadlines. A coroutine sleeps; another
 * waits for data that never comes, with a deadline, and gets -ETIMEDOUT; a
 * third gets its answer before its deadline, which is then cancelled. The
 * loop has no clock of its own: the nearest deadline becomes epoll_wait's
 * timeout.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "coro/coro.h"
#include "coro/io.h"

#define PATH "/tmp/coroscope-10-timers.sock"

static coro_sock *listener;

static void *sleeper(void *arg)
{
    (void)arg;
    coro_sleep(100); /* a timer, and nothing else */
    coro_log("slept 100 ms");
    return NULL;
}

/* Connects, sends `ask`, and waits at most 250 ms for an answer. */
static void *asker(void *arg)
{
    const char *ask = arg;
    coro_sock *s = coro_connect(coro_ctx_current(), PATH, 0, CORO_FOREVER);
    coro_send_all(s, ask, strlen(ask), CORO_FOREVER);
    char buf[16];
    ssize_t n = coro_recv(s, buf, sizeof buf, 250); /* the deadline */
    if (n == -ETIMEDOUT)
        coro_log("recv returned -ETIMEDOUT: no answer within 250 ms");
    else if (n < 0)
        coro_log("recv: %s", strerror((int)-n));
    else
        coro_log("answer: %.*s", (int)n, buf);
    coro_close(s);
    return NULL;
}

/* Answers "now" at once and "later" never, on two connections. */
static void *server(void *arg)
{
    (void)arg;
    coro_sock *c[2];
    for (int i = 0; i < 2; i++) {
        c[i] = coro_accept(listener, CORO_FOREVER);
        char buf[16];
        ssize_t n = coro_recv(c[i], buf, sizeof buf, CORO_FOREVER);
        if (n == 3 && !memcmp(buf, "now", 3)) coro_send_all(c[i], "here", 4, CORO_FOREVER);
    }
    for (int i = 0; i < 2; i++) { /* both askers hang up in the end */
        char buf[16];
        while (coro_recv(c[i], buf, sizeof buf, CORO_FOREVER) > 0) {
        }
        coro_close(c[i]);
    }
    return NULL;
}

int main(void)
{
    unlink(PATH);
    coro_ctx *ctx = coro_ctx_create("loop");
    listener = coro_listen(ctx, PATH, 0, 4);
    if (!listener) return 1;
    coro_spawn(server, NULL, "server");
    coro_spawn(sleeper, NULL, "sleeper");
    coro_spawn(asker, "now", "asker#now");
    coro_spawn(asker, "later", "asker#later");
    coro_ctx_run(ctx);
    coro_close(listener);
    coro_ctx_destroy(ctx);
    unlink(PATH);
    return 0;
}
