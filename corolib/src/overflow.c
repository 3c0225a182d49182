/*
 * overflow.c - naming the coroutine that overflowed its stack.
 *
 * A coroutine that runs past the bottom of its stack touches the guard page
 * and gets SIGSEGV. The signal cannot be handled on the stack that just
 * overflowed, so each thread that runs coroutines gets an alternate signal
 * stack (sigaltstack) and the handler runs there with SA_ONSTACK.
 *
 * The handler uses only async-signal-safe calls (write, abort) and formats
 * numbers itself. A fault that is not in the running coroutine's guard page
 * is not ours: the previous disposition is restored and the faulting
 * instruction runs again, so the program dies (or is handled) as it would
 * have without us.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "coro_int.h"

static struct sigaction old_segv, old_bus;
static pthread_once_t once = PTHREAD_ONCE_INIT;
#define ALT_STACK_SIZE (64 * 1024)
static _Thread_local void *alt_stack;

typedef struct {
    char buf[512];
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

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    coro_t *co = coro__t.ready ? coro__t.current : NULL;
    uintptr_t addr = (uintptr_t)si->si_addr;
    if (co && !co->is_main && co->stack.map) {
        uintptr_t guard_lo = (uintptr_t)co->stack.map;
        uintptr_t guard_hi = (uintptr_t)co->stack.lo;
        /* A big frame can skip a little past the guard; count faults just
         * below it as overflows too. */
        if (addr >= guard_lo - 4096 && addr < guard_hi) {
            msg m = {.len = 0};
            put(&m, "coroscope: stack overflow in coroutine '");
            put(&m, co->named.name);
            put(&m, "' (id ");
            put_num(&m, (uintptr_t)co->named.id, 10);
            put(&m, "): its stack is ");
            put_num(&m, co->stack.size, 10);
            put(&m, " bytes [");
            put_num(&m, guard_hi, 16);
            put(&m, "-");
            put_num(&m, guard_hi + co->stack.size, 16);
            put(&m, "), fault at ");
            put_num(&m, addr, 16);
            put(&m, " in the guard page. Give it a larger stack (coro_attr.stack_size or "
                    "coro_set_default_stack_size) or move big arrays off the stack.\n");
            ssize_t r = write(STDERR_FILENO, m.buf, m.len);
            (void)r;
            abort();
        }
    }
    /* Not ours: put back what was there and let the fault happen again. */
    sigaction(sig, sig == SIGSEGV ? &old_segv : &old_bus, NULL);
    (void)uc;
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
