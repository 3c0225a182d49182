/*
 * overflow.c - naming the coroutine that overflowed its stack.
 *
 * A coroutine that runs past the bottom of its stack touches the guard
 * region and gets SIGSEGV. The signal cannot be handled on the stack that
 * just overflowed, so each thread that runs coroutines gets an alternate
 * signal stack (sigaltstack) and the handler runs there with SA_ONSTACK.
 *
 * The handler is async-signal-safe and owes nothing to the rest of the
 * process: it formats into a local buffer, writes with the raw write system
 * call (a preloaded libcorohook interposes the libc `write`, and could try
 * to suspend a coroutine inside a signal handler), and allocates nothing.
 *
 * A fault is an overflow of the running coroutine when the address is in
 * its guard region, or when its stack pointer is below its stack (a frame
 * larger than the guard, in code built without -fstack-clash-protection,
 * jumped over the guard). Any other fault is passed to the handler that was
 * installed before ours, which stays in place for the next one.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "coro_int.h"

static struct sigaction old_segv, old_bus;
static pthread_once_t once = PTHREAD_ONCE_INIT;
#define ALT_STACK_SIZE (64 * 1024)
static _Thread_local void *alt_stack;

typedef struct {
    char buf[768];
    size_t len;
} msg;

static void put(msg *m, const char *s)
{
    while (*s && m->len < sizeof m->buf - 1) m->buf[m->len++] = *s++;
}

static void put_num(msg *m, uintptr_t v, int base)
{
    char tmp[32];
    int i = 0;
    do {
        tmp[i++] = "0123456789abcdef"[v % (uintptr_t)base];
        v /= (uintptr_t)base;
    } while (v);
    if (base == 16) put(m, "0x");
    while (i) {
        char c[2] = {tmp[--i], 0};
        put(m, c);
    }
}

void coro__die_overrun(const coro_t *co, coro__overrun how, uintptr_t addr)
{
    static const char *const mode[] = {"guarded", "slab", "copy"};
    uintptr_t lo = (uintptr_t)co->stack.lo;
    msg m = {.len = 0};
    put(&m, "coroscope: stack overflow in coroutine '");
    put(&m, co->named.name);
    put(&m, "' (id ");
    put_num(&m, (uintptr_t)co->named.id, 10);
    put(&m, ", ");
    put(&m, mode[co->stack.mode < 3 ? co->stack.mode : 0]);
    put(&m, " stack): its stack is ");
    put_num(&m, co->stack.size, 10);
    put(&m, " bytes [");
    put_num(&m, lo, 16);
    put(&m, "-");
    put_num(&m, lo + co->stack.size, 16);
    put(&m, "), ");
    switch (how) {
    case CORO__OVERRUN_GUARD:
        put(&m, "fault at ");
        put_num(&m, addr, 16);
        put(&m, " in the guard region");
        break;
    case CORO__OVERRUN_JUMP:
        put(&m, "fault at ");
        put_num(&m, addr, 16);
        put(&m, ", ");
        put_num(&m, lo - addr, 10);
        put(&m, " bytes below it: a frame bigger than the ");
        put_num(&m, coro__stack_guard(&co->stack), 10);
        put(&m, "-byte guard jumped over it (build with -fstack-clash-protection, "
                "or raise coro_attr.guard_size)");
        break;
    case CORO__OVERRUN_CANARY:
        put(&m, "the canary at its low end was overwritten (found when it switched away)");
        break;
    case CORO__OVERRUN_SP:
        put(&m, "its stack pointer was ");
        put_num(&m, lo > addr ? lo - addr : 0, 10);
        put(&m, " bytes below it when it switched away");
        break;
    }
    put(&m, ". Give it a larger stack (coro_attr.stack_size or coro_set_default_stack_size) "
            "or move big arrays off the stack.\n");
    syscall(SYS_write, STDERR_FILENO, m.buf, m.len);
    abort();
}

static uintptr_t fault_sp(void *uc)
{
    const ucontext_t *u = uc;
#if defined(__x86_64__)
    return (uintptr_t)u->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)u->uc_mcontext.sp;
#else
    (void)u;
    return 0;
#endif
}

/* Hand a fault that is not ours to whoever handled it before us. */
static void pass_on(int sig, siginfo_t *si, void *uc)
{
    const struct sigaction *old = sig == SIGSEGV ? &old_segv : &old_bus;
    if (old->sa_flags & SA_SIGINFO) {
        old->sa_sigaction(sig, si, uc);
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
    } else {
        /* The default action: the faulting instruction runs again with the
         * default disposition and the process dies of this signal, as it
         * would have without us. A synchronous fault cannot be ignored. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, NULL);
    }
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    coro_t *co = coro__t.ready ? coro__t.current : NULL;
    uintptr_t addr = (uintptr_t)si->si_addr;
    if (co && !co->is_main && co->stack.lo) {
        uintptr_t lo = (uintptr_t)co->stack.lo;
        uintptr_t guard = coro__stack_guard(&co->stack);
        uintptr_t sp = fault_sp(uc);
        if (guard && addr >= lo - guard && addr < lo)
            coro__die_overrun(co, CORO__OVERRUN_GUARD, addr);
        /* Below the guard, but the stack pointer went there too: a frame
         * that skipped the guard (the fault is at or just below sp). */
        if (sp && sp < lo && addr < lo && addr + 65536 >= sp && sp + ((uintptr_t)1 << 32) > lo)
            coro__die_overrun(co, CORO__OVERRUN_JUMP, addr);
    }
    pass_on(sig, si, uc);
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
}

void coro__overflow_thread_init(void)
{
    /* Also under the sanitizers: their handlers know the stack overflowed
     * but not which coroutine it was. */
    pthread_once(&once, install);
    if (alt_stack) return;
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE)) return; /* user's own */
    size_t size = ALT_STACK_SIZE;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    stack_t ss = {.ss_sp = p, .ss_size = size, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(p, size);
        return;
    }
    alt_stack = p;
}

void coro__overflow_thread_fini(void)
{
    if (!alt_stack) return;
    stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(alt_stack, ALT_STACK_SIZE);
    alt_stack = NULL;
}
