/*
 * bench_viz.c - how fast the viewer reads a trace and draws it.
 *   bench_viz TRACE     (make one with tests/viz/gen_trace echo 1000000 F)
 * Reads the trace REPS times and prints the median events/s, then times
 * `graph --fold` (DOT text only, no Graphviz) the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_util.h"
#include "viz.h"

#define REPS 3

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_viz TRACE\n");
        return 1;
    }
    /* The file sets the work: a quick run (bench_util.h) reads it once. */
    int reps = bench_quick() ? 1 : REPS;
    double rd[REPS], gr[REPS];
    size_t n = 0;
    for (int r = 0; r < reps; r++) {
        vz_trace t;
        double t0 = (bench_now_ns() / 1e9);
        if (vz_read(argv[1], &t, false)) return 2;
        double t1 = (bench_now_ns() / 1e9);
        n = t.n;
        FILE *devnull = fopen("/dev/null", "w");
        vz_opts o = {.fold = true, .fd = -1, .kind = -1};
        vz_view_graph(&t, &o, devnull);
        fclose(devnull);
        double t2 = (bench_now_ns() / 1e9);
        rd[r] = t1 - t0;
        gr[r] = t2 - t1;
        vz_free(&t);
    }
    double read_s = bench_median(rd, (size_t)reps), graph_s = bench_median(gr, (size_t)reps);
    printf("trace: %s, %zu events (median of %d)\n", argv[1], n, reps);
    printf("  read          %8.3f s  %6.2f M events/s\n", read_s, (double)n / read_s / 1e6);
    printf("  graph --fold  %8.3f s  (DOT text, after reading)\n", graph_s);
    return 0;
}
