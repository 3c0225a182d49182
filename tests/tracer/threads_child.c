/* THREADS threads each record N events at once (tracing switched on by
 * the environment), so that a reader can check that none was lost or
 * duplicated and that each thread's events come in the order it recorded
 * them:
 *   threads_child THREADS N        log events: event i of thread k has
 *                                  co = k + 1 and value = i
 *   threads_child THREADS N brief  the runtime's short records: thread k's
 *       coroutine (co = 1000 + k, named "wK") is resumed by its main
 *       (co = 2000 + k, "mK") and yields straight back N times, each
 *       resume and yield with line = i; it is renamed "wK-renamed" before
 *       round trip N/2, so that the names bound to its id change midway. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro/trace.h"

static long per_thread;
static int brief;

static void logs(uint64_t k)
{
    for (long i = 0; i < per_thread; i++) {
        coro_trace_ev ev = {.kind = CORO_EV_LOG, .co = {k + 1, "worker"}, .detail = "tick"};
        ev.value = i;
        ev.has = CORO_EVH_VALUE;
        if (CORO_TRACE_ON()) coro_trace_emit(&ev);
    }
}

static void round_trips(uint64_t k)
{
    char name[32], renamed[48], main_name[32];
    snprintf(name, sizeof name, "w%llu", (unsigned long long)k);
    snprintf(main_name, sizeof main_name, "m%llu", (unsigned long long)k);
    coro_trace_ref co = {1000 + k, name}, m = {2000 + k, main_name};
    for (long i = 0; i < per_thread && CORO_TRACE_ON(); i++) {
        if (i == per_thread / 2) { /* renamed in place, as the runtime does */
            coro_trace_ev ev = {.kind = CORO_EV_RENAME, .co = co, .by = m, .detail = name};
            snprintf(renamed, sizeof renamed, "%s-renamed", name);
            strcpy(name, renamed);
            coro_trace_emit(&ev);
        }
        coro_trace_brief r = {.kind = CORO_EV_RESUME,
                              .depth = 1,
                              .co = co,
                              .from = m,
                              .to = co,
                              .by = m.id,
                              .cause = "resume",
                              .file = "threads_child.c",
                              .line = (int)i};
        coro_trace_emit_resume(&r);
        coro_trace_brief s = {.kind = CORO_EV_SUSPEND,
                              .depth = 1,
                              .co = co,
                              .to = m,
                              .reason = "yield",
                              .file = "threads_child.c",
                              .line = (int)i,
                              .then = "return"};
        coro_trace_emit_suspend(&s);
    }
}

static void *run(void *arg)
{
    uint64_t k = (uint64_t)(uintptr_t)arg;
    if (brief)
        round_trips(k);
    else
        logs(k);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    per_thread = argc > 2 ? atol(argv[2]) : 100000;
    brief = argc > 3 && !strcmp(argv[3], "brief");
    pthread_t t[64];
    if (threads > 64) threads = 64;
    for (int k = 0; k < threads; k++) pthread_create(&t[k], NULL, run, (void *)(uintptr_t)k);
    for (int k = 0; k < threads; k++) pthread_join(t[k], NULL);
    return 0;
}
