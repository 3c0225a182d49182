/*
 * ws-demo.c - the work-stealing scheduler, traced: jobs spawned on one
 * worker, which then stays busy, are stolen by the other; `coroscope stats`
 * shows which worker ran what and every steal.
 *
 *   CORO_TRACE=ws.jsonl ws-demo [WORKERS] [COROUTINES] [STEPS]
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "coro/coro.h"
#include "coro/ws.h"

static int steps = 3;
static int seeder_worker = -1;
static atomic_int ran_elsewhere;

static void *job(void *arg)
{
    intptr_t n = (intptr_t)arg;
    if (coro_ws_worker() != seeder_worker) atomic_fetch_add(&ran_elsewhere, 1);
    for (int i = 0; i < steps; i++) {
        coro_log("job %d step %d on worker %d", (int)n, i, coro_ws_worker());
        coro_yield();
    }
    return NULL;
}

static int jobs = 8;

static void *seeder(void *arg)
{
    (void)arg;
    seeder_worker = coro_ws_worker();
    for (intptr_t i = 0; i < jobs; i++) coro_spawn(job, (void *)i, "job#%d", (int)i);
    /* Hold this worker busy (without yielding) until another worker has
     * stolen some of the jobs queued here, or for at most two seconds. */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &t);
    while (!atomic_load(&ran_elsewhere) && t.tv_sec - t0.tv_sec < 2);
    coro_log("%d jobs started on another worker while this one was busy",
             atomic_load(&ran_elsewhere));
    return NULL;
}

int main(int argc, char **argv)
{
    int workers = argc > 1 ? atoi(argv[1]) : 2;
    if (argc > 2) jobs = atoi(argv[2]);
    if (argc > 3) steps = atoi(argv[3]);
    if (workers < 1 || jobs < 1 || steps < 0) {
        fprintf(stderr, "usage: ws-demo [WORKERS] [COROUTINES] [STEPS]\n");
        return 1;
    }
    coro_ws *ws = coro_ws_create(workers);
    if (!ws) return 1;
    coro_ws_spawn(ws, seeder, NULL, "seeder");
    coro_ws_join(ws);
    printf("%d coroutines on %d workers done\n", jobs, workers);
    return 0;
}
