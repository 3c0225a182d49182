/*
 * epoll_echo.c - the limit: a plain single-threaded epoll echo server, the
 * least work an event loop can do per message (level-triggered, one read
 * and one write, a pending buffer only when the socket is full).
 *   epoll_echo [PORT]   (0 or none: the kernel chooses; the port is printed)
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct conn {
    int fd;
    char *pending;
    size_t plen;
} conn;

static void drop(int ep, conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->pending);
    free(c);
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0; /* 0: the kernel chooses */
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(0x7f000001);
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4096)) {
        perror("epoll_echo");
        return 1;
    }
    socklen_t alen = sizeof a;
    if (getsockname(l, (struct sockaddr *)&a, &alen) == 0) port = ntohs(a.sin_port);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    fprintf(stderr, "epoll_echo: listening on 127.0.0.1:%d\n", port);
    static char buf[65536];
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event e = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            if (c->plen) { /* writable again: flush what was pending */
                ssize_t w = write(c->fd, c->pending, c->plen);
                if (w < 0 && errno != EAGAIN) {
                    drop(ep, c);
                    continue;
                }
                if (w > 0) {
                    memmove(c->pending, c->pending + w, c->plen - (size_t)w);
                    c->plen -= (size_t)w;
                }
                if (!c->plen) {
                    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
                }
                continue;
            }
            ssize_t r = read(c->fd, buf, sizeof buf);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                drop(ep, c);
                continue;
            }
            ssize_t w = write(c->fd, buf, (size_t)r);
            if (w < 0) {
                if (errno != EAGAIN) {
                    drop(ep, c);
                    continue;
                }
                w = 0;
            }
            if (w < r) {
                c->pending = realloc(c->pending, (size_t)(r - w));
                memcpy(c->pending, buf + w, (size_t)(r - w));
                c->plen = (size_t)(r - w);
                struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
            }
        }
    }
}
