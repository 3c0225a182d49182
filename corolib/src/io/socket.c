/*
 * socket.c - TCP (IPv4, IPv6) and Unix stream sockets on the io_context.
 *
 * Every call tries the system call first and waits only on EAGAIN, so a
 * socket with data ready costs no trip through the loop. EINTR is retried.
 * Errors stay with the coroutine that made the call: ECONNRESET or EPIPE
 * end that coroutine's recv or send, never the server; MSG_NOSIGNAL keeps
 * SIGPIPE away.
 *
 * Out of descriptors (EMFILE/ENFILE) on accept: the kernel keeps the
 * pending connection and, with edge-triggered epoll, would not tell us
 * again, while level-triggered polling would spin at 100% CPU. So each
 * listener holds a reserved descriptor: on EMFILE it is closed, the pending
 * connection accepted and closed at once (the client sees a reset, not a
 * hang), and the reserve reopened. accept returns -EMFILE so the server can
 * back off; it keeps serving once descriptors free up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "io_int.h"

static coro_sock *new_sock(coro_ctx *c, int fd, bool listener, const char *kind, const char *addr,
                           const char *file, int line)
{
    coro_sock *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    s->ctx = c;
    s->fd = fd;
    s->listener = listener;
    s->reserve_fd = -1;
    coro_named_init(&s->named, kind, "%s[%s]", kind, addr);
    int rc = coro__io_register(c, s);
    if (rc) {
        coro_named_fini(&s->named);
        free(s);
        close(fd);
        errno = -rc;
        return NULL;
    }
    coro__trace_object(&s->named, kind, file, line);
    return s;
}

/* A readable name for an address of len bytes, as the kernel filled it in:
 * an unbound Unix-socket peer gives only the family, an abstract one a
 * leading NUL; nothing past len is read. */
static void addr_str(const struct sockaddr *sa, socklen_t len, char *out, size_t n, int *port)
{
    char host[INET6_ADDRSTRLEN] = "?";
    *port = 0;
    if (len >= sizeof(struct sockaddr_in) && sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        *port = ntohs(a->sin_port);
        snprintf(out, n, "%s:%d", host, *port);
    } else if (len >= sizeof(struct sockaddr_in6) && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        *port = ntohs(a->sin6_port);
        snprintf(out, n, "[%s]:%d", host, *port);
    } else if (len >= sizeof sa->sa_family && sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *a = (const struct sockaddr_un *)sa;
        size_t off = offsetof(struct sockaddr_un, sun_path);
        size_t plen = len > off ? (size_t)len - off : 0;
        if (plen > sizeof a->sun_path) plen = sizeof a->sun_path;
        if (plen == 0 || (plen == 1 && !a->sun_path[0]))
            snprintf(out, n, "unix:peer"); /* unbound */
        else if (!a->sun_path[0])
            snprintf(out, n, "unix:@%.*s", (int)(plen - 1), a->sun_path + 1); /* abstract */
        else
            snprintf(out, n, "unix:%.*s", (int)strnlen(a->sun_path, plen), a->sun_path);
    } else {
        snprintf(out, n, "?");
    }
}

/* host:port (or a Unix path) into a sockaddr. */
static int resolve(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (host[0] == '/') {
        struct sockaddr_un *a = (struct sockaddr_un *)ss;
        if (strlen(host) >= sizeof a->sun_path) return -ENAMETOOLONG;
        a->sun_family = AF_UNIX;
        strcpy(a->sun_path, host);
        *len = sizeof *a;
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
        return 0;
    }
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        return 0;
    }
    return -EINVAL;
}

coro_sock *coro_listen(coro_ctx *c, const char *host, int port, int backlog)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = resolve(host, port, &ss, &len);
    if (rc) {
        coro__fail(NULL, 0, -rc, "coro_listen: '%s' is not an IPv4/IPv6 address or a path", host);
        return NULL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        coro__fail(NULL, 0, errno, "coro_listen(%s): socket: %s", host, strerror(errno));
        return NULL;
    }
    int one = 1;
    if (ss.ss_family != AF_UNIX) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
        listen(fd, backlog > 0 ? backlog : 511) != 0) {
        int e = errno;
        close(fd);
        coro__fail(NULL, 0, e, "coro_listen(%s:%d): %s", host, port, strerror(e));
        return NULL;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
        int e = errno;
        close(fd);
        coro__fail(NULL, 0, e, "coro_listen(%s:%d): getsockname: %s", host, port, strerror(e));
        return NULL;
    }
    char name[128];
    int real_port;
    addr_str((struct sockaddr *)&bound, blen, name, sizeof name, &real_port);
    coro_sock *s = new_sock(c, fd, true, "acceptor", name, NULL, 0);
    if (!s) return NULL;
    s->port = real_port;
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return s;
}

/* Refuse one pending connection through the reserved descriptor. */
static void refuse_one(coro_sock *l)
{
    if (l->reserve_fd < 0) return;
    close(l->reserve_fd);
    int fd = accept(l->fd, NULL, NULL);
    if (fd >= 0) close(fd);
    l->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* On an io_uring context a coroutine's accept, recv and send are submitted
 * calls whose completion resumes it (the proactor); elsewhere, and for
 * descriptors of the program's own (the hooks) or calls made outside a
 * coroutine, they are tried first and wait for readiness on EAGAIN. */
static bool proactor(const coro_sock *s)
{
    return s->ctx->be != &coro__backend_epoll && !s->adopted && coro_may_block();
}

/* accept4, or its io_uring submission: -1 with errno either way. */
static int accept_one(const char *file, int line, coro_sock *l, int64_t timeout_ms,
                      struct sockaddr_storage *ss, socklen_t *len)
{
    if (!proactor(l))
        return accept4(l->fd, (struct sockaddr *)ss, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ssize_t fd = coro__uring_call(file, line, l, 'a', NULL, 0, timeout_ms, "accept");
    if (fd < 0) {
        errno = (int)-fd;
        return -1;
    }
    if (getpeername((int)fd, (struct sockaddr *)ss, len) != 0) *len = 0;
    return (int)fd;
}

coro_sock *coro_accept_at(const char *file, int line, coro_sock *l, int64_t timeout_ms)
{
    int64_t deadline = timeout_ms >= 0 ? coro__now_ms() + timeout_ms : -1;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int64_t left = deadline < 0 ? -1 : deadline - coro__now_ms();
        int fd = accept_one(file, line, l, left < 0 && deadline >= 0 ? 0 : left, &ss, &len);
        if (fd >= 0) {
            char name[128];
            int port;
            addr_str((struct sockaddr *)&ss, len, name, sizeof name, &port);
            if (ss.ss_family != AF_UNIX) {
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            }
            coro_sock *s = new_sock(l->ctx, fd, false, "conn", name, file, line);
            if (s) s->port = port;
            return s;
        }
        int e = errno;
        if (e == EINTR || e == ECONNABORTED) continue;
        if (e == EMFILE || e == ENFILE) {
            refuse_one(l);
            coro__fail(file, line, e,
                       "accept on %s: out of file descriptors (%s); refused a pending "
                       "connection, try again later",
                       l->named.name, strerror(e));
            return NULL;
        }
        if (e == ETIMEDOUT || e == ECANCELED) return NULL; /* io_uring: errno says it */
        if (e != EAGAIN && e != EWOULDBLOCK) {
            coro__fail(file, line, e, "accept on %s: %s", l->named.name, strerror(e));
            return NULL;
        }
        if (deadline >= 0 && left <= 0) {
            errno = ETIMEDOUT;
            return NULL;
        }
        int rc = coro__io_wait(file, line, l, CORO__READ, left, "io", "accept");
        if (rc) {
            errno = -rc;
            return NULL;
        }
    }
}

coro_sock *coro_connect_at(const char *file, int line, coro_ctx *c, const char *host, int port,
                           int64_t timeout_ms)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = resolve(host, port, &ss, &len);
    if (rc) {
        coro__fail(file, line, -rc, "coro_connect: '%s' is not an IPv4/IPv6 address or a path",
                   host);
        return NULL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        coro__fail(file, line, errno, "coro_connect: socket: %s", strerror(errno));
        return NULL;
    }
    char name[128];
    int p;
    addr_str((struct sockaddr *)&ss, len, name, sizeof name, &p);
    coro_sock *s;
    if (c->be != &coro__backend_epoll && coro_may_block()) {
        /* io_uring: the connect itself is the submitted call. */
        if (!(s = new_sock(c, fd, false, "conn", name, file, line))) return NULL;
        rc = (int)coro__uring_call(file, line, s, 'c', &ss, len, timeout_ms, "connect");
    } else {
        int r;
        do r = connect(fd, (struct sockaddr *)&ss, len);
        while (r != 0 && errno == EINTR);
        if (r != 0 && errno != EINPROGRESS) {
            int e = errno;
            close(fd);
            coro__fail(file, line, e, "connect to %s: %s", name, strerror(e));
            return NULL;
        }
        if (!(s = new_sock(c, fd, false, "conn", name, file, line))) return NULL;
        if (r != 0) {
            rc = coro__io_wait(file, line, s, CORO__WRITE, timeout_ms, "io", "connect");
            int err = 0;
            socklen_t elen = sizeof err;
            if (!rc && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err) rc = -err;
        }
    }
    s->port = p;
    if (rc) {
        coro_close(s);
        coro__fail(file, line, -rc, "connect to %s: %s", name, strerror(-rc));
        return NULL;
    }
    if (ss.ss_family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return s;
}

/* The shape of every socket transfer: try the system call; on EAGAIN wait
 * (until the deadline) and try again. Inlined with a constant dir, so each
 * caller keeps its one system call. */
static inline __attribute__((always_inline)) ssize_t transfer(const char *file, int line,
                                                              coro_sock *s, int dir, void *buf,
                                                              size_t len, int64_t timeout_ms)
{
    int64_t deadline = timeout_ms >= 0 ? coro__now_ms() + timeout_ms : -1;
    for (;;) {
        ssize_t n =
            dir == CORO__READ ? recv(s->fd, buf, len, 0) : send(s->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) return n;
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return -e;
        int64_t left = deadline < 0 ? -1 : deadline - coro__now_ms();
        if (deadline >= 0 && left <= 0) return -ETIMEDOUT;
        int rc = coro__io_wait(file, line, s, dir, left, "io", dir == CORO__READ ? "recv" : "send");
        if (rc) return rc;
    }
}

ssize_t coro_recv_at(const char *file, int line, coro_sock *s, void *buf, size_t len,
                     int64_t timeout_ms)
{
    if (proactor(s)) return coro__uring_call(file, line, s, 'r', buf, len, timeout_ms, "recv");
    return transfer(file, line, s, CORO__READ, buf, len, timeout_ms);
}

ssize_t coro_send_at(const char *file, int line, coro_sock *s, const void *buf, size_t len,
                     int64_t timeout_ms)
{
    if (proactor(s))
        return coro__uring_call(file, line, s, 's', (void *)buf, len, timeout_ms, "send");
    return transfer(file, line, s, CORO__WRITE, (void *)buf, len, timeout_ms);
}

ssize_t coro_send_all_at(const char *file, int line, coro_sock *s, const void *buf, size_t len,
                         int64_t timeout_ms)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = coro_send_at(file, line, s, (const char *)buf + off, len - off, timeout_ms);
        if (n < 0) return n;
        off += (size_t)n;
    }
    return (ssize_t)len;
}

int coro_shutdown(coro_sock *s, int how)
{
    return shutdown(s->fd, how) == 0 ? 0 : -errno;
}

int coro_close(coro_sock *s)
{
    if (!s) return -EINVAL;
    coro__io_unregister(s);
    close(s->fd);
    if (s->reserve_fd >= 0) close(s->reserve_fd);
    if (CORO_TRACE_ON()) {
        coro__thread *t = coro__thread_get();
        coro_trace_ev ev = {.kind = CORO_EV_DESTROY, .detail = "closed"};
        coro__ev_co(&ev, t->current);
        ev.obj = coro_named_ref(&s->named);
        coro_trace_emit(&ev);
    }
    coro_named_fini(&s->named);
    free(s);
    return 0;
}

int coro_sock_fd(const coro_sock *s)
{
    return s->fd;
}
int coro_sock_port(const coro_sock *s)
{
    return s->port;
}
const char *coro_sock_name(const coro_sock *s)
{
    return s->named.name;
}
coro_named *coro_sock_named(coro_sock *s)
{
    return &s->named;
}

coro_sock *coro__sock_adopt(coro_ctx *c, int fd)
{
    char name[24];
    snprintf(name, sizeof name, "%d", fd);
    coro_sock *s = new_sock(c, fd, false, "fd", name, NULL, 0);
    if (s) s->adopted = true;
    return s;
}

void coro__sock_forget(coro_sock *s)
{
    coro__io_unregister(s);
    coro_named_fini(&s->named);
    free(s);
}
