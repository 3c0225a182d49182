/*
 * bench_util.h - what every benchmark program here needs: a monotonic clock
 * and the median of repeated measurements (the machine is shared and noisy,
 * so a lone time means little).
 */
#ifndef CORO_BENCH_UTIL_H
#define CORO_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place and returns its median. */
static inline double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    return v[n / 2];
}

/* CORO_BENCH_QUICK=1: a short run, for a test that checks what a program
 * prints rather than its figures (docs.performance runs every command of
 * docs/performance.md so). Fewer repetitions and fewer operations each; the
 * output has the same lines, and names the counts this run used. */
static inline int bench_quick(void)
{
    const char *q = getenv("CORO_BENCH_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

/* Repetitions to take the median of: `full`, or at most 3 in a quick run. */
static inline int bench_reps(int full)
{
    return bench_quick() && full > 3 ? 3 : full;
}

/* Operations per repetition: `n`, or a tenth of it in a quick run. */
static inline long bench_ops(long n)
{
    return bench_quick() ? n / 10 : n;
}

/* The path of the program `name` that sits beside this one (argv0's folder). */
static inline void bench_sibling(char *out, size_t n, const char *argv0, const char *name)
{
    const char *slash = strrchr(argv0, '/');
    int dir = slash ? (int)(slash - argv0 + 1) : 0;
    snprintf(out, n, "%.*s%s", dir, argv0, name);
}

/* Runs cmd (through the shell) and reads the one number it prints; -1 if it
 * fails or prints none. */
static inline double bench_run_number(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    double v = -1;
    if (!p || fscanf(p, "%lf", &v) != 1) v = -1;
    if (p && pclose(p) != 0) v = -1;
    return v;
}

#endif
