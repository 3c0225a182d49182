/* Emits N log events (tracing switched on by the environment), then exits;
 * with a second argument, sleeps that many milliseconds between events. */
#include <stdlib.h>
#include <time.h>

#include "coro/trace.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long pause_ms = argc > 2 ? atol(argv[2]) : 0;
    for (long i = 0; i < n; i++) {
        coro_trace_ev ev = {.kind = CORO_EV_LOG, .co = {1, "main"}, .detail = "event"};
        ev.value = i;
        ev.has = CORO_EVH_VALUE;
        if (CORO_TRACE_ON()) coro_trace_emit(&ev);
        if (pause_ms) nanosleep(&(struct timespec){0, pause_ms * 1000000L}, NULL);
    }
    return 0;
}
