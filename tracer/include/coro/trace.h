/*
 * coro/trace.h - the trace event schema and the tracer's API.
 *
 * The tracer knows nothing about coroutines: it receives flat events that
 * name their parties by id and name, stamps them with a sequence number, a
 * timestamp and a thread, and hands them to the open sinks (JSON Lines, the
 * annotated human log). docs/trace-format.md is the contract; this header is
 * its C form, and the viewer parses JSON back into the same struct.
 *
 * Switching it on needs no recompilation:
 *   CORO_TRACE=run.jsonl        JSON Lines trace to a file ("-" = stdout)
 *   CORO_LOG=stderr|stdout|FILE annotated human log
 *   CORO_TRACE_CLOCK=logical    ts counts events instead of nanoseconds
 * or from code with coro_trace_open() / coro_log_open().
 */
#ifndef CORO_TRACE_H
#define CORO_TRACE_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include "coro/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema version written in the header record. Bump on any change a
 * reader could notice; readers refuse versions they do not know. */
#define CORO_TRACE_VERSION 1

typedef enum coro_ev_kind {
    CORO_EV_CREATE,         /* a coroutine or runtime object was created */
    CORO_EV_SPAWN,          /* a detached coroutine was handed to the scheduler */
    CORO_EV_RESUME,         /* control passes from `from` to `to` (= co), with a cause */
    CORO_EV_SUSPEND,        /* co stops running, with a reason; control goes to `to` */
    CORO_EV_AWAIT,          /* co waits for `to` to finish (the continuation link) */
    CORO_EV_WAKE,           /* co becomes ready to run, with a cause and who woke it */
    CORO_EV_FINISH,         /* co's function returned; `to` is its continuation, if any */
    CORO_EV_DESTROY,        /* co's memory (stack, record) is reclaimed */
    CORO_EV_RENAME,         /* co (or obj) got a new name; detail is the old one */
    CORO_EV_LOG,            /* a user message attributed to co */
    CORO_EV_EPOLL_WAIT,     /* the loop waited: timeout, number ready, wait number */
    CORO_EV_EPOLL_DISPATCH, /* a ready fd is handed to the coroutine waiting on it */
    CORO_EV_TIMER,          /* a timer fired for co */
    CORO_EV_POST,           /* a function or coroutine was posted to a context */
    CORO_EV_ERROR,          /* a misuse of the API, reported where it happened */
    CORO_EV_CRASH,          /* a fatal signal: value = its number, addr = the fault address */
    CORO_EV_SUBMIT,         /* io_uring: co submitted a call (reason: accept, recv, ...) */
    CORO_EV_COMPLETE,       /* io_uring: that call completed; value is its result */
    CORO_EV__COUNT
} coro_ev_kind;

/* A party of an event: id 0 means "none". The name is not copied beyond
 * the call to coro_trace_emit(). */
typedef struct coro_trace_ref {
    uint64_t id;
    const char *name;
} coro_trace_ref;

/* Which of the optional numeric fields are present. */
enum {
    CORO_EVH_FD = 1u << 0,
    CORO_EVH_EVENTS = 1u << 1,
    CORO_EVH_TIMEOUT = 1u << 2,
    CORO_EVH_NREADY = 1u << 3,
    CORO_EVH_WAIT = 1u << 4,
    CORO_EVH_VALUE = 1u << 5,
    CORO_EVH_DEPTH = 1u << 6,
    CORO_EVH_ADDR = 1u << 7,
};

typedef struct coro_trace_ev {
    /* filled by the tracer in coro_trace_emit() (or by a reader) */
    uint64_t seq;
    uint64_t ts;
    unsigned thread;

    coro_ev_kind kind;
    unsigned has; /* CORO_EVH_* bits */

    coro_trace_ref co;   /* the coroutine the event is about (or the running one) */
    coro_trace_ref from; /* resume: who gave up control */
    coro_trace_ref to;   /* resume: who runs now; suspend: who gets control;
                            await: the awaited child; finish: the continuation */
    coro_trace_ref by;   /* create/spawn/wake/destroy: who did it */
    coro_trace_ref obj;  /* a runtime object involved (context, socket, timer, ...) */

    const char *obj_kind; /* create of an object: "context", "acceptor", "conn", ... */
    const char *cause;    /* resume and wake: start, resume, return, continuation,
                             ready, io, timer, post, wake */
    const char *reason;   /* suspend: yield, await, io, timer, lock, channel, hook, ...;
                             io_uring submit, complete, wake, resume: the call */
    const char *detail;   /* free text: "recv fd=7", a log message, an error */
    const char *op;       /* a wait's call ("recv"), when detail is NULL: the tracer writes
                             the detail from it (coro_trace_describe), so a trace point
                             formats nothing; never read back from a trace */

    int fd;
    uint32_t events;    /* EPOLLIN/EPOLLOUT/... bits */
    int64_t timeout_ms; /* epoll_wait timeout (-1 = infinite) */
    int nready;
    uint64_t wait; /* which epoll_wait (1, 2, ...) a dispatch or wake belongs to */
    int64_t value; /* finish: the result as an integer; create: stack size */
    int depth;     /* await depth of the coroutine running when it happened */
    uint64_t addr; /* crash: the faulting address (si_addr) */

    const char *file; /* call site in the user's program, or NULL */
    int line;
} coro_trace_ev;

typedef enum coro_trace_clock {
    CORO_CLOCK_MONOTONIC, /* ts in nanoseconds since the trace was opened */
    CORO_CLOCK_LOGICAL,   /* ts = seq: deterministic, for golden files */
} coro_trace_clock;

/* Non-zero while any sink is open. Tested inline before an event is built,
 * so tracing switched off costs one well-predicted branch. Read and written
 * atomically (relaxed: a plain load on x86-64 and aarch64), since any thread
 * tests it while another opens or closes a sink. */
CORO_API extern volatile int coro_trace_active;

#if CORO_TRACE_COMPILED
#define CORO_TRACE_ON()                                                                            \
    __builtin_expect(__atomic_load_n(&coro_trace_active, __ATOMIC_RELAXED) != 0, 0)
#else
#define CORO_TRACE_ON() 0
#endif

/* Record one event: assigns seq, ts and thread, writes to every open sink.
 * Thread-safe. An event that cannot be written is counted as dropped. */
CORO_API void coro_trace_emit(coro_trace_ev *ev);

/* The shape of the runtime's most frequent events, a resume or a suspend
 * between two coroutines: two named parties, who did it (an id; named when
 * it is `from`), a cause or reason, a call site and a depth. A resume's `to`
 * is its `co`; a suspend has no `from`. A suspend may say that control goes
 * straight to `to`, whose resume is then recorded with it (`then`: its
 * cause; `then_depth`: its depth; from = co, no `by`, no call site).
 * Recorded in binary straight from these fields, without building a
 * coro_trace_ev; with a text sink open it becomes one or two (the same
 * events either way). */
typedef struct coro_trace_brief {
    coro_ev_kind kind;
    int depth;
    coro_trace_ref co, from, to;
    uint64_t by;
    const char *cause, *reason;
    const char *file;
    int line;
    const char *then;
    int then_depth;
} coro_trace_brief;

CORO_API void coro_trace_emit_brief(const coro_trace_brief *e);
/* The same for a brief event known to be a resume (e->kind is
 * CORO_EV_RESUME), or a suspend: what the runtime calls, one test fewer. */
CORO_API void coro_trace_emit_resume(const coro_trace_brief *e);
CORO_API void coro_trace_emit_suspend(const coro_trace_brief *e);

/* Open the JSON Lines sink at path ("-" = stdout), or the binary recorder
 * (a path ending in .ctr, or PATH:ring=SIZE). Writes the header record.
 * Returns 0 or a negative errno; -EBUSY for a binary trace another process
 * is recording into (its file is left alone). Replaces the open trace. */
CORO_API int coro_trace_open(const char *path);

/* Open the annotated human log on "stderr", "stdout" or a file path.
 * Colour is used only when the stream is a terminal and NO_COLOR is unset. */
CORO_API int coro_log_open(const char *path);

/* Flush and close every sink. The JSON sink ends with an "end" record that
 * counts the events written and dropped. Called at exit automatically. */
CORO_API void coro_trace_close(void);

/* Flush buffered output of every sink (events stay countable). */
CORO_API void coro_trace_flush(void);

CORO_API void coro_trace_set_clock(coro_trace_clock clock);
CORO_API coro_trace_clock coro_trace_get_clock(void);

/* The program name written in the header record (default: the executable's name). */
CORO_API void coro_trace_set_program(const char *name);

/* Buffer size of each sink in bytes (default 64 KiB); set before opening. */
CORO_API void coro_trace_set_buffer_size(size_t bytes);

/* Events emitted so far, and how many of them some sink could not write. */
CORO_API uint64_t coro_trace_emitted(void);
CORO_API uint64_t coro_trace_dropped(void);

/* The words of a wait on a call: "op fd=N" (fd >= 0), else "op OBJ"; as
 * snprintf does. The runtime describes its waits with it, and the tracer
 * writes an event's detail with it from the event's op, fd and object. */
CORO_API int coro_trace_describe(char *buf, size_t cap, const char *op, int fd, const char *obj);

/* Name of an event kind as it appears in the JSON ("resume"), or NULL. */
CORO_API const char *coro_ev_kind_name(coro_ev_kind kind);
/* The inverse; returns -1 for an unknown name. */
CORO_API int coro_ev_kind_parse(const char *name);

/* Format ev as one line of the annotated human log (no newline) into buf;
 * returns the length it needed, as snprintf does. Shared by the live log
 * sink and the viewer's `coroscope log`, so both read the same. */
enum { CORO_FMT_COLOR = 1, CORO_FMT_LOGICAL = 2 };
CORO_API size_t coro_trace_format(const coro_trace_ev *ev, char *buf, size_t cap, unsigned flags);
/* The header line of the annotated log's columns. */
CORO_API const char *coro_trace_format_header(void);

#ifdef __cplusplus
}
#endif
#endif /* CORO_TRACE_H */
