/*
 * chan.c - channels: a ring buffer of elements (growing when unbounded)
 * and two queues of blocked coroutines, senders and receivers.
 *
 * A receiver that finds a waiting sender takes its element directly (and,
 * when the buffer is full, moves the sender's element into the freed
 * slot), so elements leave in the order they were sent. Unbuffered
 * channels (capacity 0) are a rendezvous: the element goes straight from
 * the sender's stack to the receiver's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync_int.h"

struct coro_chan {
    coro_named named;
    size_t elem, cap; /* cap: CORO_CHAN_UNBOUNDED allowed */
    char *ring;
    size_t ring_cap, head, len;
    bool closed;
    coro_waitq senders, receivers;
};

coro_chan *coro_chan_create(size_t elem_size, size_t capacity, const char *fmt, ...)
{
    if (!elem_size) {
        errno = EINVAL;
        return NULL;
    }
    coro_chan *ch = calloc(1, sizeof *ch);
    if (!ch) return NULL;
    ch->elem = elem_size;
    ch->cap = capacity;
    ch->ring_cap = capacity == CORO_CHAN_UNBOUNDED ? 16 : capacity;
    if (ch->ring_cap && !(ch->ring = malloc(ch->ring_cap * elem_size))) {
        free(ch);
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    coro_named_vinit(&ch->named, "chan", fmt, ap);
    va_end(ap);
    coro__sync_created(&ch->named, "chan");
    return ch;
}

int coro_chan_destroy(coro_chan *ch)
{
    if (!ch) return -EINVAL;
    if (ch->senders.head || ch->receivers.head) return -EBUSY;
    coro_named_fini(&ch->named);
    free(ch->ring);
    free(ch);
    return 0;
}

size_t coro_chan_len(const coro_chan *ch)
{
    return ch->len;
}
const char *coro_chan_name(const coro_chan *ch)
{
    return ch->named.name;
}

/* Elements are mostly a word or a pointer: a copy of a known size is one
 * move, not a call into memcpy. */
static inline void copy_elem(void *dst, const void *src, size_t n)
{
    if (n == sizeof(int))
        memcpy(dst, src, sizeof(int));
    else if (n == sizeof(void *))
        memcpy(dst, src, sizeof(void *));
    else
        memcpy(dst, src, n);
}

static char *at(coro_chan *ch, size_t i)
{
    return ch->ring + ((ch->head + i) % ch->ring_cap) * ch->elem;
}

static bool grow(coro_chan *ch)
{
    size_t ncap = ch->ring_cap * 2;
    char *n = malloc(ncap * ch->elem);
    if (!n) return false;
    for (size_t i = 0; i < ch->len; i++) memcpy(n + i * ch->elem, at(ch, i), ch->elem);
    free(ch->ring);
    ch->ring = n;
    ch->ring_cap = ncap;
    ch->head = 0;
    return true;
}

static void push(coro_chan *ch, const void *e)
{
    copy_elem(at(ch, ch->len), e, ch->elem);
    ch->len++;
}

static void pop(coro_chan *ch, void *out)
{
    copy_elem(out, at(ch, 0), ch->elem);
    ch->head = (ch->head + 1) % ch->ring_cap;
    ch->len--;
}

static void send_describe(const coro__wait *w, char *buf, size_t n)
{
    const coro_chan *ch = (const coro_chan *)w->obj; /* named comes first */
    snprintf(buf, n, "send %s (%s)", ch->named.name, ch->cap ? "full" : "no receiver yet");
}

static void recv_describe(const coro__wait *w, char *buf, size_t n)
{
    snprintf(buf, n, "recv %s (empty)", w->obj->name);
}

static const coro__wait_ops send_ops = {coro__sync_attach, coro__sync_detach, send_describe,
                                        coro__sync_move_data};
static const coro__wait_ops recv_ops = {coro__sync_attach, coro__sync_detach, recv_describe,
                                        coro__sync_move_data};

int coro_chan_send_at(const char *file, int line, coro_chan *ch, const void *elem)
{
    if (ch->closed)
        return coro__fail(file, line, EPIPE, "send on %s: it is closed", ch->named.name);
    coro__wnode *r = coro__sync_pop(&ch->receivers);
    if (r) { /* a receiver waits: the buffer is empty, hand it over */
        copy_elem(r->data, elem, ch->elem);
        coro__sync_wake(r, 0, file, line);
        return 0;
    }
    if (ch->cap == CORO_CHAN_UNBOUNDED && ch->len == ch->ring_cap && !grow(ch)) return -ENOMEM;
    if (ch->len < ch->ring_cap) {
        push(ch, elem);
        return 0;
    }
    coro__wnode n;
    n.data = (void *)elem;
    return coro__sync_block(file, line, &ch->senders, &n, &send_ops, &ch->named, "channel", "send");
}

int coro_chan_recv_at(const char *file, int line, coro_chan *ch, void *out)
{
    if (ch->len) {
        pop(ch, out);
        coro__wnode *s = coro__sync_pop(&ch->senders);
        if (s) { /* a slot freed: the first waiting sender's element takes it */
            push(ch, s->data);
            coro__sync_wake(s, 0, file, line);
        }
        return 0;
    }
    coro__wnode *s = coro__sync_pop(&ch->senders);
    if (s) { /* unbuffered: straight from the sender */
        copy_elem(out, s->data, ch->elem);
        coro__sync_wake(s, 0, file, line);
        return 0;
    }
    if (ch->closed) return -EPIPE;
    coro__wnode n;
    n.data = out;
    return coro__sync_block(file, line, &ch->receivers, &n, &recv_ops, &ch->named, "channel",
                            "recv");
}

int coro_chan_close_at(const char *file, int line, coro_chan *ch)
{
    if (ch->closed) return -EALREADY;
    ch->closed = true;
    coro__wnode *n;
    while ((n = coro__sync_pop(&ch->receivers))) coro__sync_wake(n, -EPIPE, file, line);
    while ((n = coro__sync_pop(&ch->senders))) coro__sync_wake(n, -EPIPE, file, line);
    return 0;
}
