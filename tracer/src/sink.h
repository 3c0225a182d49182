/*
 * sink.h - what the tracer core (trace.c) and the sinks share.
 *
 * A sink owns a file descriptor and an output buffer. Events are formatted
 * into the buffer under the tracer's lock and written with write(2) when it
 * fills, at close, and after every line for the live log. If a write fails
 * (disk full, closed pipe, a reader that stopped reading), the events whose
 * bytes were in the buffer are counted as dropped: the count goes into the
 * trace's end record and is reported at exit. sink.c says how a sink never
 * stops the program.
 */
#ifndef CORO_TRACER_SINK_H
#define CORO_TRACER_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "coro/trace.h"

enum { CORO__SINK_FILE, CORO__SINK_PIPE, CORO__SINK_SOCKET, CORO__SINK_TTY };

typedef struct coro__sink {
    int fd;
    bool own_fd;
    int type;     /* CORO__SINK_*: how a write may block or signal */
    bool stalled; /* the reader stopped reading: writes that would block are dropped */
    char *path;   /* for messages */
    char *buf;
    size_t len, cap;
    uint64_t pending; /* events whose bytes are in buf */
    uint64_t written; /* events handed to the kernel */
    uint64_t dropped;
    int error; /* errno of the first failed write, 0 if none */
    unsigned fmt_flags;
} coro__sink;

/* write(2) and close(2) as raw system calls, never through a hook. */
ssize_t coro__raw_write(int fd, const void *p, size_t n);
void coro__raw_close(int fd);

/* Open path ("-"/"stdout", "stderr" or a file) for writing. */
coro__sink *coro__sink_open(const char *path, size_t cap);
/* Make room for n bytes (flushing if needed); false if impossible. */
bool coro__sink_reserve(coro__sink *s, size_t n);
void coro__sink_put(coro__sink *s, const char *p, size_t n);
/* One event's bytes are complete. */
void coro__sink_event_done(coro__sink *s);
void coro__sink_flush(coro__sink *s);
void coro__sink_close(coro__sink *s);

/* The two kinds of sink. */
void coro__json_header(coro__sink *s, const char *program, coro_trace_clock clock);
void coro__json_event(coro__sink *s, const coro_trace_ev *ev);
void coro__json_end(coro__sink *s, uint64_t events, uint64_t dropped, int signal);
void coro__log_header(coro__sink *s);
void coro__log_event(coro__sink *s, const coro_trace_ev *ev);

/* bin.c: the binary recorder (coro/trace_bin.h). */
typedef struct coro__bin coro__bin;
/* "run.ctr:ring=64M" -> path and ring bytes (0 = no ring); 0 or -EINVAL. */
int coro__bin_parse(const char *spec, char *path, size_t cap, uint64_t *ring);
/* numbered: every event gets its number from one counter (CORO_CTR_ORDER_SEQ),
 * for a logical clock and for a converter keeping a trace's numbers. */
coro__bin *coro__bin_open(const char *path, uint64_t ring_bytes, const char *program, int ts_kind,
                          bool numbered);
/* Record ev; with keep_order, ev's own seq, ts and thread are kept (convert). */
void coro__bin_record(coro__bin *b, coro_trace_ev *ev, bool keep_order);
/* The open recorder, and the one brief events go straight to (NULL while
 * a text sink is open): trace.c. bin.c records a brief event at once
 * (coro_trace_emit_brief) or hands it to coro__trace_brief_slow, which
 * gives it to the text sinks or to coro__bin_brief_slow. */
extern coro__bin *_Atomic coro__trace_bin;
/* (hidden: read with one instruction, not through the GOT) */
extern coro__bin *coro__brief_bin __attribute__((visibility("hidden")));
void coro__trace_brief_slow(const coro_trace_brief *e);
void coro__bin_brief_slow(coro__bin *b, const coro_trace_brief *e);
/* CORO_TRACE_CLOCK=monotonic (env.c): binary traces stamp events with
 * CLOCK_MONOTONIC rather than the CPU's counter. */
void coro__trace_bin_monotonic(void);

/* The event a brief one stands for, and the resume that follows a suspend
 * with `then` (trace.c). */
void coro__trace_expand(const coro_trace_brief *e, coro_trace_ev *ev);
void coro__trace_expand_then(const coro_trace_brief *e, coro_trace_ev *ev);
void coro__bin_record_in_handler(coro__bin *b, coro_trace_ev *ev);
void coro__bin_end(coro__bin *b, int signal);
/* Keep an ended recorder (never freed: late events may still land in it). */
void coro__bin_retire(coro__bin *b);
uint64_t coro__bin_events(coro__bin *b);
/* For a converted trace: the counts of the trace it came from. */
void coro__bin_set_counts(coro__bin *b, uint64_t dropped, uint64_t overwritten);
uint64_t coro__bin_dropped(coro__bin *b);
/* Is this CORO_TRACE value a binary trace (.ctr, or :ring=)? */
bool coro__bin_wanted(const char *spec);

/* endings.c: handlers for the signals that end a run. */
void coro__endings_install(void);
/* trace.c, for endings.c. */
bool coro__signal_lock(void);
void coro__signal_unlock(bool locked);
void coro__trace_emit_in_handler(coro_trace_ev *ev);
void coro__trace_end_in_handler(int signal);
void coro__trace_forget_in_child(void);

#endif
