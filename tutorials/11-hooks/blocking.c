/*
 * blocking.c - chapter 11: a server and two clients written with plain
 * blocking calls (socket, accept, connect, read, write), each a coroutine
 * on one thread. Run as it is, the first blocking call stops the thread and
 * nothing else ever runs. Run with LD_PRELOAD=libcorohook.so, the same
 * binary runs every coroutine concurrently: each call that would block
 * suspends its coroutine on the loop instead.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "coro/coro.h"
#include "coro/io.h"

#define PATH "/tmp/coroscope-11-blocking.sock"

static struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = PATH};
static int listen_fd;

static void *handler(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[64], reply[80];
    ssize_t n = read(fd, buf, sizeof buf); /* blocks until the client writes */
    if (n > 0) {
        int len = snprintf(reply, sizeof reply, "echo: %.*s", (int)n, buf);
        write(fd, reply, (size_t)len);
    }
    close(fd);
    return NULL;
}

static void *server(void *arg)
{
    (void)arg;
    for (int i = 1; i <= 2; i++) {
        int fd = accept(listen_fd, NULL, NULL); /* blocks until a client connects */
        if (fd < 0) break;
        coro_spawn(handler, (void *)(intptr_t)fd, "handler#%d", i);
    }
    return NULL;
}

static void *client(void *arg)
{
    const char *msg = arg;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
        write(fd, msg, strlen(msg));
        char buf[80];
        ssize_t n = read(fd, buf, sizeof buf); /* blocks until the server answers */
        if (n > 0) coro_log("%.*s", (int)n, buf);
    }
    close(fd);
    return NULL;
}

/* Ends the process if the loop has not finished after a second, so that
 * the unhooked run, whose thread blocks for ever, comes back to the shell. */
static atomic_bool finished;

static void *watchdog(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100 && !atomic_load(&finished); i++) usleep(10000);
    if (atomic_load(&finished)) return NULL;
    fprintf(stderr, "blocking: still running after 1 s; the thread is stuck, giving up\n");
    exit(1);
}

int main(void)
{
    unlink(PATH);
    listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) || listen(listen_fd, 4)) {
        perror("blocking: " PATH);
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, watchdog, NULL);
    coro_ctx *ctx = coro_ctx_create("loop");
    coro_spawn(server, NULL, "server");
    coro_spawn(client, "one", "client#1");
    coro_spawn(client, "two", "client#2");
    coro_ctx_run(ctx);
    atomic_store(&finished, true);
    pthread_join(t, NULL);
    coro_ctx_destroy(ctx);
    close(listen_fd);
    unlink(PATH);
    return 0;
}
