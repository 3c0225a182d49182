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

/* Switch from `from` (running) to `to`, for coroutines with a slab or copy
 * stack on either side. */
void coro__stack_switch_slow(coro_t *from, coro_t *to);

static inline __attribute__((always_inline)) void coro__stack_switch(coro_t *from, coro_t *to)
{
    if (__builtin_expect(from->stack.mode | to->stack.mode, 0))
        coro__stack_switch_slow(from, to);
    else
        coro__ctx_switch(&from->ctx, &to->ctx);
}

#endif /* CORO_SRC_STACK_SWITCH_H */
