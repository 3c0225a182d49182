/*
 * echo-client.c - a load generator for echo servers: N connections, each
 * sending M messages of S bytes and checking that every byte comes back.
 * Prints throughput and the p50/p99/max round-trip latency.
 *
 *   echo-client [--host ADDR] [--port N] [-c CONNS] [-n MSGS] [-s BYTES]
 *
 * Exits 1 if any byte differs or a connection fails.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "coro/coro.h"
#include "coro/io.h"

static const char *host = "127.0.0.1";
static int port = 8899;
static long conns = 1, msgs = 100, size = 64, pause_ms = 0;
static coro_ctx *ctx;
static double *lat; /* per message, microseconds */
static long nlat, failures;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *client(void *arg)
{
    long id = (long)(intptr_t)arg;
    coro_sock *s = coro_connect(ctx, host, port, 10000);
    if (!s) {
        fprintf(stderr, "echo-client: connect: %s\n", coro_last_error());
        failures++;
        return NULL;
    }
    char *out = malloc((size_t)size), *in = malloc((size_t)size);
    for (long m = 0; m < msgs; m++) {
        if (pause_ms) coro_sleep(pause_ms); /* the server's loop goes idle between messages */
        for (long i = 0; i < size; i++) out[i] = (char)(id * 31 + m * 7 + i);
        double t0 = now_us();
        if (coro_send_all(s, out, (size_t)size, 10000) < 0) {
            failures++;
            break;
        }
        long got = 0;
        while (got < size) {
            ssize_t n = coro_recv(s, in + got, (size_t)(size - got), 10000);
            if (n <= 0) break;
            got += n;
        }
        if (got != size || memcmp(in, out, (size_t)size)) {
            fprintf(stderr, "echo-client: connection %ld message %ld: %s\n", id, m,
                    got != size ? "short reply" : "bytes differ");
            failures++;
            break;
        }
        lat[nlat++] = now_us() - t0;
    }
    free(out);
    free(in);
    coro_close(s);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    cli_init("echo-client",
             "usage: echo-client [--host ADDR] [--port N] [-c CONNS] [-n MSGS] [-s BYTES]\n"
             "                   [--pause MS]\n"
             "Loads an echo server and checks every byte that comes back.\n"
             "  --host ADDR  server address (default 127.0.0.1)\n"
             "  --port N     server port (default 8899)\n"
             "  -c CONNS     connections at once (default 1)\n"
             "  -n MSGS      messages per connection (default 100)\n"
             "  -s BYTES     bytes per message (default 64)\n"
             "  --pause MS   wait MS milliseconds before each message (default 0), so the\n"
             "               server waits in its event loop for every one\n");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host"))
            host = cli_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--port"))
            port = (int)cli_number(argc, argv, &i, 1, 65535);
        else if (!strcmp(argv[i], "-c"))
            conns = cli_number(argc, argv, &i, 1, 100000);
        else if (!strcmp(argv[i], "-n"))
            msgs = cli_number(argc, argv, &i, 1, 100000000);
        else if (!strcmp(argv[i], "-s"))
            size = cli_number(argc, argv, &i, 1, 1L << 30);
        else if (!strcmp(argv[i], "--pause"))
            pause_ms = cli_number(argc, argv, &i, 0, 60000);
        else
            cli_unknown(argv[i]);
    }
    lat = malloc((size_t)(conns * msgs) * sizeof *lat);
    ctx = coro_ctx_create("client-loop");
    if (!ctx || !lat) return 1;
    double t0 = now_us();
    for (long c = 0; c < conns; c++) coro_spawn(client, (void *)(intptr_t)c, "client#%ld", c);
    coro_ctx_run(ctx);
    double secs = (now_us() - t0) / 1e6;
    qsort(lat, (size_t)nlat, sizeof *lat, cmp);
    printf("%ld connections x %ld messages x %ld bytes: %ld round trips in %.3f s\n", conns, msgs,
           size, nlat, secs);
    if (nlat)
        printf("throughput %.0f req/s, %.1f MB/s; latency p50 %.1f us, p99 %.1f us, max %.1f us\n",
               (double)nlat / secs, (double)nlat * (double)size / secs / 1e6, lat[nlat / 2],
               lat[(size_t)((double)nlat * 0.99)], lat[nlat - 1]);
    coro_ctx_destroy(ctx);
    if (failures || nlat != conns * msgs) {
        fprintf(stderr, "echo-client: %ld failures, %ld of %ld round trips verified\n", failures,
                nlat, conns * msgs);
        return 1;
    }
    return 0;
}
