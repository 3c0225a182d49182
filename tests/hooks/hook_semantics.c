/*
 * hook_semantics.c - what libcorohook promises, checked one by one. Run
 * with LD_PRELOAD=libcorohook.so; prints one line per check and exits 1 if
 * any failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "coro/coro.h"
#include "coro/io.h"

static int failures;
#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        printf("%s: %s\n", (cond) ? "ok" : "FAILED", what);                                        \
        if (!(cond)) failures++;                                                                   \
    } while (0)

static int pair[2];
static int order[8], norder;

static void *blocking_reader(void *arg)
{
    (void)arg;
    char c = 0;
    order[norder++] = 1;
    ssize_t n = read(pair[0], &c, 1); /* blocking socket: suspends this coroutine */
    order[norder++] = 3;
    CHECK(n == 1 && c == 'x', "a blocking read in a coroutine waits for the data");
    int fl = fcntl(pair[0], F_GETFL);
    CHECK(!(fl & O_NONBLOCK), "fcntl(F_GETFL) does not show the hook's O_NONBLOCK");
    return NULL;
}

static void *writer_later(void *arg)
{
    (void)arg;
    order[norder++] = 2; /* runs while the reader is suspended */
    usleep(20000);       /* suspends this coroutine, not the thread */
    ssize_t n = write(pair[1], "x", 1);
    CHECK(n == 1, "write on a socket in a coroutine");
    return NULL;
}

static void *nonblocking_user(void *arg)
{
    (void)arg;
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    char c;
    errno = 0;
    ssize_t n = recv(sv[0], &c, 1, 0);
    CHECK(n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK),
          "a socket the program made non-blocking still gets EAGAIN");
    close(sv[0]);
    close(sv[1]);
    return NULL;
}

static void *regular_file(void *arg)
{
    (void)arg;
    char path[] = "/tmp/coroscope-hook-XXXXXX";
    int fd = mkstemp(path);
    ssize_t w = write(fd, "hello", 5);
    lseek(fd, 0, SEEK_SET);
    char buf[8] = {0};
    ssize_t r = read(fd, buf, sizeof buf);
    CHECK(w == 5 && r == 5 && !memcmp(buf, "hello", 5), "regular files behave as glibc's");
    close(fd);
    unlink(path);
    return NULL;
}

int main(void)
{
    /* Outside any coroutine: glibc's behaviour, blocking included. */
    int p[2];
    if (pipe(p) != 0) return 1;
    ssize_t w = write(p[1], "ab", 2);
    char buf[4];
    ssize_t r = read(p[0], buf, sizeof buf);
    CHECK(w == 2 && r == 2, "outside coroutines, read and write are glibc's");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    usleep(10000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) >= 10000000L,
          "outside coroutines, usleep sleeps the thread");

    socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
    coro_ctx *ctx = coro_ctx_create("loop");
    /* hooks.semantics_uring must not pass on an epoll fallback. */
    const char *asked = getenv("CORO_IO_BACKEND");
    CHECK(ctx && !strcmp(coro_ctx_backend(ctx), asked && *asked ? asked : "epoll"),
          "the loop runs on the backend CORO_IO_BACKEND asks for (epoll by default)");
    coro_spawn(blocking_reader, NULL, "reader");
    coro_spawn(writer_later, NULL, "writer");
    coro_spawn(nonblocking_user, NULL, "nonblocking");
    coro_spawn(regular_file, NULL, "file");
    coro_ctx_run(ctx);
    CHECK(norder == 3 && order[0] == 1 && order[1] == 2 && order[2] == 3,
          "the thread ran another coroutine while one was blocked in read");
    /* The descriptor the hook made non-blocking still blocks outside. */
    ssize_t n = write(pair[1], "y", 1);
    char c;
    n = read(pair[0], &c, 1);
    CHECK(n == 1 && c == 'y', "after the loop, the same socket reads as a blocking one");
    coro_ctx_destroy(ctx);
    return failures ? 1 : 0;
}
