/* Golden: a spawned coroutine finishes after the parent that spawned it. */
#include "coro/coro.h"

static void *worker(void *arg)
{
    (void)arg;
    coro_log("working");
    coro_yield();
    coro_log("still working; my parent is gone");
    return NULL;
}

static void *parent(void *arg)
{
    (void)arg;
    coro_spawn(worker, NULL, "worker");
    coro_log("spawned a worker, returning");
    return NULL;
}

int main(void)
{
    coro_t *p = coro_create(parent, NULL, "parent");
    coro_resume(p);
    coro_destroy(p);
    coro_run();
    return 0;
}
