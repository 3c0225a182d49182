/*
 * timer.c - the context's timers: a binary min-heap on the deadline.
 *
 * A heap rather than a timer wheel: every io wait with a deadline adds a
 * timer and almost all of them are cancelled (the data came first), and a
 * heap does add and cancel in O(log n) with no tick to drive and no
 * resolution to choose, while the loop only ever needs the earliest
 * deadline (O(1)) for epoll_wait's timeout. A wheel wins with very many
 * timers firing every tick, which is not this loop's load.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "io_int.h"

int64_t coro__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t coro_now_ms(void)
{
    return coro__now_ms();
}

static bool before(const coro__timer *a, const coro__timer *b)
{
    return a->deadline_ms < b->deadline_ms ||
           (a->deadline_ms == b->deadline_ms && a->order < b->order);
}

static void place(coro_ctx *c, size_t i, coro__timer *t)
{
    c->heap[i] = t;
    t->index = i;
}

static void up(coro_ctx *c, size_t i)
{
    coro__timer *t = c->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(t, c->heap[p])) break;
        place(c, i, c->heap[p]);
        i = p;
    }
    place(c, i, t);
}

static void down(coro_ctx *c, size_t i)
{
    coro__timer *t = c->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const coro__timer *best = t;
        if (l < c->nheap && before(c->heap[l], best)) m = l, best = c->heap[l];
        if (r < c->nheap && before(c->heap[r], best)) m = r;
        if (m == i) break;
        place(c, i, c->heap[m]);
        i = m;
    }
    place(c, i, t);
}

void coro__timer_add(coro_ctx *c, coro__timer *t, int64_t deadline_ms)
{
    if (c->nheap == c->heap_cap) {
        size_t cap = c->heap_cap ? c->heap_cap * 2 : 64;
        coro__timer **h = realloc(c->heap, cap * sizeof *h);
        if (!h) abort(); /* a timer that cannot be set would hang its coroutine */
        c->heap = h;
        c->heap_cap = cap;
    }
    t->deadline_ms = deadline_ms;
    t->order = ++c->timer_order;
    place(c, c->nheap++, t);
    up(c, t->index);
}

void coro__timer_del(coro_ctx *c, coro__timer *t)
{
    size_t i = t->index;
    if (i == SIZE_MAX || i >= c->nheap || c->heap[i] != t) return;
    t->index = SIZE_MAX;
    coro__timer *last = c->heap[--c->nheap];
    if (i == c->nheap) return;
    place(c, i, last);
    up(c, i);
    down(c, last->index);
}

coro__timer *coro__timer_peek(coro_ctx *c)
{
    return c->nheap ? c->heap[0] : NULL;
}
