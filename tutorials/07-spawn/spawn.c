/* Chapter 7: spawned coroutines, who runs them, and a lifetime mistake. */
#include <stdint.h>
#include <stdio.h>

#include "coro/coro.h"

/* Wrong: arg points at the spawner's loop variable. */
static void *report_wrong(void *arg)
{
    int *id = arg;
    coro_log("I was spawned as number %d", *id);
    return NULL;
}

/* Right: the number itself travels in arg. */
static void *report(void *arg)
{
    int id = (int)(intptr_t)arg;
    coro_log("number %d, step 1", id);
    coro_yield(); /* back of the ready queue: the others run first */
    coro_log("number %d, step 2", id);
    return (void *)(intptr_t)(id * 10); /* nobody can read this */
}

int main(void)
{
    int i;
    for (i = 1; i <= 2; i++) coro_spawn(report_wrong, &i, "wrong#%d", i);
    coro_run(); /* they run now, and read i now: 3 */

    coro_t *w = NULL;
    for (i = 1; i <= 2; i++) w = coro_spawn(report, (void *)(intptr_t)i, "worker#%d", i);
    coro_log("spawned both; nothing has run yet");
    if (coro_await(w, NULL) != 0) coro_log("await: %s", coro_last_error());
    size_t n = coro_run();
    coro_log("coro_run made %zu resumptions; the workers are gone", n);
    return 0;
}
