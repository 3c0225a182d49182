/*
 * sleep_gap.c - a real run with a pause in it: one coroutine sleeps 30 ms
 * while main waits in epoll_wait. Traced with the real clock, its trace has
 * the large gap in time that `coroscope seq` must write beside the rows (at
 * least "+20 ms", which the test asks: the timer counts whole milliseconds,
 * so the gap between two events around a 20 ms sleep can show 19); with the
 * logical clock it has none.
 */
#include "coro/coro.h"
#include "coro/io.h"

static void *sleeper(void *arg)
{
    (void)arg;
    coro_sleep(30);
    return NULL;
}

int main(void)
{
    coro_ctx *ctx = coro_ctx_create("loop");
    coro_spawn(sleeper, NULL, "sleeper");
    int rc = coro_ctx_run(ctx);
    coro_ctx_destroy(ctx);
    return rc < 0;
}
