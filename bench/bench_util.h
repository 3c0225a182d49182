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
