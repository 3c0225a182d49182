/* Golden: two spawned coroutines take turns through the ready queue. */
#include "coro/coro.h"

static void *player(void *arg)
{
    for (int i = 1; i <= 2; i++) {
        coro_log("%s %d", (const char *)arg, i);
        coro_yield();
    }
    return NULL;
}

int main(void)
{
    coro_spawn(player, "ping", "ping");
    coro_spawn(player, "pong", "pong");
    coro_run();
    return 0;
}
