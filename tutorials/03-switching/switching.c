/*
 * Chapter 3: three ways to switch: setjmp/longjmp, ucontext, and assembly
 * (a miniature of corolib's), timed side by side, with corolib's own.
 *   tutorial_switching            time all of them
 *   tutorial_switching ucontext   three ucontext round trips (for strace)
 *   tutorial_switching asm        three assembly round trips (for strace)
 *   tutorial_switching small      ping and pong, corolib (for the trace)
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "coro/coro.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

enum { STACK = 64 * 1024 };

/* ---- 1. setjmp/longjmp: a jump back up to a frame that is still alive - */

static double setjmp_ns(long rounds)
{
    jmp_buf here;
    volatile long i = 0;
    double t0 = now_ns();
    setjmp(here); /* saves registers; a longjmp comes back here */
    if (++i < rounds) longjmp(here, 1);
    return (now_ns() - t0) / (double)rounds;
}

/* ---- 2. ucontext: main and a context on its own stack, swapping ------- */

static ucontext_t main_uc, pong_uc;

static void uc_pong(void)
{
    for (;;) swapcontext(&pong_uc, &main_uc); /* saves here, restores main */
}

static double ucontext_ns(long rounds)
{
    char *stack = malloc(STACK);
    getcontext(&pong_uc);
    pong_uc.uc_stack.ss_sp = stack;
    pong_uc.uc_stack.ss_size = STACK;
    pong_uc.uc_link = NULL;
    makecontext(&pong_uc, uc_pong, 0);
    double t0 = now_ns();
    for (long i = 0; i < rounds; i++) swapcontext(&main_uc, &pong_uc);
    double t = (now_ns() - t0) / (2.0 * rounds);
    free(stack);
    return t;
}

/* ---- 3. assembly: what the ABI says a callee must keep, and nothing else */

#if defined(__x86_64__)
/* void mini_switch(void **save_sp, void *to_sp): push the callee-saved
 * registers and the FPU control words, store sp, load the other sp, pop. */
void mini_switch(void **save_sp, void *to_sp);
__asm__(".text\n"
        ".globl mini_switch\n"
        ".type mini_switch, @function\n"
        "mini_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n" /* SSE rounding mode and exception masks */
        "    fnstcw 4(%rsp)\n" /* x87 control word: precision and rounding */
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n" /* the switch: now on the other stack */
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n" /* to where the other side called mini_switch */
        ".size mini_switch, .-mini_switch\n");

/* The same, with corolib's two refinements: load a control word only if it
 * differs (ldmxcsr and fldcw are slow, serialising instructions), and
 * continue with pop + jmp instead of ret (a ret is predicted from the
 * return stack buffer, which holds the caller on the *other* stack). */
void mini_switch_fast(void **save_sp, void *to_sp);
__asm__(".text\n"
        ".globl mini_switch_fast\n"
        ".type mini_switch_fast, @function\n"
        "mini_switch_fast:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movl (%rsp), %eax\n"
        "    movzwl 4(%rsp), %edx\n"
        "    movq %rsi, %rsp\n"
        "    cmpl (%rsp), %eax\n"
        "    je 1f\n"
        "    ldmxcsr (%rsp)\n"
        "1:  cmpw 4(%rsp), %dx\n"
        "    je 2f\n"
        "    fldcw 4(%rsp)\n"
        "2:  addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    popq %r11\n"
        "    jmpq *%r11\n"
        ".size mini_switch_fast, .-mini_switch_fast\n");

static void *main_sp, *pong_sp;

static void asm_pong(void)
{
    for (;;) mini_switch(&pong_sp, main_sp);
}

static void asm_pong_fast(void)
{
    for (;;) mini_switch_fast(&pong_sp, main_sp);
}

/* A new stack, laid out as if asm_pong had called mini_switch: the frame
 * mini_switch pops, then asm_pong's address for its `ret`. */
static void *asm_stack(char *stack, void (*entry)(void))
{
    uintptr_t top = ((uintptr_t)stack + STACK) & ~(uintptr_t)15; /* 16-byte aligned */
    uint64_t *sp = (uint64_t *)top - 1;
    *sp = 0; /* entry's return address: it never returns (if it did: a crash at 0) */
    *--sp = (uint64_t)(uintptr_t)entry;    /* ret pops it: entry starts with sp % 16 == 8 */
    for (int r = 0; r < 6; r++) *--sp = 0; /* rbp, rbx, r12-r15 */
    *--sp = 0;
    __asm__ volatile("stmxcsr (%0)\n fnstcw 4(%0)" : : "r"(sp) : "memory"); /* ours */
    return sp;
}

static double asm_ns(long rounds, bool fast)
{
    char *stack = malloc(STACK);
    pong_sp = asm_stack(stack, fast ? asm_pong_fast : asm_pong);
    double t0 = now_ns();
    if (fast)
        for (long i = 0; i < rounds; i++) mini_switch_fast(&main_sp, pong_sp);
    else
        for (long i = 0; i < rounds; i++) mini_switch(&main_sp, pong_sp);
    double t = (now_ns() - t0) / (2.0 * rounds);
    free(stack);
    return t;
}
#endif

/* ---- 4. corolib: the same round trip, with its bookkeeping ------------ */

static void *coro_pong(void *arg)
{
    (void)arg;
    for (;;) coro_yield();
    return NULL;
}

static coro_t *pong_c;

/* The small traced run: ping resumes pong twice, then yields. */
static void *ping_fn(void *arg)
{
    (void)arg;
    coro_resume(pong_c);
    coro_resume(pong_c);
    coro_yield();
    return NULL;
}

static void small_run(void)
{
    coro_t *ping;
    pong_c = coro_create(coro_pong, NULL, "pong");
    ping = coro_create(ping_fn, NULL, "ping");
    coro_resume(ping);
    coro_resume(ping);
    coro_destroy(ping);
    coro_destroy(pong_c);
}

static double corolib_ns(long rounds)
{
    coro_t *c = coro_create(coro_pong, NULL, "pong");
    double t0 = now_ns();
    for (long i = 0; i < rounds; i++) coro_resume(c);
    double t = (now_ns() - t0) / (2.0 * rounds);
    coro_destroy(c);
    return t;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : "";
    if (!strcmp(only, "ucontext")) return ucontext_ns(3), 0;
#if defined(__x86_64__)
    if (!strcmp(only, "asm")) return asm_ns(3, true), 0;
#endif
    if (!strcmp(only, "small")) return small_run(), 0;

    enum { RUNS = 5, ROUNDS = 200000 };
    double t[5][RUNS];
    for (int r = 0; r < RUNS; r++) { /* taking turns, so noise hits all four alike */
        t[0][r] = setjmp_ns(ROUNDS);
        t[1][r] = ucontext_ns(ROUNDS);
#if defined(__x86_64__)
        t[2][r] = asm_ns(ROUNDS, false);
        t[3][r] = asm_ns(ROUNDS, true);
#else
        t[2][r] = t[3][r] = 0;
#endif
        t[4][r] = corolib_ns(ROUNDS);
    }
    double m[5];
    for (int k = 0; k < 5; k++) {
        qsort(t[k], RUNS, sizeof t[k][0], by_value);
        m[k] = t[k][RUNS / 2];
    }
    printf("per switch, median of %d runs of %d round trips\n", RUNS, ROUNDS);
    printf("  setjmp/longjmp (one jump up)   %6.1f ns\n", m[0]);
    printf("  ucontext swapcontext           %6.1f ns\n", m[1]);
    printf("  assembly, mini_switch          %6.1f ns\n", m[2]);
    printf("  assembly, mini_switch_fast     %6.1f ns\n", m[3]);
    printf("  corolib coro_resume/yield      %6.1f ns\n", m[4]);
    int slowest = 1;
    for (int k = 2; k < 5; k++)
        if (m[k] > m[slowest]) slowest = k;
    printf("the slowest switch: %s\n", slowest == 1 ? "ucontext" : "not ucontext (unexpected)");
    return 0;
}
