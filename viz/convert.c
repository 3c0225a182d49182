/*
 * convert.c - `coroscope convert IN OUT`: a trace from one form into the
 * other. A binary trace (.ctr) becomes JSON Lines, the interchange format
 * (docs/trace-format.md); a JSON Lines trace becomes binary when OUT ends
 * in .ctr. Events keep their seq, ts and thread; a trace that did not end
 * cleanly stays without its end record.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "coro/trace_bin.h"
#include "../tracer/src/sink.h" /* the tracer's own writers */
#include "viz.h"

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static int to_json(const vz_trace *t, const char *out)
{
    coro__sink *s = coro__sink_open(out, 1 << 20);
    if (!s) {
        fprintf(stderr, "coroscope convert: cannot write %s: %s\n", out, strerror(errno));
        return VZ_USAGE;
    }
    coro__json_header(s, t->program, t->logical ? CORO_CLOCK_LOGICAL : CORO_CLOCK_MONOTONIC);
    for (size_t i = 0; i < t->n; i++) coro__json_event(s, &t->ev[i]);
    if (t->ended) coro__json_end(s, t->end_events, t->end_dropped, t->end_signal);
    coro__sink_flush(s);
    int rc = s->error ? VZ_RENDER : VZ_OK;
    if (rc) fprintf(stderr, "coroscope convert: writing %s: %s\n", out, strerror(s->error));
    coro__sink_close(s);
    return rc;
}

static int to_binary(const vz_trace *t, const char *out)
{
    coro__bin *b =
        coro__bin_open(out, 0, t->program, t->logical ? CORO_CTR_TS_LOGICAL : CORO_CTR_TS_NS, true);
    if (!b) {
        fprintf(stderr, "coroscope convert: cannot write %s: %s\n", out, strerror(errno));
        return VZ_USAGE;
    }
    for (size_t i = 0; i < t->n; i++) {
        coro_trace_ev ev = t->ev[i];
        coro__bin_record(b, &ev, true);
    }
    uint64_t dropped = coro__bin_dropped(b);
    if (dropped) {
        fprintf(stderr, "coroscope convert: %llu events could not be written to %s\n",
                (unsigned long long)dropped, out);
        return VZ_RENDER;
    }
    coro__bin_set_counts(b, t->end_dropped, t->overwritten);
    if (t->ended) coro__bin_end(b, t->end_signal);
    coro__bin_retire(b);
    return VZ_OK;
}

int vz_convert(int argc, char **argv)
{
    if (argc >= 1 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
        printf("usage: coroscope convert IN OUT\n\n"
               "Turns a binary trace (.ctr) into JSON Lines, or a JSON Lines trace into a\n"
               "binary one when OUT ends in .ctr. OUT - is standard output (JSON Lines).\n");
        return VZ_OK;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: coroscope convert IN OUT\n");
        return VZ_USAGE;
    }
    vz_trace t;
    int rc = vz_read(argv[0], &t, isatty(STDERR_FILENO));
    if (rc) return rc;
    vz_report_ending(&t, stderr);
    rc = ends_with(argv[1], ".ctr") ? to_binary(&t, argv[1]) : to_json(&t, argv[1]);
    vz_free(&t);
    return rc;
}
