/*
 * test_stack_modes.c - the slab and copy stack modes: coroutines keep their
 * stack contents across switches in every combination, 100,000 of them
 * live at once (past the ~32k that guarded stacks reach under the default
 * vm.max_map_count), an overrun of a slab stack is named at the next switch,
 * and a copy-mode coroutine that waits for an event is refused by name.
 * Built without -fstack-clash-protection (the canary is the defence here).
 */
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

#include <cmocka.h>

#include "coro/coro.h"
#include "coro/sync.h"
#include "stack_child.h"

/* Fills 1 KiB of its own stack with a pattern of its id and checks it
 * after every yield: any copy or carving mistake shows. */
static void *keeper(void *arg)
{
    int rounds = (int)(intptr_t)arg;
    volatile unsigned char buf[1024];
    unsigned char seed = (unsigned char)coro_id(coro_self());
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(seed + i * 7);
    for (int r = 0; r < rounds; r++) {
        coro_yield();
        for (size_t i = 0; i < sizeof buf; i++)
            if (buf[i] != (unsigned char)(seed + i * 7)) return (void *)(intptr_t)-1;
    }
    return (void *)(intptr_t)rounds;
}

/* The copy mode needs an assembly switch backend (not the ucontext one). */
static bool copy_supported(void)
{
    coro_attr a = {.stack_mode = CORO_STACK_COPY};
    coro_t *c = coro_create_ex(&a, keeper, (void *)(intptr_t)0, "probe");
    if (!c) {
        assert_int_equal(errno, ENOTSUP);
        return false;
    }
    coro_destroy(c);
    return true;
}

static void interleave(coro_stack_mode mode)
{
    if (mode == CORO_STACK_COPY && !copy_supported()) skip();
    coro_attr a = {.stack_mode = mode};
    coro_t *co[4];
    for (int i = 0; i < 4; i++) {
        co[i] = coro_create_ex(&a, keeper, (void *)(intptr_t)5, "keeper%d", i);
        assert_non_null(co[i]);
        assert_int_equal(coro_get_stack_mode(co[i]), mode);
    }
    for (int r = 0; r < 6; r++)
        for (int i = 0; i < 4; i++) assert_int_equal(coro_resume(co[(i + r) % 4]), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(coro_get_state(co[i]), CORO_DEAD);
        assert_int_equal((intptr_t)coro_result(co[i]), 5);
        assert_int_equal(coro_destroy(co[i]), 0);
    }
}

static void test_slab_interleaved(void **state)
{
    (void)state;
    interleave(CORO_STACK_SLAB);
}

static void test_copy_interleaved(void **state)
{
    (void)state;
    interleave(CORO_STACK_COPY);
}

/* A copy-mode coroutine resumes and awaits others of every mode: the
 * copier must save it while they run on the shared stack. */
static void *nester(void *arg)
{
    coro_stack_mode inner = (coro_stack_mode)(intptr_t)arg;
    volatile char mine[512];
    memset((char *)mine, 'n', sizeof mine);
    coro_attr a = {.stack_mode = inner};
    coro_t *k = coro_create_ex(&a, keeper, (void *)(intptr_t)3, "inner");
    for (int i = 0; i < 3; i++) {
        coro_resume(k);
        coro_yield();
    }
    coro_t *k2 = coro_create_ex(&a, keeper, (void *)(intptr_t)0, "awaited");
    void *res = NULL;
    coro_await(k2, &res);
    coro_resume(k);
    intptr_t ok = coro_get_state(k) == CORO_DEAD && (intptr_t)coro_result(k) == 3 && res == 0;
    coro_destroy(k);
    coro_destroy(k2);
    for (size_t i = 0; i < sizeof mine; i++)
        if (mine[i] != 'n') ok = 0;
    return (void *)ok;
}

static void test_copy_nests_with_every_mode(void **state)
{
    (void)state;
    if (!copy_supported()) skip();
    coro_stack_mode modes[] = {CORO_STACK_GUARDED, CORO_STACK_SLAB, CORO_STACK_COPY};
    for (int m = 0; m < 3; m++) {
        coro_attr a = {.stack_mode = CORO_STACK_COPY};
        coro_t *outer = coro_create_ex(&a, nester, (void *)(intptr_t)modes[m], "outer");
        coro_t *other = coro_create_ex(&a, keeper, (void *)(intptr_t)4, "other");
        while (coro_get_state(outer) != CORO_DEAD) {
            coro_resume(outer);
            if (coro_get_state(other) != CORO_DEAD) coro_resume(other);
        }
        while (coro_get_state(other) != CORO_DEAD) coro_resume(other);
        assert_int_equal((intptr_t)coro_result(outer), 1);
        assert_int_equal((intptr_t)coro_result(other), 4);
        coro_destroy(outer);
        coro_destroy(other);
    }
}

static void test_spawned_copy_and_slab_run(void **state)
{
    (void)state;
    coro_attr c = {.stack_mode = copy_supported() ? CORO_STACK_COPY : CORO_STACK_SLAB};
    coro_attr s = {.stack_mode = CORO_STACK_SLAB};
    for (int i = 0; i < 50; i++) {
        assert_non_null(coro_spawn_ex(&c, keeper, (void *)(intptr_t)3, "sc%d", i));
        assert_non_null(coro_spawn_ex(&s, keeper, (void *)(intptr_t)3, "ss%d", i));
    }
    assert_int_equal(coro_run(), 400);
}

static void test_default_mode_setting(void **state)
{
    (void)state;
    assert_int_equal(coro_default_stack_mode(), CORO_STACK_GUARDED);
    assert_int_equal(coro_set_default_stack_mode(CORO_STACK_SLAB), 0);
    coro_t *c = coro_create(keeper, (void *)(intptr_t)0, "by-default");
    assert_int_equal(coro_get_stack_mode(c), CORO_STACK_SLAB);
    coro_destroy(c);
    assert_int_equal(coro_set_default_stack_mode((coro_stack_mode)42), -EINVAL);
    assert_int_equal(coro_set_default_stack_mode(CORO_STACK_GUARDED), 0);
    assert_string_equal(coro_stack_mode_name(CORO_STACK_COPY), "copy");
    assert_int_equal(coro_set_default_guard_size(0), -EINVAL);
    assert_int_equal(coro_default_guard_size(), 64 * 1024);
}

/* What a suspended coroutine holds: its 1 KiB array and the frames above. */
static void test_stack_in_use(void **state)
{
    (void)state;
    assert_int_equal(coro_stack_in_use(coro_self()), 0);
    coro_stack_mode modes[] = {CORO_STACK_GUARDED, CORO_STACK_SLAB, CORO_STACK_COPY};
    for (int m = 0; m < 3; m++) {
        if (modes[m] == CORO_STACK_COPY && !copy_supported()) continue;
        coro_attr a = {.stack_mode = modes[m]};
        coro_t *c = coro_create_ex(&a, keeper, (void *)(intptr_t)1, "in-use");
        assert_int_equal(coro_stack_in_use(c), 0); /* not started */
        coro_resume(c);
        size_t used = coro_stack_in_use(c);
        assert_true(used > 1024 && used < 8192);
        coro_resume(c);
        assert_int_equal(coro_stack_in_use(c), 0); /* dead */
        coro_destroy(c);
    }
}

/* More coroutines alive at once than guarded stacks can reach with the
 * default mapping limit, each suspended with 1 KiB of its stack in use. */
static void many(coro_stack_mode mode, size_t n)
{
    const char *env = getenv("STACK_MODES_MANY"); /* fewer under valgrind */
    if (env) n = (size_t)atol(env);
    coro_attr a = {.stack_mode = mode, .stack_size = 16 * 1024};
    coro_t **all = malloc(n * sizeof *all);
    assert_non_null(all);
    for (size_t i = 0; i < n; i++) {
        all[i] = coro_create_ex(&a, keeper, (void *)(intptr_t)1, "m%zu", i);
        if (!all[i]) fail_msg("coroutine %zu: %s", i, coro_last_error());
        assert_int_equal(coro_resume(all[i]), 0);
    }
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(coro_resume(all[i]), 0);
        assert_int_equal((intptr_t)coro_result(all[i]), 1);
        coro_destroy(all[i]);
    }
    free(all);
}

/* ThreadSanitizer counts each coroutine it has seen run as a thread, and
 * stops at 8128. */
#if defined(__SANITIZE_THREAD__)
#define MANY 4000
#else
#define MANY 100000
#endif

static void test_100k_slab(void **state)
{
    (void)state;
    many(CORO_STACK_SLAB, MANY);
}

static void test_100k_copy(void **state)
{
    (void)state;
    if (!copy_supported()) skip();
    many(CORO_STACK_COPY, MANY);
}

/* ---- overruns ---------------------------------------------------------- */

static __attribute__((noinline)) void smash(size_t n)
{
    volatile char big[24 * 1024];
    for (size_t i = 0; i < n && i < sizeof big; i++) big[i] = 0x41; /* volatile: kept */
}

static void *smasher(void *arg)
{
    (void)arg;
    smash(24 * 1024); /* more than its 16 KiB stack: over the canary */
    coro_yield();
    return NULL;
}

static void child_canary(void)
{
    coro_attr a = {.stack_mode = CORO_STACK_SLAB, .stack_size = 16 * 1024};
    coro_t *below = coro_create_ex(&a, keeper, (void *)(intptr_t)1, "below");
    coro_t *c = coro_create_ex(&a, smasher, NULL, "smasher");
    (void)below;
    coro_resume(c);
}

static void test_slab_overrun_is_named(void **state)
{
    (void)state;
    char err[4096];
    int st = run_child(child_canary, err, sizeof err);
    if (!WIFSIGNALED(st)) print_message("child exited %d: %s\n", WEXITSTATUS(st), err);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_non_null(strstr(err, "stack overflow in coroutine 'smasher'"));
    assert_non_null(strstr(err, "slab stack"));
}

static volatile int deep_limit = 200;

static __attribute__((noinline)) int deep(int n)
{
    volatile char frame[256];
    frame[0] = (char)n;
    if (n >= deep_limit) {
        coro_yield(); /* switching away with the stack pointer below the stack */
        return frame[0];
    }
    return deep(n + 1) + frame[0];
}

static void *diver(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)deep(0);
}

static void child_deep(void)
{
    coro_attr a = {.stack_mode = CORO_STACK_SLAB, .stack_size = 16 * 1024};
    for (int i = 0; i < 8; i++) coro_create_ex(&a, keeper, (void *)(intptr_t)1, "pad%d", i);
    coro_t *c = coro_create_ex(&a, diver, NULL, "diver");
    coro_resume(c);
}

static void test_slab_deep_switch_is_named(void **state)
{
    (void)state;
    char err[4096];
    int st = run_child(child_deep, err, sizeof err);
    if (!WIFSIGNALED(st)) print_message("child exited %d: %s\n", WEXITSTATUS(st), err);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_non_null(strstr(err, "stack overflow in coroutine 'diver'"));
}

static coro_mutex mu;

static void *locker(void *arg)
{
    (void)arg;
    coro_mutex_lock(&mu);
    coro_yield();
    coro_mutex_unlock(&mu);
    return NULL;
}

static void child_copy_event(void)
{
    coro_mutex_init(&mu, "mu");
    coro_attr a = {.stack_mode = CORO_STACK_COPY};
    coro_t *x = coro_create_ex(&a, locker, NULL, "holder");
    coro_t *y = coro_create_ex(&a, locker, NULL, "waiter");
    coro_resume(x);
    coro_resume(y);
}

static void test_copy_event_wait_is_refused(void **state)
{
    (void)state;
    if (!copy_supported()) skip();
    char err[4096];
    int st = run_child(child_copy_event, err, sizeof err);
    if (!WIFSIGNALED(st)) print_message("child exited %d: %s\n", WEXITSTATUS(st), err);
    assert_true(WIFSIGNALED(st));
    assert_non_null(strstr(err, "coroutine 'waiter'"));
    assert_non_null(strstr(err, "waits for an event"));
}

/* ---- settings from many threads (run under TSan) ------------------------ */

static void *setter(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        coro_set_default_stack_size((size_t)(16 + i % 4) * 4096);
        coro_set_stack_pool_limit((size_t)(i % 8));
        coro_set_default_guard_size(4096u << (i % 4));
    }
    return NULL;
}

static void *creator(void *arg)
{
    (void)arg;
    for (int i = 0; i < 500; i++) {
        coro_t *c = coro_create(keeper, (void *)(intptr_t)0, "t%d", i);
        if (!c) return (void *)1;
        coro_resume(c);
        coro_destroy(c);
    }
    return NULL;
}

static void test_settings_from_threads(void **state)
{
    (void)state;
    pthread_t a, b;
    void *ra, *rb;
    pthread_create(&a, NULL, setter, NULL);
    pthread_create(&b, NULL, creator, NULL);
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    assert_null(rb);
    coro_set_default_stack_size(64 * 1024);
    coro_set_default_guard_size(64 * 1024);
    coro_set_stack_pool_limit(64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slab_interleaved),
        cmocka_unit_test(test_copy_interleaved),
        cmocka_unit_test(test_copy_nests_with_every_mode),
        cmocka_unit_test(test_spawned_copy_and_slab_run),
        cmocka_unit_test(test_default_mode_setting),
        cmocka_unit_test(test_stack_in_use),
        cmocka_unit_test(test_100k_slab),
        cmocka_unit_test(test_100k_copy),
        cmocka_unit_test(test_slab_overrun_is_named),
        cmocka_unit_test(test_slab_deep_switch_is_named),
        cmocka_unit_test(test_copy_event_wait_is_refused),
        cmocka_unit_test(test_settings_from_threads),
    };
    return cmocka_run_group_tests_name("stack_modes", tests, NULL, NULL);
}
