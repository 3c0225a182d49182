/*
 * test_backend.c - the io_context's backends: options and the environment
 * choose epoll or io_uring; a kernel that refuses io_uring (here: a seccomp
 * filter making io_uring_setup fail with EPERM, as a container runtime's
 * does) gives an epoll context that works, and one message saying why.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "coro/coro.h"
#include "coro/io.h"

#include "../lib/backend_asked.h"

static const char *backend_of(coro_io_backend b)
{
    coro_ctx_options o = {.backend = b};
    coro_ctx *c = coro_ctx_create_opts(&o, "ctx");
    assert_non_null(c);
    static char name[16];
    snprintf(name, sizeof name, "%s", coro_ctx_backend(c));
    assert_int_equal(coro_ctx_destroy(c), 0);
    return name;
}

static void test_options_and_environment_choose(void **state)
{
    (void)state;
    /* Put back what ctest set: the tests after this one run on it. */
    char *was = getenv("CORO_IO_BACKEND") ? strdup(getenv("CORO_IO_BACKEND")) : NULL;
    assert_string_equal(backend_of(CORO_IO_EPOLL), "epoll");
#if CORO_HAVE_URING
    assert_string_equal(backend_of(CORO_IO_URING), "io_uring");
    setenv("CORO_IO_BACKEND", "io_uring", 1);
    assert_string_equal(backend_of(CORO_IO_DEFAULT), "io_uring");
#endif
    setenv("CORO_IO_BACKEND", "epoll", 1);
    assert_string_equal(backend_of(CORO_IO_DEFAULT), "epoll");
    unsetenv("CORO_IO_BACKEND");
    assert_string_equal(backend_of(CORO_IO_DEFAULT), "epoll");
    if (was) setenv("CORO_IO_BACKEND", was, 1);
    free(was);
    assert_string_equal(backend_of(CORO_IO_DEFAULT), backend_asked());
}

/* One echo through the context, to show the fallback context works. */
static int client_ok;

static void *echo_once(void *arg)
{
    coro_sock *l = arg;
    coro_sock *s = coro_accept(l, 2000);
    char buf[8];
    ssize_t n = s ? coro_recv(s, buf, sizeof buf, 2000) : -1;
    if (n > 0) coro_send_all(s, buf, (size_t)n, 2000);
    if (s) coro_close(s);
    return NULL;
}

static void *client_once(void *arg)
{
    coro_sock *l = arg;
    coro_sock *s = coro_connect(coro_ctx_current(), "127.0.0.1", coro_sock_port(l), 2000);
    char buf[8] = {0};
    if (s && coro_send_all(s, "ping", 4, 2000) == 4 && coro_recv(s, buf, sizeof buf, 2000) == 4 &&
        !memcmp(buf, "ping", 4))
        client_ok = 1;
    if (s) coro_close(s);
    return NULL;
}

static int refuse_io_uring(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof *f, .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void test_refused_io_uring_falls_back_to_epoll(void **state)
{
    (void)state;
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        if (refuse_io_uring()) _exit(3);
        coro_ctx_options o = {.backend = CORO_IO_URING};
        coro_ctx *c = coro_ctx_create_opts(&o, "refused");
        if (!c || strcmp(coro_ctx_backend(c), "epoll")) _exit(4);
        coro_sock *l = coro_listen(c, "127.0.0.1", 0, 4);
        coro_spawn(echo_once, l, "echo");
        coro_spawn(client_once, l, "client");
        coro_ctx_run(c);
        coro_close(l);
        coro_ctx_destroy(c);
        _exit(client_ok ? 0 : 5);
    }
    close(pipefd[1]);
    char err[1024] = {0};
    size_t got = 0;
    ssize_t n;
    while ((n = read(pipefd[0], err + got, sizeof err - 1 - got)) > 0) got += (size_t)n;
    close(pipefd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
#if CORO_HAVE_URING
    assert_non_null(strstr(err, "io_uring is not available"));
    assert_non_null(strstr(err, "Operation not permitted"));
    assert_non_null(strstr(err, "epoll instead"));
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contexts_get_the_backend_asked_for),
        cmocka_unit_test(test_options_and_environment_choose),
        cmocka_unit_test(test_refused_io_uring_falls_back_to_epoll),
    };
    return cmocka_run_group_tests_name("io_backend", tests, NULL, NULL);
}
