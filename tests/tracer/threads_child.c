/* THREADS threads each emit N log events at once (tracing switched on by
 * the environment): event i of thread k has co = k + 1 and value = i, so a
 * reader can check that none was lost or duplicated and that each thread's
 * events come in the order it recorded them. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "coro/trace.h"

static long per_thread;

static void *run(void *arg)
{
    uint64_t k = (uint64_t)(uintptr_t)arg;
    for (long i = 0; i < per_thread; i++) {
        coro_trace_ev ev = {.kind = CORO_EV_LOG, .co = {k + 1, "worker"}, .detail = "tick"};
        ev.value = i;
        ev.has = CORO_EVH_VALUE;
        if (CORO_TRACE_ON()) coro_trace_emit(&ev);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    per_thread = argc > 2 ? atol(argv[2]) : 100000;
    pthread_t t[64];
    if (threads > 64) threads = 64;
    for (int k = 0; k < threads; k++) pthread_create(&t[k], NULL, run, (void *)(uintptr_t)k);
    for (int k = 0; k < threads; k++) pthread_join(t[k], NULL);
    return 0;
}
