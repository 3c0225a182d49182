/*
 * sink.c - buffered output to a file descriptor, with loss accounting.
 *
 * The sink must never stop the program it records:
 *  - opening a FIFO does not wait for a reader (O_NONBLOCK; with no reader
 *    yet, the FIFO is opened read-write so that a reader may come later);
 *  - a pipe or socket whose reader stops reading makes writes wait at most
 *    STALL_MS in all, then the sink is marked stalled and later writes that
 *    would block are dropped at once, until the reader drains the pipe;
 *  - a reader that exits gives EPIPE, never SIGPIPE;
 *  - what could not be written is counted (the end record, the exit report).
 *
 * Every system call is made with syscall(2), never through the libc wrapper:
 * libcorohook interposes write, poll and open, and a hooked write could
 * suspend the coroutine that holds the tracer's lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"

/* How long, in all, one flush may wait for a reader that does not read. */
#define STALL_MS 200

ssize_t coro__raw_write(int fd, const void *p, size_t n)
{
    return (ssize_t)syscall(SYS_write, fd, p, n);
}

static int raw_open(const char *path, int flags, int mode)
{
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

void coro__raw_close(int fd)
{
    syscall(SYS_close, fd);
}

static int raw_poll_out(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    return (int)syscall(SYS_ppoll, &p, 1, &ts, NULL, (size_t)(_NSIG / 8));
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int classify(int fd)
{
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) != 0) return CORO__SINK_FILE;
    if (S_ISFIFO(st.st_mode)) return CORO__SINK_PIPE;
    if (S_ISSOCK(st.st_mode)) return CORO__SINK_SOCKET;
    if (S_ISCHR(st.st_mode) && isatty(fd)) return CORO__SINK_TTY;
    return CORO__SINK_FILE;
}

/* stdout or stderr: a pipe behind it is opened again through /proc, which
 * gives a file description of our own that can be non-blocking without
 * changing the one the program (and its shell) share. */
static int std_fd(int fd, bool *own)
{
    *own = false;
    if (classify(fd) != CORO__SINK_PIPE) return fd;
    char p[32] = "/proc/self/fd/";
    p[14] = (char)('0' + fd);
    p[15] = 0;
    int nfd = raw_open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0);
    if (nfd < 0) return fd;
    *own = true;
    return nfd;
}

static int open_path(const char *path)
{
    int fl = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    int fd = raw_open(path, fl, 0644);
    if (fd < 0 && errno == ENXIO) /* a FIFO with no reader yet */
        fd = raw_open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK, 0);
    return fd;
}

coro__sink *coro__sink_open(const char *path, size_t cap)
{
    int fd;
    bool own = false;
    if (!strcmp(path, "-") || !strcmp(path, "stdout"))
        fd = std_fd(STDOUT_FILENO, &own);
    else if (!strcmp(path, "stderr"))
        fd = std_fd(STDERR_FILENO, &own);
    else {
        fd = open_path(path);
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
        if (own) coro__raw_close(fd);
        errno = ENOMEM;
        return NULL;
    }
    s->fd = fd;
    s->own_fd = own;
    s->type = classify(fd);
    s->path = p;
    s->buf = buf;
    s->cap = cap;
    return s;
}

/* Write what can be written without SIGPIPE: a socket says so itself; a
 * pipe needs SIGPIPE blocked around the write, and a SIGPIPE this write
 * raised taken back (one that was pending before is left alone). */
static ssize_t write_once(coro__sink *s, const char *p, size_t n)
{
    if (s->type == CORO__SINK_SOCKET)
        return (ssize_t)syscall(SYS_sendto, s->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT, NULL, 0);
    if (s->type != CORO__SINK_PIPE) return coro__raw_write(s->fd, p, n);
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &pipe_set, &old, (size_t)(_NSIG / 8));
    sigemptyset(&pending);
    syscall(SYS_rt_sigpending, &pending, (size_t)(_NSIG / 8));
    bool was_pending = sigismember(&pending, SIGPIPE);
    ssize_t w = coro__raw_write(s->fd, p, n);
    int e = errno;
    if (w < 0 && e == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        syscall(SYS_rt_sigtimedwait, &pipe_set, NULL, &zero, (size_t)(_NSIG / 8));
    }
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, (size_t)(_NSIG / 8));
    errno = e;
    return w;
}

/* Write all n bytes, waiting at most STALL_MS in all for a slow reader.
 * Returns 0, or the errno that stopped it. */
static int write_all(coro__sink *s, const char *p, size_t n)
{
    long deadline = -1;
    while (n) {
        ssize_t w = write_once(s, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            s->stalled = false;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
            if (s->stalled) return EAGAIN; /* the reader is gone away: drop at once */
            long now = now_ms();
            if (deadline < 0) deadline = now + STALL_MS;
            if (now >= deadline || raw_poll_out(s->fd, (int)(deadline - now)) <= 0) {
                s->stalled = true;
                return EAGAIN;
            }
            continue;
        }
        return w < 0 ? errno : EIO;
    }
    return 0;
}

void coro__sink_flush(coro__sink *s)
{
    if (!s->len) return;
    int err = write_all(s, s->buf, s->len);
    if (err) {
        /* Which events of a partly written buffer got out is not known:
         * count the whole buffer as lost (a cut line is reported by the
         * reader as such). */
        if (!s->error) s->error = err;
        s->dropped += s->pending;
    } else {
        s->written += s->pending;
    }
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
    if (s->own_fd) coro__raw_close(s->fd);
    free(s->buf);
    free(s->path);
    free(s);
}
