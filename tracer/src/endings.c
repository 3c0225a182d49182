/*
 * endings.c - how a traced run ends when it does not return from main.
 *
 * SIGINT, SIGTERM and SIGHUP (when the program left them at their default
 * action) complete the trace with its end record, then the signal is raised
 * again with its default action: the program dies as it would have, and the
 * shell sees the same status.
 *
 * SIGSEGV, SIGBUS, SIGFPE and SIGABRT record a `crash` event (which signal,
 * the running coroutine, the fault address), then the handler that was
 * there before (the default action, or the program's, or corolib's guard-
 * page handler if it came first) gets the signal. A handler installed after
 * this one (corolib's guard-page handler) passes faults that are not stack
 * overflows on to it.
 *
 * A child forked by a traced program does not write into its parent's
 * trace.
 */
#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "sink.h"

/* The coroutine running on this thread, from corolib (trace_running.c);
 * absent when the tracer is linked without the runtime. */
void coro__trace_running(coro_trace_ref *co, int *depth) __attribute__((weak));

static const int ending_signals[] = {SIGINT, SIGTERM, SIGHUP};
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGABRT};
static struct sigaction previous[65];

static void on_ending(int sig)
{
    bool locked = coro__signal_lock();
    coro__trace_end_in_handler(sig);
    coro__signal_unlock(locked);
    signal(sig, SIG_DFL);
    raise(sig); /* blocked until this handler returns, then the default action */
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    case SIGABRT:
        return "SIGABRT";
    default:
        return "signal";
    }
}

/* "SIGSEGV at 0x0", without printf (we are in a signal handler). */
static void describe(char *out, size_t cap, int sig, uintptr_t addr)
{
    static const char hex[] = "0123456789abcdef";
    const char *n = signal_name(sig);
    size_t len = strlen(n);
    memcpy(out, n, len);
    memcpy(out + len, " at 0x", 6);
    len += 6;
    char tmp[20];
    int i = 0;
    do {
        tmp[i++] = hex[addr & 15];
        addr >>= 4;
    } while (addr);
    while (i && len + 1 < cap) out[len++] = tmp[--i];
    out[len] = 0;
}

static void on_crash(int sig, siginfo_t *info, void *uctx)
{
    int saved_errno = errno;
    char detail[64];
    uintptr_t addr = sig == SIGABRT ? 0 : (uintptr_t)info->si_addr;
    describe(detail, sizeof detail, sig, addr);
    coro_trace_ev ev = {.kind = CORO_EV_CRASH, .detail = detail, .value = sig, .addr = addr};
    ev.has = CORO_EVH_VALUE | CORO_EVH_ADDR;
    if (coro__trace_running) {
        int depth = -1;
        coro__trace_running(&ev.co, &depth);
        if (depth >= 0) {
            ev.depth = depth;
            ev.has |= CORO_EVH_DEPTH;
        }
    }
    bool locked = coro__signal_lock();
    coro__trace_emit_in_handler(&ev);
    coro__signal_unlock(locked);

    /* Hand the signal to whoever had it before us. */
    struct sigaction *old = &previous[sig];
    sigaction(sig, old, NULL);
    errno = saved_errno;
    if (old->sa_handler == SIG_IGN) return;
    if (old->sa_handler != SIG_DFL) {
        if (old->sa_flags & SA_SIGINFO)
            old->sa_sigaction(sig, info, uctx);
        else
            old->sa_handler(sig);
        return;
    }
    /* Default action: a fault happens again when we return; a signal that
     * was sent (kill, abort) is raised again. */
    if (info->si_code <= 0 || sig == SIGABRT) raise(sig);
}

static void in_child(void)
{
    coro__trace_forget_in_child();
}

void coro__endings_install(void)
{
    struct sigaction sa, old;
    for (size_t i = 0; i < sizeof ending_signals / sizeof *ending_signals; i++) {
        int sig = ending_signals[i];
        if (sigaction(sig, NULL, &old) || old.sa_handler != SIG_DFL) continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_ending;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, NULL);
    }
    for (size_t i = 0; i < sizeof crash_signals / sizeof *crash_signals; i++) {
        int sig = crash_signals[i];
        if (sigaction(sig, NULL, &old) || old.sa_handler == SIG_IGN) continue;
        previous[sig] = old;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_crash;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, NULL);
    }
    pthread_atfork(NULL, NULL, in_child);
}
