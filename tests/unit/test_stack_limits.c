/*
 * test_stack_limits.c - what happens at the edges of stack memory:
 * a guard-page hit names the coroutine (death test in a child process), and
 * running out of kernel memory mappings says so and names the remedies.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "coro/coro.h"

static volatile int depth_limit = 1 << 30; /* never reached: the stack ends first */

static __attribute__((noinline)) int recurse(int n)
{
    volatile char frame[256];
    frame[0] = (char)n;
    if (n >= depth_limit) return frame[0];
    return recurse(n + 1) + frame[0];
}

static void *overflow(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)recurse(0);
}

/* Run fn in a child process with stderr captured; returns the wait status. */
static int run_child(void (*fn)(void), char *err, size_t cap)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], err + len, cap - 1 - len)) > 0) len += (size_t)r;
    err[len] = 0;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void overflow_in_child(void)
{
    coro_t *co = coro_create(overflow, NULL, "deep-recursion");
    coro_resume(co);
}

static void test_overflow_names_the_coroutine(void **state)
{
    (void)state;
    char err[4096];
    int status = run_child(overflow_in_child, err, sizeof err);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(err, "stack overflow in coroutine 'deep-recursion'"));
    assert_non_null(strstr(err, "its stack is 65536 bytes"));
    assert_non_null(strstr(err, "fault at 0x"));
}

/* One frame bigger than the whole stack: without stack-clash probing the
 * stack pointer would jump over the guard page into other memory. */
static __attribute__((noinline)) int big_frame(void)
{
    volatile char big[128 * 1024];
    big[0] = 1;
    return big[0];
}

static void *big_frame_body(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)big_frame();
}

static void big_frame_in_child(void)
{
    coro_t *co = coro_create(big_frame_body, NULL, "big-frame");
    coro_resume(co);
}

static void test_big_frame_hits_the_guard(void **state)
{
    (void)state;
    char err[4096];
    int status = run_child(big_frame_in_child, err, sizeof err);
    assert_true(WIFSIGNALED(status));
    assert_non_null(strstr(err, "stack overflow in coroutine 'big-frame'"));
}

static void *noop(void *arg)
{
    return arg;
}

static void test_out_of_mappings_names_the_limit(void **state)
{
    (void)state;
#if defined(__SANITIZE_THREAD__)
    skip(); /* ThreadSanitizer needs mappings of its own and dies without them */
#endif
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    long limit = 0;
    if (!f || fscanf(f, "%ld", &limit) != 1 || limit > 1000000) {
        if (f) fclose(f);
        skip(); /* a raised limit would take too long to exhaust */
    }
    fclose(f);
    coro_set_stack_pool_limit(0);
    size_t cap = (size_t)limit;
    coro_t **all = calloc(cap, sizeof *all);
    assert_non_null(all);
    coro_attr attr = {.stack_size = 16 * 1024};
    size_t n = 0;
    while (n < cap && (all[n] = coro_create_ex(&attr, noop, NULL, "c%zu", n))) n++;
    int err = errno;
    assert_true(n < cap);
    assert_true(n > 1000);
    assert_int_equal(err, ENOMEM);
    const char *msg = coro_last_error();
    assert_non_null(strstr(msg, "vm.max_map_count"));
    assert_non_null(strstr(msg, "Remedies"));
    /* and the stack modes that need no mapping per coroutine */
    assert_non_null(strstr(msg, "CORO_STACK_SLAB"));
    assert_non_null(strstr(msg, "CORO_STACK_COPY"));
    for (size_t i = 0; i < n; i++) coro_destroy(all[i]);
    free(all);
    /* After freeing, creation works again. */
    coro_t *c = coro_create(noop, NULL, "after");
    assert_non_null(c);
    coro_destroy(c);
    coro_set_stack_pool_limit(64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overflow_names_the_coroutine),
        cmocka_unit_test(test_big_frame_hits_the_guard),
        cmocka_unit_test(test_out_of_mappings_names_the_limit),
    };
    return cmocka_run_group_tests_name("stack_limits", tests, NULL, NULL);
}
