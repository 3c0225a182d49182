/*
 * backend_epoll.c - the reactor: the kernel says when a socket is ready,
 * and the coroutine then makes the call itself.
 *
 * Sockets are registered once, edge-triggered, for input and output. A
 * coroutine always tries its system call first and waits only on EAGAIN;
 * since edge-triggered epoll reports every new arrival after that, no
 * readiness is lost, and an fd costs one epoll_ctl in its life, not two per
 * wait (so arm and disarm have nothing to do). Dispatch only moves waiting
 * coroutines to the ready queue, so nothing can close a socket while the
 * loop is still walking the events that name it.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "io_int.h"

#define MAX_EVENTS 256

static int ep_init(coro_ctx *c)
{
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (c->epfd < 0) return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    CORO__ASSERT(epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->evfd, &ev) == 0);
    return 0;
}

static void ep_fini(coro_ctx *c)
{
    close(c->epfd);
}

static int ep_add(coro_ctx *c, coro_sock *s)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = s};
    if (s->listener) ev.events = EPOLLIN | EPOLLET;
    return epoll_ctl(c->epfd, EPOLL_CTL_ADD, s->fd, &ev) == 0 ? 0 : -errno;
}

static void ep_del(coro_ctx *c, coro_sock *s)
{
    /* Fails only for an fd the program already closed: nothing to undo. */
    (void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, s->fd, NULL);
}

static int ep_arm(coro_ctx *c, coro__waiter *w)
{
    (void)c, (void)w;
    return 0;
}

static void ep_disarm(coro_ctx *c, coro__waiter *w)
{
    (void)c, (void)w;
}

static void dispatch(coro_ctx *c, coro_sock *s, uint32_t events)
{
    static const uint32_t want[2] = {EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP,
                                     EPOLLOUT | EPOLLERR | EPOLLHUP};
    for (int dir = 0; dir < 2; dir++) {
        coro__waiter *w = s->waiter[dir];
        if (!w || !(events & want[dir])) continue;
        coro__trace_dispatch(c, s, w, events);
        coro__io_wake(c, w, 0, "io", events);
    }
}

static int ep_wait(coro_ctx *c, int timeout, bool *posted)
{
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(c->epfd, evs, MAX_EVENTS, timeout);
    if (n < 0) {
        /* EBADF, EFAULT, EINVAL: our epoll or our buffer is broken, and
         * going round again would only spin. */
        CORO__ASSERT(errno == EINTR);
        n = 0;
    }
    coro__trace_loop_wait(c, timeout, n);
    for (int i = 0; i < n; i++) {
        if (!evs[i].data.ptr)
            *posted = true;
        else
            dispatch(c, evs[i].data.ptr, evs[i].events);
    }
    return n;
}

const coro__backend coro__backend_epoll = {
    "epoll", ep_init, ep_fini, ep_add, ep_del, ep_arm, ep_disarm, ep_wait,
};
