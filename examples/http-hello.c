/*
 * http-hello.c - a small, correct HTTP/1.1 server: `GET /` (or HEAD) gets
 * "Hello, world". One coroutine per connection reads requests one after
 * another (pipelined ones too) and answers each. bench/http loads it with
 * wrk beside nginx, so it keeps the rules a real server keeps:
 *
 *  - A request's body is read and thrown away, whether its length is given
 *    by Content-Length or by chunked Transfer-Encoding; it is never taken
 *    for the next request (a request hidden in a body is not answered).
 *    A request whose body length is unclear (both headers, two different
 *    lengths, an unknown transfer coding) is refused and the connection
 *    closed: after it, nobody knows where the next request starts.
 *  - HTTP/1.0 gets an HTTP/1.0 answer and the connection is closed, unless
 *    it asks for keep-alive. HTTP/1.1 keeps the connection open unless
 *    either side says "Connection: close".
 *  - The header block must arrive within the header deadline, counted from
 *    its first byte (a client sending one byte a second is cut off), and a
 *    kept-open connection with no request for the idle deadline is closed.
 *
 *   http-hello [--host ADDR] [--port N] [--header-timeout MS] [--idle-timeout MS]
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "cli.h"
#include "coro/coro.h"
#include "coro/io.h"

static const char hello[] = "Hello, world\n";
static long header_timeout = 10000, idle_timeout = 60000; /* ms */

/* One connection: what was received and not yet used is buf[start, end). */
typedef struct conn {
    coro_sock *sock;
    size_t start, end;
    char buf[8192];
} conn;

/* What a request asks, as far as this server cares. */
typedef struct request {
    int status;                       /* what to answer: 200, 404, ..., or 400 for a bad request */
    int minor;                        /* HTTP/1.minor */
    bool head;                        /* HEAD: the answer has no body */
    bool keep_alive;                  /* the connection stays open after the answer */
    bool said_close, said_keep_alive; /* in Connection headers */
    bool chunked;                     /* the body is chunked */
    long long length;                 /* else the body has this many bytes */
    bool expect_continue;
} request;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Receive more bytes, before the deadline. False at end of stream, on an
 * error, at the deadline, or when the buffer is full of unused bytes. */
static bool fill(conn *c, int64_t deadline)
{
    if (c->start == c->end) c->start = c->end = 0;
    if (c->end == sizeof c->buf && c->start > 0) {
        memmove(c->buf, c->buf + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    int64_t left = deadline - now_ms();
    if (c->end == sizeof c->buf || left <= 0) return false;
    ssize_t n = coro_recv(c->sock, c->buf + c->end, sizeof c->buf - c->end, left);
    if (n <= 0) return false;
    c->end += (size_t)n;
    return true;
}

/* The next line (its CRLF cut off), or NULL if none comes in time. The line
 * lives in the buffer until the next fill. */
static char *next_line(conn *c, int64_t timeout)
{
    char *nl;
    while (!(nl = memchr(c->buf + c->start, '\n', c->end - c->start)))
        if (!fill(c, now_ms() + timeout)) return NULL;
    char *line = c->buf + c->start;
    if (nl == line || nl[-1] != '\r') return NULL; /* lines end in CRLF */
    nl[-1] = '\0';
    c->start = (size_t)(nl + 1 - c->buf);
    return line;
}

/* Read and throw away n bytes. */
static bool skip(conn *c, unsigned long long n, int64_t timeout)
{
    while (n > 0) {
        if (c->start == c->end && !fill(c, now_ms() + timeout)) return false;
        size_t k = c->end - c->start < n ? c->end - c->start : (size_t)n;
        c->start += k;
        n -= k;
    }
    return true;
}

/* A chunked body: chunks of "HEX-SIZE[;ext]" CRLF, data, CRLF; a last
 * chunk of size 0, then trailer lines up to an empty one. */
static bool skip_chunked(conn *c, int64_t timeout)
{
    for (;;) {
        char *line = next_line(c, timeout);
        if (!line || !isxdigit((unsigned char)*line)) return false;
        unsigned long long size = 0;
        for (; isxdigit((unsigned char)*line); line++) {
            if (size >> 56) return false; /* absurd */
            int d = *line <= '9' ? *line - '0' : (*line | 0x20) - 'a' + 10;
            size = size * 16 + (unsigned)d;
        }
        if (*line && *line != ';' && *line != ' ' && *line != '\t') return false;
        if (size == 0) break;
        if (!skip(c, size, timeout) || !(line = next_line(c, timeout)) || *line) return false;
    }
    for (;;) { /* the trailer section */
        char *line = next_line(c, timeout);
        if (!line) return false;
        if (!*line) return true;
    }
}

/* Does the comma-separated list hold this token (any case)? */
static bool has_token(const char *list, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = list; *p;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",");
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        if (len == n && !strncasecmp(p, token, n)) return true;
        p += strcspn(p, ",");
    }
    return false;
}

/* One header line into r; false if the request is malformed. */
static bool header(request *r, char *line, int *hosts)
{
    char *colon = strchr(line, ':');
    /* No name, whitespace before the colon, or a folded line: refused
     * (RFC 9112 5.1, 5.2), as each could be read two ways. */
    if (!colon || colon == line || strcspn(line, " \t") < (size_t)(colon - line)) return false;
    *colon = '\0';
    char *v = colon + 1 + strspn(colon + 1, " \t");
    for (size_t n = strlen(v); n && (v[n - 1] == ' ' || v[n - 1] == '\t');) v[--n] = '\0';
    if (!strcasecmp(line, "content-length")) {
        char *end;
        errno = 0;
        long long n = isdigit((unsigned char)*v) ? strtoll(v, &end, 10) : -1;
        if (n < 0 || errno || *end || (r->length >= 0 && r->length != n)) return false;
        r->length = n;
    } else if (!strcasecmp(line, "transfer-encoding")) {
        if (strcasecmp(v, "chunked") || r->chunked || r->minor == 0) return false;
        r->chunked = true;
    } else if (!strcasecmp(line, "connection")) {
        r->said_close |= has_token(v, "close");
        r->said_keep_alive |= has_token(v, "keep-alive");
    } else if (!strcasecmp(line, "host")) {
        ++*hosts;
    } else if (!strcasecmp(line, "expect")) {
        r->expect_continue = !strcasecmp(v, "100-continue") && r->minor >= 1;
    }
    return true;
}

/* Read one request's line ("METHOD TARGET HTTP/1.x") and headers, which
 * are in the buffer up to and including the empty line. */
static request parse(conn *c)
{
    request r = {.status = 400, .minor = 1, .length = -1};
    char *line = next_line(c, 0);
    char *sp1 = line ? strchr(line, ' ') : NULL, *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp2 || sp1 == line || sp2 == sp1 + 1) return r; /* the connection will be closed */
    *sp1 = *sp2 = '\0';
    const char *method = line, *target = sp1 + 1, *v = sp2 + 1;
    if (strncmp(v, "HTTP/", 5) || !isdigit((unsigned char)v[5]) || v[6] != '.' ||
        !isdigit((unsigned char)v[7]) || v[8])
        return r;
    if (v[5] != '1') {
        r.status = 505;
        return r;
    }
    r.minor = v[7] - '0';
    int hosts = 0;
    bool ok = true;
    while ((line = next_line(c, 0)) && *line) ok = header(&r, line, &hosts) && ok;
    if (!ok || !line || (r.chunked && r.length >= 0) || (r.minor >= 1 && hosts != 1)) return r;
    if (r.length < 0) r.length = 0;
    /* 1.1 keeps the connection unless told; 1.0 closes it unless asked. */
    r.keep_alive = !r.said_close && (r.minor >= 1 || r.said_keep_alive);
    r.head = !strcmp(method, "HEAD");
    if (strcmp(target, "/"))
        r.status = 404;
    else if (strcmp(method, "GET") && !r.head)
        r.status = 405;
    else
        r.status = 200;
    return r;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 431:
        return "Request Header Fields Too Large";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Bad Request";
    }
}

/* The Date header's value, formatted once a second. */
static const char *http_date(void)
{
    static char date[40];
    static time_t done;
    time_t t = time(NULL);
    if (t != done) {
        struct tm tm;
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
        done = t;
    }
    return date;
}

/* The status line, headers and (unless HEAD) body. HTTP/1.0 is answered in
 * HTTP/1.0: RFC 9110 6.2 would let a 1.1 server say 1.1, as nginx does, but
 * the client's own version is what the oldest clients understand. */
static bool answer(conn *c, const request *r)
{
    const char *body = r->status == 200 ? hello : r->status == 404 ? "not found\n" : "";
    size_t blen = strlen(body);
    char out[512];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.%d %d %s\r\nDate: %s\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n%s%s\r\n%s",
                     r->minor ? 1 : 0, r->status, reason(r->status), http_date(), blen,
                     r->status == 405 ? "Allow: GET, HEAD\r\n" : "",
                     !r->keep_alive  ? "Connection: close\r\n"
                     : r->minor == 0 ? "Connection: keep-alive\r\n"
                                     : "",
                     r->head ? "" : body);
    return coro_send_all(c->sock, out, (size_t)n, idle_timeout) == n;
}

/* Close after the last answer. Closing a socket with unread bytes (a body we
 * refused, requests sent after "Connection: close") makes the kernel send a
 * reset, which can destroy the answer before the client reads it. So stop
 * sending, drop what still comes for a moment, then close (nginx's
 * lingering close). */
static void linger_close(conn *c)
{
    coro_shutdown(c->sock, SHUT_WR);
    int64_t deadline = now_ms() + 2000;
    while (fill(c, deadline)) c->start = c->end;
    coro_close(c->sock);
}

static void *serve(void *arg)
{
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        coro_close(arg);
        return NULL;
    }
    c->sock = arg;
    /* Each turn: wait (idle deadline) for a request, read its header block
     * (header deadline), skip its body, answer. */
    while (c->start < c->end || fill(c, now_ms() + idle_timeout)) {
        int64_t deadline = now_ms() + header_timeout;
        request r = {.status = 0, .minor = 1};
        while (!memmem(c->buf + c->start, c->end - c->start, "\r\n\r\n", 4)) {
            if (c->end - c->start == sizeof c->buf) {
                r.status = 431;
                break;
            }
            if (!fill(c, deadline)) {
                r.status = now_ms() >= deadline ? 408 : -1; /* -1: the peer left */
                break;
            }
        }
        if (r.status == 0) r = parse(c);
        if (r.status < 0) break;
        if (r.status != 200 && r.status != 404 && r.status != 405) { /* no next request */
            r.keep_alive = false;
            answer(c, &r);
            break;
        }
        if (r.expect_continue && (r.chunked || r.length > 0) &&
            coro_send_all(c->sock, "HTTP/1.1 100 Continue\r\n\r\n", 25, idle_timeout) != 25)
            break;
        if (r.chunked ? !skip_chunked(c, idle_timeout) : !skip(c, r.length, idle_timeout)) {
            r = (request){.status = 400, .minor = r.minor};
            answer(c, &r);
            break;
        }
        if (!answer(c, &r) || !r.keep_alive) break;
    }
    linger_close(c);
    free(c);
    return NULL;
}

static void *listener(void *arg)
{
    coro_sock *l = arg;
    for (;;) {
        coro_sock *c = coro_accept(l, CORO_FOREVER);
        if (!c) {
            if (errno == ECANCELED) break;
            coro_sleep(10);
            continue;
        }
        if (!coro_spawn(serve, c, "http#%d", coro_sock_fd(c))) coro_close(c);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 8080;
    cli_init(
        "http-hello",
        "usage: http-hello [--host ADDR] [--port N] [--header-timeout MS] [--idle-timeout MS]\n"
        "A small HTTP/1.1 server: GET / answers \"Hello, world\".\n"
        "  --host ADDR           address to listen on (default 127.0.0.1)\n"
        "  --port N              port, 0 for one the kernel picks (default 8080)\n"
        "  --header-timeout MS   time for a request's header block (default 10000)\n"
        "  --idle-timeout MS     time a kept-open connection may wait (default 60000)\n");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host"))
            host = cli_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--port"))
            port = (int)cli_number(argc, argv, &i, 0, 65535);
        else if (!strcmp(argv[i], "--header-timeout"))
            header_timeout = cli_number(argc, argv, &i, 1, INT_MAX);
        else if (!strcmp(argv[i], "--idle-timeout"))
            idle_timeout = cli_number(argc, argv, &i, 1, INT_MAX);
        else
            cli_unknown(argv[i]);
    }
    coro_ctx *ctx = coro_ctx_create("http-loop");
    coro_sock *l = ctx ? coro_listen(ctx, host, port, 4096) : NULL;
    if (!l) {
        fprintf(stderr, "http-hello: %s\n", coro_last_error());
        return 1;
    }
    fprintf(stderr, "http-hello: listening on %s\n", coro_sock_name(l));
    coro_spawn(listener, l, "listener");
    coro_ctx_run(ctx);
    return 0;
}
