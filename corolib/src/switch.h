/*
 * switch.h - the context-switch backend interface.
 *
 * A context is the machine state a suspended coroutine needs to continue:
 * its stack pointer (the asm backends push everything else onto the stack
 * itself) or a glibc ucontext_t. Exactly one backend is compiled in, chosen
 * at configure time with -DCORO_SWITCH=asm|ucontext:
 *
 *   switch_x86_64.S    System V x86-64: rbx rbp r12-r15, MXCSR, x87 CW
 *   switch_aarch64.S   AAPCS64: x19-x30, d8-d15, FPCR
 *   switch_ucontext.c  glibc makecontext/swapcontext (portable, slower:
 *                      swapcontext makes a sigprocmask system call)
 *
 * The rest of the runtime sees only the three functions below.
 */
#ifndef CORO_SRC_SWITCH_H
#define CORO_SRC_SWITCH_H

#include <stddef.h>

#if defined(CORO_SWITCH_UCONTEXT)
#include <ucontext.h>
typedef struct coro__ctx {
    ucontext_t uc;
} coro__ctx;
#else
typedef struct coro__ctx {
    void *sp; /* saved stack pointer; registers live on the stack below it */
} coro__ctx;
#endif

/* The first code a new context runs. It must never return: a coroutine
 * ends by switching away for the last time. */
typedef void (*coro__entry_fn)(void *arg);

/*
 * Prepare ctx so that the first switch into it calls entry(arg) on the
 * stack [stack_lo, stack_lo + size). The stack grows down from the top;
 * the caller keeps any guard page below stack_lo.
 */
void coro__ctx_init(coro__ctx *ctx, void *stack_lo, size_t size, coro__entry_fn entry, void *arg);

#if defined(CORO_SWITCH_UCONTEXT)
void coro__ctx_switch(coro__ctx *from, coro__ctx *to);
#else
/* Implemented in assembly: saves the callee-saved registers and the
 * floating-point control state on the current stack, stores the stack
 * pointer in *from_sp, loads to_sp, restores and continues there. */
void coro__switch_asm(void **from_sp, void *to_sp);

static inline void coro__ctx_switch(coro__ctx *from, coro__ctx *to)
{
    coro__switch_asm(&from->sp, to->sp);
}
#endif

#endif /* CORO_SRC_SWITCH_H */
