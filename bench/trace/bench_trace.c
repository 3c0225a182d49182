/*
 * bench_trace.c - what recording costs (docs/performance.md, "The recorder").
 *
 *   bench_trace                 the table: one event recorded in binary and
 *                               in JSON; a resume+yield round trip untraced
 *                               and recorded in binary (ratio)
 *   bench_trace emit N PATH     record N events into PATH (for callgrind:
 *                               bench/ir.sh 100000 200000 bench_trace emit {} x.ctr)
 *   bench_trace roundtrip N [PATH]  N resume+yield round trips, recorded when PATH is given
 *
 * The event is a resume as the runtime records it (coro_trace_emit_resume):
 * two parties with names, who did it, a cause, a source location, a depth. The same loop shape for
 * every row; the medians of 7 runs, interleaved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#include "bench_util.h"
#include "coro/coro.h"
#include "coro/trace.h"

/* Recorded as the runtime records it: through coro_trace_emit_resume. */
static coro_trace_brief make_event(void)
{
    coro_trace_brief e = {.kind = CORO_EV_RESUME,
                          .depth = 1,
                          .co = {7, "worker#7"},
                          .from = {1, "main"},
                          .to = {7, "worker#7"},
                          .by = 1,
                          .cause = "resume",
                          .file = "bench_trace.c",
                          .line = 42};
    return e;
}

__attribute__((noinline)) static void emit_loop(long n)
{
    coro_trace_brief e = make_event();
    for (long i = 0; i < n; i++) {
        e.line = (int)i;
        if (CORO_TRACE_ON()) coro_trace_emit_resume(&e);
    }
}

#if HAVE_TSC
/* What every recorded event pays before its first store: a timestamp
 * (tracer/src/bin.c), in the same loop. */
static unsigned long long floor_sink;

__attribute__((noinline)) static void floor_loop(long n)
{
    for (long i = 0; i < n; i++) floor_sink += __rdtsc();
}

static double time_floor(long n)
{
    double t0 = bench_now_ns();
    floor_loop(n);
    return (bench_now_ns() - t0) / (double)n;
}
#endif

static void *yielder(void *arg)
{
    long n = *(long *)arg;
    for (long i = 0; i < n; i++) coro_yield();
    return NULL;
}

__attribute__((noinline)) static void roundtrips(long n)
{
    coro_t *c = coro_create(yielder, &n, "yielder");
    for (long i = 0; i <= n; i++) coro_resume(c);
    coro_destroy(c);
}

#if HAVE_TSC
/* The floor of a recorded round trip: the same loops, and beside each
 * switch the timestamp a recorded switch takes (nothing stored). */
static void *yielder_stamped(void *arg)
{
    long n = *(long *)arg;
    for (long i = 0; i < n; i++) {
        floor_sink += __rdtsc();
        coro_yield();
    }
    return NULL;
}

__attribute__((noinline)) static void roundtrips_stamped(long n)
{
    coro_t *c = coro_create(yielder_stamped, &n, "yielder");
    for (long i = 0; i <= n; i++) {
        floor_sink += __rdtsc();
        coro_resume(c);
    }
    coro_destroy(c);
}

static double time_roundtrip_floor(long n)
{
    double t0 = bench_now_ns();
    roundtrips_stamped(n);
    return (bench_now_ns() - t0) / (double)n;
}
#endif

static double time_emit(const char *path, long n)
{
    if (coro_trace_open(path)) {
        perror(path);
        exit(1);
    }
    double t0 = bench_now_ns();
    emit_loop(n);
    double t = bench_now_ns() - t0;
    coro_trace_close();
    unlink(path);
    return t / (double)n;
}

static double time_roundtrip(const char *path, long n)
{
    if (path && coro_trace_open(path)) {
        perror(path);
        exit(1);
    }
    double t0 = bench_now_ns();
    roundtrips(n);
    double t = bench_now_ns() - t0;
    if (path) {
        coro_trace_close();
        unlink(path);
    }
    return t / (double)n;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: %s                   recording costs (median of 7), the table\n"
               "       %s emit N TRACE      record N events into TRACE (for callgrind)\n"
               "       %s roundtrip N [TRACE]  N resume+yield round trips, recorded if TRACE\n",
               argv[0], argv[0], argv[0]);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "emit") && strcmp(argv[1], "roundtrip")) {
        fprintf(stderr, "%s: unknown mode '%s' (see --help)\n", argv[0], argv[1]);
        return 2;
    }
    if (argc >= 4 && !strcmp(argv[1], "emit")) {
        if (coro_trace_open(argv[3])) return 1;
        emit_loop(atol(argv[2]));
        coro_trace_close();
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "roundtrip")) {
        if (argc >= 4 && coro_trace_open(argv[3])) return 1;
        roundtrips(atol(argv[2]));
        coro_trace_close();
        return 0;
    }
    enum { RUNS = 7 };
    int runs = bench_reps(RUNS); /* fewer, and shorter, in a quick run (bench_util.h) */
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char ctr[512], json[512];
    snprintf(ctr, sizeof ctr, "%s/bench_trace.%d.ctr", dir, (int)getpid());
    snprintf(json, sizeof json, "%s/bench_trace.%d.jsonl", dir, (int)getpid());
    /* A 1 MiB ring, warmed by a first lap: the recording path alone, on
     * pages the kernel has already supplied. */
    char ring[600];
    snprintf(ring, sizeof ring, "%s:ring=1M", ctr);
    double bin[RUNS], rng[RUNS], js[RUNS], rt0[RUNS], rt1[RUNS], rt2[RUNS], fl[RUNS], rtf[RUNS];
    long n = bench_ops(1000000), nr = bench_ops(1000000);
    for (int r = 0; r < runs; r++) {
        bin[r] = time_emit(ctr, n);
        rng[r] = time_emit(ring, n);
        js[r] = time_emit(json, n / 4);
        rt0[r] = time_roundtrip(NULL, nr);
        rt1[r] = time_roundtrip(ctr, nr);
        rt2[r] = time_roundtrip(ring, nr);
#if HAVE_TSC
        fl[r] = time_floor(n);
        rtf[r] = time_roundtrip_floor(nr);
#else
        fl[r] = rtf[r] = 0;
#endif
    }
    size_t m = (size_t)runs;
    double b = bench_median(bin, m), g = bench_median(rng, m), j = bench_median(js, m);
    double u = bench_median(rt0, m), t = bench_median(rt1, m), w = bench_median(rt2, m);
    char head[64];
    snprintf(head, sizeof head, "operation (median of %d)", runs);
    printf("%-50s %10s %8s\n", head, "ns", "ratio");
    printf("%-50s %10.1f %8s\n", "record one event, binary, 1 MiB ring", g, "");
    if (HAVE_TSC)
        printf("%-50s %10.1f %7.2fx\n", "  its floor: a rdtsc, nothing stored", bench_median(fl, m),
               bench_median(fl, m) / g);
    printf("%-50s %10.1f %7.1fx\n", "record one event, binary file (.ctr)", b, b / g);
    printf("%-50s %10.1f %7.1fx\n", "record one event, JSON Lines", j, j / g);
    printf("%-50s %10.1f %8s\n", "resume+yield round trip, not recorded", u, "");
    if (HAVE_TSC)
        printf("%-50s %10.1f %7.2fx\n", "  its floor: two rdtsc, nothing stored",
               bench_median(rtf, m), bench_median(rtf, m) / u);
    printf("%-50s %10.1f %7.2fx\n", "resume+yield round trip, binary, 1 MiB ring", w, w / u);
    printf("%-50s %10.1f %7.2fx\n", "resume+yield round trip, binary file (.ctr)", t, t / u);
    return 0;
}
