/*
 * echo.c - chapter 9: an acceptor and an echo server over TCP, with the end
 * of a connection handled. The server (acceptor, echo#N) and a client run in
 * one process and one loop, so the run is the same every time.
 *
 *   tutorial_echo_tcp                 the client says hello and closes, then
 *                                     connects again and resets (RST)
 *   tutorial_echo_tcp --no-eof-check  echo treats recv's 0 as data, as a loop
 *                                     that only tests for errors would
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "coro/coro.h"
#include "coro/io.h"

static int no_eof_check;

static void *echo(void *arg)
{
    coro_sock *c = arg;
    char buf[256];
    int spins = 0;
    for (;;) {
        ssize_t n = coro_recv(c, buf, sizeof buf, CORO_FOREVER);
        if (n < 0) { /* an error: it ends this connection, not the server */
            coro_log("recv: %s", strerror((int)-n));
            break;
        }
        if (n == 0) { /* end of stream: the peer closed */
            if (!no_eof_check) {
                coro_log("peer closed");
                break;
            }
            /* recv on a closed connection returns 0 at once, every time: the
             * coroutine never suspends, so the loop never runs again. */
            coro_log("recv returned 0, echoing nothing (spin %d)", ++spins);
            if (spins == 3) break; /* a real server would spin forever */
        }
        if (coro_send_all(c, buf, (size_t)n, CORO_FOREVER) < 0) break;
    }
    coro_close(c);
    return NULL;
}

static void *acceptor(void *arg)
{
    coro_sock *l = arg;
    for (int n = 1; n <= 2; n++) {
        coro_sock *c = coro_accept(l, CORO_FOREVER);
        if (!c) {
            coro_log("accept: %s", strerror(errno));
            continue;
        }
        coro_spawn(echo, c, "echo#%d", n); /* one coroutine per connection */
    }
    return NULL;
}

static void *client(void *arg)
{
    int port = *(int *)arg;
    char buf[64];
    /* 1: say hello, read the echo, close: the server sees the end of stream */
    coro_sock *s = coro_connect(coro_ctx_current(), "127.0.0.1", port, CORO_FOREVER);
    coro_send_all(s, "hello", 5, CORO_FOREVER);
    ssize_t n = coro_recv(s, buf, sizeof buf, CORO_FOREVER);
    coro_log("echoed: %.*s", (int)n, buf);
    coro_close(s);
    /* 2: the same, but close with SO_LINGER 0: the kernel sends a reset */
    s = coro_connect(coro_ctx_current(), "127.0.0.1", port, CORO_FOREVER);
    coro_send_all(s, "bye", 3, CORO_FOREVER);
    n = coro_recv(s, buf, sizeof buf, CORO_FOREVER);
    coro_log("echoed: %.*s", (int)n, buf);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(coro_sock_fd(s), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    coro_close(s);
    return NULL;
}

int main(int argc, char **argv)
{
    no_eof_check = argc > 1 && !strcmp(argv[1], "--no-eof-check");
    coro_ctx *ctx = coro_ctx_create("loop");
    coro_sock *l = coro_listen(ctx, "127.0.0.1", 0, 16); /* port 0: the kernel picks one */
    if (!l) {
        fprintf(stderr, "listen: %s\n", coro_last_error());
        return 1;
    }
    int port = coro_sock_port(l);
    coro_spawn(acceptor, l, "acceptor");
    coro_spawn(client, &port, "client");
    coro_ctx_run(ctx);
    coro_close(l);
    coro_ctx_destroy(ctx);
    return 0;
}
