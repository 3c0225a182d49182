/*
 * demo.c - the first run a newcomer sees (`make demo`).
 *
 * Three small scenes, each a pattern the rest of the project builds on:
 *   1. ping and pong: two spawned coroutines take turns through the ready
 *      queue, each yield handing control to the other;
 *   2. a parent awaits two children: each child's finish resumes the parent
 *      (its continuation) with the child's result;
 *   3. a spawned worker outlives the parent that spawned it and is reclaimed
 *      when it finishes.
 * The annotated log goes to stderr and the JSON Lines trace to a file whose
 * path is printed; CORO_TRACE and CORO_LOG set by the caller win.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "coro/coro.h"
#include "coro/trace.h"

static void *player(void *arg)
{
    const char *word = arg;
    for (int i = 1; i <= 3; i++) {
        coro_log("%s %d", word, i);
        coro_yield();
    }
    return NULL;
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 1; i <= 2; i++) {
        coro_log("working, step %d", i);
        coro_yield();
    }
    coro_log("done; my parent finished before me");
    return NULL;
}

static void *child(void *arg)
{
    intptr_t n = (intptr_t)arg;
    coro_log("computing %d*7", (int)n);
    coro_yield(); /* let others run in the middle of the work */
    return (void *)(n * 7);
}

static void *parent(void *arg)
{
    (void)arg;
    coro_spawn(worker, NULL, "worker");
    coro_t *a = coro_create(child, (void *)(intptr_t)6, "child#%d", 1);
    coro_t *b = coro_create(child, (void *)(intptr_t)7, "child#%d", 2);
    if (!a || !b) return (void *)-1;
    void *ra = NULL, *rb = NULL;
    coro_await(a, &ra);
    coro_await(b, &rb);
    coro_log("children returned %d and %d", (int)(intptr_t)ra, (int)(intptr_t)rb);
    coro_destroy(a);
    coro_destroy(b);
    return (void *)((intptr_t)ra + (intptr_t)rb);
}

int main(int argc, char **argv)
{
    const char *trace = argc > 1 ? argv[1] : "demo-trace.jsonl";
    if (!getenv("CORO_TRACE")) {
        if (coro_trace_open(trace) != 0) {
            fprintf(stderr, "demo: cannot write the trace to %s\n", trace);
            return 1;
        }
    } else {
        trace = getenv("CORO_TRACE");
    }
    if (!getenv("CORO_LOG")) coro_log_open("stderr");

    coro_log("scene 1: ping and pong take turns");
    coro_spawn(player, "ping", "ping");
    coro_spawn(player, "pong", "pong");
    coro_run();

    coro_log("scene 2 and 3: a parent awaits two children and spawns a worker");
    coro_t *p = coro_create(parent, NULL, "parent");
    if (!p) {
        fprintf(stderr, "demo: %s\n", coro_last_error());
        return 1;
    }
    void *sum = NULL;
    if (coro_await(p, &sum) != 0) {
        fprintf(stderr, "demo: %s\n", coro_last_error());
        return 1;
    }
    coro_log("parent returned %d; the worker is still alive", (int)(intptr_t)sum);
    coro_destroy(p);
    coro_run();

    coro_trace_close();
    fprintf(stderr, "\ntrace written to %s\n", trace);
    return 0;
}
