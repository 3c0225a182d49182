/*
 * test_io.c - the io_context: echo over IPv4, IPv6 and Unix sockets, 2000
 * connections at once, peer resets, timeouts, cancellation, misuse, the
 * water marks, posts and stop from another thread, no leaked descriptors.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmocka.h>

#include "coro/coro.h"
#include "coro/io.h"

#include "../lib/backend_asked.h"

/* Thread-local: the threads test runs a context on each of two threads. */

/* A deadline for one step of an echo: generous, because ThreadSanitizer
 * makes 2000 connections on a busy 2-core machine 10 to 20 times slower,
 * and a deadline that fires is a failure here, not the subject. */
#if defined(__SANITIZE_THREAD__)
#define STEP_MS 120000
#else
#define STEP_MS 5000
#endif

static _Thread_local coro_ctx *ctx;

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static int fds_before;

static int setup(void **state)
{
    (void)state;
    fds_before = count_fds();
    ctx = coro_ctx_create("test-loop");
    return ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    coro_ctx_destroy(ctx);
    ctx = NULL;
    /* Every test ends with the descriptors it started with. */
    assert_int_equal(count_fds(), fds_before);
    return 0;
}

/* ---- an echo server and a checking client ------------------------------- */

typedef struct echo_run {
    const char *host;
    int port;
    long conns, msgs, size;
    long verified, failures;
    coro_sock *listener;
    long served;
} echo_run;

static void *echo_conn(void *arg)
{
    coro_sock *c = arg;
    char buf[4096];
    ssize_t n;
    while ((n = coro_recv(c, buf, sizeof buf, CORO_FOREVER)) > 0)
        if (coro_send_all(c, buf, (size_t)n, CORO_FOREVER) < 0) break;
    coro_close(c);
    return NULL;
}

static void *acceptor(void *arg)
{
    echo_run *r = arg;
    while (r->served < r->conns) {
        coro_sock *c = coro_accept(r->listener, STEP_MS);
        if (!c) break;
        r->served++;
        coro_spawn(echo_conn, c, "echo#%ld", r->served);
    }
    return NULL;
}

static void *checker(void *arg)
{
    echo_run *r = arg;
    coro_sock *s = coro_connect(ctx, r->host, r->port, STEP_MS);
    if (!s) {
        r->failures++;
        return NULL;
    }
    char *out = malloc((size_t)r->size), *in = malloc((size_t)r->size);
    for (long m = 0; m < r->msgs; m++) {
        for (long i = 0; i < r->size; i++) out[i] = (char)(rand() & 0xff);
        if (coro_send_all(s, out, (size_t)r->size, STEP_MS) != r->size) {
            r->failures++;
            break;
        }
        long got = 0;
        while (got < r->size) {
            ssize_t n = coro_recv(s, in + got, (size_t)(r->size - got), STEP_MS);
            if (n <= 0) break;
            got += n;
        }
        if (got != r->size || memcmp(in, out, (size_t)r->size)) {
            r->failures++;
            break;
        }
        r->verified++;
    }
    free(out);
    free(in);
    coro_close(s);
    return NULL;
}

static void run_echo(echo_run *r)
{
    r->listener = coro_listen(ctx, r->host, 0, 4096);
    assert_non_null(r->listener);
    r->port = coro_sock_port(r->listener);
    assert_true(r->port > 0);
    coro_spawn(acceptor, r, "acceptor");
    for (long c = 0; c < r->conns; c++) coro_spawn(checker, r, "client#%ld", c);
    assert_int_equal(coro_ctx_run(ctx), 0);
    coro_close(r->listener);
    assert_int_equal(r->failures, 0);
    assert_int_equal(r->verified, r->conns * r->msgs);
}

static void test_echo_ipv4(void **state)
{
    (void)state;
    echo_run r = {.host = "127.0.0.1", .conns = 4, .msgs = 50, .size = 1000};
    run_echo(&r);
}

static void test_echo_ipv6(void **state)
{
    (void)state;
    coro_sock *probe = coro_listen(ctx, "::1", 0, 1);
    if (!probe) skip(); /* no IPv6 loopback in this sandbox */
    coro_close(probe);
    echo_run r = {.host = "::1", .conns = 4, .msgs = 50, .size = 1000};
    run_echo(&r);
}

static void test_echo_unix(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/coroscope-test-%d.sock", (int)getpid());
    unlink(path);
    echo_run r = {.host = path, .conns = 3, .msgs = 20, .size = 5000};
    r.listener = coro_listen(ctx, path, 0, 16);
    assert_non_null(r.listener);
    coro_spawn(acceptor, &r, "acceptor");
    for (long c = 0; c < r.conns; c++) coro_spawn(checker, &r, "client#%ld", c);
    coro_ctx_run(ctx);
    coro_close(r.listener);
    unlink(path);
    assert_int_equal(r.failures, 0);
    assert_int_equal(r.verified, r.conns * r.msgs);
}

static void test_2000_connections(void **state)
{
    (void)state;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 4200) {
        rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 4200) skip(); /* the hard limit is too low here */
    echo_run r = {.host = "127.0.0.1", .conns = 2000, .msgs = 5, .size = 256};
    run_echo(&r);
    assert_int_equal(r.served, 2000);
}

/* ---- errors go to the one coroutine concerned -------------------------- */

typedef struct reset_run {
    coro_sock *listener;
    ssize_t first_error;
    long later_ok;
} reset_run;

static void *reset_server(void *arg)
{
    reset_run *r = arg;
    for (int i = 0; i < 2; i++) {
        coro_sock *c = coro_accept(r->listener, STEP_MS);
        assert_non_null(c);
        char buf[256];
        ssize_t n;
        while ((n = coro_recv(c, buf, sizeof buf, 5000)) > 0) {
            if (i == 1) r->later_ok += n;
            coro_send_all(c, buf, (size_t)n, 5000);
        }
        if (i == 0) r->first_error = n;
        coro_close(c);
    }
    return NULL;
}

static void *resetting_client(void *arg)
{
    reset_run *r = arg;
    coro_sock *s = coro_connect(ctx, "127.0.0.1", coro_sock_port(r->listener), 5000);
    coro_send_all(s, "hello", 5, 5000);
    coro_sleep(20);
    /* Abort the connection: SO_LINGER 0 sends a reset, not a FIN. */
    struct linger lg = {1, 0};
    setsockopt(coro_sock_fd(s), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    coro_close(s);
    coro_sleep(20);
    /* The server is still serving. */
    s = coro_connect(ctx, "127.0.0.1", coro_sock_port(r->listener), 5000);
    coro_send_all(s, "again", 5, 5000);
    char buf[8];
    coro_recv(s, buf, sizeof buf, 5000);
    coro_close(s);
    return NULL;
}

static void test_peer_reset_ends_only_that_connection(void **state)
{
    (void)state;
    reset_run r = {0};
    r.listener = coro_listen(ctx, "127.0.0.1", 0, 16);
    coro_spawn(reset_server, &r, "server");
    coro_spawn(resetting_client, &r, "client");
    coro_ctx_run(ctx);
    coro_close(r.listener);
    assert_int_equal(r.first_error, -ECONNRESET);
    assert_int_equal(r.later_ok, 5);
}

/* Writing to a peer that has gone: -EPIPE (or -ECONNRESET) to the writer,
 * and no SIGPIPE, which here keeps its default action of killing us. */
typedef struct pipe_run {
    ssize_t first, later;
} pipe_run;

static void *write_to_gone_peer(void *arg)
{
    pipe_run *r = arg;
    coro_sock *l = coro_listen(ctx, "127.0.0.1", 0, 4);
    coro_sock *c = coro_connect(ctx, "127.0.0.1", coro_sock_port(l), 1000);
    coro_sock *a = coro_accept(l, 1000);
    coro_close(c);
    coro_sleep(10);
    r->first = coro_send(a, "x", 1, 1000); /* accepted locally; the peer answers RST */
    coro_sleep(20);
    r->later = coro_send(a, "y", 1, 1000);
    coro_close(a);
    coro_close(l);
    return NULL;
}

static void test_send_to_closed_peer_is_epipe_not_sigpipe(void **state)
{
    (void)state;
    void (*old)(int) = signal(SIGPIPE, SIG_DFL);
    pipe_run r = {0};
    coro_spawn(write_to_gone_peer, &r, "writer");
    assert_int_equal(coro_ctx_run(ctx), 0);
    signal(SIGPIPE, old);
    assert_int_equal(r.first, 1);
    assert_true(r.later == -EPIPE || r.later == -ECONNRESET);
}

/* ---- timers and deadlines ------------------------------------------------ */

typedef struct timing {
    int64_t slept_ms, recv_ms;
    ssize_t recv_rc;
    coro_sock *a;
} timing;

static void *sleeper(void *arg)
{
    timing *t = arg;
    int64_t t0 = coro_now_ms();
    coro_sleep(60);
    t->slept_ms = coro_now_ms() - t0;
    return NULL;
}

static void *deadline_reader(void *arg)
{
    timing *t = arg;
    coro_sock *l = coro_listen(ctx, "127.0.0.1", 0, 4);
    coro_sock *c = coro_connect(ctx, "127.0.0.1", coro_sock_port(l), 1000);
    coro_sock *a = coro_accept(l, 1000);
    char buf[16];
    int64_t t0 = coro_now_ms();
    t->recv_rc = coro_recv(a, buf, sizeof buf, 40); /* nobody sends */
    t->recv_ms = coro_now_ms() - t0;
    coro_close(a);
    coro_close(c);
    coro_close(l);
    return NULL;
}

static void test_timers_fire_within_tolerance(void **state)
{
    (void)state;
    timing t = {0};
    coro_spawn(sleeper, &t, "sleeper");
    coro_spawn(deadline_reader, &t, "reader");
    coro_ctx_run(ctx);
    assert_true(t.slept_ms >= 60 && t.slept_ms < 160);
    assert_int_equal(t.recv_rc, -ETIMEDOUT);
    assert_true(t.recv_ms >= 40 && t.recv_ms < 140);
}

static void *accept_with_deadline(void *arg)
{
    coro_sock *l = arg;
    errno = 0;
    coro_sock *c = coro_accept(l, 30);
    assert_null(c);
    assert_int_equal(errno, ETIMEDOUT);
    return NULL;
}

static void test_accept_deadline(void **state)
{
    (void)state;
    coro_sock *l = coro_listen(ctx, "127.0.0.1", 0, 4);
    coro_spawn(accept_with_deadline, l, "acceptor");
    coro_ctx_run(ctx);
    coro_close(l);
}

/* A listener whose accept queue is full drops further SYNs (Linux), so a
 * connect to it stays pending until the deadline: -ETIMEDOUT, not a hang. */
typedef struct deadlines {
    int full_port;
    int connect_errno;
    int64_t connect_ms;
    ssize_t send_rc;
    int64_t send_ms;
    long sent;
} deadlines;

static void *connect_to_full_queue(void *arg)
{
    deadlines *d = arg;
    coro_sock *held[8];
    int nheld = 0;
    for (int i = 0; i < 8; i++) {
        int64_t t0 = coro_now_ms();
        errno = 0;
        coro_sock *s = coro_connect(ctx, "127.0.0.1", d->full_port, 50);
        if (!s) {
            d->connect_errno = errno;
            d->connect_ms = coro_now_ms() - t0;
            break;
        }
        held[nheld++] = s;
    }
    while (nheld) coro_close(held[--nheld]);
    return NULL;
}

static void *send_to_idle_peer(void *arg)
{
    deadlines *d = arg;
    coro_sock *l = coro_listen(ctx, "127.0.0.1", 0, 4);
    coro_sock *c = coro_connect(ctx, "127.0.0.1", coro_sock_port(l), 1000);
    coro_sock *a = coro_accept(l, 1000);
    static char chunk[1 << 20];
    /* The peer never reads: the socket buffers fill, then the send waits
     * for the deadline. */
    for (int i = 0; i < 256; i++) {
        int64_t t0 = coro_now_ms();
        d->send_rc = coro_send(c, chunk, sizeof chunk, 50);
        d->send_ms = coro_now_ms() - t0;
        if (d->send_rc < 0) break;
        d->sent += d->send_rc;
    }
    coro_close(a);
    coro_close(c);
    coro_close(l);
    return NULL;
}

static void test_connect_and_send_deadlines(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(lfd, 0), 0); /* never accepted: the queue fills */
    socklen_t len = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &len);
    deadlines d = {.full_port = ntohs(sa.sin_port)};
    coro_spawn(connect_to_full_queue, &d, "connector");
    coro_spawn(send_to_idle_peer, &d, "sender");
    assert_int_equal(coro_ctx_run(ctx), 0);
    close(lfd);
    assert_int_equal(d.connect_errno, ETIMEDOUT);
    assert_true(d.connect_ms >= 50 && d.connect_ms < 150);
    assert_int_equal(d.send_rc, -ETIMEDOUT);
    assert_true(d.send_ms >= 50 && d.send_ms < 150);
    assert_true(d.sent > 0);
}

/* ---- cancellation and misuse ------------------------------------------- */

typedef struct cancel_run {
    coro_sock *a, *c, *l;
    ssize_t rc1, rc2;
} cancel_run;

static void *blocked_reader(void *arg)
{
    cancel_run *r = arg;
    char buf[8];
    r->rc1 = coro_recv(r->a, buf, sizeof buf, CORO_FOREVER);
    return NULL;
}

static void *second_reader(void *arg)
{
    cancel_run *r = arg;
    char buf[8];
    r->rc2 = coro_recv(r->a, buf, sizeof buf, CORO_FOREVER);
    return NULL;
}

static void *closer(void *arg)
{
    cancel_run *r = arg;
    coro_sleep(20);
    coro_close(r->a); /* wakes the blocked reader with -ECANCELED */
    coro_close(r->c);
    coro_close(r->l);
    return NULL;
}

static void *setup_pair(void *arg)
{
    cancel_run *r = arg;
    r->l = coro_listen(ctx, "127.0.0.1", 0, 4);
    r->c = coro_connect(ctx, "127.0.0.1", coro_sock_port(r->l), 1000);
    r->a = coro_accept(r->l, 1000);
    coro_spawn(blocked_reader, r, "reader#1");
    coro_spawn(second_reader, r, "reader#2");
    coro_spawn(closer, r, "closer");
    return NULL;
}

static void test_close_cancels_and_double_wait_is_refused(void **state)
{
    (void)state;
    cancel_run r = {0};
    coro_spawn(setup_pair, &r, "setup");
    coro_ctx_run(ctx);
    assert_int_equal(r.rc1, -ECANCELED);
    assert_int_equal(r.rc2, -EBUSY);
    assert_non_null(strstr(coro_last_error(), "already waits to read"));
}

/* Cancelling a wait without closing: the call returns -ECANCELED, the
 * socket stays usable, a sleep ends early, a second cancel finds nothing. */
typedef struct cancel_wait_run {
    coro_t *reader, *sleeper;
    coro_sock *l, *c, *a;
    ssize_t first_rc, second_rc;
    int sleep_rc, again_rc, none_rc;
    int64_t slept_ms;
    char got[8];
} cancel_wait_run;

static void *cancel_reader(void *arg)
{
    cancel_wait_run *r = arg;
    char buf[8] = {0};
    r->first_rc = coro_recv(r->a, buf, sizeof buf, CORO_FOREVER);
    /* The same socket, after the cancel: data sent later arrives. */
    r->second_rc = coro_recv(r->a, r->got, sizeof r->got - 1, 2000);
    return NULL;
}

static void *cancel_sleeper(void *arg)
{
    cancel_wait_run *r = arg;
    int64_t t0 = coro_now_ms();
    r->sleep_rc = coro_sleep(100000);
    r->slept_ms = coro_now_ms() - t0;
    return NULL;
}

static void *canceller(void *arg)
{
    cancel_wait_run *r = arg;
    r->l = coro_listen(ctx, "127.0.0.1", 0, 4);
    r->c = coro_connect(ctx, "127.0.0.1", coro_sock_port(r->l), 1000);
    r->a = coro_accept(r->l, 1000);
    r->reader = coro_spawn(cancel_reader, r, "reader");
    r->sleeper = coro_spawn(cancel_sleeper, r, "sleeper");
    coro_sleep(20);
    assert_int_equal(coro_cancel_wait(r->reader), 0);
    assert_int_equal(coro_cancel_wait(r->sleeper), 0);
    r->again_rc = coro_cancel_wait(r->sleeper); /* already woken */
    r->none_rc = coro_cancel_wait(coro_self()); /* running, not waiting */
    coro_sleep(20);
    coro_send_all(r->c, "late", 4, 1000);
    coro_sleep(20);
    coro_close(r->a);
    coro_close(r->c);
    coro_close(r->l);
    return NULL;
}

static void test_cancel_wait_keeps_the_socket(void **state)
{
    (void)state;
    cancel_wait_run r = {0};
    coro_spawn(canceller, &r, "canceller");
    assert_int_equal(coro_ctx_run(ctx), 0);
    assert_int_equal(r.first_rc, -ECANCELED);
    assert_int_equal(r.second_rc, 4);
    assert_string_equal(r.got, "late");
    assert_int_equal(r.sleep_rc, -ECANCELED);
    assert_true(r.slept_ms < 1000);
    assert_int_equal(r.again_rc, -ESRCH);
    assert_int_equal(r.none_rc, -ESRCH);
}

static void test_misuse_outside_coroutines(void **state)
{
    (void)state;
    assert_int_equal(coro_sleep(10), -EPERM);
    assert_null(coro_ctx_create(NULL)); /* one per thread */
    assert_int_equal(errno, EBUSY);
    assert_null(coro_listen(ctx, "not-an-address", 0, 1));
    assert_non_null(strstr(coro_last_error(), "not-an-address"));
}

/* ---- backpressure -------------------------------------------------------- */

#define HIGH  (256 * 1024)
#define TOTAL (32L * 1024 * 1024)

typedef struct pressure {
    coro_sock *l;
    size_t peak;
    long received;
    int rc;
} pressure;

static void *fast_writer(void *arg)
{
    pressure *p = arg;
    coro_sock *a = coro_accept(p->l, 5000);
    coro_writer w;
    coro_writer_init(&w, a, HIGH, HIGH / 4);
    char chunk[16384];
    memset(chunk, 'x', sizeof chunk);
    for (long sent = 0; sent < TOTAL; sent += (long)sizeof chunk)
        if ((p->rc = coro_writer_write(&w, chunk, sizeof chunk)) != 0) break;
    if (!p->rc) p->rc = coro_writer_flush(&w);
    p->peak = w.peak;
    coro_writer_fini(&w);
    coro_close(a);
    return NULL;
}

static void *slow_reader(void *arg)
{
    pressure *p = arg;
    coro_sock *s = coro_connect(ctx, "127.0.0.1", coro_sock_port(p->l), 5000);
    /* Read nothing for a while: the writer must stop at the high mark. */
    coro_sleep(200);
    char buf[16384]; /* well inside the 64 KiB stack */
    ssize_t n;
    while ((n = coro_recv(s, buf, sizeof buf, 5000)) > 0) p->received += n;
    coro_close(s);
    return NULL;
}

static void test_slow_reader_is_bounded_by_water_marks(void **state)
{
    (void)state;
    pressure p = {0};
    p.l = coro_listen(ctx, "127.0.0.1", 0, 4);
    coro_spawn(fast_writer, &p, "writer");
    coro_spawn(slow_reader, &p, "reader");
    coro_ctx_run(ctx);
    coro_close(p.l);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.received, TOTAL);
    /* Memory stayed bounded: never more than the high mark plus one write. */
    assert_true(p.peak <= HIGH + 16384);
}

/* ---- other threads ------------------------------------------------------ */

static int posted_runs;
static pthread_t poster;

static void on_post(void *arg)
{
    (void)arg;
    posted_runs++;
}

static void *post_from_thread(void *arg)
{
    coro_ctx *c = arg;
    for (int i = 0; i < 100; i++) coro_ctx_post(c, on_post, NULL);
    usleep(20000);
    coro_ctx_stop(c);
    return NULL;
}

static volatile int quit_forever;

static void *forever(void *arg)
{
    (void)arg;
    while (!quit_forever)
        if (coro_sleep(5) != 0) break;
    return NULL;
}

static void test_post_and_stop_from_another_thread(void **state)
{
    (void)state;
    posted_runs = 0;
    coro_spawn(forever, NULL, "forever"); /* without stop, run() would never return */
    pthread_create(&poster, NULL, post_from_thread, ctx);
    assert_int_equal(coro_ctx_run(ctx), 0);
    pthread_join(poster, NULL);
    assert_int_equal(posted_runs, 100);
    /* Let the sleeper finish so nothing is left suspended. */
    quit_forever = 1;
    assert_int_equal(coro_ctx_run(ctx), 0);
}

static void test_stop_before_run_is_kept(void **state)
{
    (void)state;
    quit_forever = 0;
    coro_spawn(forever, NULL, "forever");
    /* As another thread might: the stop arrives before run() starts. */
    coro_ctx_stop(ctx);
    assert_int_equal(coro_ctx_run(ctx), 0); /* returns instead of looping forever */
    quit_forever = 1;
    assert_int_equal(coro_ctx_run(ctx), 0); /* the stop was consumed */
}

static int other_thread_rc;

static void *run_elsewhere(void *arg)
{
    other_thread_rc = coro_ctx_run(arg);
    return NULL;
}

static void test_run_on_another_thread_is_refused(void **state)
{
    (void)state;
    /* A context belongs to its thread: each thread runs its own. */
    pthread_t th;
    pthread_create(&th, NULL, run_elsewhere, ctx);
    pthread_join(th, NULL);
    assert_int_equal(other_thread_rc, -EPERM);
}

/* The threads rule's other half: one context per thread, each serving its
 * own connections at the same time, without sharing anything. */
typedef struct thread_run {
    echo_run echo;
    int index, run_rc;
    bool created;
} thread_run;

static void *loop_thread(void *arg)
{
    thread_run *t = arg;
    ctx = coro_ctx_create("loop#%d", t->index);
    if (!ctx) return NULL;
    t->created = true;
    t->echo.listener = coro_listen(ctx, "127.0.0.1", 0, 256);
    if (t->echo.listener) {
        t->echo.port = coro_sock_port(t->echo.listener);
        coro_spawn(acceptor, &t->echo, "acceptor");
        for (long c = 0; c < t->echo.conns; c++) coro_spawn(checker, &t->echo, "client#%ld", c);
        t->run_rc = coro_ctx_run(ctx);
        coro_close(t->echo.listener);
    }
    coro_ctx_destroy(ctx);
    return NULL;
}

static void test_one_context_per_thread(void **state)
{
    (void)state;
    thread_run t[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        t[i] = (thread_run){.index = i + 1, .run_rc = -1};
        t[i].echo = (echo_run){.host = "127.0.0.1", .conns = 40, .msgs = 20, .size = 700};
        pthread_create(&th[i], NULL, loop_thread, &t[i]);
    }
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        assert_true(t[i].created);
        assert_int_equal(t[i].run_rc, 0);
        assert_int_equal(t[i].echo.failures, 0);
        assert_int_equal(t[i].echo.verified, 40 * 20);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contexts_get_the_backend_asked_for),
        cmocka_unit_test_setup_teardown(test_echo_ipv4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_unix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_2000_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_reset_ends_only_that_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_to_closed_peer_is_epipe_not_sigpipe, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_timers_fire_within_tolerance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_and_send_deadlines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_cancels_and_double_wait_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cancel_wait_keeps_the_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misuse_outside_coroutines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_reader_is_bounded_by_water_marks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_post_and_stop_from_another_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_before_run_is_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_on_another_thread_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_context_per_thread, setup, teardown),
    };
    return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}
