/*
 * bench_trace_read.c - reading a binary trace into the viewer's model:
 * events per second (median of 5 reads of the same file).
 *   bench_trace_read TRACE.ctr
 * Make one with: bench_trace emit 2000000 big.ctr
 */
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "viz.h"

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: bench_trace_read TRACE\nReads TRACE into the viewer's model 5 times and "
               "prints the median rate in events/s.\n");
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: bench_trace_read TRACE\n");
        return 2;
    }
    enum { RUNS = 5 };
    /* The file sets the work: a quick run (bench_util.h) reads it once. */
    int runs = bench_quick() ? 1 : RUNS;
    double rate[RUNS];
    size_t n = 0;
    for (int r = 0; r < runs; r++) {
        vz_trace t;
        double t0 = bench_now_ns();
        if (vz_read(argv[1], &t, false)) return 2;
        vz_model m;
        vz_model_init(&m);
        for (size_t i = 0; i < t.n; i++) vz_model_apply(&m, &t.ev[i]);
        double dt = bench_now_ns() - t0;
        n = t.n;
        rate[r] = (double)t.n / (dt / 1e9);
        vz_model_free(&m);
        vz_free(&t);
    }
    printf("read %zu events into the model: %.1f M events/s (median of %d)\n", n,
           bench_median(rate, (size_t)runs) / 1e6, runs);
    return 0;
}
