/*
 * writer.c - buffered output with high and low water marks, so that a peer
 * that reads slowly bounds the memory a connection uses (see coro/io.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "io_int.h"

int coro_writer_init(coro_writer *w, coro_sock *s, size_t high, size_t low)
{
    if (!s || !high || low > high) return -EINVAL;
    memset(w, 0, sizeof *w);
    w->sock = s;
    w->high = high;
    w->low = low;
    return 0;
}

/* Send from the buffer without waiting; returns 0 or an error. */
static int push(coro_writer *w)
{
    while (w->len) {
        ssize_t n = send(w->sock->fd, w->buf, w->len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            return -errno;
        }
        memmove(w->buf, w->buf + n, w->len - (size_t)n);
        w->len -= (size_t)n;
    }
    return 0;
}

/* Wait for writability and send until the buffer is at most `target`. */
static int drain_to(const char *file, int line, coro_writer *w, size_t target)
{
    for (;;) {
        int rc = push(w);
        if (rc) return rc;
        if (w->len <= target) return 0;
        rc = coro__io_wait(file, line, w->sock, CORO__WRITE, CORO_FOREVER, "io",
                           "send (buffer full)");
        if (rc) return rc;
    }
}

int coro_writer_write_at(const char *file, int line, coro_writer *w, const void *buf, size_t len)
{
    if (w->len + len > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + len) cap *= 2;
        char *nb = realloc(w->buf, cap);
        if (!nb) return -ENOMEM;
        w->buf = nb;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, buf, len);
    w->len += len;
    if (w->len > w->peak) w->peak = w->len;
    int rc = push(w);
    if (rc) return rc;
    if (w->len > w->high) return drain_to(file, line, w, w->low);
    return 0;
}

int coro_writer_flush_at(const char *file, int line, coro_writer *w)
{
    return drain_to(file, line, w, 0);
}

void coro_writer_fini(coro_writer *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}
