/*
 * stack_switch.h - the stack modes' part of every switch (internal).
 *
 * Guarded stacks need nothing at a switch; the test below is the whole cost
 * they pay for the other modes (one load, one or, one branch). A slab stack
 * has its canary checked when control leaves it, and a copy-mode coroutine
 * may need its saved stack copied back onto the shared stack before it runs
 * (stack_copy.c).
 */
#ifndef CORO_SRC_STACK_SWITCH_H
#define CORO_SRC_STACK_SWITCH_H

#include "coro_int.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
/* memcheck calls stack bytes once used and given back unaddressable */
#define CORO__VALGRIND_CANARY(w) VALGRIND_MAKE_MEM_DEFINED((w), 2 * sizeof *(w))
#endif
#endif

/* Switch from `from` (running) to `to` when either has a copy-mode stack. */
void coro__stack_switch_slow(coro_t *from, coro_t *to);

/* A slab coroutine about to switch away: its canary intact, and its stack
 * pointer (here, in its own frame) above it? Inline: a call here would cost
 * more than the check, and its return after the switch would mispredict. */
static inline __attribute__((always_inline)) const char *coro__sp_now(void)
{
    const char *sp;
#if defined(__x86_64__)
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
#elif defined(__aarch64__)
    __asm__ volatile("mov %0, sp" : "=r"(sp));
#else
    sp = __builtin_frame_address(0); /* forces a frame pointer: slower */
#endif
    return sp;
}

static inline __attribute__((always_inline)) void coro__slab_check(coro_t *co)
{
    const uint64_t *w = co->stack.lo;
#ifdef CORO__VALGRIND_CANARY
    CORO__VALGRIND_CANARY(w);
#endif
    if (__builtin_expect(coro__sp_now() < (const char *)(w + 2) || w[0] != coro__canary(w, 0) ||
                             w[1] != coro__canary(w, 1),
                         0))
        coro__slab_overrun(co);
}

static inline __attribute__((always_inline)) void coro__stack_switch(coro_t *from, coro_t *to)
{
    if (__builtin_expect(from->stack.mode | to->stack.mode, 0)) {
        /* Read the modes again here, so that the test above stays three
         * instructions instead of keeping one in a register for later. */
        __asm__ volatile("" ::: "memory");
        if (from->stack.mode == CORO__SLAB) coro__slab_check(from);
        if ((from->stack.mode | to->stack.mode) & CORO__COPY) {
            coro__stack_switch_slow(from, to);
            return;
        }
    }
    coro__ctx_switch(&from->ctx, &to->ctx);
}

#endif /* CORO_SRC_STACK_SWITCH_H */
