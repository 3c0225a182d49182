/*
 * echo-server.c - the tinyasync example in C: a listening coroutine accepts
 * connections and spawns one named echo coroutine per connection, which
 * sends back every byte it receives until the peer closes.
 *
 *   echo-server [--host ADDR] [--port N] [--conns N]
 *
 * --conns N stops after N connections have been served (for tests and the
 * demo); without it the server runs until killed. Run it traced:
 *   CORO_TRACE=echo.jsonl CORO_LOG=stderr echo-server --port 8899
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "coro/coro.h"
#include "coro/io.h"

static long served, limit;
static coro_sock *listener;
static coro_ctx *ctx;

static void *echo(void *arg)
{
    coro_sock *c = arg;
    char buf[16384];
    for (;;) {
        ssize_t n = coro_recv(c, buf, sizeof buf, CORO_FOREVER);
        if (n <= 0) {
            if (n < 0) coro_log("recv: %s", strerror((int)-n));
            break;
        }
        ssize_t w = coro_send_all(c, buf, (size_t)n, CORO_FOREVER);
        if (w < 0) {
            coro_log("send: %s", strerror((int)-w));
            break;
        }
    }
    coro_close(c);
    if (limit && ++served >= limit) coro_ctx_stop(ctx);
    return NULL;
}

static void *accept_loop(void *arg)
{
    (void)arg;
    for (long n = 1;; n++) {
        coro_sock *c = coro_accept(listener, CORO_FOREVER);
        if (!c) {
            if (errno == ECANCELED) break;
            coro_log("accept: %s", coro_last_error());
            if (errno == EMFILE || errno == ENFILE) coro_sleep(50); /* back off, keep serving */
            continue;
        }
        if (!coro_spawn(echo, c, "echo#%ld", n)) coro_close(c);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 8899;
    cli_init("echo-server", "usage: echo-server [--host ADDR] [--port N] [--conns N]\n"
                            "An echo server: one named coroutine per connection.\n"
                            "  --host ADDR  address to listen on (default 127.0.0.1)\n"
                            "  --port N     port, 0 for one the kernel picks (default 8899)\n"
                            "  --conns N    stop after serving N connections (default: never)\n");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host"))
            host = cli_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--port"))
            port = (int)cli_number(argc, argv, &i, 0, 65535);
        else if (!strcmp(argv[i], "--conns"))
            limit = cli_number(argc, argv, &i, 0, LONG_MAX);
        else
            cli_unknown(argv[i]);
    }
    ctx = coro_ctx_create("loop");
    listener = ctx ? coro_listen(ctx, host, port, 1024) : NULL;
    if (!listener) {
        fprintf(stderr, "echo-server: %s\n", coro_last_error());
        return 1;
    }
    fprintf(stderr, "echo-server: listening on %s\n", coro_sock_name(listener));
    coro_spawn(accept_loop, NULL, "listener");
    coro_ctx_run(ctx);
    coro_close(listener);
    coro_run(); /* the listener sees ECANCELED and ends */
    coro_ctx_destroy(ctx);
    return 0;
}
