/*
 * blocking_echo.c - a classic blocking echo server: plain socket, accept,
 * read and write, one coroutine per connection, nothing non-blocking
 * anywhere. Alone, each blocking call stops the whole thread, so it serves
 * one connection at a time. Loaded with libcorohook (LD_PRELOAD), the same
 * binary serves every connection at once on one thread.
 *
 *   blocking_echo PORT CONNS   serves CONNS connections, then prints
 *                              "served N, at most K at once"
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coro/coro.h"
#include "coro/io.h"

static int listen_fd;
static long served, live, max_live, limit;

static void *handle(void *arg)
{
    int fd = (int)(intptr_t)arg;
    live++;
    if (live > max_live) max_live = live;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)n) != n) break;
    close(fd);
    live--;
    served++;
    return NULL;
}

static void *acceptor(void *arg)
{
    (void)arg;
    for (long i = 1; i <= limit; i++) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            perror("accept");
            break;
        }
        coro_spawn(handle, (void *)(intptr_t)fd, "conn#%ld", i);
        coro_yield(); /* let the new connection start */
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: blocking_echo PORT CONNS\n");
        return 1;
    }
    limit = atol(argv[2]);
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(0x7f000001);
    if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) || listen(listen_fd, 1024)) {
        perror("blocking_echo");
        return 1;
    }
    socklen_t len = sizeof a;
    getsockname(listen_fd, (struct sockaddr *)&a, &len);
    fprintf(stderr, "blocking_echo: listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    coro_ctx *ctx = coro_ctx_create("loop");
    coro_spawn(acceptor, NULL, "acceptor");
    coro_ctx_run(ctx);
    coro_run();
    printf("served %ld, at most %ld at once\n", served, max_live);
    coro_ctx_destroy(ctx);
    close(listen_fd);
    return 0;
}
