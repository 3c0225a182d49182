/*
 * bench_switch.c - the context switch, side by side with its rivals, in one
 * run. Two tables of resume+yield round trips (two switches each):
 *   raw switch   corolib's asm backend, Boost.Context jump_fcontext, our
 *                ucontext backend (compiled in a second time under other
 *                names, see CMakeLists.txt), glibc swapcontext
 *   public API   coro_resume + coro_yield against boost::context::fiber
 * Every row times its own loop written beside the switch (ROUND_TRIPS), so
 * no row pays a call or a store another does not. All save the
 * floating-point control state. Pin it: taskset -c 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "bench_util.h"
#include "coro/coro.h"
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
double boost_fcontext_rounds(long n);
double boost_fiber_rounds(long n);

/* Every row is a function that times n round trips with the loop written
 * right beside the switch, so that no row pays a call, a store or a return
 * that another does not (the loop's own increment and compare are common
 * to all). Stacks are set up on first use, outside the timed loop. */
#define ROUND_TRIPS(setup, trip)                                                                   \
    {                                                                                              \
        setup;                                                                                     \
        double t0 = bench_now_ns();                                                                \
        for (long i = 0; i < n; i++) trip;                                                         \
        return (bench_now_ns() - t0) / (double)n;                                                  \
    }

/* ---- corolib asm: the raw switch ---- */
static coro__ctx asm_main, asm_co;
static void asm_body(void *arg)
{
    (void)arg;
    for (;;) coro__ctx_switch(&asm_co, &asm_main);
}
static double asm_rounds(long n)
    ROUND_TRIPS(if (!asm_co.sp) coro__ctx_init(&asm_co, malloc(STACK), STACK, asm_body, NULL),
                coro__ctx_switch(&asm_main, &asm_co))

    /* ---- corolib ucontext backend ---- */
    static uc_ctx uc_main,
    uc_co;
static int uc_ready;
static void uc_body(void *arg)
{
    (void)arg;
    for (;;) bench_uc_ctx_switch(&uc_co, &uc_main);
}
static double uc_rounds(long n)
    ROUND_TRIPS(if (!uc_ready++) bench_uc_ctx_init(&uc_co, malloc(STACK), STACK, uc_body, NULL),
                bench_uc_ctx_switch(&uc_main, &uc_co))

    /* ---- glibc swapcontext directly ---- */
    static ucontext_t g_main,
    g_co;
static int g_ready;
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
static double g_rounds(long n) ROUND_TRIPS(if (!g_ready++) g_setup(), swapcontext(&g_main, &g_co))

    /* ---- the public API: coro_resume + coro_yield ---- */
    static void *yield_forever(void *arg)
{
    (void)arg;
    for (;;) coro_yield();
    return NULL;
}
static coro_t *api_co;
static double api_rounds(long n)
    ROUND_TRIPS(if (!api_co) api_co = coro_create(yield_forever, NULL, "pinger"),
                coro_resume(api_co))

        typedef struct bench_case {
    const char *name;
    const char *what;
    double (*rounds)(long n);
    long n;
    double ns;
} bench_case;

static int reps = REPS; /* fewer in a quick run (bench_util.h) */

static double measure(bench_case *c)
{
    double v[REPS];
    c->rounds(c->n / 10); /* set up, warm up */
    for (int r = 0; r < reps; r++) v[r] = c->rounds(c->n);
    return bench_median(v, (size_t)reps);
}

static void table(const char *title, bench_case *cases, size_t n)
{
    printf("%s\n", title);
    printf("  %-30s %9s %9s  %s\n", "", "ns", "ours/this", "what the row does per round trip");
    for (size_t i = 0; i < n; i++) cases[i].ns = measure(&cases[i]);
    for (size_t i = 0; i < n; i++)
        printf("  %-30s %9.2f %9.2f  %s\n", cases[i].name, cases[i].ns, cases[0].ns / cases[i].ns,
               cases[i].what);
}

static bench_case raw[] = {
    {"corolib asm", "2 switches (callee-saved, MXCSR/x87 CW)", asm_rounds, N, 0},
    {"Boost.Context jump_fcontext", "2 switches (callee-saved, MXCSR/x87 CW)",
     boost_fcontext_rounds, N, 0},
    {"corolib ucontext", "2 swapcontext (a sigprocmask each)", uc_rounds, N / 10, 0},
    {"glibc swapcontext", "2 swapcontext (a sigprocmask each)", g_rounds, N / 10, 0},
};
static bench_case api[] = {
    {"coro_resume + coro_yield", "checks, state, trace point (off), 2 switches", api_rounds, N, 0},
    {"boost::context::fiber", "resume() twice, moves of the fiber handle", boost_fiber_rounds, N,
     0},
};
#define NRAW (sizeof raw / sizeof *raw)
#define NAPI (sizeof api / sizeof *api)

/* --count ROW N: run one row's loop N times and nothing else, for
 * bench/ir.sh, which counts instructions at two N and takes the slope. */
static int count_only(int argc, char **argv)
{
    long n = argc > 3 ? strtol(argv[3], NULL, 10) : 0;
    for (size_t i = 0; argc > 3 && i < NRAW + NAPI; i++) {
        bench_case *c = i < NRAW ? &raw[i] : &api[i - NRAW];
        if (strcmp(c->name, argv[2])) continue;
        c->rounds(n);
        return 0;
    }
    fprintf(stderr, "%s --count: usage: --count ROW N, ROW one of:\n", argv[0]);
    for (size_t i = 0; i < NRAW + NAPI; i++)
        fprintf(stderr, "  '%s'\n", i < NRAW ? raw[i].name : api[i - NRAW].name);
    return 2;
}

int main(int argc, char **argv)
{
    long n = bench_ops(N);
    reps = bench_reps(REPS);
    if (argc > 1 && !strcmp(argv[1], "--help")) {
        printf("usage: %s [ROUND_TRIPS]   or   %s --count ROW N\n"
               "Resume+yield round trips: the raw switch (corolib asm and ucontext backends,\n"
               "glibc swapcontext, Boost.Context jump_fcontext) and the public APIs\n"
               "(coro_resume/coro_yield, boost::context::fiber), median of %d runs of\n"
               "%ld each (a tenth for the ucontext rows, which make a system call).\n"
               "--count runs one row N times, for counting instructions (bench/ir.sh).\n"
               "Run pinned: taskset -c 1 %s\n",
               argv[0], argv[0], REPS, N, argv[0]);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--count")) return count_only(argc, argv);
    if (argc > 1 && (n = strtol(argv[1], NULL, 10)) < 10) {
        fprintf(stderr, "%s: ROUND_TRIPS must be a number of at least 10, not '%s'\n", argv[0],
                argv[1]);
        return 2;
    }
    for (size_t i = 0; i < NRAW + NAPI; i++) {
        bench_case *c = i < NRAW ? &raw[i] : &api[i - NRAW];
        c->n = c->n == N ? n : n / 10;
    }
    printf("context switch: resume+yield round trip, ns, median of %d (ratio > 1: ours slower)\n",
           reps);
    table("raw switch", raw, NRAW);
    table("public API", api, NAPI);
    return 0;
}
