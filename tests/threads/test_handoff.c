/*
 * test_handoff.c - handing a coroutine from one thread's context to
 * another's: it continues on the other thread with its errno, traced.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "coro/coro.h"
#include "coro/io.h"

static coro_ctx *_Atomic other_ctx;
static atomic_bool finished;
static pthread_t first_thread, second_thread;
static atomic_int errno_seen;

/* The test is linked with --wrap=malloc: a send whose post cannot be
 * allocated fails, and must leave the coroutine as it was. */
void *__real_malloc(size_t n);
static _Thread_local int fail_mallocs;
void *__wrap_malloc(size_t n)
{
    if (fail_mallocs > 0) {
        fail_mallocs--;
        errno = ENOMEM;
        return NULL;
    }
    return __real_malloc(n);
}

static __attribute__((noipa)) int read_errno(void)
{
    return errno;
}
static __attribute__((noipa)) void set_errno(int v)
{
    errno = v;
}

/* pthread_self() is declared const too: called twice in one function, the
 * compiler may call it once, before the move (the -O2 asan build did). */
static __attribute__((noipa)) pthread_t which_thread(void)
{
    return pthread_self();
}

static void *traveller(void *arg)
{
    (void)arg;
    first_thread = which_thread();
    set_errno(4242);
    coro_yield(); /* back to main on the first thread, which sends us away */
    second_thread = which_thread();
    atomic_store(&errno_seen, read_errno());
    atomic_store(&finished, true);
    return (void *)(intptr_t)7;
}

static void *keep_alive(void *arg)
{
    (void)arg;
    while (!atomic_load(&finished)) coro_sleep(1);
    return NULL;
}

static void *other_thread(void *arg)
{
    (void)arg;
    coro_ctx *c = coro_ctx_create("other-loop");
    coro_spawn(keep_alive, NULL, "keep-alive");
    atomic_store(&other_ctx, c);
    coro_ctx_run(c);
    coro_ctx_destroy(c);
    return NULL;
}

static void test_a_coroutine_moves_to_another_threads_context(void **state)
{
    (void)state;
    pthread_t th;
    pthread_create(&th, NULL, other_thread, NULL);
    while (!atomic_load(&other_ctx)) usleep(1000);

    coro_t *t = coro_create(traveller, NULL, "traveller");
    assert_int_equal(coro_resume(t), 0); /* runs here until its yield */
    assert_true(pthread_equal(first_thread, pthread_self()));
    set_errno(1); /* this thread's errno changes meanwhile */
    assert_int_equal(coro_ctx_send(atomic_load(&other_ctx), t), 0);
    /* It belongs to the other thread now: not even asking its state here
     * until that thread is done with it (that would be a data race). */
    pthread_join(th, NULL);

    assert_true(atomic_load(&finished));
    assert_false(pthread_equal(second_thread, first_thread));
    assert_int_equal(atomic_load(&errno_seen), 4242);
    assert_int_equal((intptr_t)coro_result(t), 7);
    assert_int_equal(coro_destroy(t), 0);
}

static void *runs_forever(void *arg)
{
    (void)arg;
    coro_yield();
    return NULL;
}

static void test_send_refuses_what_it_cannot_move(void **state)
{
    (void)state;
    coro_ctx *c = coro_ctx_create("here");
    coro_t *s = coro_spawn(runs_forever, NULL, "queued");
    assert_int_equal(coro_ctx_send(c, s), -EBUSY); /* on this thread's ready queue */
    assert_int_equal(coro_ctx_send(c, coro_self()), -EINVAL);
    assert_int_equal(coro_ctx_send(NULL, s), -EINVAL);
    coro_run();
    coro_ctx_destroy(c);
}

static void *yields_twice(void *arg)
{
    (void)arg;
    coro_yield();
    coro_yield();
    return (void *)(intptr_t)9;
}

static void test_a_failed_send_leaves_it_as_it_was(void **state)
{
    (void)state;
    coro_ctx *c = coro_ctx_create("here");
    coro_t *t = coro_create(yields_twice, NULL, "stays");
    assert_int_equal(coro_resume(t), 0);
    fail_mallocs = 1;
    assert_int_equal(coro_ctx_send(c, t), -ENOMEM);
    assert_int_equal(fail_mallocs, 0); /* the post's allocation is what failed */
    /* Still this thread's, suspended in its yield: resumable here... */
    assert_int_equal(coro_get_state(t), CORO_SUSPENDED);
    assert_int_equal(coro_resume(t), 0);
    assert_int_equal(coro_get_state(t), CORO_SUSPENDED);
    /* ...and a send that can allocate hands it over. */
    assert_int_equal(coro_ctx_send(c, t), 0);
    assert_int_equal(coro_ctx_run(c), 0);
    assert_int_equal(coro_get_state(t), CORO_DEAD);
    assert_int_equal((intptr_t)coro_result(t), 9);
    assert_int_equal(coro_destroy(t), 0);
    assert_int_equal(coro_ctx_destroy(c), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_coroutine_moves_to_another_threads_context),
        cmocka_unit_test(test_send_refuses_what_it_cannot_move),
        cmocka_unit_test(test_a_failed_send_leaves_it_as_it_was),
    };
    return cmocka_run_group_tests_name("handoff", tests, NULL, NULL);
}
