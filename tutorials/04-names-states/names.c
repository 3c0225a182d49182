/* Chapter 4: names, states, and what the log says about them. */
#include <stdint.h>

#include "coro/coro.h"
#include "coro/sync.h"

static coro_chan *numbers; /* a named object: the log calls it by name */

static void *produce(void *arg)
{
    int count = (int)(intptr_t)arg;
    for (int i = 1; i <= count; i++) coro_chan_send(numbers, &i); /* waits while it is full */
    coro_chan_close(numbers);
    return NULL;
}

static void *consume(void *arg)
{
    (void)arg;
    int v, sum = 0;
    while (coro_chan_recv(numbers, &v) == 0) sum += v; /* waits while it is empty */
    coro_rename(coro_self(), "consumer (sum %d)", sum);
    return NULL;
}

int main(void)
{
    numbers = coro_chan_create(sizeof(int), 1, "numbers");
    coro_spawn(produce, (void *)(intptr_t)2, "producer");
    coro_spawn(consume, NULL, NULL); /* no name: the runtime makes one */
    coro_run();
    coro_chan_destroy(numbers);
    return 0;
}
