/*
 * switch_x86_64.S - context switch for x86-64, System V ABI.
 *
 * coro__switch_asm(void **from_sp, void *to_sp)
 *
 * Saves what the ABI says a called function must preserve: rbx, rbp,
 * r12-r15, and the floating-point control state (MXCSR's rounding mode and
 * exception masks, the x87 control word), so a coroutine that changes the
 * rounding mode does not change it for the others. MXCSR's exception status
 * flags are not switched: they belong to the thread (see below). Everything else is
 * caller-saved: the compiler already assumes a call clobbers it.
 *
 * Frame left on a suspended coroutine's stack, from its saved sp upward:
 *   [sp+0]  MXCSR (4 bytes), x87 control word (2 bytes), pad
 *   [sp+8]  r15, r14, r13, r12, rbx, rbp
 *   [sp+56] the address to continue at
 *
 * It ends by popping the continue address and jumping to it instead of
 * `ret`: a `ret` is predicted from the return stack buffer, which holds the
 * caller of *this* coroutine's switch, so it mispredicts on every switch
 * (measured here: about 4x slower per round trip with ret; numbers in
 * docs/switch.md).
 */
    .text
    .globl  coro__switch_asm
    .hidden coro__switch_asm
    .type   coro__switch_asm, @function
    .p2align 4
coro__switch_asm:
    .cfi_startproc
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset rbp, 0
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset rbx, 0
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r12, 0
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r13, 0
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r14, 0
    pushq   %r15
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r15, 0
    subq    $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)
    movl    (%rsp), %eax        /* this side's MXCSR and x87 CW, to compare */
    movzwl  4(%rsp), %edx

    /* The other context's frame has the same layout, so the CFI above
     * describes it too, and a debugger can unwind out of either half. */
    movq    %rsi, %rsp
    /* Load the other side's control state only if it differs: ldmxcsr of
     * a new value is a slow, serialising instruction (measured here: 59 ns
     * per round trip instead of 4 when the two values differ). Only the
     * control bits count (rounding, masks, DAZ, FZ: 0xffc0); the sticky
     * exception flags (bits 0-5) stay with the thread, as they would if
     * the coroutines were one thread's calls. */
    movl    (%rsp), %ecx
    xorl    %eax, %ecx
    testl   $0xffc0, %ecx
    jz      1f
    ldmxcsr (%rsp)
1:  cmpw    4(%rsp), %dx
    je      2f
    fldcw   4(%rsp)
2:  addq    $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq    %r15
    .cfi_adjust_cfa_offset -8
    .cfi_restore r15
    popq    %r14
    .cfi_adjust_cfa_offset -8
    .cfi_restore r14
    popq    %r13
    .cfi_adjust_cfa_offset -8
    .cfi_restore r13
    popq    %r12
    .cfi_adjust_cfa_offset -8
    .cfi_restore r12
    popq    %rbx
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbx
    popq    %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbp
    popq    %rcx
    .cfi_adjust_cfa_offset -8
    .cfi_register rip, rcx
    jmpq    *%rcx
    .cfi_endproc
    .size   coro__switch_asm, .-coro__switch_asm

/*
 * The first code of every coroutine: coro__ctx_init() leaves the argument
 * in r12 and the entry function in r13. The stack is 16-byte aligned here,
 * as the ABI requires before a call. The entry never returns.
 */
    .globl  coro__trampoline
    .hidden coro__trampoline
    .type   coro__trampoline, @function
    .p2align 4
coro__trampoline:
    .cfi_startproc
    .cfi_undefined rip      /* the outermost frame: debuggers stop here */
    xorl    %ebp, %ebp
    movq    %r12, %rdi
    callq   *%r13
    call    abort@PLT
    ud2
    .cfi_endproc
    .size   coro__trampoline, .-coro__trampoline

    .section .note.GNU-stack,"",@progbits
