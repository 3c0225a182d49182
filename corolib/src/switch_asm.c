/*
 * switch_asm.c - the initial frame of a new context for the assembly
 * backends (switch_x86_64.S, switch_aarch64.S).
 *
 * A new coroutine's stack is made to look as if it had been suspended by
 * coro__switch_asm just before running coro__trampoline: the first switch
 * into it restores the prepared registers and continues in the trampoline,
 * which calls entry(arg). The floating-point control state starts as the
 * creating thread's, as it would for a new thread.
 */
#include <stdint.h>
#include <string.h>

#include "switch.h"

void coro__trampoline(void);

void coro__ctx_init(coro__ctx *ctx, void *stack_lo, size_t size, coro__entry_fn entry, void *arg)
{
    uintptr_t top = ((uintptr_t)stack_lo + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
    /* After the switch pops the continue address, rsp = top - 16: aligned
     * for the trampoline's call. */
    uint64_t *sp = (uint64_t *)(top - 16 - 64);
    memset(sp, 0, 64 + 16);
    uint32_t mxcsr;
    uint16_t fpucw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpucw));
    memcpy((char *)sp, &mxcsr, 4);
    memcpy((char *)sp + 4, &fpucw, 2);
    sp[1] = 0;                          /* r15 */
    sp[2] = 0;                          /* r14 */
    sp[3] = (uint64_t)(uintptr_t)entry; /* r13 */
    sp[4] = (uint64_t)(uintptr_t)arg;   /* r12 */
    sp[5] = 0;                          /* rbx */
    sp[6] = 0;                          /* rbp */
    sp[7] = (uint64_t)(uintptr_t)coro__trampoline;
    ctx->sp = sp;
#elif defined(__aarch64__)
    uint64_t *sp = (uint64_t *)(top - 176);
    memset(sp, 0, 176);
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    sp[0] = (uint64_t)(uintptr_t)arg;               /* x19 */
    sp[1] = (uint64_t)(uintptr_t)entry;             /* x20 */
    sp[10] = 0;                                     /* x29 */
    sp[11] = (uint64_t)(uintptr_t)coro__trampoline; /* x30 */
    sp[20] = fpcr;
    ctx->sp = sp;
#else
#error "no assembly context switch for this architecture: configure with -DCORO_SWITCH=ucontext"
#endif
}
