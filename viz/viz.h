/*
 * viz.h - what the parts of the viewer share: the trace read from a file,
 * the model replayed from it, DOT output, and each view's entry point.
 *
 * The viewer knows only the trace format (docs/trace-format.md): events are
 * read into struct coro_trace_ev (the format's C form, from the tracer) with
 * every string interned, so a trace of a million events keeps one copy of
 * "echo#7", not a million.
 */
#ifndef CORO_VIZ_H
#define CORO_VIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coro/trace.h"

/* Exit codes (docs/coroscope.md). */
enum { VZ_OK = 0, VZ_USAGE = 1, VZ_BADINPUT = 2, VZ_RENDER = 3, VZ_VIOLATIONS = 4 };

/* A run of lost events: `count` sequence numbers missing after `after`. */
typedef struct vz_gap {
    uint64_t after, count;
    size_t index; /* position in the event array where the gap is */
} vz_gap;

typedef struct vz_trace {
    const char *path;
    char *program;
    int version;
    bool logical;
    coro_trace_ev *ev;
    uint32_t *lineno; /* the file line of each event, for messages */
    size_t n, cap;
    vz_gap *gaps;
    size_t ngaps;
    bool ended; /* the end record was present */
    uint64_t end_events, end_dropped;
    int end_signal;       /* the signal that ended the run (the end record's "signal"), 0 = none */
    uint64_t overwritten; /* binary flight recorder: events the ring overwrote */
    uint64_t unrecorded;  /* binary: events that found no room in the file (a full disk); they
                             never got a sequence number, so they are not among the gaps */
    int64_t recording;    /* binary, no end record yet: the pid of the process that still
                             records into the file (-1 if its header names none), else 0 */
} vz_trace;

/* Read a trace; on bad input print "file:line: what" and return VZ_BADINPUT. */
int vz_read(const char *path, vz_trace *t, bool progress);
void vz_free(vz_trace *t);
/* A binary trace (coro/trace_bin.h)? Read by reader_bin.c into the same form. */
bool vz_is_binary(const char *path);
int vz_read_bin(const char *path, vz_trace *t, bool progress);
/* `coroscope convert IN OUT` (convert.c); argv after the command name. */
int vz_convert(int argc, char **argv);
/* `coroscope ps|pstree|top PID` (view_ps.c): cmd is which. */
int vz_inspect(const char *cmd, int argc, char **argv);
/* "the run did not end cleanly: last event N" when the end record is missing. */
void vz_report_ending(const vz_trace *t, FILE *f);

/* Big arrays about to be filled once (p from malloc or calloc, untouched):
 * ask for huge pages, one page fault per 2 MiB rather than per 4 KiB. */
void vz_huge_pages(void *p, size_t size);

/* Interned strings live until the program ends; invalid UTF-8 is
 * replaced by U+FFFD, so every string a view sees is valid UTF-8. */
const char *vz_intern(const char *s);
bool vz_utf8_valid(const char *s);
char *vz_utf8_clean(const char *s);         /* malloc'd copy with U+FFFD for bad bytes */
size_t vz_utf8_seq(const unsigned char *p); /* length of the valid sequence at p, or 0 */
void vz_utf8_trim(char *s);                 /* drop a sequence cut short at the end */
/* s cut to at most max bytes on a character boundary, in buf */
const char *vz_clip(const char *s, size_t max, char *buf, size_t cap);

/* ---- the model ---- */

/* A coroutine's state as the trace shows it (the viewer's own type: it
 * knows the format, not the runtime). */
typedef enum vz_state { VZ_CREATED, VZ_READY, VZ_RUNNING, VZ_SUSPENDED, VZ_DEAD } vz_state;

typedef struct vz_coro {
    uint64_t id;
    const char *name;    /* latest name */
    const char *fn;      /* function (from the create event's detail) */
    uint64_t created_by; /* id, 0 = unknown */
    vz_state state;
    const char *waiting; /* what it waits for while suspended ("recv fd=7", ...) */
    uint64_t awaiting;   /* child it awaits */
    unsigned thread;
    uint64_t resumes, events;
    uint64_t run_ns, longest_run_ns, suspended_ns;
    uint64_t last_ts;
    bool is_object; /* a runtime object (context, socket, timer) rather than a coroutine */
    const char *obj_kind;
    /* while suspended: the structured fields of the suspend (reason, fd when
     * the event has one, the object waited on) */
    const char *reason;
    int fd; /* -1: none */
    uint64_t wait_obj;
    /* time the thread spent blocked in epoll_wait while this coroutine (a
     * thread's main, the loop) was the one running: not running time */
    uint64_t epoll_ns, epoll_waits;
    size_t ready_mark;    /* frame: its place in the ready queue + 1, 0 = none */
    uint64_t handed_to;   /* the `to` of its latest suspend or finish, until it runs */
    uint64_t last_seq;    /* seq of its latest event */
    uint64_t created_seq; /* seq of its create event, 0 = not in the trace */
} vz_coro;

typedef struct vz_model {
    vz_coro *co;
    size_t n, cap;
    size_t *slot; /* open-addressing hash: id -> index + 1 */
    size_t slots;
    uint64_t *thread_ts; /* per thread: ts of its latest event */
    unsigned threads;
} vz_model;

void vz_model_init(vz_model *m);
void vz_model_free(vz_model *m);
vz_coro *vz_model_get(vz_model *m, uint64_t id, const char *name);
vz_coro *vz_model_find(const vz_model *m, uint64_t id);
/* Apply one event to the model (states, names, counters). Survives any
 * sequence of events, possible or not (check reports the impossible ones). */
void vz_model_apply(vz_model *m, const coro_trace_ev *ev);
/* Does the await chain starting at `from` (who `from` awaits, who that one
 * awaits, ...) reach `target`? Follows at most VZ_MAX_CHAIN links. */
#define VZ_MAX_CHAIN 4096
bool vz_await_reaches(const vz_model *m, uint64_t from, uint64_t target);
/* When an epoll_wait event ends a wait: the ts the wait began (the previous
 * event on its thread), from a model that has not applied it yet. */
uint64_t vz_wait_start(const vz_model *m, const coro_trace_ev *ev);

/* ---- DOT ---- */

/* Write s as a DOT double-quoted string (escaped, at most max display bytes). */
void vz_dot_str(FILE *f, const char *s, size_t max);
/* The same without the quotes, to build a label from parts. */
void vz_dot_esc(FILE *f, const char *s, size_t max);
/* Render DOT text through Graphviz into out (format from its suffix);
 * `engine` is "dot" or "neato". Returns 0 or VZ_RENDER. */
int vz_render(const char *dot_text, size_t len, const char *out, const char *engine,
              const char *extra_arg);

/* ---- options shared by the views ---- */

typedef struct vz_opts {
    const char *out;        /* -o FILE */
    bool fold;              /* --fold */
    size_t max_nodes;       /* --max-nodes */
    uint64_t from, to;      /* --from/--to seq window; 0 = open */
    size_t first;           /* --first N */
    const char *coro;       /* --coro NAME */
    int fd;                 /* --fd N, -1 = any */
    int kind;               /* --kind K, -1 = any */
    uint64_t frame;         /* frame N */
    const char *script;     /* step --script "n n b" */
    const char *prediction; /* predict: the learner's file */
    const char *src;        /* html --src DIR: where the program's sources are */
    bool color;
    bool progress;
} vz_opts;

int vz_view_graph(const vz_trace *t, const vz_opts *o, FILE *out);
int vz_view_seq(const vz_trace *t, const vz_opts *o, FILE *out);
int vz_view_log(const vz_trace *t, const vz_opts *o, FILE *out);
int vz_view_check(const vz_trace *t, const vz_opts *o, FILE *out);
int vz_view_stats(const vz_trace *t, const vz_opts *o, FILE *out);
int vz_view_frame(const vz_trace *t, const vz_opts *o, FILE *out);
int vz_view_states(const vz_trace *t, const vz_opts *o, FILE *out);
int vz_view_perfetto(const vz_trace *t, const vz_opts *o, FILE *out);
int vz_view_step(const vz_trace *t, const vz_opts *o, FILE *out);
int vz_view_html(const vz_trace *t, const vz_opts *o, FILE *out);
/* The graph view for a page (coroscope html): nodes get SVG ids
 * (vz_graph_node_id) and edges "e<k>", and edge_of[i] (t->n entries) is set
 * to the k of the edge event i drew, or left 0. */
int vz_graph_for_page(const vz_trace *t, const vz_opts *o, FILE *out, uint32_t *edge_of);
int vz_view_predict(const vz_trace *t, const vz_opts *o, FILE *out);
/* `coroscope tutorial ...` (argv after "tutorial"); self is how coroscope was invoked. */
int vz_tutorial(int argc, char **argv, const char *self, bool has_html);
/* The state of the run after event index upto: the event, every live
 * coroutine and what it waits for, the ready queue, the await chains. */
void vz_print_frame(const vz_trace *t, size_t upto, FILE *out, unsigned fmt_flags);
/* Two lines of a frame, shared with the html page: a wait's error result
 * (if event `at` has one), and the loop's line when the thread of event
 * upto is about to block in, or is just back from, epoll_wait (m: the model
 * after upto). Each prints nothing when it does not apply. */
void vz_frame_wait_result(const coro_trace_ev *at, FILE *out);
void vz_frame_loop_line(const vz_trace *t, size_t upto, const vz_model *m, FILE *out);
/* Index of the last event whose seq is at most seq (0 when none is). */
size_t vz_find_seq(const vz_trace *t, uint64_t seq);

const char *vz_state_name(vz_state s);

/* The SVG id the graph view gives the node of a coroutine: "c<id>", or for
 * a folded node (folded = its folded name) "f" and a hash of that name, so
 * that a page can find the node that draws a coroutine. */
void vz_graph_node_id(uint64_t id, const char *folded, char *buf, size_t cap);

/* words.c: what a resume's or wake's cause is called in every view
 * ("return" -> "hands back", "continuation" -> "continues awaiter"). */
const char *vz_cause_word(const char *cause);
/* "20 ms", "1.5 s", "340 us" */
void vz_duration(uint64_t ns, char *buf, size_t cap);

/* "echo#12" -> "echo#*": digits runs folded, for --fold. Interned. */
const char *vz_fold_name(const char *name);

#endif
