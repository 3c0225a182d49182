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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

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

/* Say where the trace went, only if path really holds this run's trace: its
 * header names this process and it ends with the end record
 * (docs/trace-format.md). Returns 0, or 1 if it does not. */
static int report_trace(const char *path)
{
    struct stat st;
    if (!strcmp(path, "-") ||
        (stat(path, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))))
        return 0; /* stdout, a pipe, a terminal: nothing to read back; the tracer counts losses */
    FILE *f = fopen(path, "r");
    char line[1024];
    const char *p;
    long pid = 0, dropped = -1;
    if (f && fgets(line, sizeof line, f) && (p = strstr(line, "\"pid\":"))) pid = atol(p + 6);
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "{\"kind\":\"end\"") == line && (p = strstr(line, "\"dropped\":")))
            dropped = atol(p + 10);
    if (f) fclose(f);
    if (pid != (long)getpid() || dropped < 0) {
        fprintf(stderr, "\ndemo: %s does not hold this run's trace (see the errors above)\n", path);
        return 1;
    }
    fprintf(stderr, "\ntrace written to %s", path);
    if (dropped) fprintf(stderr, ", but %ld events could not be written", dropped);
    fputc('\n', stderr);
    return dropped ? 1 : 0;
}

int main(int argc, char **argv)
{
    cli_init("demo", "usage: demo [TRACE]\n"
                     "Three scenes of coroutines, traced. The annotated log goes to stderr and\n"
                     "the JSON Lines trace to TRACE (default demo-trace.jsonl, - for stdout).\n"
                     "CORO_TRACE and CORO_LOG, when set, choose the trace and the log instead.\n");
    const char *trace = "demo-trace.jsonl";
    for (int i = 1; i < argc; i++) {
        if (i > 1 || (argv[i][0] == '-' && argv[i][1])) cli_unknown(argv[i]);
        trace = argv[i];
    }
    const char *env_trace = getenv("CORO_TRACE"), *env_log = getenv("CORO_LOG");
    if (env_trace && *env_trace) {
        trace = env_trace; /* opened before main; a failure was reported then */
    } else {
        int rc = coro_trace_open(trace);
        if (rc != 0) {
            fprintf(stderr, "demo: cannot write the trace to %s: %s\n", trace, strerror(-rc));
            return 1;
        }
    }
    if (!env_log || !*env_log) coro_log_open("stderr");

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
    return report_trace(trace);
}
