/*
 * hook.c - libcorohook: blocking system calls that suspend a coroutine
 * instead of the thread, in the style of libco's hooks.
 *
 * Linked into a program, or loaded with LD_PRELOAD, it defines read, write,
 * recv, send, recvfrom, sendto, accept, accept4, connect, close, sleep,
 * usleep, nanosleep, poll and fcntl; each finds glibc's own with
 * dlsym(RTLD_NEXT, ...). Inside a coroutine run by the thread's io_context,
 * on a socket the program left blocking, a call that would block suspends
 * the coroutine on the loop (traced as a suspend with reason "hook" and a
 * detail like "hook:read fd=5"). Everywhere else (outside coroutines,
 * without a context, on regular files, on descriptors the program made
 * non-blocking itself) the calls behave exactly as glibc's.
 *
 * To wait, the descriptor must be non-blocking. The hook sets O_NONBLOCK
 * itself and remembers that the program did not: fcntl(F_GETFL) hides the
 * flag, and a call on such an fd outside a coroutine waits in poll() so it
 * still blocks as the program expects. A program that sets O_NONBLOCK
 * itself keeps getting EAGAIN.
 *
 * What the hook learns about each descriptor is kept in fdtable.c: one
 * table for the process, safe in any thread, that never moves.
 *
 * Limits, by design: poll() is suspended only for zero or one descriptor
 * (more blocks the thread, as glibc's).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coro/coro.h"
#include "coro/io.h"
#include "fdtable.h"

#define API __attribute__((visibility("default")))

/* glibc's function, looked up once; any thread may be first (all find the same). */
#define REAL(name)                                                                                 \
    static _Atomic(__typeof__(name) *) real_##name##_p;                                            \
    __typeof__(name) *real_##name = atomic_load_explicit(&real_##name##_p, memory_order_relaxed);  \
    if (!real_##name) {                                                                            \
        real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);                                 \
        atomic_store_explicit(&real_##name##_p, real_##name, memory_order_relaxed);                \
    }

/* In a coroutine run by this thread's loop? (Checked without touching the
 * runtime in threads that never used it.) The runtime's own gate decides. */
static bool hooked_here(void)
{
    return coro_ctx_current() && coro_may_block();
}

static int real_fcntl_flags(int fd)
{
    REAL(fcntl);
    return real_fcntl(fd, F_GETFL);
}

/* Should this call on fd be made to wait on the loop? Makes the fd
 * non-blocking (and remembers) the first time. */
static bool manage(int fd)
{
    unsigned st = fdt_get(fd);
    if ((st & FDT_KIND) == FDT_UNKNOWN) {
        struct stat sb;
        if (fstat(fd, &sb) != 0) return false;
        unsigned kind = S_ISSOCK(sb.st_mode) ? FDT_SOCKET : FDT_OTHER;
        if (!fdt_set(fd, kind)) return false; /* no memory for the table: act as glibc */
        st |= kind;
    }
    if ((st & FDT_KIND) != FDT_SOCKET) return false;
    int fl = real_fcntl_flags(fd);
    if (fl < 0) return false;
    if (fl & O_NONBLOCK) return st & FDT_OUR_NONBLOCK; /* the program's own: leave it alone */
    REAL(fcntl);
    if (real_fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return false;
    fdt_set(fd, FDT_OUR_NONBLOCK);
    return true;
}

/* Outside a coroutine on an fd we made non-blocking: block in poll, as the
 * program expects of its blocking socket. */
static bool emulate_blocking(int fd, short events)
{
    if (!(fdt_get(fd) & FDT_OUR_NONBLOCK) || (errno != EAGAIN && errno != EWOULDBLOCK))
        return false;
    REAL(poll);
    struct pollfd p = {.fd = fd, .events = events};
    return real_poll(&p, 1, -1) >= 0;
}

/* The common shape: try; on EAGAIN wait (in a coroutine) or poll (outside). */
#define RETRY(fd, dir, what, call)                                                                 \
    do {                                                                                           \
        bool in = hooked_here() && manage(fd);                                                     \
        for (;;) {                                                                                 \
            __typeof__(call) r_ = (call);                                                          \
            if (r_ >= 0 || errno == EINTR) return r_;                                              \
            if (in && (errno == EAGAIN || errno == EWOULDBLOCK)) {                                 \
                int w_ = coro_wait_fd_at(NULL, 0, fd, dir, CORO_FOREVER, what);                    \
                if (w_) {                                                                          \
                    errno = -w_;                                                                   \
                    return -1;                                                                     \
                }                                                                                  \
                continue;                                                                          \
            }                                                                                      \
            if (!in && emulate_blocking(fd, dir == CORO_WAIT_READ ? POLLIN : POLLOUT)) continue;   \
            return r_;                                                                             \
        }                                                                                          \
    } while (0)

API ssize_t read(int fd, void *buf, size_t n)
{
    REAL(read);
    RETRY(fd, CORO_WAIT_READ, "hook:read", real_read(fd, buf, n));
}

API ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write);
    RETRY(fd, CORO_WAIT_WRITE, "hook:write", real_write(fd, buf, n));
}

API ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    REAL(recv);
    RETRY(fd, CORO_WAIT_READ, "hook:recv", real_recv(fd, buf, n, flags));
}

API ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    REAL(send);
    RETRY(fd, CORO_WAIT_WRITE, "hook:send", real_send(fd, buf, n, flags));
}

API ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *al)
{
    REAL(recvfrom);
    RETRY(fd, CORO_WAIT_READ, "hook:recvfrom", real_recvfrom(fd, buf, n, flags, a, al));
}

API ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a,
                   socklen_t al)
{
    REAL(sendto);
    RETRY(fd, CORO_WAIT_WRITE, "hook:sendto", real_sendto(fd, buf, n, flags, a, al));
}

static int accepted(int fd)
{
    if (fd >= 0) fdt_forget(fd); /* a fresh descriptor: learn it anew */
    return fd;
}

API int accept4(int fd, struct sockaddr *a, socklen_t *al, int flags)
{
    REAL(accept4);
    bool in = hooked_here() && manage(fd);
    for (;;) {
        int r = real_accept4(fd, a, al, flags);
        if (r >= 0) return accepted(r);
        if (errno == EINTR) continue;
        if (in && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = coro_wait_fd_at(NULL, 0, fd, CORO_WAIT_READ, CORO_FOREVER, "hook:accept");
            if (w) {
                errno = -w;
                return -1;
            }
            continue;
        }
        if (!in && emulate_blocking(fd, POLLIN)) continue;
        return -1;
    }
}

API int accept(int fd, struct sockaddr *a, socklen_t *al)
{
    return accept4(fd, a, al, 0);
}

API int connect(int fd, const struct sockaddr *a, socklen_t al)
{
    REAL(connect);
    bool in = hooked_here() && manage(fd);
    int r = real_connect(fd, a, al);
    if (r == 0 || !in || errno != EINPROGRESS) return r;
    int w = coro_wait_fd_at(NULL, 0, fd, CORO_WAIT_WRITE, CORO_FOREVER, "hook:connect");
    if (w) {
        errno = -w;
        return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -1; /* errno is set */
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

API int close(int fd)
{
    REAL(close);
    if (coro_ctx_current()) coro_fd_forget(fd);
    fdt_forget(fd); /* before the number can be reused */
    return real_close(fd);
}

API int fcntl(int fd, int cmd, ...)
{
    REAL(fcntl);
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long); /* every fcntl argument fits a long or a pointer */
    va_end(ap);
    bool ours = fdt_get(fd) & FDT_OUR_NONBLOCK;
    if (cmd == F_GETFL && ours) {
        int fl = real_fcntl(fd, F_GETFL);
        return fl < 0 ? fl : fl & ~O_NONBLOCK; /* the program's view */
    }
    if (cmd == F_SETFL && ours) {
        if (arg & O_NONBLOCK)
            fdt_clear(fd, FDT_OUR_NONBLOCK); /* now the program's own */
        else
            arg |= O_NONBLOCK;
    }
    return real_fcntl(fd, cmd, arg);
}

static int sleep_ms(int64_t ms)
{
    int r = coro_sleep(ms);
    if (r) {
        errno = -r;
        return -1;
    }
    return 0;
}

API unsigned sleep(unsigned s)
{
    REAL(sleep);
    if (!hooked_here()) return real_sleep(s);
    return sleep_ms((int64_t)s * 1000) ? s : 0;
}

API int usleep(useconds_t us)
{
    REAL(usleep);
    if (!hooked_here()) return real_usleep(us);
    return sleep_ms((int64_t)(us + 999) / 1000);
}

API int nanosleep(const struct timespec *req, struct timespec *rem)
{
    REAL(nanosleep);
    if (!hooked_here() || !req) return real_nanosleep(req, rem);
    if (rem) *rem = (struct timespec){0, 0};
    return sleep_ms((int64_t)req->tv_sec * 1000 + (req->tv_nsec + 999999) / 1000000);
}

API int poll(struct pollfd *p, nfds_t n, int timeout)
{
    REAL(poll);
    if (!hooked_here() || n > 1) return real_poll(p, n, timeout);
    if (n == 0) return timeout > 0 ? (sleep_ms(timeout) ? -1 : 0) : real_poll(p, n, timeout);
    int r = real_poll(p, 1, 0);
    if (r != 0 || timeout == 0 || !manage(p->fd)) return r ? r : real_poll(p, n, timeout);
    int dir = (p->events & POLLOUT) && !(p->events & POLLIN) ? CORO_WAIT_WRITE : CORO_WAIT_READ;
    int w = coro_wait_fd_at(NULL, 0, p->fd, dir, timeout < 0 ? CORO_FOREVER : timeout, "hook:poll");
    if (w == -ETIMEDOUT) return 0;
    if (w) {
        errno = -w;
        return -1;
    }
    return real_poll(p, 1, 0);
}
