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

#include "cli.h"
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
    cli_init("ws-demo", "usage: ws-demo [WORKERS] [COROUTINES] [STEPS]\n"
                        "Jobs queued on one busy worker are stolen by the others.\n"
                        "  WORKERS     threads (default 2)\n"
                        "  COROUTINES  jobs spawned by the seeder (default 8)\n"
                        "  STEPS       yields per job (default 3)\n");
    int workers = 2;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' || i > 3) cli_unknown(argv[i]);
        if (i == 1) workers = (int)cli_parse("WORKERS", argv[i], 1, 256);
        if (i == 2) jobs = (int)cli_parse("COROUTINES", argv[i], 1, 1000000);
        if (i == 3) steps = (int)cli_parse("STEPS", argv[i], 0, 1000000);
    }
    coro_ws *ws = coro_ws_create(workers);
    if (!ws) {
        fprintf(stderr, "ws-demo: %s\n", coro_last_error());
        return 1;
    }
    coro_ws_spawn(ws, seeder, NULL, "seeder");
    coro_ws_join(ws);
    printf("%d coroutines on %d workers done\n", jobs, workers);
    return 0;
}
