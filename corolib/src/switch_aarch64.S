/*
 * switch_aarch64.S - context switch for AArch64 (AAPCS64).
 *
 * coro__switch_asm(void **from_sp, void *to_sp)
 *
 * Saves the callee-saved registers x19-x28, the frame pointer x29, the
 * link register x30 (where to continue), the low halves d8-d15 of v8-v15,
 * and FPCR (rounding mode and trap enables), so each coroutine has its own
 * floating-point control state.
 *
 * Frame (176 bytes) on a suspended coroutine's stack, from its saved sp:
 *   [0]   x19 x20 ... x28 x29 x30   (96 bytes)
 *   [96]  d8 ... d15                 (64 bytes)
 *   [160] FPCR, pad
 *
 * It continues with `br x30` rather than `ret`: `ret` is predicted from the
 * return stack, which holds the caller of this coroutine's switch, not the
 * other coroutine's, so it would mispredict on every switch. `br` to an
 * address that is not a BTI landing pad would fault in a BTI-guarded
 * process; this file carries no BTI property note, so the linker marks any
 * program containing it as not BTI-compatible and the pages stay unguarded.
 *
 * FPCR is written only when it differs: an `msr fpcr` is serialising on
 * many cores, and coroutines nearly always share one value.
 */
    .text
    .globl  coro__switch_asm
    .hidden coro__switch_asm
    .type   coro__switch_asm, %function
    .p2align 4
coro__switch_asm:
    .cfi_startproc
    sub     sp, sp, #176
    .cfi_adjust_cfa_offset 176
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    .cfi_rel_offset x29, 80
    .cfi_rel_offset x30, 88
    stp     d8, d9, [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mrs     x9, fpcr
    str     x9, [sp, #160]
    mov     x9, sp
    str     x9, [x0]

    /* The other context's frame has the same layout, so the CFI above
     * describes it as well. */
    mov     sp, x1
    ldr     x10, [sp, #160]
    cmp     x9, x10
    b.eq    1f
    msr     fpcr, x10
1:
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8, d9, [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    add     sp, sp, #176
    .cfi_adjust_cfa_offset -176
    br      x30
    .cfi_endproc
    .size   coro__switch_asm, .-coro__switch_asm

/* First code of every coroutine: x19 = argument, x20 = entry function. */
    .globl  coro__trampoline
    .hidden coro__trampoline
    .type   coro__trampoline, %function
    .p2align 4
coro__trampoline:
    .cfi_startproc
    .cfi_undefined x30      /* the outermost frame: debuggers stop here */
    mov     x29, #0
    mov     x0, x19
    blr     x20
    bl      abort
    brk     #0
    .cfi_endproc
    .size   coro__trampoline, .-coro__trampoline

    .section .note.GNU-stack,"",%progbits
