/*
 * backend_asked.h - for the io tests that ctest runs twice, once as is and
 * once with CORO_IO_BACKEND=io_uring (the `_uring` tests). A kernel that
 * refuses io_uring makes a context fall back to epoll with one line on
 * stderr and nothing else: the `_uring` run would then test epoll twice and
 * pass. This check makes it fail instead. Include after <cmocka.h> and
 * "coro/io.h".
 */
#ifndef CORO_TEST_BACKEND_ASKED_H
#define CORO_TEST_BACKEND_ASKED_H

#include <stdio.h>
#include <stdlib.h>

/* The backend a context created with the default options must get. */
static const char *backend_asked(void)
{
    const char *env = getenv("CORO_IO_BACKEND");
    return env && *env ? env : "epoll";
}

static void test_contexts_get_the_backend_asked_for(void **state)
{
    (void)state;
    coro_ctx *c = coro_ctx_create("backend-check");
    assert_non_null(c);
    /* Destroyed before the verdict: a thread has one context at a time, and
     * a failed assertion leaves the test at once. */
    char got[16];
    snprintf(got, sizeof got, "%s", coro_ctx_backend(c));
    assert_int_equal(coro_ctx_destroy(c), 0);
    assert_string_equal(got, backend_asked());
}

#endif
