/*
 * test_io_world.c - the io_context against the world outside: running out
 * of descriptors, a client we did not write (socat), and the causality a
 * learner reads in the trace (epoll_wait -> dispatch -> resume), checked
 * from the JSON.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "coro/coro.h"
#include "coro/io.h"

#include "../lib/backend_asked.h"
#include "coro/trace.h"

/* ---- EMFILE: no spinning, and serving again once descriptors free up ---- */

typedef struct emfile_run {
    coro_ctx *ctx;
    coro_sock *l;
    int emfiles, accepted;
    int hog[64];
    int nhog;
} emfile_run;

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void *emfile_acceptor(void *arg)
{
    emfile_run *r = arg;
    while (r->accepted < 1) {
        coro_sock *c = coro_accept(r->l, 3000);
        if (c) {
            r->accepted++;
            coro_close(c);
            break;
        }
        if (errno == EMFILE || errno == ENFILE) {
            r->emfiles++;
            /* The first time, free the descriptors: the next client gets in. */
            if (r->emfiles == 3)
                while (r->nhog) close(r->hog[--r->nhog]);
            coro_sleep(20);
            continue;
        }
        break;
    }
    return NULL;
}

/* A client in another process: connects every 30 ms until one is served. */
static pid_t clients(int port)
{
    pid_t pid = fork();
    if (pid == 0) {
        char p[16];
        snprintf(p, sizeof p, "%d", port);
        for (int i = 0; i < 40; i++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
            a.sin_addr.s_addr = htonl(0x7f000001);
            if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
                char b;
                /* served: the server closes; refused: a reset */
                ssize_t n = recv(fd, &b, 1, 0);
                (void)n;
            }
            close(fd);
            usleep(30000);
        }
        _exit(0);
    }
    return pid;
}

static void test_accept_under_emfile_recovers_without_spinning(void **state)
{
    (void)state;
    emfile_run r = {0};
    r.ctx = coro_ctx_create("emfile-loop");
    r.l = coro_listen(r.ctx, "127.0.0.1", 0, 16);
    assert_non_null(r.l);
    /* The client process first, before this one runs out of descriptors. */
    pid_t pid = clients(coro_sock_port(r.l));
    struct rlimit old, low;
    getrlimit(RLIMIT_NOFILE, &old);
    /* Use up every descriptor under a low limit. */
    low = old;
    low.rlim_cur = 64;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fd;
    while (r.nhog < 64 && (fd = dup(0)) >= 0) r.hog[r.nhog++] = fd;
    coro_spawn(emfile_acceptor, &r, "acceptor");
    double cpu0 = cpu_seconds();
    struct timeval t0, t1;
    gettimeofday(&t0, NULL);
    coro_ctx_run(r.ctx);
    gettimeofday(&t1, NULL);
    double cpu = cpu_seconds() - cpu0;
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_usec - t0.tv_usec) / 1e6;
    while (r.nhog) close(r.hog[--r.nhog]);
    setrlimit(RLIMIT_NOFILE, &old);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    coro_close(r.l);
    coro_ctx_destroy(r.ctx);
    assert_true(r.emfiles >= 3);
    assert_int_equal(r.accepted, 1); /* served once descriptors were free */
    /* Waiting, not spinning: well under half a core while it waited. */
    assert_true(cpu < wall * 0.5 + 0.02);
}

/* ---- socat, a client we did not write -------------------------------- */

static int server_port;
static coro_ctx *server_ctx;

static void *one_echo(void *arg)
{
    coro_sock *l = arg;
    coro_sock *c = coro_accept(l, 10000);
    if (c) {
        char buf[256];
        ssize_t n;
        while ((n = coro_recv(c, buf, sizeof buf, 10000)) > 0)
            coro_send_all(c, buf, (size_t)n, 10000);
        coro_close(c);
    }
    coro_close(l);
    return NULL;
}

static void *server_thread(void *arg)
{
    (void)arg;
    server_ctx = coro_ctx_create("server-loop");
    coro_sock *l = coro_listen(server_ctx, "127.0.0.1", 0, 4);
    /* Published to the test thread, which polls it. */
    __atomic_store_n(&server_port, coro_sock_port(l), __ATOMIC_SEQ_CST);
    coro_spawn(one_echo, l, "echo");
    coro_ctx_run(server_ctx);
    coro_ctx_destroy(server_ctx);
    return NULL;
}

static void test_socat_talks_to_our_server(void **state)
{
    (void)state;
    if (system("command -v socat > /dev/null 2>&1") != 0) skip();
    server_port = 0;
    pthread_t th;
    pthread_create(&th, NULL, server_thread, NULL);
    for (int i = 0; i < 200 && !__atomic_load_n(&server_port, __ATOMIC_SEQ_CST); i++) usleep(5000);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "printf 'hello from socat\\n' | socat -t 2 - TCP:127.0.0.1:%d",
             __atomic_load_n(&server_port, __ATOMIC_SEQ_CST));
    FILE *p = popen(cmd, "r");
    char out[128] = {0};
    size_t n = fread(out, 1, sizeof out - 1, p);
    int st = pclose(p);
    pthread_join(th, NULL);
    assert_int_equal(st, 0);
    assert_true(n > 0);
    assert_string_equal(out, "hello from socat\n");
}

/* ---- the trace shows why a coroutine runs ------------------------------- */

static void *traced_server(void *arg)
{
    coro_sock *l = arg;
    coro_sock *c = coro_accept(l, 5000);
    char buf[64];
    ssize_t n = coro_recv(c, buf, sizeof buf, 5000);
    if (n > 0) coro_send_all(c, buf, (size_t)n, 5000);
    coro_close(c);
    return NULL;
}

static void *traced_client(void *arg)
{
    coro_sock *l = arg;
    coro_sock *s = coro_connect(coro_ctx_current(), "127.0.0.1", coro_sock_port(l), 5000);
    coro_sleep(10); /* so the server is surely waiting in recv when data comes */
    coro_send_all(s, "ping", 4, 5000);
    char buf[8];
    coro_recv(s, buf, sizeof buf, 5000);
    coro_close(s);
    return NULL;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* On io_uring the same story is told by completions: echo#1 submits recv
 * fd F as op N; op N completes with the bytes; echo#1 resumes with cause
 * "complete", op N, fd F, and the byte count as value. */
static void uring_causality(const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    double op = -1, fd = -1, bytes = -1;
    int found = 0;
    while (getline(&line, &cap, f) > 0 && !found) {
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        const char *kind = str(o, "kind");
        bool echo = !strcmp(str(o, "co_name"), "echo#1");
        if (!strcmp(kind, "submit") && echo && !strcmp(str(o, "detail"), "recv")) {
            op = num(o, "wait");
            fd = num(o, "fd");
            assert_true(strstr(str(o, "obj_name"), "conn[127.0.0.1:") != NULL);
        }
        if (!strcmp(kind, "complete") && echo && num(o, "wait") == op && num(o, "value") > 0)
            bytes = num(o, "value");
        if (!strcmp(kind, "resume") && echo && bytes > 0 && !strcmp(str(o, "cause"), "complete") &&
            num(o, "wait") == op && num(o, "fd") == fd && num(o, "value") == bytes)
            found = 1;
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    unlink(path);
    assert_true(op > 0);
    assert_true(bytes > 0);
    assert_true(found);
}

static void test_trace_shows_dispatch_to_resume_causality(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/coroscope-io-trace-%d.jsonl", (int)getpid());
    assert_int_equal(coro_trace_open(path), 0);
    coro_ctx *ctx = coro_ctx_create("traced-loop");
    bool uring = !strcmp(coro_ctx_backend(ctx), "io_uring");
    coro_sock *l = coro_listen(ctx, "127.0.0.1", 0, 4);
    coro_spawn(traced_server, l, "echo#1");
    coro_spawn(traced_client, l, "client");
    coro_ctx_run(ctx);
    coro_close(l);
    coro_ctx_destroy(ctx);
    coro_trace_close();

    if (uring) {
        uring_causality(path);
        return;
    }
    /* Find: epoll_wait #N with >= 1 ready; then epoll_dispatch in wait N of
     * fd F to echo#1; then a resume of echo#1 with cause io, fd F, wait N. */
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    double ready_wait = -1, disp_wait = -1, disp_fd = -1;
    int found = 0, recv_suspends = 0;
    while (getline(&line, &cap, f) > 0 && !found) {
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        const char *kind = str(o, "kind");
        if (!strcmp(kind, "epoll_wait") && num(o, "nready") >= 1) ready_wait = num(o, "wait");
        if (!strcmp(kind, "suspend") && !strcmp(str(o, "co_name"), "echo#1") &&
            strstr(str(o, "detail"), "recv fd="))
            recv_suspends++;
        if (!strcmp(kind, "epoll_dispatch") && !strcmp(str(o, "co_name"), "echo#1") &&
            num(o, "wait") == ready_wait && recv_suspends) {
            disp_wait = num(o, "wait");
            disp_fd = num(o, "fd");
            assert_true(strstr(str(o, "obj_name"), "conn[127.0.0.1:") != NULL);
        }
        if (!strcmp(kind, "resume") && disp_wait > 0 && !strcmp(str(o, "co_name"), "echo#1") &&
            !strcmp(str(o, "cause"), "io") && num(o, "wait") == disp_wait &&
            num(o, "fd") == disp_fd)
            found = 1;
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    unlink(path);
    assert_true(recv_suspends >= 1);
    assert_true(disp_wait > 0);
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contexts_get_the_backend_asked_for),
        cmocka_unit_test(test_accept_under_emfile_recovers_without_spinning),
        cmocka_unit_test(test_socat_talks_to_our_server),
        cmocka_unit_test(test_trace_shows_dispatch_to_resume_causality),
    };
    return cmocka_run_group_tests_name("io_world", tests, NULL, NULL);
}
