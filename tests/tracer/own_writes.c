/*
 * own_writes.c - the tracer's own output must not go through write, poll
 * or close as a library may interpose them (libcorohook does: a hooked
 * write could suspend the coroutine that holds the tracer's lock). This
 * program interposes them for everything linked into it, the tracer
 * included, and counts the calls while it traces to a JSON file and an
 * annotated log, and through a pipe (the sink's path that polls).
 *
 *   own_writes DIR   exits 0 when the tracer made none of these calls
 */
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coro/trace.h"

static atomic_int calls;

ssize_t write(int fd, const void *buf, size_t n)
{
    atomic_fetch_add(&calls, 1);
    return syscall(SYS_write, fd, buf, n);
}

int poll(struct pollfd *fds, nfds_t n, int ms)
{
    atomic_fetch_add(&calls, 1);
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    return (int)syscall(SYS_ppoll, fds, n, ms < 0 ? NULL : &ts, NULL, (size_t)(_NSIG / 8));
}

int close(int fd)
{
    atomic_fetch_add(&calls, 1);
    return (int)syscall(SYS_close, fd);
}

static void emit(int n)
{
    for (int i = 0; i < n; i++) {
        coro_trace_ev ev = {.kind = CORO_EV_LOG, .co = {1, "main"}, .detail = "event"};
        if (CORO_TRACE_ON()) coro_trace_emit(&ev);
    }
}

static long size_of(const char *p)
{
    struct stat st;
    return stat(p, &st) ? -1 : (long)st.st_size;
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    char json[4096], log[4096];
    snprintf(json, sizeof json, "%s/own.jsonl", argv[1]);
    snprintf(log, sizeof log, "%s/own.log", argv[1]);
    /* A small buffer: many flushes while tracing, not only at the end. */
    coro_trace_set_buffer_size(4096);
    int bad = 0;
    int pfd[2];
    if (pipe(pfd)) return 2;
    char pipe_path[64];
    snprintf(pipe_path, sizeof pipe_path, "/dev/fd/%d", pfd[1]);
    atomic_store(&calls, 0);
    if (coro_trace_open(json) || coro_log_open(log)) return 2;
    emit(5000);
    coro_trace_flush();
    coro_trace_close();
    int files = atomic_load(&calls);
    /* The pipe's reader never reads: the sink polls, then drops. */
    atomic_store(&calls, 0);
    if (coro_log_open(pipe_path)) return 2;
    emit(20000);
    coro_trace_close();
    int piped = atomic_load(&calls);
    if (files)
        fprintf(stderr, "own_writes: FAIL: %d interposed calls tracing to files\n", files), bad = 1;
    if (piped)
        fprintf(stderr, "own_writes: FAIL: %d interposed calls tracing to a pipe\n", piped),
            bad = 1;
    /* The counting shims work (this call comes through them), and the
     * tracer did write its files. */
    atomic_store(&calls, 0);
    if (write(pfd[1], "x", 1) != 1 || atomic_load(&calls) != 1)
        fprintf(stderr, "own_writes: FAIL: the shims do not count\n"), bad = 1;
    if (size_of(json) < 5000 * 20 || size_of(log) < 5000 * 20)
        fprintf(stderr, "own_writes: FAIL: the trace files are short: %ld, %ld bytes\n",
                size_of(json), size_of(log)),
            bad = 1;
    return bad;
}
