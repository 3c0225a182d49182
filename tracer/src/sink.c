/*
 * sink.c - buffered output to a file descriptor, with loss accounting.
 *
 * write(2) directly, not stdio: we need to know exactly which events a
 * failed write lost, and stdio would hide a failure until fclose.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sink.h"

coro__sink *coro__sink_open(const char *path, size_t cap)
{
    int fd;
    bool own = false;
    if (!strcmp(path, "-") || !strcmp(path, "stdout"))
        fd = STDOUT_FILENO;
    else if (!strcmp(path, "stderr"))
        fd = STDERR_FILENO;
    else {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) return NULL;
        own = true;
    }
    coro__sink *s = calloc(1, sizeof *s);
    char *buf = malloc(cap);
    char *p = strdup(path);
    if (!s || !buf || !p) {
        free(s);
        free(buf);
        free(p);
        if (own) close(fd);
        errno = ENOMEM;
        return NULL;
    }
    s->fd = fd;
    s->own_fd = own;
    s->path = p;
    s->buf = buf;
    s->cap = cap;
    return s;
}

void coro__sink_flush(coro__sink *s)
{
    size_t off = 0;
    while (off < s->len) {
        ssize_t w = write(s->fd, s->buf + off, s->len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (!s->error) s->error = w < 0 ? errno : EIO;
            s->dropped += s->pending;
            s->pending = 0;
            s->len = 0;
            return;
        }
        off += (size_t)w;
    }
    s->written += s->pending;
    s->pending = 0;
    s->len = 0;
}

bool coro__sink_reserve(coro__sink *s, size_t n)
{
    if (s->cap - s->len >= n) return true;
    coro__sink_flush(s);
    if (s->cap >= n) return true;
    char *b = realloc(s->buf, n);
    if (!b) return false;
    s->buf = b;
    s->cap = n;
    return true;
}

void coro__sink_put(coro__sink *s, const char *p, size_t n)
{
    if (!coro__sink_reserve(s, n)) return;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

void coro__sink_event_done(coro__sink *s)
{
    s->pending++;
}

void coro__sink_close(coro__sink *s)
{
    coro__sink_flush(s);
    if (s->own_fd) close(s->fd);
    free(s->buf);
    free(s->path);
    free(s);
}
