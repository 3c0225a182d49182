/*
 * uv_echo.c - a libuv echo server (Debian libuv1-dev), written the way
 * libuv's documentation shows: read callback, write of a copy, free in the
 * write callback.
 *   uv_echo [PORT]   (0 or none: the kernel chooses; the port is printed)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

typedef struct {
    uv_write_t req;
    uv_buf_t buf;
} write_req;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = suggested;
}

static void on_close(uv_handle_t *h)
{
    free(h);
}

static void on_write(uv_write_t *req, int status)
{
    (void)status;
    write_req *w = (write_req *)req;
    free(w->buf.base);
    free(w);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    if (n > 0) {
        write_req *w = malloc(sizeof *w);
        w->buf = uv_buf_init(buf->base, (unsigned)n);
        uv_write(&w->req, s, &w->buf, 1, on_write);
        return;
    }
    if (n < 0) uv_close((uv_handle_t *)s, on_close);
    free(buf->base);
}

static void on_conn(uv_stream_t *server, int status)
{
    if (status < 0) return;
    uv_tcp_t *c = malloc(sizeof *c);
    uv_tcp_init(server->loop, c);
    if (uv_accept(server, (uv_stream_t *)c) == 0) {
        uv_tcp_nodelay(c, 1);
        uv_read_start((uv_stream_t *)c, on_alloc, on_read);
    } else {
        uv_close((uv_handle_t *)c, on_close);
    }
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0; /* 0: the kernel chooses */
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(loop, &server);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    int r = uv_listen((uv_stream_t *)&server, 4096, on_conn);
    if (r) {
        fprintf(stderr, "uv_echo: %s\n", uv_strerror(r));
        return 1;
    }
    struct sockaddr_in bound;
    int len = sizeof bound;
    if (uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len) == 0)
        port = ntohs(bound.sin_port);
    fprintf(stderr, "uv_echo: listening on 127.0.0.1:%d\n", port);
    return uv_run(loop, UV_RUN_DEFAULT);
}
