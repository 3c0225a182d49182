/*
 * switch_ucontext.c - the portable backend: glibc's makecontext and
 * swapcontext.
 *
 * Slower than the assembly: swapcontext saves and restores the signal mask
 * with a rt_sigprocmask system call on every switch, and copies the whole
 * ucontext_t (about 1 KB with the floating-point area). It is here because
 * it works wherever glibc does, and as a reference the assembly is tested
 * against.
 *
 * makecontext passes only int arguments to the function it starts, so the
 * entry function and its argument, both pointers, travel split into 32-bit
 * halves.
 */
#include <stdint.h>
#include <stdlib.h>

#include "switch.h"

static void start(unsigned fn_hi, unsigned fn_lo, unsigned arg_hi, unsigned arg_lo)
{
    coro__entry_fn fn = (coro__entry_fn)(((uintptr_t)fn_hi << 16 << 16) | fn_lo);
    void *arg = (void *)(((uintptr_t)arg_hi << 16 << 16) | arg_lo);
    fn(arg);
    abort(); /* an entry never returns */
}

void coro__ctx_init(coro__ctx *ctx, void *stack_lo, size_t size, coro__entry_fn entry, void *arg)
{
    if (getcontext(&ctx->uc) != 0) abort();
    ctx->uc.uc_stack.ss_sp = stack_lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    uintptr_t f = (uintptr_t)entry, a = (uintptr_t)arg;
    makecontext(&ctx->uc, (void (*)(void))start, 4, (unsigned)(f >> 16 >> 16), (unsigned)f,
                (unsigned)(a >> 16 >> 16), (unsigned)a);
}

void coro__ctx_switch(coro__ctx *from, coro__ctx *to)
{
    if (swapcontext(&from->uc, &to->uc) != 0) abort();
}
