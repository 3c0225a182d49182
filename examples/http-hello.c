/*
 * http-hello.c - a minimal HTTP/1.1 server with keep-alive: `GET /` gets a
 * fixed body; one coroutine per connection reads requests (pipelined ones
 * too) and answers each. For wrk to load (bench/http).
 *
 *   http-hello [--host ADDR] [--port N]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coro/coro.h"
#include "coro/io.h"

static const char body[] = "Hello, world\n";
static char ok[256];
static size_t ok_len;
static const char not_found[] =
    "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\nContent-Type: text/plain\r\n\r\nnot found\n";
static const char bad_request[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n";

static void *serve(void *arg)
{
    coro_sock *c = arg;
    char buf[8192];
    size_t len = 0;
    for (;;) {
        char *end = memmem(buf, len, "\r\n\r\n", 4);
        if (!end) {
            if (len == sizeof buf) { /* a header block this big is not ours to serve */
                coro_send_all(c, bad_request, sizeof bad_request - 1, 5000);
                break;
            }
            ssize_t n = coro_recv(c, buf + len, sizeof buf - len, 60000);
            if (n <= 0) break;
            len += (size_t)n;
            continue;
        }
        size_t req = (size_t)(end - buf) + 4;
        bool get_root = len >= 6 && !memcmp(buf, "GET / ", 6);
        /* Connection: close ends keep-alive (a cheap search is enough here). */
        buf[req - 1] = 0;
        bool close_after = strcasestr(buf, "\r\nconnection: close") != NULL;
        const char *resp = get_root ? ok : not_found;
        size_t rlen = get_root ? ok_len : sizeof not_found - 1;
        if (coro_send_all(c, resp, rlen, 5000) < 0 || close_after) break;
        memmove(buf, buf + req, len - req);
        len -= req;
    }
    coro_close(c);
    return NULL;
}

static void *listener(void *arg)
{
    coro_sock *l = arg;
    for (;;) {
        coro_sock *c = coro_accept(l, CORO_FOREVER);
        if (!c) {
            if (errno == ECANCELED) break;
            coro_sleep(10);
            continue;
        }
        if (!coro_spawn(serve, c, "http#%d", coro_sock_fd(c))) coro_close(c);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 8080;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc)
            host = argv[++i];
        else if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else {
            printf("usage: %s [--host ADDR] [--port N]\nAnswers GET / with \"Hello, world\".\n",
                   argv[0]);
            return strcmp(argv[i], "--help") ? 1 : 0;
        }
    }
    ok_len = (size_t)snprintf(ok, sizeof ok,
                              "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nContent-Type: "
                              "text/plain\r\n\r\n%s",
                              sizeof body - 1, body);
    coro_ctx *ctx = coro_ctx_create("http-loop");
    coro_sock *l = ctx ? coro_listen(ctx, host, port, 4096) : NULL;
    if (!l) {
        fprintf(stderr, "http-hello: %s\n", coro_last_error());
        return 1;
    }
    fprintf(stderr, "http-hello: listening on %s\n", coro_sock_name(l));
    coro_spawn(listener, l, "listener");
    coro_ctx_run(ctx);
    return 0;
}
