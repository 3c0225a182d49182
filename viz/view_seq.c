/*
 * view_seq.c - `coroscope seq`: a sequence diagram. One lane per coroutine
 * (and one per loop object), time going down, a numbered arrow for every
 * transfer of control with its cause, and notes for suspends, awaits,
 * finishes and dispatches. The numbers are the trace's seq, so arrow 17 is
 * line 17 of `coroscope log`.
 *
 * Positions are computed here and pinned (pos="x,y!"), with layout=neato:
 * dot's own layout of a long sequence is slow and shuffles the rows.
 */
#include <stdlib.h>
#include <string.h>

#include "viz.h"

#define LANE_W 170
#define ROW_H  34

typedef struct lane {
    uint64_t id;
    const char *name;
    int last_row; /* -1: no point yet */
} lane;

static size_t lane_of(lane **lanes, size_t *n, uint64_t id, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if ((*lanes)[i].id == id) {
            if (name) (*lanes)[i].name = name;
            return i;
        }
    *lanes = realloc(*lanes, (*n + 1) * sizeof **lanes);
    if (!*lanes) abort();
    (*lanes)[*n] = (lane){id, name ? name : "?", -1};
    return (*n)++;
}

static bool in_window(const coro_trace_ev *ev, const vz_opts *o)
{
    if (o->from && ev->seq < o->from) return false;
    if (o->to && ev->seq > o->to) return false;
    return true;
}

static bool drawn(const coro_trace_ev *ev)
{
    switch (ev->kind) {
    case CORO_EV_RESUME:
    case CORO_EV_SUSPEND:
    case CORO_EV_AWAIT:
    case CORO_EV_FINISH:
    case CORO_EV_EPOLL_DISPATCH:
    case CORO_EV_SPAWN:
        return true;
    default:
        return false;
    }
}

static void point(FILE *out, size_t l, int row)
{
    fprintf(out, "  p%zu_%d [shape=point, width=0.05, pos=\"%d,%d!\"];\n", l, row, (int)l * LANE_W,
            -(row + 1) * ROW_H);
}

int vz_view_seq(const vz_trace *t, const vz_opts *o, FILE *out)
{
    size_t limit = o->first ? o->first : (o->to ? 0 : 80);
    lane *lanes = NULL;
    size_t nl = 0;
    /* First pass: which lanes and rows. */
    size_t rows = 0;
    for (size_t i = 0; i < t->n && (!limit || rows < limit); i++) {
        const coro_trace_ev *ev = &t->ev[i];
        if (!in_window(ev, o) || !drawn(ev)) continue;
        if (ev->kind == CORO_EV_RESUME && ev->from.id)
            lane_of(&lanes, &nl, ev->from.id, ev->from.name);
        if (ev->kind == CORO_EV_EPOLL_DISPATCH && ev->obj.id)
            lane_of(&lanes, &nl, ev->obj.id, ev->obj.name);
        lane_of(&lanes, &nl, ev->co.id, ev->co.name);
        rows++;
    }
    fprintf(out, "digraph coroscope_seq {\n  graph [layout=neato, splines=false, "
                 "fontname=\"Helvetica\", label=");
    char title[300];
    snprintf(title, sizeof title, "%s: %zu steps", t->program ? t->program : "trace", rows);
    vz_dot_str(out, title, 200);
    fprintf(out, ", labelloc=t];\n  node [fontname=\"Helvetica\", fontsize=10];\n"
                 "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (size_t l = 0; l < nl; l++) {
        fprintf(out,
                "  lane%zu [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f4f4\", label=", l);
        vz_dot_str(out, lanes[l].name, 40);
        fprintf(out, ", pos=\"%d,0!\"];\n", (int)l * LANE_W);
    }
    int row = 0;
    size_t gap = 0;
    for (size_t i = 0; i < t->n && row < (int)rows; i++) {
        for (; gap < t->ngaps && t->gaps[gap].index <= i; gap++) {
            if (!in_window(&t->ev[i], o)) continue;
            fprintf(out,
                    "  gap%zu [shape=plaintext, fontcolor=red, label=\"%llu events lost\", "
                    "pos=\"%d,%d!\"];\n",
                    gap, (unsigned long long)t->gaps[gap].count, -LANE_W / 2, -(row + 1) * ROW_H);
        }
        const coro_trace_ev *ev = &t->ev[i];
        if (!in_window(ev, o) || !drawn(ev)) continue;
        size_t to = lane_of(&lanes, &nl, ev->co.id, ev->co.name);
        char label[256];
        if (ev->kind == CORO_EV_RESUME || ev->kind == CORO_EV_EPOLL_DISPATCH) {
            size_t from = ev->kind == CORO_EV_RESUME
                              ? lane_of(&lanes, &nl, ev->from.id, ev->from.name)
                              : lane_of(&lanes, &nl, ev->obj.id, ev->obj.name);
            point(out, from, row);
            if (to != from) point(out, to, row);
            if (ev->kind == CORO_EV_RESUME)
                snprintf(label, sizeof label, "%llu: %s", (unsigned long long)ev->seq,
                         ev->cause ? ev->cause : "?");
            else
                snprintf(label, sizeof label, "%llu: fd %d %s", (unsigned long long)ev->seq, ev->fd,
                         (ev->events & 1) ? "IN" : "OUT");
            fprintf(out, "  p%zu_%d -> p%zu_%d [xlabel=", from, row, to, row);
            vz_dot_str(out, label, 60);
            fprintf(out, ", color=\"%s\"];\n", ev->kind == CORO_EV_RESUME ? "#2a7a2a" : "#2040a0");
            lanes[from].last_row = row;
        } else {
            const char *what = coro_ev_kind_name(ev->kind);
            if (ev->kind == CORO_EV_SUSPEND)
                snprintf(label, sizeof label, "%llu: suspend (%s)", (unsigned long long)ev->seq,
                         ev->detail   ? ev->detail
                         : ev->reason ? ev->reason
                                      : "?");
            else if (ev->kind == CORO_EV_AWAIT || ev->kind == CORO_EV_FINISH)
                snprintf(label, sizeof label, "%llu: %s%s%s", (unsigned long long)ev->seq, what,
                         ev->to.name ? (ev->kind == CORO_EV_AWAIT ? " " : " -> ") : "",
                         ev->to.name ? ev->to.name : "");
            else
                snprintf(label, sizeof label, "%llu: %s", (unsigned long long)ev->seq, what);
            fprintf(out,
                    "  p%zu_%d [shape=plaintext, fontsize=9, fontcolor=\"#b06000\", label=", to,
                    row);
            vz_dot_str(out, label, 60);
            fprintf(out, ", pos=\"%d,%d!\"];\n", (int)to * LANE_W, -(row + 1) * ROW_H);
        }
        lanes[to].last_row = row;
        row++;
    }
    /* Lane lines from the header down past the last row. */
    for (size_t l = 0; l < nl; l++) {
        fprintf(out, "  end%zu [shape=point, width=0.01, pos=\"%d,%d!\"];\n", l, (int)l * LANE_W,
                -(row + 1) * ROW_H);
        fprintf(out, "  lane%zu -> end%zu [style=dashed, color=\"#bbbbbb\", arrowhead=none];\n", l,
                l);
    }
    fprintf(out, "}\n");
    free(lanes);
    return VZ_OK;
}
