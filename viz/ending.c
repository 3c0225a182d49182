/*
 * ending.c - every view says so when a run did not end cleanly: a trace
 * without its end record was cut by a kill, a crash or a full disk (or is
 * still being recorded: a binary trace whose recorder holds its lock), and
 * a binary trace that had no room for some events says how many. The events
 * that are there are still shown.
 */
#include "viz.h"

void vz_report_ending(const vz_trace *t, FILE *f)
{
    if (t->unrecorded)
        fprintf(f,
                "coroscope: %s: %llu events were not recorded (the trace file had no room for "
                "them: a full disk or a file size limit); the views show the rest\n",
                t->path, (unsigned long long)t->unrecorded);
    if (t->ended) return;
    unsigned long long last = t->n ? (unsigned long long)t->ev[t->n - 1].seq : 0;
    if (t->recording) {
        if (t->recording > 0)
            fprintf(f, "coroscope: %s: pid %lld is still recording this run: ", t->path,
                    (long long)t->recording);
        else
            fprintf(f, "coroscope: %s: a process is still recording this run: ", t->path);
        fprintf(f, "the views show it up to event %llu\n", last);
        return;
    }
    fprintf(f, "coroscope: %s: the run did not end cleanly: last event %llu", t->path, last);
    const coro_trace_ev *e = t->n ? &t->ev[t->n - 1] : NULL;
    if (e && e->kind == CORO_EV_CRASH)
        fprintf(f, " is a crash (%s in %s)", e->detail ? e->detail : "?",
                e->co.name ? e->co.name
                : e->co.id ? "a coroutine"
                           : "no coroutine");
    else
        fprintf(f, " (no end record: killed, crashed or cut short)");
    fprintf(f, "\n");
}
