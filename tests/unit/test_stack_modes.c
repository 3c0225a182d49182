/*
 * test_stack_modes.c - the slab and copy stack modes: coroutines keep their
 * stack contents across switches in every combination, 100,000 of them
 * live at once (past the ~32k that guarded stacks reach under the default
 * vm.max_map_count), an overrun of a slab stack is named at the next switch,
 * and copy-mode coroutines wait (timers, a mutex, a channel) while their
 * stacks, wait records included, are copied off the shared stack and back.
 * Built without -fstack-clash-protection (the canary is the defence here).
 */
#include <errno.h>
#include <fcntl.h>
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
#include "coro/io.h"
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

/* ---- copy-mode coroutines wait: their wait record moves with the stack -- */

enum { SLEEPERS = 8, SLEEP_ROUNDS = 3 };
static int woke[SLEEPERS * SLEEP_ROUNDS], nwoke;
static int64_t woke_deadline[SLEEPERS * SLEEP_ROUNDS];

/* Sleeper i sleeps 300 - 30 i ms: the first round wakes 7, 6, ..., 0, 30
 * ms apart unless the test is held up that long between two starts; the
 * check is on the deadlines, within SKEW_MS (below). */
static int sleep_ms(int i)
{
    return 300 - 30 * i;
}

/* A sleeper reads the clock (t0) a moment before coro_sleep reads it for
 * the timer, so the deadline it records can be early by the time between
 * the two readings: a few us, but tens of ms under valgrind on a busy
 * machine (one run in a few dozen failed with a tolerance of 1 ms). */
enum { SKEW_MS = 20 };

/* Holds 1 KiB of its stack with a pattern of its number, sleeps on the
 * context's timer SLEEP_ROUNDS times, yields in between, and checks the
 * pattern and every sleep's result. */
static void *copy_sleeper(void *arg)
{
    int me = (int)(intptr_t)arg;
    volatile unsigned char buf[1024];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(me * 31 + i);
    intptr_t ok = 1;
    for (int r = 0; r < SLEEP_ROUNDS; r++) {
        int64_t t0 = coro_now_ms();
        if (coro_sleep(sleep_ms(me)) != 0 || coro_now_ms() - t0 < sleep_ms(me)) ok = 0;
        woke_deadline[nwoke] = t0 + sleep_ms(me);
        woke[nwoke++] = me;
        coro_yield();
        for (size_t i = 0; i < sizeof buf; i++)
            if (buf[i] != (unsigned char)(me * 31 + i)) ok = 0;
    }
    return (void *)(ok ? (intptr_t)(100 + me) : -1);
}

static void test_copy_sleepers_wake_in_order(void **state)
{
    (void)state;
    if (!copy_supported()) skip();
    coro_ctx *ctx = coro_ctx_create("copy-sleep");
    assert_non_null(ctx);
    coro_attr a = {.stack_mode = CORO_STACK_COPY};
    coro_t *co[SLEEPERS];
    for (int i = 0; i < SLEEPERS; i++) {
        co[i] = coro_create_ex(&a, copy_sleeper, (void *)(intptr_t)i, "sleeper%d", i);
        assert_non_null(co[i]);
    }
    nwoke = 0;
    /* Started by hand, each waits while the next one's frames overwrite its
     * own on the shared stack; the loop then wakes them by deadline. */
    for (int i = 0; i < SLEEPERS; i++) assert_int_equal(coro_resume(co[i]), 0);
    assert_int_equal(coro_resume(co[0]), -EBUSY); /* only its timer may wake it */
    assert_int_equal(coro_ctx_run(ctx), 0);
    assert_int_equal(nwoke, SLEEPERS * SLEEP_ROUNDS);
    /* The timer heap woke them by deadline (t0 is read just before the
     * sleep sets its own: within SKEW_MS, the order may go either way). */
    for (int k = 1; k < nwoke; k++) assert_true(woke_deadline[k] + SKEW_MS >= woke_deadline[k - 1]);
    int rounds[SLEEPERS] = {0};
    for (int k = 0; k < nwoke; k++) rounds[woke[k]]++;
    for (int i = 0; i < SLEEPERS; i++) {
        assert_int_equal(rounds[i], SLEEP_ROUNDS);
        assert_int_equal(coro_get_state(co[i]), CORO_DEAD);
        assert_int_equal((intptr_t)coro_result(co[i]), 100 + i);
        coro_destroy(co[i]);
    }
    coro_ctx_destroy(ctx);
}

/* Readers wait on pipes (the io wait: the socket slot and the deadline's
 * timer both point at the record) while a writer fills them in reverse. */
enum { PIPES = 4 };
static int pipes[PIPES][2], read_order[PIPES], nread;

static void *fd_reader(void *arg)
{
    int i = (int)(intptr_t)arg;
    volatile char pad[400];
    memset((char *)pad, 'r', sizeof pad);
    int rc = coro_wait_fd(pipes[i][0], CORO_WAIT_READ, 10000);
    char b = 0;
    if (rc != 0 || read(pipes[i][0], &b, 1) != 1 || b != 'a' + i || pad[9] != 'r')
        return (void *)-1;
    read_order[nread++] = i;
    coro_fd_forget(pipes[i][0]);
    return (void *)(intptr_t)rc;
}

static void *fd_writer(void *arg)
{
    (void)arg;
    coro_sleep(5);
    for (int i = PIPES - 1; i >= 0; i--) {
        char b = (char)('a' + i);
        if (write(pipes[i][1], &b, 1) != 1) return (void *)-1;
        coro_sleep(2);
    }
    return NULL;
}

static void test_copy_waits_on_fds(void **state)
{
    (void)state;
    if (!copy_supported()) skip();
    coro_ctx_options o = {.backend = CORO_IO_EPOLL};
    coro_ctx *ctx = coro_ctx_create_opts(&o, "copy-fds");
    assert_non_null(ctx);
    coro_attr a = {.stack_mode = CORO_STACK_COPY};
    coro_t *r[PIPES];
    nread = 0;
    for (int i = 0; i < PIPES; i++) {
        assert_int_equal(pipe2(pipes[i], O_NONBLOCK), 0);
        r[i] = coro_create_ex(&a, fd_reader, (void *)(intptr_t)i, "reader%d", i);
        assert_int_equal(coro_resume(r[i]), 0);
    }
    assert_non_null(coro_spawn_ex(&a, fd_writer, NULL, "writer"));
    assert_int_equal(coro_ctx_run(ctx), 0);
    for (int i = 0; i < PIPES; i++) {
        assert_int_equal(read_order[i], PIPES - 1 - i);
        assert_int_equal((intptr_t)coro_result(r[i]), 0);
        coro_destroy(r[i]);
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
    coro_ctx_destroy(ctx);
}

/* On io_uring the kernel keeps the request's addresses: a copy-mode
 * coroutine's fd wait there is refused, not moved. */
static void *uring_waiter(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)coro_wait_fd(pipes[0][0], CORO_WAIT_READ, 1000);
}

static void test_copy_fd_wait_on_uring_is_refused(void **state)
{
    (void)state;
    if (!copy_supported()) skip();
    coro_ctx_options o = {.backend = CORO_IO_URING};
    coro_ctx *ctx = coro_ctx_create_opts(&o, "copy-uring");
    if (!ctx || strcmp(coro_ctx_backend(ctx), "io_uring") != 0) {
        if (ctx) coro_ctx_destroy(ctx);
        skip();
    }
    assert_int_equal(pipe2(pipes[0], O_NONBLOCK), 0);
    coro_attr a = {.stack_mode = CORO_STACK_COPY};
    coro_t *w = coro_create_ex(&a, uring_waiter, NULL, "on-uring");
    assert_int_equal(coro_resume(w), 0);
    assert_int_equal(coro_get_state(w), CORO_DEAD);
    assert_int_equal((intptr_t)coro_result(w), -ENOTSUP);
    assert_non_null(strstr(coro_last_error(), "'on-uring' has a copy stack"));
    coro_destroy(w);
    close(pipes[0][0]);
    close(pipes[0][1]);
    coro_ctx_destroy(ctx);
}

static coro_mutex mu;
static coro_chan *ch;
static long counter;

/* Takes the mutex, yields holding it (the others queue behind it), and
 * adds to the counter: the mutex keeps it exact. */
static void *locker(void *arg)
{
    intptr_t n = (intptr_t)arg;
    for (intptr_t i = 0; i < n; i++) {
        if (coro_mutex_lock(&mu) != 0) return (void *)-1;
        long c = counter;
        coro_yield();
        counter = c + 1;
        coro_mutex_unlock(&mu);
    }
    return (void *)n;
}

/* Sends 1..n through the unbuffered channel from a variable on its stack:
 * the receiver copies out of this stack while it is saved off the shared one. */
static void *producer(void *arg)
{
    intptr_t n = (intptr_t)arg;
    for (int v = 1; v <= n; v++)
        if (coro_chan_send(ch, &v) != 0) return (void *)-1;
    coro_chan_close(ch);
    return (void *)n;
}

/* Receives into a variable on its stack, which a sender fills while this
 * coroutine's stack is saved off the shared one. */
static void *consumer(void *arg)
{
    (void)arg;
    volatile char pad[700];
    memset((char *)pad, 'c', sizeof pad);
    int v = 0, last = 0;
    intptr_t sum = 0;
    while (coro_chan_recv(ch, &v) == 0) {
        if (v <= last) return (void *)-1;
        last = v;
        sum += v;
    }
    for (size_t i = 0; i < sizeof pad; i++)
        if (pad[i] != 'c') return (void *)-2;
    return (void *)sum;
}

static void test_copy_waits_on_mutex_and_channel(void **state)
{
    (void)state;
    if (!copy_supported()) skip();
    coro_attr a = {.stack_mode = CORO_STACK_COPY};
    coro_mutex_init(&mu, "mu");
    counter = 0;
    for (int i = 0; i < 4; i++)
        assert_non_null(coro_spawn_ex(&a, locker, (void *)50, "locker%d", i));
    ch = coro_chan_create(sizeof(int), 0, "ints");
    assert_non_null(ch);
    coro_t *cons[2];
    for (int i = 0; i < 2; i++) {
        cons[i] = coro_create_ex(&a, consumer, NULL, "consumer%d", i);
        assert_int_equal(coro_resume(cons[i]), 0); /* waits in recv */
    }
    assert_non_null(coro_spawn_ex(&a, producer, (void *)(intptr_t)200, "producer"));
    assert_true(coro_run() > 0);
    assert_int_equal(counter, 200);
    assert_int_equal(coro_sync_blocked(), 0);
    /* The two consumers took turns: each got an increasing part of 1..200,
     * together all of it. */
    intptr_t sum = 0;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(coro_get_state(cons[i]), CORO_DEAD);
        assert_true((intptr_t)coro_result(cons[i]) > 0);
        sum += (intptr_t)coro_result(cons[i]);
        coro_destroy(cons[i]);
    }
    assert_int_equal(sum, 200 * 201 / 2);
    assert_int_equal(coro_chan_destroy(ch), 0);
    assert_int_equal(coro_mutex_destroy(&mu), 0);
}

/* Destroying a copy-mode coroutine that waits (saved off the shared stack,
 * or still on it) drops its wait: the heap, the thread's list and the
 * mutex's queue forget it, and the loop has nothing left to wait for.
 * Cancelling a saved one ends its sleep with -ECANCELED. */
static void *long_sleeper(void *arg)
{
    (void)arg;
    volatile char pad[300];
    memset((char *)pad, 's', sizeof pad);
    int rc = coro_sleep(60000);
    return (void *)(intptr_t)(pad[7] == 's' ? rc : -1);
}

static void test_copy_destroy_drops_wait(void **state)
{
    (void)state;
    if (!copy_supported()) skip();
    coro_ctx *ctx = coro_ctx_create("copy-destroy");
    coro_attr a = {.stack_mode = CORO_STACK_COPY};
    coro_mutex_init(&mu, "mu");
    coro_t *holder = coro_create_ex(&a, locker, (void *)1, "holder");
    coro_t *s[3], *w;
    assert_int_equal(coro_resume(holder), 0); /* holds mu, yielded */
    for (int i = 0; i < 3; i++) {
        s[i] = coro_create_ex(&a, long_sleeper, NULL, "long%d", i);
        assert_int_equal(coro_resume(s[i]), 0);
    }
    w = coro_create_ex(&a, locker, (void *)1, "queued");
    assert_int_equal(coro_resume(w), 0);     /* queued behind holder: the occupant */
    assert_int_equal(coro_destroy(s[0]), 0); /* saved: its record is in its copy */
    assert_int_equal(coro_cancel_wait(s[1]), 0);
    assert_int_equal(coro_destroy(w), 0); /* the occupant, waiting on mu */
    assert_int_equal(coro_destroy(s[2]), 0);
    assert_int_equal(coro_sync_blocked(), 0);
    assert_int_equal(coro_resume(holder), 0); /* unlocks: nobody queued */
    assert_int_equal(coro_get_state(holder), CORO_DEAD);
    int64_t t0 = coro_now_ms();
    assert_int_equal(coro_ctx_run(ctx), 0); /* runs s[1] to its -ECANCELED; no timer left */
    assert_true(coro_now_ms() - t0 < 30000);
    assert_int_equal(coro_get_state(s[1]), CORO_DEAD);
    assert_int_equal((intptr_t)coro_result(s[1]), -ECANCELED);
    coro_destroy(s[1]);
    coro_destroy(holder);
    assert_int_equal(coro_mutex_destroy(&mu), 0);
    coro_ctx_destroy(ctx);
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
        cmocka_unit_test(test_copy_sleepers_wake_in_order),
        cmocka_unit_test(test_copy_waits_on_fds),
        cmocka_unit_test(test_copy_fd_wait_on_uring_is_refused),
        cmocka_unit_test(test_copy_waits_on_mutex_and_channel),
        cmocka_unit_test(test_copy_destroy_drops_wait),
        cmocka_unit_test(test_settings_from_threads),
    };
    return cmocka_run_group_tests_name("stack_modes", tests, NULL, NULL);
}
