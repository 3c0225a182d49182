/*
 * bench_stacks.c - what each stack mode costs: resident memory per live
 * coroutine, and the time of a resume+yield round trip.
 *
 *   bench_stacks memory MODE N   N coroutines of MODE (guarded, slab, copy)
 *                                alive at once, each suspended (coro_yield)
 *                                with a 1 KiB array on its stack; prints the
 *                                resident memory they added (/proc/self/statm
 *                                before and after), per coroutine. Guarded
 *                                stacks stop at the kernel's mapping limit:
 *                                the line says where, and the error. With
 *                                --in-use B the array is sized so that the
 *                                whole stack in use (frames included) is B.
 *                                With --sleep each waits in coro_sleep on
 *                                an io_context's timer instead of yielding;
 *                                the sleep path's frames are bigger (with
 *                                --in-use the array is sized on that path),
 *                                and the line prints the stack in use.
 *   bench_stacks switch          round trips per mode, medians of 9: main
 *                                resumes one coroutine (x1), or two in turn
 *                                (x2: for the copy mode every resume then
 *                                copies one stack out and another in).
 *   bench_stacks --count ROW N   N round trips of one row, for callgrind
 *                                (bench/ir.sh); ROW like "copy x2".
 *
 * Every switch row runs the same loop (rounds() below) on different data,
 * so no row pays a call, a store or a return another does not. Each
 * coroutine holds 1 KiB of its stack in use in every row.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "coro/coro.h"
#include "coro/io.h"

#define REPS     9
#define N_ROUNDS 1000000L

static const char *const mode_names[] = {"guarded", "slab", "copy"};
static const coro_stack_mode modes[] = {CORO_STACK_GUARDED, CORO_STACK_SLAB, CORO_STACK_COPY};

static int parse_mode(const char *s, coro_stack_mode *m)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, mode_names[i])) {
            *m = modes[i];
            return 0;
        }
    return -1;
}

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f || fscanf(f, "%ld %ld", &size, &res) != 2) {
        perror("bench_stacks: /proc/self/statm");
        exit(1);
    }
    fclose(f);
    return res * sysconf(_SC_PAGESIZE);
}

/* The array each coroutine keeps on its stack while suspended: 1 KiB, or
 * (memory --in-use) whatever makes its whole stack in use that size. */
static size_t array_bytes = 1024;

/* Holds array_bytes of its stack while suspended, then yields forever
 * (switch rows) or once (memory). */
static void *holder(void *arg)
{
    long rounds = (long)(intptr_t)arg;
    volatile char buf[array_bytes];
    for (size_t i = 0; i < array_bytes; i++) buf[i] = (char)i;
    for (long r = 0; r < rounds || rounds < 0; r++) coro_yield();
    return (void *)(intptr_t)buf[7];
}

/* Size the array so that a suspended body (holder, or sleeper on a timer)
 * uses `want` bytes of stack in all (its frames, the runtime's and the
 * switch's included). The probe is destroyed where it stopped. */
static int calibrate(coro_attr *a, size_t want, coro_fn body)
{
    array_bytes = 1024;
    coro_t *p = coro_create_ex(a, body, (void *)(intptr_t)1, "probe");
    if (!p) return -1;
    coro_resume(p);
    size_t frames = coro_stack_in_use(p) - array_bytes;
    coro_destroy(p);
    if (frames >= want) return -1;
    array_bytes = (want - frames) & ~(size_t)15;
    return 0;
}

static int memory(coro_stack_mode mode, const char *name, long n, size_t in_use_target)
{
    coro_t **all = calloc((size_t)n, sizeof *all);
    if (!all) return perror("calloc"), 1;
    memset(all, 0, (size_t)n * sizeof *all); /* resident before the baseline */
    coro_attr a = {.stack_mode = mode, .stack_size = 16 * 1024};
    if (in_use_target && calibrate(&a, in_use_target, holder))
        return fprintf(stderr, "bench_stacks: cannot use only %zu bytes of stack\n", in_use_target),
               1;
    /* warm up: the thread's first coroutine of a mode maps what it shares */
    coro_t *w = coro_create_ex(&a, holder, (void *)(intptr_t)1, "warm");
    if (!w) return fprintf(stderr, "bench_stacks: %s\n", coro_last_error()), 1;
    coro_resume(w);
    coro_resume(w);
    coro_destroy(w);
    coro_set_stack_pool_limit(0);
    long before = resident_bytes();
    long made = 0;
    for (; made < n; made++) {
        all[made] = coro_create_ex(&a, holder, (void *)(intptr_t)1, "h%ld", made);
        if (!all[made]) break;
        coro_resume(all[made]);
    }
    long after = resident_bytes();
    size_t in_use = made ? coro_stack_in_use(all[0]) : 0;
    if (made < n) {
        printf("%-8s %8ld stopped at %ld: %s\n", name, n, made, coro_last_error());
    } else {
        printf("%-8s %8ld live  %7.0f bytes resident each  (stack in use %zu bytes; %.1f MiB "
               "in all)\n",
               name, n, (double)(after - before) / (double)n, in_use,
               (double)(after - before) / 1048576.0);
    }
    for (long i = 0; i < made; i++) {
        coro_resume(all[i]);
        coro_destroy(all[i]);
    }
    free(all);
    return made < n ? 3 : 0;
}

/* ---- suspended on the io_context's timer ---- */

static long sleep_before, sleep_after;
static size_t sleep_in_use;
static coro_t *first_sleeper;

static void *sleeper(void *arg)
{
    (void)arg;
    volatile char buf[array_bytes];
    for (size_t i = 0; i < array_bytes; i++) buf[i] = (char)i;
    coro_sleep(20);
    return (void *)(intptr_t)buf[7];
}

/* Runs after every sleeper has started and suspended on its timer: the
 * ready queue is first in, first out, and the loop fires timers only once
 * it is empty. */
static void *meter(void *arg)
{
    (void)arg;
    sleep_after = resident_bytes();
    sleep_in_use = coro_stack_in_use(first_sleeper);
    return NULL;
}

static int memory_sleep(coro_stack_mode mode, const char *name, long n, size_t in_use_target)
{
    coro_attr a = {.stack_mode = mode, .stack_size = 16 * 1024};
    coro_ctx *ctx = coro_ctx_create("bench");
    if (!ctx) return fprintf(stderr, "bench_stacks: %s\n", coro_last_error()), 1;
    if (in_use_target && calibrate(&a, in_use_target, sleeper))
        return fprintf(stderr, "bench_stacks: cannot use only %zu bytes of stack\n", in_use_target),
               1;
    coro_set_stack_pool_limit(0);
    sleep_before = resident_bytes();
    long made = 0;
    for (; made < n; made++) {
        coro_t *c = coro_spawn_ex(&a, sleeper, NULL, "s%ld", made);
        if (!c) break;
        if (!made) first_sleeper = c;
    }
    if (made < n) {
        printf("%-8s %8ld stopped at %ld: %s\n", name, n, made, coro_last_error());
        return 3;
    }
    coro_spawn(meter, NULL, "meter");
    coro_ctx_run(ctx);
    printf("%-8s %8ld on a timer  %7.0f bytes resident each  (stack in use %zu bytes; %.1f MiB "
           "in all)\n",
           name, n, (double)(sleep_after - sleep_before) / (double)n, sleep_in_use,
           (double)(sleep_after - sleep_before) / 1048576.0);
    coro_ctx_destroy(ctx);
    return 0;
}

/* The one loop every switch row runs: main resumes cos[i & mask]. */
static double rounds(coro_t **cos, long mask, long n)
{
    double t0 = bench_now_ns();
    for (long i = 0; i < n; i++) coro_resume(cos[i & mask]);
    return (bench_now_ns() - t0) / (double)n;
}

static void make_row(coro_stack_mode mode, int ncos, coro_t **cos)
{
    coro_attr a = {.stack_mode = mode};
    for (int i = 0; i < ncos; i++) {
        cos[i] = coro_create_ex(&a, holder, (void *)(intptr_t)-1, "row%d", i);
        if (!cos[i]) {
            fprintf(stderr, "bench_stacks: %s\n", coro_last_error());
            exit(1);
        }
        coro_resume(cos[i]); /* started: 1 KiB in use from now on */
    }
}

static int count_row(const char *row, long n)
{
    char mname[16];
    int ncos = 0;
    coro_stack_mode mode;
    if (sscanf(row, "%15s x%d", mname, &ncos) != 2 || (ncos != 1 && ncos != 2) ||
        parse_mode(mname, &mode))
        return fprintf(stderr, "bench_stacks: unknown row '%s' (like \"copy x2\")\n", row), 2;
    coro_t *cos[2];
    make_row(mode, ncos, cos);
    rounds(cos, ncos - 1, n);
    return 0;
}

static int switch_table(void)
{
    coro_t *cos[3][2][2];
    for (int m = 0; m < 3; m++)
        for (int k = 0; k < 2; k++) make_row(modes[m], k + 1, cos[m][k]);
    int reps = bench_reps(REPS); /* fewer, and shorter, in a quick run (bench_util.h) */
    long n = bench_ops(N_ROUNDS);
    double t[3][2][REPS];
    for (int r = 0; r < reps; r++) /* interleaved: every row in every repetition */
        for (int m = 0; m < 3; m++)
            for (int k = 0; k < 2; k++) t[m][k][r] = rounds(cos[m][k], k, n);
    printf("resume+yield round trip, main <-> coroutine, 1 KiB of stack in use "
           "(median of %d x %ld)\n",
           reps, n);
    double base = bench_median(t[0][0], (size_t)reps);
    printf("  %-12s %10s %10s\n", "row", "ns", "vs guarded x1");
    for (int k = 0; k < 2; k++)
        for (int m = 0; m < 3; m++) {
            double med = bench_median(t[m][k], (size_t)reps);
            char row[32];
            snprintf(row, sizeof row, "%s x%d", mode_names[m], k + 1);
            printf("  %-12s %10.1f %10.2fx\n", row, med, med / base);
        }
    return 0;
}

static int usage(FILE *to, int code)
{
    fprintf(to, "usage: bench_stacks memory guarded|slab|copy N [--in-use BYTES] [--sleep]\n"
                "       bench_stacks switch\n"
                "       bench_stacks --count \"MODE x1|x2\" N\n");
    return code;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
        return usage(stdout, 0);
    if (argc >= 4 && !strcmp(argv[1], "memory")) {
        coro_stack_mode mode;
        char *end;
        long n = strtol(argv[3], &end, 10);
        if (parse_mode(argv[2], &mode) || *end || n <= 0) return usage(stderr, 2);
        size_t in_use = 0;
        bool on_timer = false;
        for (int i = 4; i < argc; i++) {
            if (!strcmp(argv[i], "--sleep"))
                on_timer = true;
            else if (!strcmp(argv[i], "--in-use") && i + 1 < argc)
                in_use = (size_t)atol(argv[++i]);
            else
                return usage(stderr, 2);
        }
        return on_timer ? memory_sleep(mode, argv[2], n, in_use) : memory(mode, argv[2], n, in_use);
    }
    if (argc == 2 && !strcmp(argv[1], "switch")) return switch_table();
    if (argc == 4 && !strcmp(argv[1], "--count")) return count_row(argv[2], atol(argv[3]));
    return usage(stderr, 2);
}
