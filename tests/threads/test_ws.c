/*
 * test_ws.c - the work-stealing scheduler: many short coroutines over 2 to
 * 8 workers each run exactly once, coroutines migrate between workers, and
 * errno travels with a coroutine that moves. Run under the tsan preset too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "coro/coro.h"
#include "coro/ws.h"

/* Fewer under ThreadSanitizer, which makes each stack mapping and each
 * switch many times dearer: the schedule's variety matters, not the count. */
#if defined(__SANITIZE_THREAD__)
#define MANY 20000
#else
#define MANY 100000
#endif

static atomic_int *ran;
static atomic_long finished;

static void *short_one(void *arg)
{
    intptr_t i = (intptr_t)arg;
    if (i % 16 == 0) coro_yield(); /* some go round the queues */
    atomic_fetch_add(&ran[i], 1);
    atomic_fetch_add(&finished, 1);
    return NULL;
}

static void run_many(int workers)
{
    ran = calloc(MANY, sizeof *ran);
    coro_ws *ws = coro_ws_create(workers);
    assert_non_null(ws);
    atomic_store(&finished, 0);
    for (intptr_t i = 0; i < MANY; i++) {
        /* At most 4096 alive at once: each stack is two kernel mappings (and
         * ThreadSanitizer adds its own per fiber), against vm.max_map_count. */
        while (i - atomic_load(&finished) > 4096) sched_yield();
        assert_non_null(coro_ws_spawn(ws, short_one, (void *)i, "short#%ld", (long)i));
    }
    assert_int_equal(coro_ws_join(ws), 0);
    long once = 0;
    for (int i = 0; i < MANY; i++) once += atomic_load(&ran[i]) == 1;
    assert_int_equal(once, MANY);
    free(ran);
}

static void test_100k_on_2_workers(void **state)
{
    (void)state;
    run_many(2);
}

static void test_100k_on_4_workers(void **state)
{
    (void)state;
    run_many(4);
}

static void test_100k_on_8_workers(void **state)
{
    (void)state;
    run_many(8);
}

/* ---- migration and errno ---------------------------------------------------- */

typedef struct mover {
    int want;
    int wrong;
    int moved;
} mover;

/* errno read through a call made after the suspension (the rule in ws.h). */
/* Written inline as `errno = v` inside the loop, the compiler may compute
 * errno's address once, before the loop, and after a move to another worker
 * write the old thread's errno: ThreadSanitizer caught exactly that here. */
static __attribute__((noipa)) int read_errno(void)
{
    return errno;
}
static __attribute__((noipa)) void set_errno(int v)
{
    errno = v;
}

static void *wander(void *arg)
{
    mover *m = arg;
    int first = coro_ws_worker();
    for (int k = 0; k < 2000; k++) {
        set_errno(m->want);
        coro_yield();
        if (coro_ws_worker() != first) m->moved = 1;
        if (read_errno() != m->want) m->wrong++;
    }
    return NULL;
}

enum { MOVERS = 64 };

static void *seeder(void *arg)
{
    /* Spawned from a worker, they all start on this worker's queue, so the
     * idle workers must steal them, and keep stealing as they yield. */
    mover *m = arg;
    for (int i = 0; i < MOVERS; i++) coro_spawn(wander, &m[i], "wanderer#%d", i);
    return NULL;
}

static void test_errno_travels_with_a_migrating_coroutine(void **state)
{
    (void)state;
    mover m[MOVERS];
    for (int i = 0; i < MOVERS; i++) m[i] = (mover){.want = 1000 + i};
    coro_ws *ws = coro_ws_create(4);
    coro_ws_spawn(ws, seeder, m, "seeder");
    coro_ws_join(ws);
    int moved = 0, wrong = 0;
    for (int i = 0; i < MOVERS; i++) {
        moved += m[i].moved;
        wrong += m[i].wrong;
    }
    assert_true(moved > 0); /* coroutines did change threads */
    assert_int_equal(wrong, 0);
}

static atomic_long nested;

static void *child_of_worker(void *arg)
{
    (void)arg;
    atomic_fetch_add(&nested, 1);
    return NULL;
}

static void *parent_on_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10; i++) coro_spawn(child_of_worker, NULL, "child");
    coro_yield();
    return NULL;
}

static void test_spawn_inside_stays_on_the_scheduler(void **state)
{
    (void)state;
    atomic_store(&nested, 0);
    coro_ws *ws = coro_ws_create(3);
    for (int i = 0; i < 100; i++) coro_ws_spawn(ws, parent_on_worker, NULL, "parent#%d", i);
    coro_ws_join(ws); /* waits for the children too */
    assert_int_equal(atomic_load(&nested), 1000);
}

/* Sleeping workers must not miss work: spawns from outside arrive while the
 * workers spin, fall asleep or wake, and the scheduler has no timed wait to
 * hide a lost wake-up, so a lost one hangs here (the alarm fails the test). */
static atomic_long late_done;

static void *late_child(void *arg)
{
    (void)arg;
    atomic_fetch_add(&late_done, 1);
    return NULL;
}

static void *late_parent(void *arg)
{
    (void)arg;
    coro_spawn(late_child, NULL, "late-child"); /* a worker's own queue */
    atomic_fetch_add(&late_done, 1);
    return NULL;
}

static void test_no_lost_wakeup(void **state)
{
    (void)state;
    alarm(60);
    for (int round = 0; round < 200; round++) {
        atomic_store(&late_done, 0);
        coro_ws *ws = coro_ws_create(2);
        assert_non_null(ws);
        for (int i = 0; i < 4; i++) {
            /* 0 to ~300 us apart: sometimes the workers are still spinning,
             * sometimes asleep. */
            struct timespec ts = {0, (long)((round * 7 + i * 13) % 300) * 1000};
            nanosleep(&ts, NULL);
            assert_non_null(coro_ws_spawn(ws, late_parent, NULL, "late-parent"));
        }
        /* Every coroutine must finish without join's help (join wakes all). */
        for (int spin = 0; atomic_load(&late_done) < 8; spin++) {
            assert_true(spin < 2000000);
            sched_yield();
        }
        coro_ws_join(ws);
    }
    alarm(0);
}

/* Coroutines that keep yielding must not starve the ones still waiting in
 * the queue of spawns from outside: each spinner yields until every one has
 * started (or gives up after many yields, which fails the test). */
enum { SPINNERS = 8, PATIENCE = 200000 };
static atomic_int spinners_started, spinners_gave_up;

static void *spinner(void *arg)
{
    (void)arg;
    atomic_fetch_add(&spinners_started, 1);
    for (int i = 0; atomic_load(&spinners_started) < SPINNERS; i++) {
        if (i == PATIENCE) {
            atomic_fetch_add(&spinners_gave_up, 1);
            break;
        }
        coro_yield();
    }
    return NULL;
}

static void test_yielding_coroutines_do_not_starve_queued_ones(void **state)
{
    (void)state;
    atomic_store(&spinners_started, 0);
    atomic_store(&spinners_gave_up, 0);
    coro_ws *ws = coro_ws_create(2);
    assert_non_null(ws);
    for (int i = 0; i < SPINNERS; i++)
        assert_non_null(coro_ws_spawn(ws, spinner, NULL, "spinner#%d", i));
    assert_int_equal(coro_ws_join(ws), 0);
    assert_int_equal(atomic_load(&spinners_started), SPINNERS);
    assert_int_equal(atomic_load(&spinners_gave_up), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_100k_on_2_workers),
        cmocka_unit_test(test_100k_on_4_workers),
        cmocka_unit_test(test_100k_on_8_workers),
        cmocka_unit_test(test_errno_travels_with_a_migrating_coroutine),
        cmocka_unit_test(test_spawn_inside_stays_on_the_scheduler),
        cmocka_unit_test(test_no_lost_wakeup),
        cmocka_unit_test(test_yielding_coroutines_do_not_starve_queued_ones),
    };
    return cmocka_run_group_tests_name("ws", tests, NULL, NULL);
}
