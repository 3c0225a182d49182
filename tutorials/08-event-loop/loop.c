/*
 * loop.c - chapter 8: the event loop. An echo coroutine and a client, in one
 * process and one loop, talking over a Unix socket. Neither resumes the
 * other: every resume after the first start is made by the loop, because
 * epoll_wait said a descriptor was ready.
 */
#include <unistd.h>

#include "coro/coro.h"
#include "coro/io.h"

#define PATH "/tmp/coroscope-08-loop.sock"

static void *echo(void *arg)
{
    coro_sock *l = arg;
    coro_sock *c = coro_accept(l, CORO_FOREVER); /* suspends: nobody has connected yet */
    char buf[64];
    ssize_t n;
    while ((n = coro_recv(c, buf, sizeof buf, CORO_FOREVER)) > 0)
        coro_send_all(c, buf, (size_t)n, CORO_FOREVER);
    coro_close(c);
    return NULL;
}

static void *client(void *arg)
{
    (void)arg;
    coro_sock *s = coro_connect(coro_ctx_current(), PATH, 0, CORO_FOREVER);
    char buf[8];
    for (int i = 0; i < 2; i++) {
        coro_send_all(s, "ping", 4, CORO_FOREVER);
        coro_recv(s, buf, sizeof buf, CORO_FOREVER); /* suspends until echo answers */
        coro_log("got %.4s", buf);
    }
    coro_close(s);
    return NULL;
}

int main(void)
{
    unlink(PATH);
    coro_ctx *ctx = coro_ctx_create("loop");
    coro_sock *l = coro_listen(ctx, PATH, 0, 4);
    if (!l) return 1;
    coro_spawn(echo, l, "echo");
    coro_spawn(client, NULL, "client");
    coro_ctx_run(ctx); /* returns when nothing is left to wait for */
    coro_close(l);
    coro_ctx_destroy(ctx);
    unlink(PATH);
    return 0;
}
