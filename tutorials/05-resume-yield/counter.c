/* Chapter 1: a coroutine that counts, and the main coroutine that resumes it. */
#include <stdio.h>

#include "coro/coro.h"

static void *counter(void *arg)
{
    int *value = arg;
    for (int i = 1; i <= 3; i++) {
        *value = i;
        coro_log("counted %d, yielding", i);
        coro_yield(); /* back to whoever resumed us */
    }
    return NULL;
}

int main(void)
{
    int value = 0;
    coro_t *c = coro_create(counter, &value, "counter");
    while (coro_get_state(c) != CORO_DEAD) {
        coro_resume(c); /* runs counter until it yields or finishes */
        coro_log("main sees %d", value);
    }
    coro_destroy(c);
    return 0;
}
