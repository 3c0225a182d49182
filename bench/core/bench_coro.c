/*
 * bench_coro.c - what the public coroutine API costs, and what tracing
 * costs when it is compiled in but switched off.
 *
 * This program is built twice: bench_coro links corolib as shipped (trace
 * points compiled in, tracing off unless CORO_TRACE is set), and
 * bench_coro_notrace links a copy with every trace point compiled out. Run
 * without arguments, bench_coro measures itself, runs its sibling with
 * --raw, and prints both side by side with the ratio.
 *
 * Each case runs N operations per repetition; the median of REPS
 * repetitions is reported in ns per operation. Pin it (taskset -c 1).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "coro/coro.h"

#define REPS 9

static void *yield_forever(void *arg)
{
    (void)arg;
    for (;;) coro_yield();
    return NULL;
}

static void *noop(void *arg)
{
    return arg;
}

static double run_resume_yield(long n)
{
    static coro_t *co;
    if (!co) co = coro_create(yield_forever, NULL, "pinger");
    double t0 = bench_now_ns();
    for (long i = 0; i < n; i++) coro_resume(co);
    return (bench_now_ns() - t0) / (double)n;
}

static double run_create_destroy(long n)
{
    double t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        coro_t *co = coro_create(noop, NULL, "c");
        coro_resume(co);
        coro_destroy(co);
    }
    return (bench_now_ns() - t0) / (double)n;
}

static double run_create_destroy_nopool(long n)
{
    coro_set_stack_pool_limit(0);
    coro_stack_pool_drain();
    double r = run_create_destroy(n);
    coro_set_stack_pool_limit(64);
    return r;
}

static double run_spawn(long n)
{
    double t0 = bench_now_ns();
    for (long i = 0; i < n; i += 50) {
        for (int j = 0; j < 50; j++) coro_spawn(noop, NULL, "s");
        coro_run();
    }
    return (bench_now_ns() - t0) / (double)n;
}

typedef struct bench_case {
    const char *name;
    double (*fn)(long n);
    long n;
} bench_case;

static const bench_case cases[] = {
    {"resume+yield round trip", run_resume_yield, 2000000},
    {"create+run+destroy (pooled stack)", run_create_destroy, 500000},
    {"create+run+destroy (fresh mmap)", run_create_destroy_nopool, 20000},
    {"spawn+run, 50 at a time (detached)", run_spawn, 500000},
};
#define NCASES (sizeof cases / sizeof *cases)

static int reps = REPS; /* fewer in a quick run (bench_util.h) */

static double median_of(const bench_case *c)
{
    double v[REPS];
    long n = bench_ops(c->n);
    c->fn(n / 10); /* warm up: pool, page faults, caches */
    for (int r = 0; r < reps; r++) v[r] = c->fn(n);
    return bench_median(v, (size_t)reps);
}

/* Run the untraced sibling and read one number per line. */
static int run_sibling(const char *self, double out[NCASES])
{
    char path[4096];
    snprintf(path, sizeof path, "%s_notrace", self);
    if (access(path, X_OK) != 0) return -1;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' --raw", path);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t i = 0;
    while (i < NCASES && fscanf(p, "%lf", &out[i]) == 1) i++;
    return pclose(p) == 0 && i == NCASES ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--help")) {
        printf("usage: %s [--raw]\n"
               "Measures coroutine operations through the public API (median of %d runs),\n"
               "then runs %s_notrace (trace points compiled out) and prints the ratio.\n",
               argv[0], REPS, argv[0]);
        return 0;
    }
    /* --count NAME N: one case's function once with N operations, for
     * counting instructions (bench/core/ir.sh). */
    if (argc > 3 && !strcmp(argv[1], "--count")) {
        for (size_t i = 0; i < NCASES; i++)
            if (!strcmp(cases[i].name, argv[2])) {
                cases[i].fn(strtol(argv[3], NULL, 10));
                return 0;
            }
        fprintf(stderr, "%s --count: no case named '%s'\n", argv[0], argv[2]);
        return 2;
    }
    bool raw = argc > 1 && !strcmp(argv[1], "--raw");
    reps = bench_reps(REPS);
    double mine[NCASES];
    for (size_t i = 0; i < NCASES; i++) {
        mine[i] = median_of(&cases[i]);
        if (raw) printf("%.3f\n", mine[i]);
    }
    if (raw) return 0;

    double off[NCASES];
    int have = run_sibling(argv[0], off) == 0;
    printf("corolib (%s switch), ns per operation, median of %d runs\n", CORO_SWITCH_NAME, reps);
    printf("%-36s %14s %14s %8s\n", "operation", "tracing off", "compiled out", "ratio");
    for (size_t i = 0; i < NCASES; i++) {
        if (have)
            printf("%-36s %14.1f %14.1f %8.2f\n", cases[i].name, mine[i], off[i], mine[i] / off[i]);
        else
            printf("%-36s %14.1f %14s %8s\n", cases[i].name, mine[i], "-", "-");
    }
    if (!have) printf("(%s_notrace not found: build with -DCORO_TRACE=ON)\n", argv[0]);
    return 0;
}
