/*
 * view_seq.c - `coroscope seq`: a sequence diagram. One lane per coroutine
 * (and per channel or timer that wakes one), time going down, a numbered
 * arrow for every transfer of control with its cause, and notes for
 * suspends, awaits, finishes and the loop's epoll_wait. The numbers are the
 * trace's seq, so arrow 17 is line 17 of `coroscope log`.
 *
 * The event loop is drawn where its work happens: epoll_wait and every
 * dispatch on the lane of the coroutine that runs the loop (a thread's
 * main). A thick bar on a lane shows who holds control, a dashed one the
 * span a coroutine waits in an await, and a large gap in time is written
 * at the left ("+20 ms").
 *
 * Positions are computed here and pinned (pos="x,y!"), with layout=neato:
 * dot's own layout of a long sequence is slow and shuffles the rows. Lanes
 * are found through a hash (the model's), so a window over a million
 * events costs one pass.
 */
#include <stdlib.h>
#include <string.h>

#include "viz.h"

#define LANE_W 170
#define ROW_H  34
#define GAP_NS 1000000u /* a gap of 1 ms or more between rows is written */

typedef struct lane {
    int run_row;   /* row where it took control, -1: not running */
    int await_row; /* row where it began to await, -1: not awaiting */
} lane;

typedef struct seq {
    FILE *out;
    vz_model lanes; /* lane i is lanes.co[i] */
    lane *l;
    size_t lcap;
    uint64_t *running; /* per thread: lane + 1 of who holds control */
    uint64_t *loop;    /* per thread: lane + 1 of who runs the loop */
    unsigned threads;
} seq;

static size_t lane_of(seq *s, uint64_t id, const char *name)
{
    vz_coro *c = vz_model_get(&s->lanes, id, name);
    size_t i = (size_t)(c - s->lanes.co);
    if (i >= s->lcap) {
        size_t n = s->lcap ? s->lcap * 2 : 64;
        while (n <= i) n *= 2;
        s->l = realloc(s->l, n * sizeof *s->l);
        if (!s->l) abort();
        for (size_t k = s->lcap; k < n; k++) s->l[k] = (lane){-1, -1};
        s->lcap = n;
    }
    return i;
}

static uint64_t *per_thread(seq *s, uint64_t **arr, unsigned th)
{
    if (th >= s->threads) {
        unsigned n = th + 8;
        s->running = realloc(s->running, n * sizeof *s->running);
        s->loop = realloc(s->loop, n * sizeof *s->loop);
        if (!s->running || !s->loop) abort();
        memset(s->running + s->threads, 0, (n - s->threads) * sizeof *s->running);
        memset(s->loop + s->threads, 0, (n - s->threads) * sizeof *s->loop);
        s->threads = n;
    }
    return &(*arr)[th];
}

static int x_of(size_t l)
{
    return (int)l * LANE_W;
}

static int y_of(int row)
{
    return -(row + 1) * ROW_H;
}

static void point(seq *s, size_t l, int row)
{
    fprintf(s->out, "  p%zu_%d [shape=point, width=0.05, pos=\"%d,%d!\"];\n", l, row, x_of(l),
            y_of(row));
}

/* A bar on lane l from row a to row b: control held, or an await. */
static void bar(seq *s, size_t l, int a, int b, bool await)
{
    if (b <= a) return;
    int dx = await ? 5 : 0;
    fprintf(s->out,
            "  b%zu_%d_%c [shape=point, width=0.01, pos=\"%d,%d!\"];\n"
            "  e%zu_%d_%c [shape=point, width=0.01, pos=\"%d,%d!\"];\n"
            "  b%zu_%d_%c -> e%zu_%d_%c [arrowhead=none, %s];\n",
            l, a, await ? 'a' : 'r', x_of(l) + dx, y_of(a), l, a, await ? 'a' : 'r', x_of(l) + dx,
            y_of(b), l, a, await ? 'a' : 'r', l, a, await ? 'a' : 'r',
            await ? "style=dashed, penwidth=2, color=\"#b06000\""
                  : "penwidth=5, color=\"#9ad29a\"");
}

static void arrow(seq *s, size_t from, size_t to, int row, const char *label, const char *style)
{
    point(s, from, row);
    if (to != from) point(s, to, row);
    fprintf(s->out, "  p%zu_%d -> p%zu_%d [xlabel=", from, row, to, row);
    vz_dot_str(s->out, label, 60);
    fprintf(s->out, ", %s];\n", style);
}

/* Text beside a lane, starting just right of it (a plaintext node is
 * centred on its position: shift it by about half its width). */
static void note(seq *s, size_t l, int row, const char *label)
{
    size_t len = strlen(label) < 60 ? strlen(label) : 63;
    fprintf(s->out, "  p%zu_%d [shape=plaintext, fontsize=9, fontcolor=\"#b06000\", label=", l,
            row);
    vz_dot_str(s->out, label, 60);
    fprintf(s->out, ", pos=\"%d,%d!\"];\n", x_of(l) + 8 + (int)(len * 5 / 2), y_of(row));
}

static void left_note(seq *s, const char *id, int row, const char *label, const char *colour)
{
    fprintf(s->out, "  %s [shape=plaintext, fontsize=9, fontcolor=\"%s\", label=", id, colour);
    vz_dot_str(s->out, label, 60);
    fprintf(s->out, ", pos=\"%d,%d!\"];\n", -LANE_W / 2 - 20, y_of(row) + ROW_H / 2);
}

/* Control passes on thread th to lane `to` (or to nobody) at row. */
static void take_control(seq *s, unsigned th, size_t to, int row)
{
    uint64_t *run = per_thread(s, &s->running, th);
    if (*run && s->l[*run - 1].run_row >= 0) {
        bar(s, *run - 1, s->l[*run - 1].run_row, row, false);
        s->l[*run - 1].run_row = -1;
    }
    *run = to + 1;
    s->l[to].run_row = row;
    if (s->l[to].await_row >= 0) {
        bar(s, to, s->l[to].await_row, row, true);
        s->l[to].await_row = -1;
    }
}

static const char *wake_object_kind(const coro_trace_ev *ev)
{
    /* A wake drawn from its object's lane: sync objects and timers. */
    if (ev->kind == CORO_EV_TIMER) return ev->obj.id ? "timer fired" : NULL;
    if (ev->kind != CORO_EV_WAKE || !ev->obj.id || !ev->cause) return NULL;
    if (!strcmp(ev->cause, "wake")) return "wakes";
    return NULL;
}

/* An io_uring call's result in words, by its call (the event's reason), as
 * the log says it: "4 bytes", "new fd 9", "connected", "error -104". */
static void call_result(const coro_trace_ev *ev, char *buf, size_t n)
{
    const char *op = ev->reason ? ev->reason : "";
    long long v = (long long)ev->value;
    if (v < 0)
        snprintf(buf, n, "error %lld", v);
    else if (!strcmp(op, "recv") || !strcmp(op, "send"))
        snprintf(buf, n, "%lld bytes", v);
    else if (!strcmp(op, "accept"))
        snprintf(buf, n, "new fd %lld", v);
    else if (!strcmp(op, "connect"))
        snprintf(buf, n, "connected");
    else
        snprintf(buf, n, "%lld", v);
}

/* Draws event ev at row; returns false when the event has no row. */
static bool draw(seq *s, const vz_model *m, const coro_trace_ev *ev, int row, bool logical)
{
    char label[256];
    unsigned long long n = (unsigned long long)ev->seq;
    const char *co = ev->co.name ? ev->co.name : "?";
    switch (ev->kind) {
    case CORO_EV_RESUME: {
        size_t to = lane_of(s, ev->co.id, ev->co.name);
        if (ev->from.id && ev->from.id != ev->co.id) {
            size_t from = lane_of(s, ev->from.id, ev->from.name);
            if (ev->cause && !strcmp(ev->cause, "io") && (ev->has & CORO_EVH_FD))
                snprintf(label, sizeof label, "%llu: fd %d ready", n, ev->fd);
            else if (ev->cause && !strcmp(ev->cause, "complete")) {
                char res[48];
                call_result(ev, res, sizeof res);
                snprintf(label, sizeof label, "%llu: op %llu completed (%s)", n,
                         (unsigned long long)ev->wait, res);
            } else
                snprintf(label, sizeof label, "%llu: %s", n, vz_cause_word(ev->cause));
            arrow(s, from, to, row, label,
                  ev->cause && !strcmp(ev->cause, "continuation") ? "color=\"#b06000\", style=bold"
                                                                  : "color=\"#2a7a2a\"");
        } else {
            snprintf(label, sizeof label, "%llu: runs (%s)", n, vz_cause_word(ev->cause));
            note(s, to, row, label);
        }
        take_control(s, ev->thread, to, row);
        return true;
    }
    case CORO_EV_SUSPEND:
        snprintf(label, sizeof label, "%llu: suspends (%s)", n,
                 ev->detail   ? ev->detail
                 : ev->reason ? ev->reason
                              : "?");
        note(s, lane_of(s, ev->co.id, ev->co.name), row, label);
        return true;
    case CORO_EV_AWAIT: {
        size_t l = lane_of(s, ev->co.id, ev->co.name);
        snprintf(label, sizeof label, "%llu: awaits %s", n, ev->to.name ? ev->to.name : "?");
        note(s, l, row, label);
        const vz_coro *child = ev->to.id ? vz_model_find(m, ev->to.id) : NULL;
        if (ev->to.id && !(child && child->state == VZ_DEAD) && s->l[l].await_row < 0)
            s->l[l].await_row = row;
        return true;
    }
    case CORO_EV_FINISH:
        if (ev->to.id)
            snprintf(label, sizeof label, "%llu: finishes, %s continues", n,
                     ev->to.name ? ev->to.name : "?");
        else
            snprintf(label, sizeof label, "%llu: finishes", n);
        note(s, lane_of(s, ev->co.id, ev->co.name), row, label);
        return true;
    case CORO_EV_SPAWN:
        snprintf(label, sizeof label, "%llu: spawned%s%s", n, ev->by.name ? " by " : "",
                 ev->by.name ? ev->by.name : "");
        note(s, lane_of(s, ev->co.id, ev->co.name), row, label);
        return true;
    case CORO_EV_EPOLL_WAIT: {
        size_t l = lane_of(s, ev->co.id, ev->co.name);
        *per_thread(s, &s->loop, ev->thread) = l + 1;
        char took[48] = "";
        if (!logical) vz_duration(ev->ts - vz_wait_start(m, ev), took, sizeof took);
        bool uring = ev->reason && !strcmp(ev->reason, "io_uring");
        snprintf(label, sizeof label, "%llu: in %s%s%s -> %d ready", n,
                 uring ? "io_uring_enter" : "epoll_wait", *took ? " " : "", took, ev->nready);
        fprintf(s->out,
                "  p%zu_%d [shape=box, style=filled, fillcolor=\"#dde4f4\", fontsize=9, "
                "label=",
                l, row);
        vz_dot_str(s->out, label, 60);
        fprintf(s->out, ", pos=\"%d,%d!\"];\n", x_of(l), y_of(row));
        return true;
    }
    case CORO_EV_EPOLL_DISPATCH: {
        /* The loop's coroutine hands the ready fd over: drawn from its lane. */
        uint64_t lp = *per_thread(s, &s->loop, ev->thread);
        uint64_t run = *per_thread(s, &s->running, ev->thread);
        size_t to = lane_of(s, ev->co.id, ev->co.name);
        size_t from = lp ? lp - 1 : run ? run - 1 : to;
        snprintf(label, sizeof label, "%llu: fd %d %s ready", n, ev->fd,
                 (ev->events & 1)   ? "IN"
                 : (ev->events & 4) ? "OUT"
                                    : "ERR");
        arrow(s, from, to, row, label, "color=\"#2040a0\", style=dotted");
        return true;
    }
    case CORO_EV_SUBMIT: { /* io_uring: the call handed to the kernel, from co to its socket */
        if (!ev->obj.id) return false;
        size_t from = lane_of(s, ev->co.id, ev->co.name);
        size_t to = lane_of(s, ev->obj.id, ev->obj.name);
        snprintf(label, sizeof label, "%llu: submits %s (op %llu)", n,
                 ev->reason   ? ev->reason
                 : ev->detail ? ev->detail
                              : "a call",
                 (unsigned long long)ev->wait);
        arrow(s, from, to, row, label, "color=\"#2040a0\", style=dashed");
        return true;
    }
    case CORO_EV_COMPLETE: { /* the loop hands the completion over, as a dispatch */
        uint64_t lp = *per_thread(s, &s->loop, ev->thread);
        uint64_t run = *per_thread(s, &s->running, ev->thread);
        size_t to = lane_of(s, ev->co.id, ev->co.name);
        size_t from = lp ? lp - 1 : run ? run - 1 : to;
        char res[48];
        call_result(ev, res, sizeof res);
        snprintf(label, sizeof label, "%llu: op %llu %s done: %s", n, (unsigned long long)ev->wait,
                 ev->reason ? ev->reason : "call", res);
        arrow(s, from, to, row, label, "color=\"#2040a0\", style=dotted");
        return true;
    }
    case CORO_EV_TIMER:
    case CORO_EV_WAKE: {
        const char *what = wake_object_kind(ev);
        if (!what) return false;
        /* A sleep's timer belongs to the loop (its object is the context):
         * it fires from the lane of the coroutine that runs the loop. */
        const vz_coro *ob = vz_model_find(m, ev->obj.id);
        uint64_t lp = *per_thread(s, &s->loop, ev->thread);
        size_t from = ev->kind == CORO_EV_TIMER && lp && ob && ob->obj_kind &&
                              !strcmp(ob->obj_kind, "context")
                          ? lp - 1
                          : lane_of(s, ev->obj.id, ev->obj.name);
        size_t to = lane_of(s, ev->co.id, ev->co.name);
        snprintf(label, sizeof label, "%llu: %s %s", n, what, co);
        arrow(s, from, to, row, label, "color=\"#7030a0\", style=dotted");
        return true;
    }
    default:
        return false;
    }
}

static void legend(seq *s, size_t nl, bool uring)
{
    fprintf(s->out,
            "  legend [shape=note, fontsize=9, pos=\"%d,%d!\", label=\"how to read it\\l"
            "solid green arrow: control passes (resume), with its cause\\l"
            "bold orange arrow: a finished child continues its awaiter\\l"
            "dotted blue arrow: the loop hands a ready fd to its coroutine\\l"
            "%s"
            "dotted purple arrow: a channel, lock or timer wakes a coroutine\\l"
            "thick green bar: who holds control of the thread\\l"
            "dashed orange bar: a coroutine waiting in an await\\l"
            "blue box: the thread blocked in epoll_wait\\l"
            "numbers: the event's seq (coroscope log)\\l\"];\n",
            x_of(nl) + LANE_W / 2, -ROW_H,
            uring ? "dashed blue arrow: a call submitted to io_uring; dotted: its completion\\l"
                  : "");
}

int vz_view_seq(const vz_trace *t, const vz_opts *o, FILE *out)
{
    size_t limit = o->first ? o->first : (o->to ? 0 : 80);
    /* The diagram is built into memory first: lanes (the header) are known
     * only once every row is drawn. */
    char *body = NULL;
    size_t blen = 0;
    seq s = {.out = open_memstream(&body, &blen)};
    if (!s.out) return VZ_RENDER;
    vz_model_init(&s.lanes);
    vz_model m; /* the run's own state, for await spans and wait times */
    vz_model_init(&m);
    int row = 0;
    size_t gap = 0;
    uint64_t prev_ts = 0;
    bool have_prev = false;
    for (size_t i = 0; i < t->n && (!limit || (size_t)row < limit); i++) {
        const coro_trace_ev *ev = &t->ev[i];
        if (o->to && ev->seq > o->to) break;
        bool in = !o->from || ev->seq >= o->from;
        if (in)
            for (; gap < t->ngaps && t->gaps[gap].index <= i; gap++) {
                char id[32], label[64];
                snprintf(id, sizeof id, "gap%zu", gap);
                snprintf(label, sizeof label, "%llu events lost",
                         (unsigned long long)t->gaps[gap].count);
                left_note(&s, id, row, label, "red");
            }
        else
            while (gap < t->ngaps && t->gaps[gap].index <= i) gap++;
        if (in) {
            uint64_t before = ev->ts;
            if (draw(&s, &m, ev, row, t->logical)) {
                if (have_prev && !t->logical && before - prev_ts >= GAP_NS && before > prev_ts) {
                    char id[32], label[48] = "+";
                    snprintf(id, sizeof id, "dt%d", row);
                    vz_duration(before - prev_ts, label + 1, sizeof label - 1);
                    left_note(&s, id, row - 1, label, "#555555");
                }
                prev_ts = before;
                have_prev = true;
                row++;
            }
        }
        vz_model_apply(&m, ev);
    }
    /* Bars still open end below the last row. */
    for (size_t l = 0; l < s.lanes.n; l++) {
        if (s.l[l].run_row >= 0) bar(&s, l, s.l[l].run_row, row, false);
        if (s.l[l].await_row >= 0) bar(&s, l, s.l[l].await_row, row, true);
    }
    fclose(s.out);
    s.out = out;

    size_t nl = s.lanes.n;
    fprintf(out, "digraph coroscope_seq {\n  graph [layout=neato, splines=false, "
                 "fontname=\"Helvetica\", label=");
    char title[300];
    snprintf(title, sizeof title, "%s: %d steps", t->program ? t->program : "trace", row);
    vz_dot_str(out, title, 200);
    fprintf(out, ", labelloc=t];\n  node [fontname=\"Helvetica\", fontsize=10];\n"
                 "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (size_t l = 0; l < nl; l++) {
        const vz_coro *c = &s.lanes.co[l];
        const vz_coro *r = vz_model_find(&m, c->id);
        bool object = r && r->is_object;
        fprintf(out, "  lane%zu [shape=%s, style=\"rounded,filled\", fillcolor=\"%s\", label=", l,
                object ? "ellipse" : "box", object ? "#e8f0ff" : "#f4f4f4");
        vz_dot_str(out, c->name, 40);
        fprintf(out, ", pos=\"%d,0!\"];\n", x_of(l));
    }
    fwrite(body, 1, blen, out);
    free(body);
    /* Lane lines from the header down past the last row. */
    for (size_t l = 0; l < nl; l++) {
        fprintf(out, "  end%zu [shape=point, width=0.01, pos=\"%d,%d!\"];\n", l, x_of(l),
                y_of(row));
        fprintf(out, "  lane%zu -> end%zu [style=dashed, color=\"#bbbbbb\", arrowhead=none];\n", l,
                l);
    }
    bool uring = false; /* the io_uring line of the legend, only where it is drawn */
    for (size_t i = 0; i < t->n && !uring; i++) uring = t->ev[i].kind == CORO_EV_SUBMIT;
    legend(&s, nl, uring);
    fprintf(out, "}\n");
    free(s.l);
    free(s.running);
    free(s.loop);
    vz_model_free(&s.lanes);
    vz_model_free(&m);
    return VZ_OK;
}
