/*
 * test_coro.c - the coroutine core through its public API: states, names,
 * resume/yield, await with continuation, spawn, stacks, error cases.
 */
#include <errno.h>
#include <fenv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coro/coro.h"

/* ---- resume / yield / states ------------------------------------------ */

static void *count_to_three(void *arg)
{
    int *out = arg;
    for (int i = 1; i <= 3; i++) {
        *out = i;
        assert_int_equal(coro_get_state(coro_self()), CORO_RUNNING);
        coro_yield();
    }
    return (void *)(intptr_t)99;
}

static void test_resume_yield_states(void **state)
{
    (void)state;
    int v = 0;
    coro_t *main_co = coro_self();
    assert_true(coro_is_main(main_co));
    assert_string_equal(coro_name(main_co), "main");
    assert_int_equal(coro_get_state(main_co), CORO_RUNNING);

    coro_t *co = coro_create(count_to_three, &v, "counter");
    assert_non_null(co);
    assert_int_equal(coro_get_state(co), CORO_CREATED);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(coro_resume(co), 0);
        assert_int_equal(v, i);
        assert_int_equal(coro_get_state(co), CORO_SUSPENDED);
        assert_ptr_equal(coro_self(), main_co);
    }
    assert_null(coro_result(co));
    assert_int_equal(coro_resume(co), 0);
    assert_int_equal(coro_get_state(co), CORO_DEAD);
    assert_int_equal((intptr_t)coro_result(co), 99);
    assert_int_equal(coro_resume(co), -EALREADY);
    assert_int_equal(coro_destroy(co), 0);
}

static void *who_am_i(void *arg)
{
    coro_t **seen = arg;
    *seen = coro_self();
    return NULL;
}

static void test_self_inside(void **state)
{
    (void)state;
    coro_t *seen = NULL;
    coro_t *co = coro_create(who_am_i, &seen, NULL);
    assert_non_null(co);
    coro_resume(co);
    assert_ptr_equal(seen, co);
    coro_destroy(co);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(coro_state_name(CORO_CREATED), "created");
    assert_string_equal(coro_state_name(CORO_READY), "ready");
    assert_string_equal(coro_state_name(CORO_RUNNING), "running");
    assert_string_equal(coro_state_name(CORO_SUSPENDED), "suspended");
    assert_string_equal(coro_state_name(CORO_DEAD), "dead");
}

/* ---- names -------------------------------------------------------------- */

static void *noop(void *arg)
{
    return arg;
}

static void *a_function_whose_name_is_longer_than_forty_bytes(void *arg)
{
    return arg;
}

static void test_names(void **state)
{
    (void)state;
    coro_t *a = coro_create(noop, NULL, "echo#%d", 7);
    assert_string_equal(coro_name(a), "echo#7");

    coro_t *b = coro_create(noop, NULL, NULL);
    char want[64];
    snprintf(want, sizeof want, "noop#%llu", (unsigned long long)coro_id(b));
    assert_string_equal(coro_name(b), want);
    assert_true(coro_id(b) > coro_id(a));

    assert_int_equal(coro_rename(a, "renamed-%s", "x"), 0);
    assert_string_equal(coro_name(a), "renamed-x");

    /* A name longer than the inline buffer is allocated, and survives a
     * rename back to a short one. */
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_int_equal(coro_rename(a, "%s", longname), 0);
    assert_string_equal(coro_name(a), longname);
    assert_int_equal(coro_rename(a, "short"), 0);
    assert_string_equal(coro_name(a), "short");
    assert_int_equal(coro_rename(NULL, "x"), -EINVAL);

    /* Plain names are copied without printf: one that just fits inline, one
     * that does not (allocated), and a renamed plain name over a long one. */
#define FITS "fffffffffffffffffffffffffffffffffffffff"  /* 39 bytes and the 0 */
#define OVER "oooooooooooooooooooooooooooooooooooooooo" /* one more */
    coro_t *c = coro_create(noop, NULL, FITS);
    assert_string_equal(coro_name(c), FITS);
    assert_int_equal(coro_rename(c, OVER), 0);
    assert_string_equal(coro_name(c), OVER);
    assert_int_equal(coro_rename(c, "plain"), 0);
    assert_string_equal(coro_name(c), "plain");
    coro_destroy(c);

    /* A default name whose function name is too long keeps its id whole. */
    coro_t *d = coro_create(a_function_whose_name_is_longer_than_forty_bytes, NULL, NULL);
    snprintf(want, sizeof want, "#%llu", (unsigned long long)coro_id(d));
    assert_int_equal(strlen(coro_name(d)), 39);
    assert_string_equal(coro_name(d) + 39 - strlen(want), want);
    assert_memory_equal(coro_name(d), "a_function_whose_name", 21);
    coro_destroy(d);

    coro_destroy(a);
    coro_destroy(b);
}

static void test_named_header(void **state)
{
    (void)state;
    coro_named n1, n2;
    coro_named_init(&n1, "acceptor", "acceptor[%s:%d]", "0.0.0.0", 8899);
    coro_named_init(&n2, "timer", NULL);
    assert_string_equal(n1.name, "acceptor[0.0.0.0:8899]");
    assert_string_equal(n1.kind, "acceptor");
    char want[64];
    snprintf(want, sizeof want, "timer#%llu", (unsigned long long)n2.id);
    assert_string_equal(n2.name, want);
    assert_int_not_equal(n1.id, n2.id);
    coro_trace_ref r = coro_named_ref(&n1);
    assert_int_equal(r.id, n1.id);
    assert_ptr_equal(r.name, n1.name);
    coro_named_fini(&n1);
    coro_named_fini(&n2);
}

/* ---- await ---------------------------------------------------------------- */

static void *times_seven(void *arg)
{
    return (void *)((intptr_t)arg * 7);
}

static void *yielding_child(void *arg)
{
    coro_yield();
    return (void *)((intptr_t)arg + 1);
}

struct awaiter_args {
    coro_t *child;
    intptr_t got;
    int rc;
};

static void *awaiter(void *arg)
{
    struct awaiter_args *a = arg;
    void *r = NULL;
    a->rc = coro_await(a->child, &r);
    a->got = (intptr_t)r;
    return NULL;
}

static void test_await_created_child(void **state)
{
    (void)state;
    coro_t *c = coro_create(times_seven, (void *)(intptr_t)6, "child");
    struct awaiter_args a = {.child = c};
    coro_t *p = coro_create(awaiter, &a, "parent");
    assert_int_equal(coro_resume(p), 0);
    assert_int_equal(a.rc, 0);
    assert_int_equal(a.got, 42);
    assert_int_equal(coro_get_state(c), CORO_DEAD);
    assert_int_equal(coro_get_state(p), CORO_DEAD);
    coro_destroy(c);
    coro_destroy(p);
}

static void test_await_child_that_yields(void **state)
{
    (void)state;
    /* The child inherits the parent's resumer: its yield comes back here,
     * to main, and resuming it again finishes it, which continues the
     * parent. */
    coro_t *c = coro_create(yielding_child, (void *)(intptr_t)1, "child");
    struct awaiter_args a = {.child = c};
    coro_t *p = coro_create(awaiter, &a, "parent");
    assert_int_equal(coro_resume(p), 0);
    assert_int_equal(coro_get_state(p), CORO_SUSPENDED);
    assert_int_equal(coro_get_state(c), CORO_SUSPENDED);
    assert_ptr_equal(coro_awaiter(c), p);
    /* Only the awaited child can finish p's wait. */
    assert_int_equal(coro_resume(p), -EBUSY);
    assert_int_equal(coro_resume(c), 0);
    assert_int_equal(coro_get_state(p), CORO_DEAD);
    assert_int_equal(a.got, 2);
    coro_destroy(c);
    coro_destroy(p);
}

static void test_await_dead_child_returns_at_once(void **state)
{
    (void)state;
    coro_t *c = coro_create(times_seven, (void *)(intptr_t)3, "child");
    coro_resume(c);
    assert_int_equal(coro_get_state(c), CORO_DEAD);
    void *r = NULL;
    assert_int_equal(coro_await(c, &r), 0);
    assert_int_equal((intptr_t)r, 21);
    coro_destroy(c);
}

static void test_main_awaits_created_child(void **state)
{
    (void)state;
    coro_t *c = coro_create(yielding_child, (void *)(intptr_t)41, "child");
    void *r = NULL;
    assert_int_equal(coro_await(c, &r), 0);
    assert_int_equal((intptr_t)r, 42);
    coro_destroy(c);
}

static void test_await_errors(void **state)
{
    (void)state;
    coro_t *self = coro_self();
    assert_int_equal(coro_await(NULL, NULL), -EINVAL);
    assert_int_equal(coro_await(self, NULL), -EDEADLK);
    assert_non_null(strstr(coro_last_error(), "itself"));

    /* A second awaiter is refused while the first still waits. */
    coro_t *c = coro_create(yielding_child, NULL, "child");
    struct awaiter_args a1 = {.child = c}, a2 = {.child = c};
    coro_t *p1 = coro_create(awaiter, &a1, "p1");
    coro_t *p2 = coro_create(awaiter, &a2, "p2");
    coro_resume(p1);
    coro_resume(p2);
    assert_int_equal(a2.rc, -EBUSY);
    assert_non_null(strstr(coro_last_error(), "p1 already awaits it"));
    assert_int_equal(coro_destroy(c), -EBUSY);
    coro_resume(c);
    assert_int_equal(coro_get_state(p1), CORO_DEAD);
    assert_int_equal(a1.rc, 0);
    coro_destroy(c);
    coro_destroy(p1);
    coro_destroy(p2);
}

static void *spawned_marker(void *arg)
{
    int *hits = arg;
    (*hits)++;
    coro_yield();
    (*hits)++;
    return NULL;
}

static void test_await_spawned_is_refused(void **state)
{
    (void)state;
    int hits = 0;
    coro_t *s = coro_spawn(spawned_marker, &hits, "spawned");
    assert_non_null(s);
    assert_int_equal(coro_get_state(s), CORO_READY);
    assert_int_equal(coro_await(s, NULL), -EPERM);
    assert_int_equal(coro_destroy(s), -EINVAL);
    assert_int_equal(coro_resume(s), -EBUSY);
    coro_run();
    assert_int_equal(hits, 2);
}

/* ---- spawn and the ready queue ------------------------------------------ */

struct turns {
    char log[64];
    size_t len;
};

static void *take_turns(void *arg)
{
    struct turns *t = arg;
    const char *name = coro_name(coro_self());
    for (int i = 0; i < 3; i++) {
        t->log[t->len++] = name[0];
        coro_yield();
    }
    return NULL;
}

static void test_spawn_round_robin(void **state)
{
    (void)state;
    struct turns t = {.len = 0};
    assert_non_null(coro_spawn(take_turns, &t, "a"));
    assert_non_null(coro_spawn(take_turns, &t, "b"));
    assert_non_null(coro_spawn(take_turns, &t, "c"));
    size_t n = coro_run();
    t.log[t.len] = 0;
    assert_string_equal(t.log, "abcabcabc");
    assert_int_equal(n, 12); /* 3 turns + finish, three coroutines */
    assert_int_equal(coro_run(), 0);
}

/* A coroutine alone on the queue that yields runs on at once (no switch
 * while nothing records), and each of its turns is still a resumption. */
static void test_lone_yielder_is_counted(void **state)
{
    (void)state;
    struct turns t = {.len = 0};
    assert_non_null(coro_spawn(take_turns, &t, "a"));
    assert_int_equal(coro_run(), 4); /* 3 turns + finish */
    t.log[t.len] = 0;
    assert_string_equal(t.log, "aaa");
}

static void *run_inner(void *arg)
{
    struct turns *t = arg;
    coro_spawn(take_turns, t, "b");
    coro_spawn(take_turns, t, "c");
    /* its own loop: the coroutines it runs hand control to each other
     * and back to it, not to the outer loop */
    size_t n = coro_run();
    t->log[t->len++] = n == 8 ? 'y' : 'n';
    return NULL;
}

static void test_nested_run_counts_its_own(void **state)
{
    (void)state;
    struct turns t = {.len = 0};
    assert_non_null(coro_spawn(run_inner, &t, "outer"));
    assert_int_equal(coro_run(), 1);
    t.log[t.len] = 0;
    assert_string_equal(t.log, "bcbcbcy");
}

static void *spawn_and_return(void *arg)
{
    int *hits = arg;
    coro_spawn(spawned_marker, hits, "late");
    return NULL;
}

static void test_spawned_outlives_spawner(void **state)
{
    (void)state;
    int hits = 0;
    coro_t *p = coro_create(spawn_and_return, &hits, "spawner");
    coro_resume(p);
    assert_int_equal(coro_get_state(p), CORO_DEAD);
    assert_int_equal(hits, 0);
    coro_destroy(p);
    coro_run();
    assert_int_equal(hits, 2);
}

static void test_many_spawned_are_reclaimed(void **state)
{
    (void)state;
    /* More than fit in memory if they were not reclaimed: 20000 x 64 KiB
     * stacks would be 1.3 GB of mappings and 40000 kernel maps. */
    int hits = 0;
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 200; i++) assert_non_null(coro_spawn(spawned_marker, &hits, NULL));
        coro_run();
    }
    assert_int_equal(hits, 2 * 100 * 200);
}

/* ---- resume errors --------------------------------------------------- */

static void *resume_main(void *arg)
{
    int *rc = arg;
    *rc = coro_resume((coro_t *)coro_resumer(coro_self()));
    return NULL;
}

static void test_resume_errors(void **state)
{
    (void)state;
    assert_int_equal(coro_resume(NULL), -EINVAL);
    assert_int_equal(coro_resume(coro_self()), -EDEADLK);
    int rc = 0;
    coro_t *co = coro_create(resume_main, &rc, "rebel");
    coro_resume(co);
    assert_int_equal(rc, -EDEADLK);
    assert_non_null(strstr(coro_last_error(), "give control back"));
    coro_destroy(co);
    assert_int_equal(coro_destroy(NULL), -EINVAL);
    assert_int_equal(coro_destroy(coro_self()), -EINVAL);
}

/* ---- stacks ------------------------------------------------------------ */

static void *use_stack(void *arg)
{
    size_t n = (size_t)arg;
    volatile char big[n];
    for (size_t i = 0; i < n; i += 512) big[i] = (char)i;
    return (void *)(uintptr_t)big[n / 2 & ~(size_t)511];
}

static void test_stack_sizes(void **state)
{
    (void)state;
    assert_int_equal(coro_default_stack_size(), 64 * 1024);
    coro_attr attr = {.stack_size = 1024 * 1024};
    coro_t *big = coro_create_ex(&attr, use_stack, (void *)(size_t)(900 * 1024), "big");
    assert_non_null(big);
    assert_true(coro_stack_size(big) >= 1024 * 1024);
    assert_int_equal(coro_resume(big), 0);
    assert_int_equal(coro_get_state(big), CORO_DEAD);
    coro_destroy(big);

    assert_int_equal(coro_set_default_stack_size(128 * 1024), 0);
    coro_t *c = coro_create(noop, NULL, NULL);
    assert_int_equal(coro_stack_size(c), 128 * 1024);
    coro_destroy(c);
    assert_int_equal(coro_set_default_stack_size(0), -EINVAL);
    assert_int_equal(coro_set_default_stack_size(64 * 1024), 0);

    /* Tiny requests are raised to the minimum. */
    attr.stack_size = 100;
    c = coro_create_ex(&attr, noop, NULL, NULL);
    assert_true(coro_stack_size(c) >= 16 * 1024);
    coro_destroy(c);
}

/* A handle kept past coro_destroy names nothing: using it fails, and does
 * not act on the coroutine that reuses the record. */
static void *count_runs(void *arg)
{
    ++*(int *)arg;
    return NULL;
}

static void test_stale_handle_is_refused(void **state)
{
    (void)state;
    int runs_a = 0, runs_b = 0;
    coro_t *a = coro_create(count_runs, &runs_a, "a");
    assert_int_equal(coro_destroy(a), 0);
    coro_t *b = coro_create(count_runs, &runs_b, "b"); /* same record, from the pool */
    assert_int_equal(coro_resume(a), -EINVAL);
    assert_non_null(strstr(coro_last_error(), "stale handle"));
    assert_int_equal(coro_destroy(a), -EINVAL);
    assert_int_equal(coro_await(a, NULL), -EINVAL);
    assert_int_equal(coro_rename(a, "x"), -EINVAL);
    assert_int_equal(coro_cancel_wait(a), -EINVAL);
    assert_int_equal(coro_get_state(a), CORO_DEAD);
    assert_int_equal(coro_id(a), 0);
    assert_string_equal(coro_name(a), "(freed coroutine)");
    /* b is untouched */
    assert_int_equal(runs_b, 0);
    assert_int_equal(coro_get_state(b), CORO_CREATED);
    assert_string_equal(coro_name(b), "b");
    assert_int_equal(coro_resume(b), 0);
    assert_int_equal(runs_b, 1);
    assert_int_equal(runs_a, 0);
    assert_int_equal(coro_destroy(b), 0);

    /* A spawned coroutine is reclaimed when it finishes: its handle goes stale too. */
    coro_t *s = coro_spawn(count_runs, &runs_a, "spawned");
    coro_run();
    assert_int_equal(runs_a, 1);
    coro_t *c = coro_create(count_runs, &runs_b, "c");
    assert_int_equal(coro_resume(s), -EINVAL);
    assert_int_equal(runs_b, 1);
    assert_int_equal(coro_destroy(c), 0);
}

/* The tag holds 15 bits of the id: a stale handle is refused while fewer
 * than 32768 coroutines were made since, and names the coroutine made
 * exactly 32768 later in the same record (the limit coro.h documents). */
static void test_stale_handle_window(void **state)
{
    (void)state;
    int runs = 0;
    const uintptr_t addr = (UINT64_C(1) << 48) - 1;
    coro_t *a = coro_create(count_runs, &runs, "a");
    uint64_t ida = coro_id(a);
    assert_int_equal(coro_destroy(a), 0);
    coro_t *x = NULL;
    for (;;) {
        x = coro_create(count_runs, &runs, "x");
        assert_true(((uintptr_t)x & addr) == ((uintptr_t)a & addr)); /* the same record */
        if (coro_id(x) - ida == 32767) break;
        assert_int_equal(coro_destroy(x), 0);
    }
    assert_int_equal(coro_resume(a), -EINVAL);
    assert_int_equal(runs, 0);
    assert_int_equal(coro_destroy(x), 0);
    x = coro_create(count_runs, &runs, "x");
    assert_int_equal(coro_id(x) - ida, 32768);
    assert_ptr_equal(a, x);
    assert_int_equal(coro_destroy(x), 0);
}

static void test_stack_pool_reuses(void **state)
{
    (void)state;
    coro_t *a = coro_create(noop, NULL, "a");
    coro_destroy(a);
    coro_t *b = coro_create(noop, NULL, "b");
    /* The record lives in the stack mapping, so a reused mapping gives the
     * same address; the handles differ in their tag (the id's low bits). */
    assert_int_equal((uintptr_t)a & 0xffffffffffffULL, (uintptr_t)b & 0xffffffffffffULL);
    assert_ptr_not_equal(a, b);
    coro_destroy(b);
    coro_stack_pool_drain();
}

/* ---- floating-point state is per coroutine ----------------------------- */

static void *round_up_and_yield(void *arg)
{
    int *seen = arg;
    fesetround(FE_UPWARD);
    coro_yield();
    *seen = fegetround();
    return NULL;
}

static void test_fp_rounding_per_coroutine(void **state)
{
    (void)state;
    int seen = -1;
    assert_int_equal(fegetround(), FE_TONEAREST);
    coro_t *co = coro_create(round_up_and_yield, &seen, "rounder");
    coro_resume(co);
    /* The coroutine set FE_UPWARD and yielded: main still rounds to nearest. */
    assert_int_equal(fegetround(), FE_TONEAREST);
    coro_resume(co);
    assert_int_equal(seen, FE_UPWARD);
    assert_int_equal(fegetround(), FE_TONEAREST);
    coro_destroy(co);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_yield_states),
        cmocka_unit_test(test_self_inside),
        cmocka_unit_test(test_state_names),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_named_header),
        cmocka_unit_test(test_await_created_child),
        cmocka_unit_test(test_await_child_that_yields),
        cmocka_unit_test(test_await_dead_child_returns_at_once),
        cmocka_unit_test(test_main_awaits_created_child),
        cmocka_unit_test(test_await_errors),
        cmocka_unit_test(test_await_spawned_is_refused),
        cmocka_unit_test(test_spawn_round_robin),
        cmocka_unit_test(test_lone_yielder_is_counted),
        cmocka_unit_test(test_nested_run_counts_its_own),
        cmocka_unit_test(test_spawned_outlives_spawner),
        cmocka_unit_test(test_many_spawned_are_reclaimed),
        cmocka_unit_test(test_resume_errors),
        cmocka_unit_test(test_stack_sizes),
        cmocka_unit_test(test_stack_pool_reuses),
        cmocka_unit_test(test_stale_handle_is_refused),
        cmocka_unit_test(test_stale_handle_window),
        cmocka_unit_test(test_fp_rounding_per_coroutine),
    };
    return cmocka_run_group_tests_name("coro", tests, NULL, NULL);
}
