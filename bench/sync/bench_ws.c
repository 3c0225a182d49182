/*
 * bench_ws.c - the work-stealing scheduler with work that is not empty:
 * N coroutines, each computing for about 5 us (bench_work), spawned from
 * inside the scheduler by one coroutine that yields every 64 spawns, on 1
 * and 2 workers; and the same
 * with Go goroutines (ws_go, GOMAXPROCS 1 and 2) in the same run, the runs
 * interleaved (ours, Go, ours, Go, ...). Prints ns per coroutine (median),
 * the speed-up of 2 workers over 1, and ours/Go.
 *   bench_ws [N]
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "coro/coro.h"
#include "coro/ws.h"
#include "work.h"

#define REPS 5

static long k_rounds; /* xorshift rounds for ~5 us */
static long to_spawn;
static atomic_long done;
static atomic_uint_fast64_t sink;

static void *job(void *arg)
{
    atomic_fetch_add_explicit(&sink, bench_work((uint64_t)(intptr_t)arg + 1, k_rounds),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&done, 1, memory_order_relaxed);
    return NULL;
}

static void *seeder(void *arg)
{
    (void)arg;
    /* Every 64 spawns the seeder lets others run (ws_go does the same with
     * runtime.Gosched), so that live coroutines, and their stacks, stay few:
     * this measures scheduling, not stack allocation. */
    for (long i = 0; i < to_spawn; i++) {
        coro_spawn(job, (void *)(intptr_t)i, "job");
        if (i % 64 == 63) coro_yield();
    }
    return NULL;
}

static double ours(int workers, long n)
{
    atomic_store(&done, 0);
    to_spawn = n;
    coro_ws *ws = coro_ws_create(workers);
    double t0 = bench_now_ns();
    coro_ws_spawn(ws, seeder, NULL, "seeder");
    coro_ws_join(ws);
    double t = (bench_now_ns() - t0) / (double)n;
    if (atomic_load(&done) != n) {
        fprintf(stderr, "bench_ws: %ld of %ld coroutines ran\n", atomic_load(&done), n);
        exit(1);
    }
    return t;
}

static double go(const char *bin, int procs, long n)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' %d %ld %ld", bin, procs, n, k_rounds);
    return bench_run_number(cmd);
}

/* Rounds of bench_work that take about 5 us here, measured alone. */
static long calibrate(double *ns_per_item)
{
    long k = 1000;
    double t0 = bench_now_ns();
    uint64_t x = bench_work(1, k * 100);
    double per_round = (bench_now_ns() - t0) / (double)(k * 100);
    atomic_store(&sink, x);
    k = (long)(5000.0 / per_round);
    double v[REPS];
    for (int r = 0; r < REPS; r++) {
        t0 = bench_now_ns();
        for (int i = 0; i < 100; i++) atomic_fetch_add(&sink, bench_work((uint64_t)i + 1, k));
        v[r] = (bench_now_ns() - t0) / 100.0;
    }
    *ns_per_item = bench_median(v, REPS);
    return k;
}

int main(int argc, char **argv)
{
    long n = 20000;
    int reps = bench_reps(REPS); /* fewer in a quick run (bench_util.h) */
    if (argc > 1 && !strcmp(argv[1], "--help")) {
        printf("usage: %s [N]\nN coroutines (default %ld) of about 5 us of work each on the\n"
               "work-stealing scheduler with 1 and 2 workers, against Go goroutines doing the\n"
               "same work (ws_go beside this program) with GOMAXPROCS 1 and 2.\n",
               argv[0], n);
        return 0;
    }
    if (argc > 1 && (n = strtol(argv[1], NULL, 10)) < 100) {
        fprintf(stderr, "%s: N must be a number of at least 100, not '%s'\n", argv[0], argv[1]);
        return 2;
    }
    if (argc == 1) n = bench_ops(n);
    char gobin[4096];
    bench_sibling(gobin, sizeof gobin, argv[0], "ws_go");
    int have_go = access(gobin, X_OK) == 0;

    double alone;
    k_rounds = calibrate(&alone);
    printf("work-stealing: %ld coroutines of %ld xorshift rounds (%.2f us alone), spawned by one\n"
           "coroutine; ns per coroutine, median of %d runs, ours and Go interleaved\n",
           n, k_rounds, alone / 1000, reps);
    double o[2][REPS], g[2][REPS];
    for (int r = 0; r < reps; r++)
        for (int w = 0; w < 2; w++) {
            o[w][r] = ours(w + 1, n);
            g[w][r] = have_go ? go(gobin, w + 1, n) : -1;
        }
    double om[2], gm[2];
    for (int w = 0; w < 2; w++)
        om[w] = bench_median(o[w], (size_t)reps), gm[w] = bench_median(g[w], (size_t)reps);
    printf("%-8s %12s %12s %10s\n", "workers", "corolib ws", "Go", "ours/Go");
    for (int w = 0; w < 2; w++) {
        if (have_go && gm[w] > 0)
            printf("%-8d %12.1f %12.1f %10.2f\n", w + 1, om[w], gm[w], om[w] / gm[w]);
        else
            printf("%-8d %12.1f %12s %10s\n", w + 1, om[w], "-", "-");
    }
    printf("speed-up of 2 workers over 1: corolib %.2fx", om[0] / om[1]);
    if (have_go && gm[0] > 0 && gm[1] > 0) printf(", Go %.2fx", gm[0] / gm[1]);
    printf("\n");
    if (!have_go) printf("(ws_go not built: install golang-go for the Go rows)\n");
    return 0;
}
