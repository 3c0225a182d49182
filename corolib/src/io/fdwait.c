/*
 * fdwait.c - waiting on descriptors the program opened itself.
 *
 * The loop knows sockets through coro_sock; a raw fd gets one the first
 * time a coroutine waits on it (named "fd[N]"), kept in a table indexed by
 * fd until coro_fd_forget(). This is what lets the syscall hooks turn a
 * blocking read() into a suspension without the program knowing.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "io_int.h"

typedef struct fd_table {
    coro_ctx *ctx;
    coro_sock **s;
    size_t cap;
} fd_table;

/* One per thread, as contexts are. */
static _Thread_local fd_table table;

static coro_sock **slot(coro_ctx *c, int fd)
{
    if (table.ctx != c) { /* a new context on this thread: old entries are gone with it */
        free(table.s);
        memset(&table, 0, sizeof table);
        table.ctx = c;
    }
    if ((size_t)fd >= table.cap) {
        size_t cap = table.cap ? table.cap : 64;
        while (cap <= (size_t)fd) cap *= 2;
        coro_sock **n = realloc(table.s, cap * sizeof *n);
        if (!n) return NULL;
        memset(n + table.cap, 0, (cap - table.cap) * sizeof *n);
        table.s = n;
        table.cap = cap;
    }
    return &table.s[fd];
}

int coro_wait_fd_at(const char *file, int line, int fd, int dir, int64_t timeout_ms,
                    const char *what)
{
    coro_ctx *c = coro_ctx_current();
    if (!c)
        return coro__fail(file, line, EPERM, "coro_wait_fd(%d): this thread has no context", fd);
    if (fd < 0 || (dir != CORO_WAIT_READ && dir != CORO_WAIT_WRITE))
        return coro__fail(file, line, EINVAL, "coro_wait_fd(%d, %d): bad argument", fd, dir);
    bool hook = what && !strncmp(what, "hook:", 5);
    if (!hook) {
        /* The loop hears of an fd edge-triggered: only of what arrives
         * after it looked. Data already buffered (a read that took 1 of 2
         * bytes) must not wait for more, so ask the kernel first. The
         * hooks skip this: they wait only after their call said EAGAIN. */
        struct pollfd p = {.fd = fd, .events = dir == CORO_WAIT_READ ? POLLIN : POLLOUT};
        int r = poll(&p, 1, 0);
        if (r > 0 && (p.revents & POLLNVAL))
            return coro__fail(file, line, EBADF, "coro_wait_fd(%d): not an open descriptor", fd);
        if (r > 0) return 0;
    }
    coro_sock **sp = slot(c, fd);
    if (!sp) return coro__fail(file, line, ENOMEM, "coro_wait_fd(%d): out of memory", fd);
    if (!*sp) {
        *sp = coro__sock_adopt(c, fd);
        if (!*sp) return coro__fail(file, line, errno, "coro_wait_fd(%d): %s", fd, strerror(errno));
    }
    return coro__io_wait(file, line, *sp, dir, timeout_ms, hook ? "hook" : "io",
                         what ? what : "wait");
}

void coro_fd_forget(int fd)
{
    coro_ctx *c = coro_ctx_current();
    if (!c || fd < 0 || table.ctx != c || (size_t)fd >= table.cap || !table.s[fd]) return;
    coro__sock_forget(table.s[fd]);
    table.s[fd] = NULL;
}

/* The context closes (forgets) the adopted sockets itself; only the table
 * is left to free. */
void coro__fdwait_release(coro_ctx *c)
{
    if (table.ctx != c) return;
    free(table.s);
    memset(&table, 0, sizeof table);
}
