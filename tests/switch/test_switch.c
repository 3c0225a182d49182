/*
 * test_switch.c - the context-switch backend on its own, through switch.h.
 *
 * A cmocka test. Built with -DSWITCH_TEST_NO_CMOCKA it needs no library:
 * a small shim below stands in for the few cmocka calls used, so the same
 * file is cross-compiled for aarch64 and run under qemu-user, where cmocka
 * is not installed (tests/switch/aarch64.sh).
 */
#include <fenv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switch.h"

#if defined(SWITCH_TEST_NO_CMOCKA)
static int failed;
#define assert_true(c) check_shim(!!(c), #c, __FILE__, __LINE__)
#define assert_int_equal(a, b)                                                                     \
    check_shim((long long)(a) == (long long)(b), #a " == " #b, __FILE__, __LINE__)
#define assert_ptr_equal(a, b)                                                                     \
    check_shim((void *)(a) == (void *)(b), #a " == " #b, __FILE__, __LINE__)
static void check_shim(int ok, const char *what, const char *file, int line)
{
    if (!ok) {
        failed++;
        fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, what);
    }
}
struct CMUnitTest {
    const char *name;
    void (*fn)(void **);
};
#define cmocka_unit_test(f)                                                                        \
    {                                                                                              \
#f, f                                                                                      \
    }
static int run_tests(const struct CMUnitTest *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int before = failed;
        t[i].fn(NULL);
        printf("[%s] %s\n", failed == before ? "  OK  " : " FAIL ", t[i].name);
    }
    return failed ? 1 : 0;
}
#define cmocka_run_group_tests(t, a, b) run_tests(t, sizeof(t) / sizeof(t[0]))
#else
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#endif

#define STACK_SIZE (64 * 1024)

static coro__ctx main_ctx, co_ctx;
static char *stack;

static void *new_stack(void)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, STACK_SIZE) != 0) abort();
    memset(p, 0xcc, STACK_SIZE);
    return p;
}

/* ---- ping-pong: control and an argument get through ------------------- */

static long counter;
static void *seen_arg;

static void pinger(void *arg)
{
    seen_arg = arg;
    for (;;) {
        counter++;
        coro__ctx_switch(&co_ctx, &main_ctx);
    }
}

static void test_ping_pong(void **state)
{
    stack = new_stack();
    coro__ctx_init(&co_ctx, stack, STACK_SIZE, pinger, &counter);
    for (long i = 1; i <= 100000; i++) {
        coro__ctx_switch(&main_ctx, &co_ctx);
        if (counter != i) break;
    }
    assert_int_equal(counter, 100000);
    assert_ptr_equal(seen_arg, &counter);
    free(stack);
}

/* ---- alignment: the entry runs with the ABI's stack alignment ---------- */

static uintptr_t entry_frame, entry_fp;

static __attribute__((noinline)) void probe(void)
{
    _Alignas(16) volatile char local[16];
    entry_frame = (uintptr_t)local;
}

static void aligned_entry(void *arg)
{
    (void)arg;
    entry_fp = (uintptr_t)__builtin_frame_address(0);
    probe();
    coro__ctx_switch(&co_ctx, &main_ctx);
    abort();
}

static void test_alignment(void **state)
{
    stack = new_stack();
    coro__ctx_init(&co_ctx, stack, STACK_SIZE, aligned_entry, NULL);
    coro__ctx_switch(&main_ctx, &co_ctx);
    assert_int_equal(entry_frame % 16, 0);
    assert_int_equal(entry_fp % 16, 0); /* both ABIs keep the frame pointer 16-aligned */
    assert_true(entry_frame > (uintptr_t)stack && entry_frame < (uintptr_t)stack + STACK_SIZE);
    free(stack);
}

/* ---- callee-saved registers survive a round trip ------------------------ */

static void clobber(void *arg)
{
    (void)arg;
    for (;;) {
#if defined(__x86_64__)
        __asm__ volatile("mov $1, %%rbx\n\tmov $2, %%r12\n\tmov $3, %%r13\n\t"
                         "mov $4, %%r14\n\tmov $5, %%r15" ::
                             : "rbx", "r12", "r13", "r14", "r15");
#elif defined(__aarch64__)
        __asm__ volatile("mov x19, #1\n\tmov x20, #2\n\tmov x21, #3\n\tmov x28, #4\n\t"
                         "fmov d8, #1.0\n\tfmov d15, #2.0" ::
                             : "x19", "x20", "x21", "x28", "d8", "d15");
#endif
        coro__ctx_switch(&co_ctx, &main_ctx);
    }
}

static void test_callee_saved(void **state)
{
    stack = new_stack();
    coro__ctx_init(&co_ctx, stack, STACK_SIZE, clobber, NULL);
    /* Values pinned in callee-saved registers across the switch, which the
     * other side overwrites: only a correct save/restore keeps them. */
#if defined(__x86_64__)
    register long a __asm__("rbx") = 11, b __asm__("r12") = 22, c __asm__("r13") = 33,
                    d __asm__("r14") = 44, e __asm__("r15") = 55;
    register double x = 1.5, y = 2.5; /* x86-64 has no callee-saved vector registers */
#elif defined(__aarch64__)
    register long a __asm__("x19") = 11, b __asm__("x20") = 22, c __asm__("x21") = 33,
                    d __asm__("x28") = 44, e __asm__("x22") = 55;
    register double x __asm__("d8") = 1.5, y __asm__("d15") = 2.5;
#else
    long a = 11, b = 22, c = 33, d = 44, e = 55;
    double x = 1.5, y = 2.5;
#endif
    for (int i = 0; i < 1000; i++) {
        coro__ctx_switch(&main_ctx, &co_ctx);
        __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e));
#if defined(__aarch64__)
        __asm__ volatile("" : "+w"(x), "+w"(y));
#elif defined(__x86_64__)
        __asm__ volatile("" : "+x"(x), "+x"(y));
#endif
    }
    assert_true(a == 11 && b == 22 && c == 33 && d == 44 && e == 55);
    assert_true(x == 1.5 && y == 2.5);
    free(stack);
}

/* ---- floating-point control state is per context ------------------------ */

/*
 * The rounding mode that double arithmetic really uses. fegetround() reads
 * only one register (the x87 control word on x86-64), but double math runs
 * on SSE under MXCSR, so the switch must carry both: this observes the
 * second. 1/3 rounds down to nearest and 1/10 rounds up, so the four modes
 * give four different patterns.
 */
static int arith_round(void)
{
    volatile double one = 1.0, three = 3.0, ten = 10.0;
    double q3 = one / three, n3 = -one / three, q10 = one / ten;
    const double c3 = 0x1.5555555555555p-2, c10 = 0x1.999999999999ap-4; /* nearest */
    if (q3 > c3) return FE_UPWARD;
    if (q10 < c10) return n3 < -c3 ? FE_DOWNWARD : FE_TOWARDZERO;
    return FE_TONEAREST;
}

static int co_round_after, co_arith_after;

static void rounder(void *arg)
{
    (void)arg;
    fesetround(FE_UPWARD);
    coro__ctx_switch(&co_ctx, &main_ctx);
    co_round_after = fegetround();
    co_arith_after = arith_round();
    coro__ctx_switch(&co_ctx, &main_ctx);
    abort();
}

static void test_fp_control_per_context(void **state)
{
    stack = new_stack();
    assert_int_equal(fegetround(), FE_TONEAREST);
    assert_int_equal(arith_round(), FE_TONEAREST);
    coro__ctx_init(&co_ctx, stack, STACK_SIZE, rounder, NULL);
    coro__ctx_switch(&main_ctx, &co_ctx);
    /* the context's FE_UPWARD stayed there */
    assert_int_equal(fegetround(), FE_TONEAREST);
    assert_int_equal(arith_round(), FE_TONEAREST);
    fesetround(FE_TOWARDZERO);
    coro__ctx_switch(&main_ctx, &co_ctx);
    /* and ours stayed here */
    assert_int_equal(co_round_after, FE_UPWARD);
    assert_int_equal(co_arith_after, FE_UPWARD);
    assert_int_equal(fegetround(), FE_TOWARDZERO);
    assert_int_equal(arith_round(), FE_TOWARDZERO);
    fesetround(FE_TONEAREST);
    free(stack);
}

/* A new context starts with its creator's control state. */
static int inherited, inherited_arith;

static void report_round(void *arg)
{
    (void)arg;
    inherited = fegetround();
    inherited_arith = arith_round();
    coro__ctx_switch(&co_ctx, &main_ctx);
    abort();
}

static void test_fp_control_inherited(void **state)
{
    stack = new_stack();
    fesetround(FE_DOWNWARD);
    assert_int_equal(arith_round(), FE_DOWNWARD); /* the probe itself tells the modes apart */
    coro__ctx_init(&co_ctx, stack, STACK_SIZE, report_round, NULL);
    fesetround(FE_TONEAREST);
    coro__ctx_switch(&main_ctx, &co_ctx);
    assert_int_equal(inherited, FE_DOWNWARD);
    assert_int_equal(inherited_arith, FE_DOWNWARD);
    free(stack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_pong),
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_callee_saved),
        cmocka_unit_test(test_fp_control_per_context),
        cmocka_unit_test(test_fp_control_inherited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
