/*
 * env.c - switching tracing on from the environment (CORO_TRACE, CORO_LOG,
 * CORO_TRACE_CLOCK) and the coroutine table (CORO_INSPECT), before main() runs.
 *
 * A file of its own so that the tools of this project (the coroscope viewer)
 * link the tracer without it: a viewer reading run.jsonl must never open
 * run.jsonl for writing because CORO_TRACE=run.jsonl is exported.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro/trace.h"
#include "sink.h"

void coro__trace_from_environment(void);
/* corolib's coroutine table (inspect.c); absent when the tracer is linked
 * without the runtime. */
void coro__inspect_start(void) __attribute__((weak));

/* Tracing switched on from the environment, before main() runs. */
__attribute__((constructor)) void coro__trace_from_environment(void)
{
    const char *c = getenv("CORO_TRACE_CLOCK");
    if (c && *c) {
        if (!strcmp(c, "logical"))
            coro_trace_set_clock(CORO_CLOCK_LOGICAL);
        else if (!strcmp(c, "monotonic"))
            coro__trace_bin_monotonic();
        else
            fprintf(stderr,
                    "coroscope: CORO_TRACE_CLOCK=%s is not understood (use logical or "
                    "monotonic); using monotonic\n",
                    c);
    }
    const char *t = getenv("CORO_TRACE");
    if (t && *t) {
        int rc = coro_trace_open(t);
        if (rc)
            fprintf(stderr, "coroscope: cannot write the trace to CORO_TRACE=%s: %s\n", t,
                    rc == -EBUSY ? "another process is recording into it (give each program "
                                   "its own file); this one runs untraced"
                                 : strerror(-rc));
    }
    const char *l = getenv("CORO_LOG");
    if (l && *l) {
        int rc = coro_log_open(l);
        if (rc)
            fprintf(stderr, "coroscope: cannot write the log to CORO_LOG=%s: %s\n", l,
                    strerror(-rc));
    }
    /* The table `coroscope ps PID` reads: with CORO_INSPECT=1, or whenever
     * the run is traced (CORO_INSPECT=0 keeps it off). After the trace is
     * open, so that the tracer's signal endings run first. */
    const char *i = getenv("CORO_INSPECT");
    bool inspect = i && *i ? strcmp(i, "0") != 0 : (t && *t) || (l && *l);
    if (inspect && coro__inspect_start) coro__inspect_start();
}
