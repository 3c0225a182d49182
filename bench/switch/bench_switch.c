/*
 * bench_switch.c - the raw context switch, side by side with its rivals.
 *
 * One run measures a resume+yield round trip (two switches) for:
 *   corolib asm       our assembly backend (switch_x86_64.S / _aarch64.S)
 *   corolib ucontext  our ucontext backend, compiled in a second time under
 *                     other names (see CMakeLists.txt)
 *   glibc swapcontext swapcontext called directly
 *   Boost.Context     jump_fcontext (fcontext.cpp, Debian libboost-context-dev)
 * and prints ns per round trip (median of REPS runs) and ours/theirs.
 * All four save the floating-point control state. Pin it: taskset -c 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "bench_util.h"
#include "switch.h"

#define REPS  9
#define N     5000000L
#define STACK (64 * 1024)

/* The ucontext backend under other names (CMakeLists.txt renames it). */
typedef struct uc_ctx {
    ucontext_t uc;
} uc_ctx;
void bench_uc_ctx_init(uc_ctx *ctx, void *lo, size_t size, coro__entry_fn entry, void *arg);
void bench_uc_ctx_switch(uc_ctx *from, uc_ctx *to);

/* Boost.Context, from fcontext.cpp. */
void boost_setup(void);
void boost_round_trip(void);

/* ---- corolib asm ---- */
static coro__ctx asm_main, asm_co;
static void asm_body(void *arg)
{
    (void)arg;
    for (;;) coro__ctx_switch(&asm_co, &asm_main);
}
static void asm_setup(void)
{
    coro__ctx_init(&asm_co, malloc(STACK), STACK, asm_body, NULL);
}
static void asm_trip(void)
{
    coro__ctx_switch(&asm_main, &asm_co);
}

/* ---- corolib ucontext ---- */
static uc_ctx uc_main, uc_co;
static void uc_body(void *arg)
{
    (void)arg;
    for (;;) bench_uc_ctx_switch(&uc_co, &uc_main);
}
static void uc_setup(void)
{
    bench_uc_ctx_init(&uc_co, malloc(STACK), STACK, uc_body, NULL);
}
static void uc_trip(void)
{
    bench_uc_ctx_switch(&uc_main, &uc_co);
}

/* ---- glibc swapcontext directly ---- */
static ucontext_t g_main, g_co;
static void g_body(void)
{
    for (;;) swapcontext(&g_co, &g_main);
}
static void g_setup(void)
{
    getcontext(&g_co);
    g_co.uc_stack.ss_sp = malloc(STACK);
    g_co.uc_stack.ss_size = STACK;
    makecontext(&g_co, g_body, 0);
}
static void g_trip(void)
{
    swapcontext(&g_main, &g_co);
}

typedef struct bench_case {
    const char *name;
    void (*setup)(void);
    void (*trip)(void);
    long n;
    double ns;
} bench_case;

static double measure(bench_case *c)
{
    double v[REPS];
    c->setup();
    for (long i = 0; i < c->n / 10; i++) c->trip(); /* warm up */
    for (int r = 0; r < REPS; r++) {
        double t0 = bench_now_ns();
        for (long i = 0; i < c->n; i++) c->trip();
        v[r] = (bench_now_ns() - t0) / (double)c->n;
    }
    qsort(v, REPS, sizeof v[0], bench_cmp_double);
    return v[REPS / 2];
}

int main(int argc, char **argv)
{
    long n_fast = N;
    if (argc > 1 && !strcmp(argv[1], "--help")) {
        printf("usage: %s [ROUND_TRIPS]\nResume+yield round trips of four context switches, "
               "median of %d runs of %ld each (a tenth for the syscall-bound ucontext "
               "rows).\nRun pinned: taskset -c 1 %s\n",
               argv[0], REPS, N, argv[0]);
        return 0;
    }
    /* A small count is for instruction counting under callgrind. */
    if (argc > 1 && (n_fast = strtol(argv[1], NULL, 10)) < 10) {
        fprintf(stderr, "%s: ROUND_TRIPS must be at least 10\n", argv[0]);
        return 2;
    }
    /* One row per case; later rows (the public API, tracing on/off) are
     * added here. */
    bench_case cases[] = {
        {"corolib asm", asm_setup, asm_trip, n_fast, 0},
        {"corolib ucontext", uc_setup, uc_trip, n_fast / 10, 0},
        {"glibc swapcontext", g_setup, g_trip, n_fast / 10, 0},
        {"Boost.Context jump_fcontext", boost_setup, boost_round_trip, n_fast, 0},
    };
    size_t n = sizeof cases / sizeof *cases;
    for (size_t i = 0; i < n; i++) cases[i].ns = measure(&cases[i]);

    printf("context switch: resume+yield round trip, ns (median of %d)\n", REPS);
    printf("%-30s %10s %14s %14s\n", "", "ns", "asm/this", "ucontext/this");
    for (size_t i = 0; i < n; i++)
        printf("%-30s %10.2f %14.2f %14.2f\n", cases[i].name, cases[i].ns,
               cases[0].ns / cases[i].ns, cases[1].ns / cases[i].ns);
    printf("(ratio < 1: ours is faster)\n");
    return 0;
}
