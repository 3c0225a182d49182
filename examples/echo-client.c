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

#include "coro/coro.h"
#include "coro/io.h"

static const char *host = "127.0.0.1";
static int port = 8899;
static long conns = 1, msgs = 100, size = 64;
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
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc)
            host = argv[++i];
        else if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-c") && i + 1 < argc)
            conns = atol(argv[++i]);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            msgs = atol(argv[++i]);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc)
            size = atol(argv[++i]);
        else {
            printf("usage: %s [--host ADDR] [--port N] [-c CONNS] [-n MSGS] [-s BYTES]\n", argv[0]);
            return strcmp(argv[i], "--help") ? 1 : 0;
        }
    }
    if (conns < 1 || msgs < 1 || size < 1) {
        fprintf(stderr, "echo-client: -c, -n and -s must be positive\n");
        return 1;
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
