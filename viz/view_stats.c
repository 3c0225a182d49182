/*
 * view_stats.c - `coroscope stats`: one row per coroutine: how often it
 * ran, for how long, how long it waited, how long its thread was blocked
 * in epoll_wait while it ran the loop (a thread's main: that is waiting for
 * the kernel, not running), and its longest run without suspending. A
 * coroutine that holds the thread long starves every other coroutine on
 * it; those over the threshold are flagged, main included.
 */
#include <stdlib.h>
#include <string.h>

#include "viz.h"

#define HOG_NS 10000000u /* 10 ms without suspending */

static int by_run(const void *a, const void *b)
{
    const vz_coro *x = a, *y = b;
    return (x->run_ns < y->run_ns) - (x->run_ns > y->run_ns);
}

int vz_view_stats(const vz_trace *t, const vz_opts *o, FILE *out)
{
    (void)o;
    vz_model m;
    vz_model_init(&m);
    for (size_t i = 0; i < t->n; i++) vz_model_apply(&m, &t->ev[i]);
    vz_coro *rows = malloc((m.n + 1) * sizeof *rows);
    size_t n = 0;
    for (size_t i = 0; i < m.n; i++)
        if (!m.co[i].is_object) rows[n++] = m.co[i];
    qsort(rows, n, sizeof *rows, by_run);
    const char *unit = t->logical ? "ticks" : "us";
    double div = t->logical ? 1.0 : 1000.0;
    char h_run[32], h_susp[32], h_epoll[32], h_long[32];
    snprintf(h_run, sizeof h_run, "running %s", unit);
    snprintf(h_susp, sizeof h_susp, "suspended %s", unit);
    snprintf(h_epoll, sizeof h_epoll, "epoll_wait %s", unit);
    snprintf(h_long, sizeof h_long, "longest run %s", unit);
    fprintf(out, "%-24s %8s %14s %14s %15s %16s %9s  %s\n", "coroutine", "resumes", h_run, h_susp,
            h_epoll, h_long, "state", "");
    size_t hogs = 0;
    for (size_t i = 0; i < n; i++) {
        vz_coro *c = &rows[i];
        /* A long run holds the thread: every other coroutine on it waits.
         * Time blocked in epoll_wait is not running (it is its own column). */
        bool hog = !t->logical && c->longest_run_ns > HOG_NS;
        hogs += hog;
        char clip[32];
        fprintf(out, "%-24s %8llu %14.1f %14.1f %15.1f %16.1f %9s  %s\n",
                vz_clip(c->name, 24, clip, sizeof clip), (unsigned long long)c->resumes,
                (double)c->run_ns / div, (double)c->suspended_ns / div, (double)c->epoll_ns / div,
                (double)c->longest_run_ns / div, vz_state_name(c->state),
                hog ? "<- held the thread > 10 ms" : "");
    }
    /* Per thread: which worker ran what, and the steals (scheduler runs). */
    unsigned maxth = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->ev[i].thread > maxth) maxth = t->ev[i].thread;
    if (maxth > 1) {
        uint64_t *res = calloc(maxth + 1, sizeof *res), *steals = calloc(maxth + 1, sizeof *steals);
        for (size_t i = 0; i < t->n; i++) {
            const coro_trace_ev *ev = &t->ev[i];
            if (ev->kind == CORO_EV_RESUME) res[ev->thread]++;
            if (ev->kind == CORO_EV_WAKE && ev->cause && !strcmp(ev->cause, "steal"))
                steals[ev->thread]++;
        }
        fprintf(out, "\n%-8s %10s %10s\n", "thread", "resumes", "steals");
        for (unsigned th = 1; th <= maxth; th++)
            fprintf(out, "t%-7u %10llu %10llu\n", th, (unsigned long long)res[th],
                    (unsigned long long)steals[th]);
        free(res);
        free(steals);
    }
    fprintf(out, "(times in %s; %zu coroutines",
            t->logical ? "ticks of the logical clock" : "microseconds", n);
    if (hogs) fprintf(out, ", %zu held the thread longer than 10 ms", hogs);
    uint64_t lost = t->unrecorded;
    for (size_t i = 0; i < t->ngaps; i++) lost += t->gaps[i].count;
    fprintf(out, "; events lost by the tracer: %llu)\n", (unsigned long long)lost);
    free(rows);
    vz_model_free(&m);
    return VZ_OK;
}
