/* Golden: a producer and a consumer meet on a bounded channel; the trace
 * shows each block and wake with the channel's name. */
#include "coro/coro.h"
#include "coro/sync.h"

static void *producer(void *arg)
{
    coro_chan *ch = arg;
    for (int i = 1; i <= 3; i++) coro_chan_send(ch, &i);
    coro_chan_close(ch);
    return NULL;
}

static void *consumer(void *arg)
{
    coro_chan *ch = arg;
    int v;
    while (coro_chan_recv(ch, &v) == 0) coro_log("got %d", v);
    return NULL;
}

int main(void)
{
    coro_chan *ch = coro_chan_create(sizeof(int), 1, "chan[%s]", "jobs");
    coro_spawn(consumer, ch, "consumer");
    coro_spawn(producer, ch, "producer");
    coro_run();
    coro_chan_destroy(ch);
    return 0;
}
