/*
 * trace.c - recording: sequence numbers, clocks, threads, the open sinks,
 * and switching tracing on from the environment.
 *
 * One mutex orders the text sinks: seq is assigned and the event written to
 * every sink under it, so the file's seq order is strictly increasing even
 * with many threads. Switched off, tracing costs the caller one branch
 * (CORO_TRACE_ON in trace.h) and this file is never entered.
 *
 * The live log is written line by line, so a terminal or a pipe shows each
 * event as it happens and a killed program leaves its log. The endings of a
 * run (a terminating signal, a crash) are in endings.c; they take the lock
 * through signal_lock(), which knows when the signal interrupted this very
 * thread inside the tracer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coro/trace_bin.h"
#include "sink.h"

volatile int coro_trace_active;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static coro__sink *json_sink, *log_sink;
/* The binary recorder (bin.c), read without the lock on every event. */
coro__bin *_Atomic coro__trace_bin;
/* The recorder a brief event goes straight to: coro__trace_bin while no
 * text sink is open, else none (bin.c's coro_trace_emit_brief). */
coro__bin *coro__brief_bin;
static char bin_path[4096];
/* Non-zero while a text sink (JSON, log) is open: those take the lock. */
static _Atomic int text_on;
static coro_trace_clock clock_kind = CORO_CLOCK_MONOTONIC;
/* CORO_TRACE_CLOCK=monotonic: a binary trace's ts from CLOCK_MONOTONIC too,
 * not from the CPU's counter */
static bool bin_monotonic;

void coro__trace_bin_monotonic(void)
{
    bin_monotonic = true;
}
static uint64_t seq, emitted, t0;
static unsigned threads;
static _Thread_local unsigned thread_no;
/* Set by any thread, read by opens outside the lock: relaxed, one
 * independent value (like corolib's process-wide settings, stack.c). */
static _Atomic size_t buffer_size = 64 * 1024;
static char program[256];
static bool exit_hook;
/* Set while this thread holds `lock`: a signal handler that interrupts it
 * must not wait for the lock (it would wait for itself). */
static _Thread_local volatile int holding;

static void take(void)
{
    pthread_mutex_lock(&lock);
    holding = 1;
}

static void give(void)
{
    holding = 0;
    pthread_mutex_unlock(&lock);
}

static const char *const kind_names[CORO_EV__COUNT] = {
    [CORO_EV_CREATE] = "create",         [CORO_EV_SPAWN] = "spawn",
    [CORO_EV_RESUME] = "resume",         [CORO_EV_SUSPEND] = "suspend",
    [CORO_EV_AWAIT] = "await",           [CORO_EV_WAKE] = "wake",
    [CORO_EV_FINISH] = "finish",         [CORO_EV_DESTROY] = "destroy",
    [CORO_EV_RENAME] = "rename",         [CORO_EV_LOG] = "log",
    [CORO_EV_EPOLL_WAIT] = "epoll_wait", [CORO_EV_EPOLL_DISPATCH] = "epoll_dispatch",
    [CORO_EV_TIMER] = "timer",           [CORO_EV_POST] = "post",
    [CORO_EV_ERROR] = "error",           [CORO_EV_CRASH] = "crash",
    [CORO_EV_SUBMIT] = "submit",         [CORO_EV_COMPLETE] = "complete",
};

const char *coro_ev_kind_name(coro_ev_kind kind)
{
    return (unsigned)kind < CORO_EV__COUNT ? kind_names[kind] : NULL;
}

int coro_ev_kind_parse(const char *name)
{
    for (int k = 0; k < CORO_EV__COUNT; k++)
        if (!strcmp(kind_names[k], name)) return k;
    return -1;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int coro_trace_describe(char *buf, size_t cap, const char *op, int fd, const char *obj)
{
    return fd >= 0 ? snprintf(buf, cap, "%s fd=%d", op, fd)
                   : snprintf(buf, cap, "%s %s", op, obj ? obj : "");
}

/* With the lock held. `stamped`: a numbered binary trace (a logical clock)
 * gave ev its seq and thread already (the log then shows the same numbers);
 * one ordered by time is numbered by its reader, in the same order. */
static void emit_locked(coro_trace_ev *ev, bool stamped)
{
    if (!json_sink && !log_sink) return;
    char detail[160];
    if (!ev->detail && ev->op) {
        coro_trace_describe(detail, sizeof detail, ev->op, ev->has & CORO_EVH_FD ? ev->fd : -1,
                            ev->obj.name);
        ev->detail = detail;
    }
    if (!thread_no) thread_no = ++threads;
    if (!stamped) {
        ev->seq = ++seq;
        ev->thread = thread_no;
    }
    ev->ts = clock_kind == CORO_CLOCK_LOGICAL ? ev->seq : mono_ns() - t0;
    emitted++;
    if (json_sink) coro__json_event(json_sink, ev);
    if (log_sink) {
        coro__log_event(log_sink, ev);
        coro__sink_flush(log_sink); /* live: one line as each event happens */
    }
}

void coro_trace_emit(coro_trace_ev *ev)
{
    coro__bin *b = atomic_load_explicit(&coro__trace_bin, memory_order_acquire);
    if (b) coro__bin_record(b, ev, false);
    if (atomic_load_explicit(&text_on, memory_order_relaxed)) {
        take();
        emit_locked(ev, b && ev->seq);
        give();
    }
}

/* The event a brief one stands for (trace.h), for the text sinks. */
void coro__trace_expand(const coro_trace_brief *e, coro_trace_ev *ev)
{
    *ev = (coro_trace_ev){.kind = e->kind,
                          .has = CORO_EVH_DEPTH,
                          .co = e->co,
                          .from = e->from,
                          .to = e->to,
                          .by = {e->by, NULL},
                          .cause = e->cause,
                          .reason = e->reason,
                          .depth = e->depth,
                          .file = e->file,
                          .line = e->line};
    if (e->by && e->by == e->from.id) ev->by = e->from;
}

void coro__trace_expand_then(const coro_trace_brief *e, coro_trace_ev *ev)
{
    *ev = (coro_trace_ev){.kind = CORO_EV_RESUME,
                          .has = CORO_EVH_DEPTH,
                          .co = e->to,
                          .from = e->co,
                          .to = e->to,
                          .cause = e->then,
                          .depth = e->then_depth};
}

/* A brief event while a text sink is open: the events it stands for. Out
 * of line, so that the binary path keeps no frame and jumps to the recorder. */
static __attribute__((noinline)) void brief_as_events(const coro_trace_brief *e)
{
    coro_trace_ev ev;
    coro__trace_expand(e, &ev);
    coro_trace_emit(&ev);
    if (e->then && e->kind == CORO_EV_SUSPEND) {
        coro__trace_expand_then(e, &ev);
        coro_trace_emit(&ev);
    }
}

/* A brief event that bin.c's coro_trace_emit_brief could not record at
 * once: a text sink is open, or the thread needs a chunk, or a string an
 * id. */
void coro__trace_brief_slow(const coro_trace_brief *e)
{
    coro__bin *b = atomic_load_explicit(&coro__trace_bin, memory_order_acquire);
    if (atomic_load_explicit(&text_on, memory_order_relaxed))
        brief_as_events(e);
    else if (b)
        coro__bin_brief_slow(b, e);
}

static void update_active(void)
{
    bool text = json_sink || log_sink;
    coro__bin *b = atomic_load(&coro__trace_bin);
    atomic_store(&text_on, text);
    __atomic_store_n(&coro__brief_bin, text ? NULL : b, __ATOMIC_RELEASE);
    __atomic_store_n(&coro_trace_active, text || b, __ATOMIC_RELAXED);
}

static void default_program(void)
{
    if (program[0]) return;
    /* Not /proc/self/comm: the kernel cuts that at 15 characters. */
    extern char *program_invocation_short_name;
    snprintf(program, sizeof program, "%s",
             program_invocation_short_name && *program_invocation_short_name
                 ? program_invocation_short_name
                 : "unknown");
}

static void at_exit(void)
{
    coro_trace_close();
}

static void start_clock(void)
{
    if (!json_sink && !log_sink) {
        t0 = mono_ns();
        seq = 0;
        emitted = 0;
    }
    if (!exit_hook) {
        exit_hook = true;
        atexit(at_exit);
        coro__endings_install();
    }
}

static void report_drops(const coro__sink *s, const char *what);
static void end_bin(int signal);

static int open_bin(const char *spec)
{
    char path[sizeof bin_path];
    uint64_t ring;
    int rc = coro__bin_parse(spec, path, sizeof path, &ring);
    if (rc) return rc;
    take();
    default_program();
    int ts = clock_kind == CORO_CLOCK_LOGICAL ? CORO_CTR_TS_LOGICAL
             : bin_monotonic                  ? CORO_CTR_TS_NS
                                              : CORO_CTR_TS_TSC;
    coro__bin *b = coro__bin_open(path, ring, program, ts, ts == CORO_CTR_TS_LOGICAL);
    if (!b) {
        rc = -errno;
        give();
        return rc;
    }
    start_clock();
    if (json_sink) { /* one trace at a time: the JSON one ends here */
        coro__json_end(json_sink, emitted, json_sink->dropped, 0);
        coro__sink_close(json_sink);
        json_sink = NULL;
    }
    end_bin(0);
    memcpy(bin_path, path, sizeof bin_path);
    atomic_store_explicit(&coro__trace_bin, b, memory_order_release);
    update_active();
    give();
    return 0;
}

/* With the lock held (or in a handler): end the binary trace. */
static void end_bin(int signal)
{
    coro__bin *b = atomic_exchange(&coro__trace_bin, NULL);
    if (b) {
        coro__bin_end(b, signal);
        coro__bin_retire(b);
    }
    update_active();
    if (b && !signal && coro__bin_dropped(b))
        fprintf(stderr, "coroscope: %llu trace events were lost by the binary trace (%s: %s)\n",
                (unsigned long long)coro__bin_dropped(b), bin_path, "no room to record them");
}

int coro_trace_open(const char *path)
{
    if (!path || !*path) return -EINVAL;
    if (coro__bin_wanted(path)) return open_bin(path);
    coro__sink *s = coro__sink_open(path, atomic_load_explicit(&buffer_size, memory_order_relaxed));
    if (!s) return -errno;
    take();
    default_program();
    start_clock();
    if (json_sink) {
        coro__json_end(json_sink, emitted, json_sink->dropped, 0);
        coro__sink_close(json_sink);
    }
    end_bin(0);
    json_sink = s;
    coro__json_header(s, program, clock_kind);
    update_active();
    give();
    return 0;
}

int coro_log_open(const char *path)
{
    if (!path || !*path) return -EINVAL;
    coro__sink *s = coro__sink_open(path, atomic_load_explicit(&buffer_size, memory_order_relaxed));
    if (!s) return -errno;
    const char *nc = getenv("NO_COLOR");
    if (isatty(s->fd) && !(nc && *nc)) s->fmt_flags |= CORO_FMT_COLOR;
    take();
    start_clock();
    if (clock_kind == CORO_CLOCK_LOGICAL) s->fmt_flags |= CORO_FMT_LOGICAL;
    if (log_sink) coro__sink_close(log_sink);
    log_sink = s;
    coro__log_header(s);
    update_active();
    give();
    return 0;
}

static void report_drops(const coro__sink *s, const char *what)
{
    if (!s->dropped) return;
    fprintf(stderr, "coroscope: %llu trace events were lost by the %s (%s: %s)\n",
            (unsigned long long)s->dropped, what, s->path,
            s->error ? strerror(s->error) : "write failed");
}

/* With the lock held: detach the sinks, ending the JSON trace with its end
 * record (`signal` is the terminating signal, 0 for a normal end). */
static void end_locked(coro__sink **j_out, coro__sink **l_out, int signal)
{
    end_bin(signal);
    coro__sink *j = json_sink, *l = log_sink;
    json_sink = log_sink = NULL;
    update_active();
    if (j) {
        coro__sink_flush(j);
        coro__json_end(j, emitted, j->dropped, signal);
        coro__sink_flush(j);
    }
    if (l) coro__sink_flush(l);
    *j_out = j;
    *l_out = l;
}

void coro_trace_close(void)
{
    take();
    coro__sink *j, *l;
    end_locked(&j, &l, 0);
    give();
    if (j) {
        report_drops(j, "JSON trace");
        coro__sink_close(j);
    }
    if (l) {
        report_drops(l, "annotated log");
        coro__sink_close(l);
    }
}

void coro_trace_flush(void)
{
    take();
    if (json_sink) coro__sink_flush(json_sink);
    if (log_sink) coro__sink_flush(log_sink);
    give();
}

void coro_trace_set_clock(coro_trace_clock c)
{
    take();
    clock_kind = c;
    if (log_sink) {
        if (c == CORO_CLOCK_LOGICAL)
            log_sink->fmt_flags |= CORO_FMT_LOGICAL;
        else
            log_sink->fmt_flags &= ~(unsigned)CORO_FMT_LOGICAL;
    }
    give();
}

coro_trace_clock coro_trace_get_clock(void)
{
    take(); /* another thread may be setting it */
    coro_trace_clock c = clock_kind;
    give();
    return c;
}

void coro_trace_set_program(const char *name)
{
    take();
    snprintf(program, sizeof program, "%s", name ? name : "");
    give();
}

void coro_trace_set_buffer_size(size_t bytes)
{
    atomic_store_explicit(&buffer_size, bytes < 4096 ? 4096 : bytes, memory_order_relaxed);
}

uint64_t coro_trace_emitted(void)
{
    take();
    coro__bin *b = atomic_load(&coro__trace_bin);
    uint64_t n = b ? coro__bin_events(b) : emitted;
    give();
    return n;
}

uint64_t coro_trace_dropped(void)
{
    take();
    uint64_t n = 0;
    if (json_sink) n = json_sink->dropped;
    if (log_sink && log_sink->dropped > n) n = log_sink->dropped;
    coro__bin *b = atomic_load(&coro__trace_bin);
    if (b && coro__bin_dropped(b) > n) n = coro__bin_dropped(b);
    give();
    return n;
}

/* ---- for endings.c: the lock from a signal handler ---- */

bool coro__signal_lock(void)
{
    if (holding) return false; /* interrupted inside the tracer: go on without it */
    for (int i = 0; i < 500; i++) {
        if (pthread_mutex_trylock(&lock) == 0) {
            holding = 1;
            return true;
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return false; /* another thread is stuck inside the tracer: write anyway */
}

void coro__signal_unlock(bool locked)
{
    if (locked) give();
}

void coro__trace_emit_in_handler(coro_trace_ev *ev)
{
    coro__bin *b = atomic_load(&coro__trace_bin);
    if (b) coro__bin_record_in_handler(b, ev);
    emit_locked(ev, b && ev->seq);
    if (json_sink) coro__sink_flush(json_sink);
}

void coro__trace_end_in_handler(int signal)
{
    coro__sink *j, *l;
    end_locked(&j, &l, signal);
    /* The fds are left open and the buffers allocated: the process is
     * about to die, and free() is not for signal handlers. */
}

/* In a child forked by a traced program, the sinks are the parent's: the
 * child must neither write into them nor end them. */
void coro__trace_forget_in_child(void)
{
    json_sink = log_sink = NULL;
    atomic_store(&coro__trace_bin, NULL); /* its pages are shared with the parent: leave them */
    update_active();
    pthread_mutex_init(&lock, NULL);
    holding = 0;
}

#ifndef CORO_TRACER_TOOL
/* Pull env.c out of a static archive along with this file: nothing else
 * refers to its constructor. The tools' copy (CORO_TRACER_TOOL) has no
 * env.c and never switches itself on. */
void coro__trace_from_environment(void);
void (*const coro__trace_env_ref)(void) = coro__trace_from_environment;
#endif
