/*
 * inspect_child.c - programs for `coroscope ps`, `pstree` and `top` to look
 * into (tests/viz/inspect_test.sh), run with CORO_INSPECT=1.
 *
 *   inspect_child scene [fork]  one coroutine in each state, then the loop
 *                           until killed: boss awaits worker, which waits on
 *                           a channel; sleeper sleeps; lazy never started;
 *                           done finished; idler yielded. With fork, a child
 *                           process spawns changeling and destroys lazy in its
 *                           copy, says "child moved" and waits to be killed:
 *                           it must neither publish nor touch its parent's
 *                           table
 *   inspect_child threads STOP  8 coroutines yielding on 4 work-stealing
 *                           workers (under ThreadSanitizer in the tsan preset)
 *                           until the file STOP exists, then exits
 *
 * Each prints "ready" on stderr once its coroutines are in place.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coro/coro.h"
#include "coro/io.h"
#include "coro/sync.h"
#include "coro/ws.h"

static coro_chan *jobs;

static void *worker(void *arg)
{
    (void)arg;
    int job;
    coro_chan_recv(jobs, &job); /* nobody sends */
    return NULL;
}

static void *boss(void *arg)
{
    (void)arg;
    coro_t *w = coro_create(worker, NULL, "worker");
    coro_await(w, NULL);
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    coro_sleep(600000);
    return NULL;
}

static void *nothing(void *arg)
{
    return arg;
}

static void *idle(void *arg)
{
    (void)arg;
    coro_yield();
    return NULL;
}

static int scene(bool fork_child)
{
    coro_ctx *ctx = coro_ctx_create("scene");
    jobs = coro_chan_create(sizeof(int), 0, "jobs");
    if (!ctx || !jobs) return 1;
    coro_spawn(boss, NULL, "boss");
    coro_spawn(sleeper, NULL, "sleeper");
    coro_t *lazy = coro_create(nothing, NULL, "lazy");
    coro_t *done = coro_create(nothing, NULL, "done");
    coro_resume(done);
    coro_t *idler = coro_create(idle, NULL, "idler");
    coro_resume(idler);
    coro_spawn(nothing, NULL, "announcer"); /* runs once the loop starts, then is freed */
    if (fork_child) {
        pid_t kid = fork();
        if (kid == 0) {
            /* Changes in its copy only, none a switch (ThreadSanitizer's
             * fibers do not survive a fork): a new coroutine, lazy gone. */
            coro_spawn(nothing, NULL, "changeling");
            coro_destroy(lazy);
            fprintf(stderr, "child moved\n");
            pause();
            _exit(0);
        }
        fprintf(stderr, "ready %d\n", (int)kid);
    } else {
        fprintf(stderr, "ready\n");
    }
    return coro_ctx_run(ctx);
}

static atomic_bool stop;

static void *spinner(void *arg)
{
    (void)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) coro_yield();
    return NULL;
}

static int threads(const char *stop_file)
{
    coro_ws *ws = coro_ws_create(4);
    if (!ws) return 1;
    for (int i = 0; i < 8; i++) coro_ws_spawn(ws, spinner, NULL, "spinner#%d", i);
    fprintf(stderr, "ready\n");
    struct timespec tick = {0, 10000000};
    while (access(stop_file, F_OK)) nanosleep(&tick, NULL);
    atomic_store(&stop, true);
    return coro_ws_join(ws);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "scene")) return scene(argc > 2 && !strcmp(argv[2], "fork"));
    if (argc > 2 && !strcmp(argv[1], "threads")) return threads(argv[2]);
    fprintf(stderr, "usage: inspect_child scene [fork] | threads STOP_FILE\n");
    return 2;
}
