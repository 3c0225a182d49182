/*
 * format.c - one event as one line of the annotated human log.
 *
 *  seq      time  thr  event
 *   48     54.2us  t1  > resume   main -> parent   cause: first start        demo.c:63
 *   53     60.1us  t1    | await    parent waits for child#1                   demo.c:52
 *
 * Columns: sequence number, time since the trace opened (microseconds, or
 * ticks of the logical clock), thread, then the event indented two spaces
 * per await depth, a glyph and the kind, a sentence, and the source line
 * that caused it. The sentence says what a learner would ask: who gave
 * control to whom and why, what a coroutine waits for, who continues when
 * it finishes.
 *
 * Pure: no globals, so the viewer formats its `log` view with it too.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro/trace.h"

typedef struct line {
    char *buf;
    size_t cap, len; /* len may exceed cap: we count what was needed */
    size_t hidden;   /* bytes of colour escapes, which take no column */
} line;

static void add(line *l, const char *fmt, ...) CORO_PRINTF(2, 3);
static void add(line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = l->len < l->cap ? l->cap - l->len : 0;
    int n = vsnprintf(room ? l->buf + l->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) l->len += (size_t)n;
}

static void esc(line *l, const char *e)
{
    add(l, "%s", e);
    l->hidden += strlen(e);
}

static const char glyphs[CORO_EV__COUNT] = {
    [CORO_EV_CREATE] = '+',  [CORO_EV_SPAWN] = '*',      [CORO_EV_RESUME] = '>',
    [CORO_EV_SUSPEND] = '<', [CORO_EV_AWAIT] = '|',      [CORO_EV_WAKE] = '^',
    [CORO_EV_FINISH] = 'x',  [CORO_EV_DESTROY] = '-',    [CORO_EV_RENAME] = '=',
    [CORO_EV_LOG] = '.',     [CORO_EV_EPOLL_WAIT] = '~', [CORO_EV_EPOLL_DISPATCH] = '!',
    [CORO_EV_TIMER] = '@',   [CORO_EV_POST] = '&',       [CORO_EV_ERROR] = '?',
    [CORO_EV_CRASH] = '!',   [CORO_EV_SUBMIT] = '>',     [CORO_EV_COMPLETE] = '!',
};

/* ANSI colours by kind: transfers stand out, bookkeeping recedes. */
static const char *colour(coro_ev_kind k)
{
    switch (k) {
    case CORO_EV_RESUME:
        return "\033[1;32m";
    case CORO_EV_SUSPEND:
    case CORO_EV_AWAIT:
        return "\033[33m";
    case CORO_EV_FINISH:
        return "\033[35m";
    case CORO_EV_ERROR:
    case CORO_EV_CRASH:
        return "\033[1;31m";
    case CORO_EV_LOG:
        return "\033[36m";
    case CORO_EV_EPOLL_WAIT:
    case CORO_EV_EPOLL_DISPATCH:
    case CORO_EV_SUBMIT:
    case CORO_EV_COMPLETE:
    case CORO_EV_TIMER:
    case CORO_EV_POST:
        return "\033[34m";
    default:
        return "\033[2m";
    }
}

/* A party's name, or "#id" when the event carries only the id. */
static const char *name_of(coro_trace_ref r, char *tmp, size_t n)
{
    if (r.name) return r.name;
    snprintf(tmp, n, "#%llu", (unsigned long long)r.id);
    return tmp;
}

static void events_str(uint32_t ev, char *out, size_t n)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{0x001, "IN"},  {0x004, "OUT"}, {0x002, "PRI"},
                 {0x008, "ERR"}, {0x010, "HUP"}, {0x2000, "RDHUP"}};
    out[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (ev & names[i].bit) {
            if (out[0]) strncat(out, "|", n - strlen(out) - 1);
            strncat(out, names[i].name, n - strlen(out) - 1);
        }
    if (!out[0]) snprintf(out, n, "0x%x", ev);
}

/* The call of an io_uring submit or complete: its reason (the detail
 * names it too in traces written before the reason did). */
static const char *call_of(const coro_trace_ev *ev)
{
    return ev->reason ? ev->reason : ev->detail ? ev->detail : "a call";
}

/* "cause: ..." of a resume or a wake. */
static void cause(line *l, const coro_trace_ev *ev)
{
    char a[32], b[32];
    const char *c = ev->cause ? ev->cause : "";
    const char *from = name_of(ev->from, a, sizeof a);
    if (!strcmp(c, "start"))
        add(l, "cause: first start");
    else if (!strcmp(c, "resume"))
        add(l, "cause: resumed by %s", name_of(ev->by.id ? ev->by : ev->from, b, sizeof b));
    else if (!strcmp(c, "return"))
        add(l, "cause: back from %s", from);
    else if (!strcmp(c, "continuation"))
        add(l, "cause: %s finished (continuation)", from);
    else if (!strcmp(c, "ready"))
        add(l, "cause: ready again after a yield");
    else if (!strcmp(c, "io")) {
        char evs[48];
        events_str(ev->events, evs, sizeof evs);
        const char *what = (ev->events & 0x001)   ? "readable"
                           : (ev->events & 0x004) ? "writable"
                                                  : evs;
        add(l, "cause: fd %d %s", ev->fd, what);
        if (ev->has & CORO_EVH_WAIT) add(l, " in wait #%llu", (unsigned long long)ev->wait);
    } else if (!strcmp(c, "complete")) {
        /* The wake and the resume both name the call (reason), so the line
         * that gives control says what it hands over, as the wake did. A
         * trace without it (older writers) gets the bare number. */
        const char *op = ev->reason;
        add(l, "cause: completion of op %llu (", (unsigned long long)ev->wait);
        if (op) add(l, "%s ", op);
        add(l, "fd %d: ", ev->fd);
        if (ev->value < 0)
            add(l, "error %lld)", (long long)ev->value);
        else if (op && (!strcmp(op, "recv") || !strcmp(op, "send")))
            add(l, "%lld bytes)", (long long)ev->value);
        else if (op && !strcmp(op, "accept"))
            add(l, "new fd %lld)", (long long)ev->value);
        else if (op && !strcmp(op, "connect"))
            add(l, "connected)");
        else
            add(l, "result %lld)", (long long)ev->value);
    } else if (!strcmp(c, "timer")) {
        add(l, "cause: timer fired");
        if (ev->obj.id) add(l, " (%s)", name_of(ev->obj, b, sizeof b));
    } else if (!strcmp(c, "post"))
        add(l, "cause: posted");
    else if (!strcmp(c, "wake"))
        add(l, "cause: woken by %s",
            ev->obj.id ? name_of(ev->obj, b, sizeof b) : name_of(ev->by, b, sizeof b));
    else
        add(l, "cause: %s", c);
}

static void describe(line *l, const coro_trace_ev *ev)
{
    char t1[32], t2[32];
    const char *co = name_of(ev->co, t1, sizeof t1);
    switch (ev->kind) {
    case CORO_EV_CREATE:
        if (ev->obj.id) {
            add(l, "%s %s", ev->obj_kind ? ev->obj_kind : "object",
                name_of(ev->obj, t2, sizeof t2));
            if (ev->co.id) add(l, "  by %s", co);
        } else {
            add(l, "%s", co);
            if (ev->by.id) add(l, "  by %s", name_of(ev->by, t2, sizeof t2));
        }
        break;
    case CORO_EV_SPAWN:
        add(l, "%s", co);
        if (ev->by.id) add(l, "  by %s", name_of(ev->by, t2, sizeof t2));
        add(l, ", onto the ready queue");
        break;
    case CORO_EV_RESUME:
        add(l, "%s -> %s   ", name_of(ev->from, t2, sizeof t2), co);
        cause(l, ev);
        break;
    case CORO_EV_SUSPEND:
        if (ev->reason && !strcmp(ev->reason, "yield"))
            add(l, "%s yields", co);
        else if (ev->detail)
            add(l, "%s on %s", co, ev->detail);
        else
            add(l, "%s on %s", co, ev->reason ? ev->reason : "?");
        if (ev->to.id) add(l, ", control to %s", name_of(ev->to, t2, sizeof t2));
        break;
    case CORO_EV_AWAIT:
        add(l, "%s waits for %s", co, name_of(ev->to, t2, sizeof t2));
        if (ev->detail) add(l, " (%s)", ev->detail);
        break;
    case CORO_EV_WAKE:
        add(l, "%s is ready   ", co);
        cause(l, ev);
        /* A completion's detail is its call, already in the cause. */
        if (ev->detail && !(ev->cause && !strcmp(ev->cause, "complete")))
            add(l, " (%s)", ev->detail);
        break;
    case CORO_EV_FINISH:
        add(l, "%s", co);
        if (ev->has & CORO_EVH_VALUE) add(l, " = %lld", (long long)ev->value);
        if (ev->to.id) add(l, ", continuation: %s", name_of(ev->to, t2, sizeof t2));
        break;
    case CORO_EV_DESTROY:
        if (ev->obj.id) {
            add(l, "%s by %s", name_of(ev->obj, t2, sizeof t2), co);
            if (ev->detail) add(l, " (%s)", ev->detail);
            break;
        }
        add(l, "%s", co);
        if (ev->by.id) add(l, "  by %s", name_of(ev->by, t2, sizeof t2));
        if (ev->detail) add(l, " (%s)", ev->detail);
        break;
    case CORO_EV_RENAME:
        add(l, "%s -> %s", ev->detail ? ev->detail : "?",
            ev->obj.id ? name_of(ev->obj, t2, sizeof t2) : co);
        break;
    case CORO_EV_LOG:
        add(l, "\"%s\"", ev->detail ? ev->detail : "");
        break;
    case CORO_EV_EPOLL_WAIT:
        add(l, "timeout ");
        if (!(ev->has & CORO_EVH_TIMEOUT) || ev->timeout_ms < 0)
            add(l, "none");
        else
            add(l, "%lld ms", (long long)ev->timeout_ms);
        if (ev->has & CORO_EVH_NREADY) add(l, " -> %d ready", ev->nready);
        if (ev->has & CORO_EVH_WAIT) add(l, "   (wait #%llu)", (unsigned long long)ev->wait);
        break;
    case CORO_EV_EPOLL_DISPATCH: {
        char evs[48];
        events_str(ev->events, evs, sizeof evs);
        add(l, "fd %d %s -> %s", ev->fd, evs, co);
        if (ev->obj.id) add(l, " (%s)", name_of(ev->obj, t2, sizeof t2));
        break;
    }
    case CORO_EV_TIMER:
        add(l, "%s fired -> %s", ev->obj.id ? name_of(ev->obj, t2, sizeof t2) : "timer", co);
        break;
    case CORO_EV_POST:
        add(l, "%s", ev->detail ? ev->detail : co);
        if (ev->obj.id) add(l, " -> %s", name_of(ev->obj, t2, sizeof t2));
        break;
    case CORO_EV_ERROR:
        add(l, "%s: %s", co, ev->detail ? ev->detail : "error");
        break;
    case CORO_EV_CRASH:
        add(l, "%s crashed: %s", ev->co.id ? co : "the program", ev->detail ? ev->detail : "?");
        break;
    case CORO_EV_SUBMIT:
        add(l, "%s submits %s fd %d (op %llu)", co, call_of(ev), ev->fd,
            (unsigned long long)ev->wait);
        if (ev->has & CORO_EVH_TIMEOUT) add(l, ", deadline %lld ms", (long long)ev->timeout_ms);
        break;
    case CORO_EV_COMPLETE:
        add(l, "op %llu %s fd %d -> %lld -> %s", (unsigned long long)ev->wait, call_of(ev), ev->fd,
            (long long)ev->value, co);
        break;
    default:
        add(l, "%s", co);
        break;
    }
}

/* Appends s with what a terminal would act on made visible: a newline in
 * a name would split the event over two lines, an ESC would reach the
 * terminal. C0 controls and DEL become \n, \t, \r or \xHH, and so do the
 * C1 controls (U+0080..U+009F, as UTF-8: 0xC2 0x80..0x9F). */
static void add_escaped(line *l, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned c = *p;
        if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            add(l, "\\u%04x", p[1]);
            p++;
        } else if (c == '\n') {
            add(l, "\\n");
        } else if (c == '\t') {
            add(l, "\\t");
        } else if (c == '\r') {
            add(l, "\\r");
        } else if (c < 0x20 || c == 0x7f) {
            add(l, "\\x%02x", c);
        } else {
            if (l->len + 1 < l->cap) l->buf[l->len] = (char)c, l->buf[l->len + 1] = 0;
            l->len++;
        }
    }
}

/* The sentence of an event, with the names and texts it quotes escaped. */
static void describe_escaped(line *l, const coro_trace_ev *ev)
{
    char small[512];
    line d = {small, sizeof small, 0, 0};
    describe(&d, ev);
    if (d.len < sizeof small) {
        add_escaped(l, small);
        return;
    }
    char *big = malloc(d.len + 1);
    if (!big) return; /* out of memory: the line keeps its prefix */
    line b = {big, d.len + 1, 0, 0};
    describe(&b, ev);
    add_escaped(l, big);
    free(big);
}

#define SOURCE_COLUMN 96

size_t coro_trace_format(const coro_trace_ev *ev, char *buf, size_t cap, unsigned flags)
{
    line l = {buf, cap, 0, 0};
    if (cap) buf[0] = 0;
    bool color = flags & CORO_FMT_COLOR;
    add(&l, "%5llu ", (unsigned long long)ev->seq);
    if (flags & CORO_FMT_LOGICAL)
        add(&l, "%9llu", (unsigned long long)ev->ts);
    else
        add(&l, "%9.1f", (double)ev->ts / 1000.0);
    add(&l, "  t%-2u ", ev->thread);
    int depth = (ev->has & CORO_EVH_DEPTH) ? ev->depth : 0;
    if (depth > 20) depth = 20;
    add(&l, "%*s", depth * 2, "");
    unsigned k = (unsigned)ev->kind < CORO_EV__COUNT ? (unsigned)ev->kind : 0;
    const char *kn = coro_ev_kind_name(ev->kind);
    if (!kn) kn = "?";
    if (!strcmp(kn, "epoll_dispatch")) kn = "dispatch";
    /* The loop's kernel wait on an io_uring context (trace-format.md). */
    if (ev->kind == CORO_EV_EPOLL_WAIT && ev->reason && !strcmp(ev->reason, "io_uring"))
        kn = "uring_wait";
    if (color) esc(&l, colour(ev->kind));
    add(&l, "%c %-9s%s", glyphs[k] ? glyphs[k] : ' ', kn, strlen(kn) >= 9 ? " " : "");
    if (color) esc(&l, "\033[0m");
    describe_escaped(&l, ev);
    if (ev->file) {
        const char *base = strrchr(ev->file, '/');
        base = base ? base + 1 : ev->file;
        size_t col = l.len - l.hidden;
        add(&l, "%*s", col + 2 < SOURCE_COLUMN ? (int)(SOURCE_COLUMN - col) : 2, "");
        if (color) esc(&l, "\033[2m");
        add_escaped(&l, base);
        add(&l, ":%d", ev->line);
        if (color) esc(&l, "\033[0m");
    }
    return l.len;
}

const char *coro_trace_format_header(void)
{
    return "  seq      time  thr  event";
}
