/*
 * test_wait.c - the one wait, seen from the io side: a raw fd that is still
 * ready does not wait, destroying a context cancels its waits and closes
 * its sockets, destroying it while its loop runs is refused, a socket wait
 * carries its fd in the trace and a timed-out recv shows -ETIMEDOUT, and the
 * wait path formats no text while nothing records (snprintf is wrapped at
 * link time and counted).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "coro/coro.h"
#include "coro/io.h"

#include "../lib/backend_asked.h"
#include "coro/sync.h"
#include "coro/trace.h"

/* ---- counting the runtime's formatting (-Wl,--wrap=...) ----------------- */

static long formats;
int __real_vsnprintf(char *s, size_t n, const char *fmt, va_list ap);
int __real___vsnprintf_chk(char *s, size_t n, int flag, size_t slen, const char *fmt, va_list ap);

int __wrap_vsnprintf(char *s, size_t n, const char *fmt, va_list ap)
{
    formats++;
    return __real_vsnprintf(s, n, fmt, ap);
}
int __wrap_snprintf(char *s, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __wrap_vsnprintf(s, n, fmt, ap);
    va_end(ap);
    return r;
}
int __wrap___vsnprintf_chk(char *s, size_t n, int flag, size_t slen, const char *fmt, va_list ap)
{
    formats++;
    return __real___vsnprintf_chk(s, n, flag, slen, fmt, ap);
}
int __wrap___snprintf_chk(char *s, size_t n, int flag, size_t slen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __wrap___vsnprintf_chk(s, n, flag, slen, fmt, ap);
    va_end(ap);
    return r;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

/* ---- coro_wait_fd on an fd that is still readable ----------------------- */

typedef struct pipe_run {
    int rd;
    int first, second, third;
    char got[2];
    int64_t waited_ms;
} pipe_run;

static void *pipe_reader(void *arg)
{
    pipe_run *r = arg;
    r->first = coro_wait_fd(r->rd, CORO_WAIT_READ, 1000);
    if (read(r->rd, &r->got[0], 1) != 1) return NULL;
    /* One byte is still in the pipe: this wait must end at once. */
    int64_t t0 = coro_now_ms();
    r->second = coro_wait_fd(r->rd, CORO_WAIT_READ, 1000);
    r->waited_ms = coro_now_ms() - t0;
    if (read(r->rd, &r->got[1], 1) != 1) return NULL;
    r->third = coro_wait_fd(r->rd, CORO_WAIT_READ, 30); /* empty now: times out */
    coro_fd_forget(r->rd);
    return NULL;
}

static void test_wait_fd_returns_while_ready(void **state)
{
    (void)state;
    int fds_before = count_fds();
    coro_ctx *ctx = coro_ctx_create("pipe-loop");
    assert_non_null(ctx);
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    assert_int_equal(write(p[1], "ab", 2), 2);
    pipe_run r = {.rd = p[0], .first = 1, .second = 1, .third = 1};
    coro_spawn(pipe_reader, &r, "reader");
    assert_int_equal(coro_ctx_run(ctx), 0);
    assert_int_equal(r.first, 0);
    assert_int_equal(r.second, 0);
    assert_true(r.waited_ms < 500);
    assert_memory_equal(r.got, "ab", 2);
    assert_int_equal(r.third, -ETIMEDOUT);
    close(p[0]);
    close(p[1]);
    assert_int_equal(coro_ctx_destroy(ctx), 0);
    assert_int_equal(count_fds(), fds_before);
}

/* ---- destroying a context ------------------------------------------------ */

typedef struct teardown_run {
    coro_ctx *ctx;
    coro_sock *l;
    int accept_errno, sleep_rc, fd_rc, later_rc;
    bool accept_returned;
    int destroy_rc;
} teardown_run;

static void *td_acceptor(void *arg)
{
    teardown_run *r = arg;
    coro_sock *c = coro_accept(r->l, CORO_FOREVER);
    r->accept_returned = true;
    r->accept_errno = c ? 0 : errno;
    return NULL;
}

static void *td_sleeper(void *arg)
{
    teardown_run *r = arg;
    r->sleep_rc = coro_sleep(100000);
    /* The context is going away: a new wait is refused at once. */
    r->later_rc = coro_sleep(1);
    return NULL;
}

static void *td_fd_waiter(void *arg)
{
    teardown_run *r = arg;
    int p[2];
    if (pipe2(p, O_NONBLOCK) != 0) return NULL;
    r->fd_rc = coro_wait_fd(p[0], CORO_WAIT_READ, CORO_FOREVER);
    coro_fd_forget(p[0]);
    close(p[0]);
    close(p[1]);
    return NULL;
}

static void *td_stopper(void *arg)
{
    teardown_run *r = arg;
    coro_sleep(30);
    r->destroy_rc = coro_ctx_destroy(r->ctx); /* from inside its running loop */
    coro_ctx_stop(r->ctx);
    return NULL;
}

static void test_destroy_cancels_waits_and_closes_sockets(void **state)
{
    (void)state;
    int fds_before = count_fds();
    teardown_run r = {.accept_errno = -1, .sleep_rc = 1, .fd_rc = 1, .later_rc = 1};
    r.ctx = coro_ctx_create("doomed");
    assert_non_null(r.ctx);
    r.l = coro_listen(r.ctx, "127.0.0.1", 0, 16); /* never closed by the program */
    assert_non_null(r.l);
    coro_spawn(td_acceptor, &r, "acceptor");
    coro_spawn(td_sleeper, &r, "sleeper");
    coro_spawn(td_fd_waiter, &r, "fd-waiter");
    coro_spawn(td_stopper, &r, "stopper");
    assert_int_equal(coro_ctx_run(r.ctx), 0);
    assert_int_equal(r.destroy_rc, -EBUSY);
    assert_false(r.accept_returned);
    assert_int_equal(coro_ctx_destroy(r.ctx), 0);
    assert_true(r.accept_returned);
    assert_int_equal(r.accept_errno, ECANCELED);
    assert_int_equal(r.sleep_rc, -ECANCELED);
    assert_int_equal(r.later_rc, -ECANCELED);
    assert_int_equal(r.fd_rc, -ECANCELED);
    assert_null(coro_ctx_current());
    /* The listener's descriptor went with the context (and, under valgrind,
     * its record: nothing is lost). */
    assert_int_equal(count_fds(), fds_before);
}

/* ---- cancelling any wait ----------------------------------------------- */

typedef struct cancel_run {
    coro_t *sleeper, *locker;
    coro_mutex m;
    int sleep_rc, lock_rc, unlock_rc;
} cancel_run;

static void *cr_sleeper(void *arg)
{
    cancel_run *r = arg;
    r->sleep_rc = coro_sleep(100000);
    return NULL;
}

static void *cr_locker(void *arg)
{
    cancel_run *r = arg;
    r->lock_rc = coro_mutex_lock(&r->m);
    return NULL;
}

static void *cr_canceller(void *arg)
{
    cancel_run *r = arg;
    coro_mutex_lock(&r->m);
    r->sleeper = coro_spawn(cr_sleeper, r, "sleeper");
    r->locker = coro_spawn(cr_locker, r, "locker");
    coro_sleep(10);
    assert_int_equal(coro_cancel_wait(r->sleeper), 0);
    assert_int_equal(coro_cancel_wait(r->locker), 0);
    assert_int_equal(coro_cancel_wait(r->locker), -ESRCH);
    coro_sleep(10);
    r->unlock_rc = coro_mutex_unlock(&r->m);
    return NULL;
}

static void test_cancel_ends_io_and_sync_waits(void **state)
{
    (void)state;
    coro_ctx *ctx = coro_ctx_create("cancel-loop");
    cancel_run r = {.sleep_rc = 1, .lock_rc = 1, .unlock_rc = 1};
    coro_mutex_init(&r.m, "mutex[m]");
    coro_spawn(cr_canceller, &r, "canceller");
    assert_int_equal(coro_ctx_run(ctx), 0);
    assert_int_equal(r.sleep_rc, -ECANCELED);
    assert_int_equal(r.lock_rc, -ECANCELED);
    assert_int_equal(r.unlock_rc, 0);
    /* The cancelled locker is not the owner, nor still queued. */
    assert_int_equal(coro_mutex_destroy(&r.m), 0);
    assert_int_equal(coro_ctx_destroy(ctx), 0);
}

/* ---- the trace of a wait: fd on the suspend, the result on the wake ------ */

typedef struct timeout_run {
    coro_ctx *ctx;
    coro_sock *l;
    ssize_t rc;
} timeout_run;

static void *quiet_client(void *arg)
{
    timeout_run *r = arg;
    coro_sock *s = coro_connect(r->ctx, "127.0.0.1", coro_sock_port(r->l), 1000);
    if (!s) return NULL;
    char b;
    r->rc = coro_recv(s, &b, 1, 20); /* nobody sends: times out */
    coro_close(s);
    return NULL;
}

static void *quiet_server(void *arg)
{
    timeout_run *r = arg;
    coro_sock *c = coro_accept(r->l, 1000);
    coro_sleep(100);
    if (c) coro_close(c);
    return NULL;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_trace_has_fd_and_timeout_result(void **state)
{
    (void)state;
    char jpath[] = "/tmp/coro-test-wait-XXXXXX";
    int jfd = mkstemp(jpath);
    assert_true(jfd >= 0);
    close(jfd);
    char lpath[] = "/tmp/coro-test-wait-log-XXXXXX";
    int lfd = mkstemp(lpath);
    assert_true(lfd >= 0);
    close(lfd);
    assert_int_equal(coro_trace_open(jpath), 0);
    assert_int_equal(coro_log_open(lpath), 0);
    timeout_run r = {.rc = 1};
    r.ctx = coro_ctx_create("trace-loop");
    r.l = coro_listen(r.ctx, "127.0.0.1", 0, 16);
    assert_non_null(r.l);
    coro_spawn(quiet_server, &r, "server");
    coro_spawn(quiet_client, &r, "client");
    assert_int_equal(coro_ctx_run(r.ctx), 0);
    assert_int_equal(coro_ctx_destroy(r.ctx), 0);
    coro_trace_close();
    assert_int_equal(r.rc, -ETIMEDOUT);

    bool fd_on_suspend = false, result_on_wake = false;
    FILE *f = fopen(jpath, "r");
    assert_non_null(f);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        cJSON *ev = cJSON_Parse(line);
        if (!ev) continue;
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "kind"));
        const char *detail = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "detail"));
        const char *co = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "co_name"));
        cJSON *fd = cJSON_GetObjectItem(ev, "fd");
        cJSON *value = cJSON_GetObjectItem(ev, "value");
        if (kind && co && !strcmp(kind, "suspend") && !strcmp(co, "client") && detail &&
            !strncmp(detail, "recv fd=", 8) && cJSON_IsNumber(fd) &&
            fd->valueint == atoi(detail + 8))
            fd_on_suspend = true;
        if (kind && co && !strcmp(kind, "wake") && !strcmp(co, "client") && cJSON_IsNumber(value) &&
            value->valueint == -ETIMEDOUT && detail && !strcmp(detail, "result -ETIMEDOUT"))
            result_on_wake = true;
        cJSON_Delete(ev);
    }
    fclose(f);
    assert_true(fd_on_suspend);
    assert_true(result_on_wake);
    const char *log = slurp(lpath);
    assert_non_null(log);
    assert_non_null(strstr(log, "client is ready   cause: timer fired"));
    assert_non_null(strstr(log, "(result -ETIMEDOUT)"));
    unlink(jpath);
    unlink(lpath);
}

/* ---- no formatting on the wait path while nothing records ---------------- */

typedef struct quiet_run {
    coro_ctx *ctx;
    coro_sock *l;
    coro_chan *ping, *pong;
    long rounds;
    long formats_seen;
    bool counting;
    long echoed, passed;
    bool accepted;
} quiet_run;

static void *q_echo(void *arg)
{
    quiet_run *r = arg;
    coro_sock *c = coro_accept(r->l, 1000);
    if (!c) return NULL;
    r->accepted = true;
    char b;
    while (coro_recv(c, &b, 1, 1000) == 1)
        if (coro_send(c, &b, 1, 1000) != 1) break;
    coro_close(c);
    return NULL;
}

static void *q_client(void *arg)
{
    quiet_run *r = arg;
    coro_sock *s = coro_connect(r->ctx, "127.0.0.1", coro_sock_port(r->l), 1000);
    if (!s) return NULL;
    char b0 = 'x';
    /* One round first: the accept names the connection (formatting once). */
    if (coro_send(s, &b0, 1, 1000) != 1 || coro_recv(s, &b0, 1, 1000) != 1) return NULL;
    long f0 = formats;
    for (long i = 0; i < r->rounds; i++) {
        char b = (char)i, got = 0;
        if (coro_send(s, &b, 1, 1000) != 1 || coro_recv(s, &got, 1, 1000) != 1 || got != b) break;
        r->echoed++;
    }
    r->formats_seen += formats - f0;
    coro_close(s);
    return NULL;
}

static void *q_ponger(void *arg)
{
    quiet_run *r = arg;
    long v;
    while (coro_chan_recv(r->ping, &v) == 0) coro_chan_send(r->pong, &v);
    return NULL;
}

static void *q_pinger(void *arg)
{
    quiet_run *r = arg;
    while (!r->accepted) coro_sleep(1); /* the accept names its connection: not counted */
    long f0 = formats;
    for (long i = 0; i < r->rounds; i++) {
        long v = 0;
        coro_chan_send(r->ping, &i);
        if (coro_chan_recv(r->pong, &v) != 0 || v != i) break;
        r->passed++;
    }
    r->formats_seen += formats - f0;
    coro_chan_close(r->ping);
    return NULL;
}

static void test_wait_path_formats_nothing_untraced(void **state)
{
    (void)state;
    assert_int_equal(coro_trace_active, 0);
    quiet_run r = {.rounds = 200};
    r.ctx = coro_ctx_create("quiet");
    r.l = coro_listen(r.ctx, "127.0.0.1", 0, 16);
    r.ping = coro_chan_create(sizeof(long), 0, "chan[ping]");
    r.pong = coro_chan_create(sizeof(long), 0, "chan[pong]");
    coro_spawn(q_echo, &r, "echo");
    coro_spawn(q_client, &r, "client");
    coro_spawn(q_ponger, &r, "ponger");
    coro_spawn(q_pinger, &r, "pinger");
    assert_int_equal(coro_ctx_run(r.ctx), 0);
    assert_int_equal(r.echoed, r.rounds);
    assert_int_equal(r.passed, r.rounds);
    assert_int_equal(r.formats_seen, 0);
    coro_chan_destroy(r.ping);
    coro_chan_destroy(r.pong);
    assert_int_equal(coro_ctx_destroy(r.ctx), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contexts_get_the_backend_asked_for),
        cmocka_unit_test(test_wait_fd_returns_while_ready),
        cmocka_unit_test(test_destroy_cancels_waits_and_closes_sockets),
        cmocka_unit_test(test_cancel_ends_io_and_sync_waits),
        cmocka_unit_test(test_wait_path_formats_nothing_untraced),
        cmocka_unit_test(test_trace_has_fd_and_timeout_result),
    };
    return cmocka_run_group_tests_name("wait", tests, NULL, NULL);
}
