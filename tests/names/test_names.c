/*
 * test_names.c - names that come from input are plain strings: with
 * CORO_NAME(s), a name holding printf conversions ("%s%n") is kept as
 * written, never interpreted, short (inline) or long (allocated), for every
 * kind of named object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "coro/coro.h"
#include "coro/io.h"
#include "coro/sync.h"

/* What an attacker or an odd peer would send: every conversion that reads
 * or writes through a missing argument. */
static const char *const inputs[] = {
    "%s%n",
    "%s%s%s%s%s%s%s%s%s%s%n%n%n",
    "%p %x %ld %%n and a long tail that does not fit the inline name buffer %n%s",
};

static void *body(void *arg)
{
    return arg;
}

static void coroutine_names(void **state)
{
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        coro_t *co = coro_create(body, NULL, CORO_NAME(inputs[i]));
        assert_non_null(co);
        assert_string_equal(coro_name(co), inputs[i]);
        assert_int_equal(coro_rename(co, CORO_NAME(inputs[(i + 1) % 3])), 0);
        assert_string_equal(coro_name(co), inputs[(i + 1) % 3]);
        assert_int_equal(coro_resume(co), 0);
        assert_int_equal(coro_destroy(co), 0);
    }
}

static char spawned_name[128];
static void *remember_name(void *arg)
{
    strncpy(spawned_name, coro_name(coro_self()), sizeof spawned_name - 1);
    return arg;
}

static void spawned_and_other_objects(void **state)
{
    coro_spawn(remember_name, NULL, CORO_NAME(inputs[0]));
    coro_run();
    assert_string_equal(spawned_name, inputs[0]); /* copied while it ran */

    coro_named n;
    coro_named_init(&n, "conn", CORO_NAME(inputs[2]));
    assert_string_equal(n.name, inputs[2]);
    assert_int_equal(coro_named_rename(&n, CORO_NAME(inputs[1])), 0);
    assert_string_equal(n.name, inputs[1]);
    coro_named_fini(&n);

    coro_mutex m;
    coro_mutex_init(&m, CORO_NAME(inputs[0]));
    assert_string_equal(m.named.name, inputs[0]);
    assert_int_equal(coro_mutex_destroy(&m), 0);

    coro_ctx *ctx = coro_ctx_create(CORO_NAME(inputs[1]));
    assert_non_null(ctx);
    coro_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coroutine_names),
        cmocka_unit_test(spawned_and_other_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
