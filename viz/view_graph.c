/*
 * view_graph.c - `coroscope graph`: who created, awaited, resumed and woke
 * whom, as one picture.
 *
 * Nodes: named coroutines (boxes; main doubled), runtime objects (the
 * context, sockets, timers, channels: ellipses). Edges, each drawn once
 * with a count:
 *   dashed grey     creates / spawns
 *   bold orange     awaits, and the finished child's "finishes, continues"
 *                   drawn back (open arrowhead)
 *   solid green     resume transfers labelled with the cause ("hands back"
 *                   when control returns to the resumer)
 *   blue            the loop: main runs epoll_wait on it, and it resumes the
 *                   coroutines whose fd became ready or whose timer fired
 *   dotted          a channel, lock or other object wakes a coroutine, and
 *                   what a coroutine waits on
 * --fold merges names that differ only in their numbers (echo#1, echo#2 ->
 * echo#*), and --max-nodes keeps the busiest nodes and says what it left
 * out, because dot's layout time grows fast with nodes and edges.
 */
#include <stdlib.h>
#include <string.h>

#include "viz.h"

typedef struct node {
    const char *key;   /* interned: the id, or with --fold the folded name */
    uint64_t id;       /* the coroutine or object that made the node */
    const char *label; /* what the picture shows */
    uint64_t events;
    unsigned members; /* coroutines folded into it */
    bool object, is_main, kept;
    const char *kind;
} node;

typedef struct edge {
    size_t a, b;
    const char *label; /* interned */
    int style;         /* 0 solid, 1 dashed, 2 bold, 3 dotted, 4 continues, 5 waits on, 6 loop */
    uint64_t count;
} edge;

typedef struct graph {
    node *nodes;
    size_t nn, ncap;
    edge *edges;
    size_t ne, ecap;
    size_t *eslot; /* hash: (a,b,label,style) -> edge index + 1 */
    size_t eslots;
    size_t *nslot; /* hash: key -> node index + 1 */
    size_t nslots;
    uint32_t *edge_of; /* for a page: per event, the edge it drew + 1 (or NULL) */
    size_t ev;         /* the event being drawn */
} graph;

/* The node of id: one per coroutine or object, or with --fold one per name
 * pattern. Found through a hash on the interned key. */
static size_t node_for(graph *g, vz_model *m, uint64_t id, const char *fallback, bool fold)
{
    vz_coro *c = vz_model_get(m, id, NULL);
    const char *name = c->name && strcmp(c->name, "?") ? c->name : fallback;
    if (!name) name = vz_intern("?");
    const char *key;
    if (fold && !c->is_object) {
        key = vz_fold_name(name);
    } else {
        char buf[48];
        snprintf(buf, sizeof buf, "\x1f%llu", (unsigned long long)id);
        key = vz_intern(buf);
    }
    if (g->nn * 2 >= g->nslots) {
        size_t ns = g->nslots ? g->nslots * 2 : 256;
        size_t *slot = calloc(ns, sizeof *slot);
        if (!slot) abort();
        for (size_t i = 0; i < g->nn; i++) {
            size_t j = ((uintptr_t)g->nodes[i].key * 11400714819323198485u) & (ns - 1);
            while (slot[j]) j = (j + 1) & (ns - 1);
            slot[j] = i + 1;
        }
        free(g->nslot);
        g->nslot = slot;
        g->nslots = ns;
    }
    size_t j = ((uintptr_t)key * 11400714819323198485u) & (g->nslots - 1);
    while (g->nslot[j]) {
        if (g->nodes[g->nslot[j] - 1].key == key) return g->nslot[j] - 1;
        j = (j + 1) & (g->nslots - 1);
    }
    if (g->nn == g->ncap) {
        g->ncap = g->ncap ? g->ncap * 2 : 64;
        g->nodes = realloc(g->nodes, g->ncap * sizeof *g->nodes);
        if (!g->nodes) abort();
    }
    node *n = &g->nodes[g->nn];
    memset(n, 0, sizeof *n);
    n->key = key;
    n->id = id;
    n->label = fold && !c->is_object ? key : name;
    n->object = c->is_object;
    n->kind = c->obj_kind;
    n->is_main = !c->created_by && !c->is_object && !strcmp(name, "main");
    n->members = 0;
    g->nslot[j] = ++g->nn;
    return g->nn - 1;
}

static uint64_t ehash(size_t a, size_t b, const char *l, int s)
{
    return ((uint64_t)a * 1000003u) ^ ((uint64_t)b * 999983u) ^ (uint64_t)(uintptr_t)l ^
           ((uint64_t)s << 56);
}

static void add_edge(graph *g, size_t a, size_t b, const char *label, int style)
{
    if (g->ne * 2 >= g->eslots) {
        size_t ns = g->eslots ? g->eslots * 2 : 256;
        size_t *slot = calloc(ns, sizeof *slot);
        if (!slot) abort();
        for (size_t i = 0; i < g->ne; i++) {
            edge *e = &g->edges[i];
            size_t j = ehash(e->a, e->b, e->label, e->style) & (ns - 1);
            while (slot[j]) j = (j + 1) & (ns - 1);
            slot[j] = i + 1;
        }
        free(g->eslot);
        g->eslot = slot;
        g->eslots = ns;
    }
    size_t j = ehash(a, b, label, style) & (g->eslots - 1);
    while (g->eslot[j]) {
        edge *e = &g->edges[g->eslot[j] - 1];
        if (e->a == a && e->b == b && e->label == label && e->style == style) {
            e->count++;
            if (g->edge_of) g->edge_of[g->ev] = g->eslot[j];
            return;
        }
        j = (j + 1) & (g->eslots - 1);
    }
    if (g->ne == g->ecap) {
        g->ecap = g->ecap ? g->ecap * 2 : 256;
        g->edges = realloc(g->edges, g->ecap * sizeof *g->edges);
        if (!g->edges) abort();
    }
    g->edges[g->ne] = (edge){a, b, label, style, 1};
    g->eslot[j] = ++g->ne;
    if (g->edge_of) g->edge_of[g->ev] = (uint32_t)g->ne;
}

static const char *cause_label(const coro_trace_ev *ev)
{
    const char *c = ev->cause ? ev->cause : "?";
    if (!strcmp(c, "io") && (ev->has & CORO_EVH_FD)) {
        char buf[64];
        snprintf(buf, sizeof buf, "fd %d %s", ev->fd,
                 (ev->events & 1)   ? "IN"
                 : (ev->events & 4) ? "OUT"
                                    : "ERR");
        return vz_intern(buf);
    }
    if (!strcmp(c, "complete") && (ev->has & CORO_EVH_FD)) { /* io_uring */
        char buf[64];
        snprintf(buf, sizeof buf, "fd %d completion", ev->fd);
        return vz_intern(buf);
    }
    return vz_intern(vz_cause_word(c));
}

/* The folded name a node stands for, or NULL when it is one coroutine's. */
static const char *fold_key(const node *n, bool fold)
{
    return fold && !n->object ? n->key : NULL;
}

void vz_graph_node_id(uint64_t id, const char *folded, char *buf, size_t cap)
{
    if (!folded) {
        snprintf(buf, cap, "c%llu", (unsigned long long)id);
        return;
    }
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)folded; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    snprintf(buf, cap, "f%016llx", (unsigned long long)h);
}

static int cmp_nodes(const void *x, const void *y)
{
    const node *a = *(node *const *)x, *b = *(node *const *)y;
    if (a->is_main != b->is_main) return a->is_main ? -1 : 1;
    return (a->events < b->events) - (a->events > b->events);
}

int vz_view_graph(const vz_trace *t, const vz_opts *o, FILE *out)
{
    return vz_graph_for_page(t, o, out, NULL);
}

int vz_graph_for_page(const vz_trace *t, const vz_opts *o, FILE *out, uint32_t *edge_of)
{
    vz_model m;
    vz_model_init(&m);
    graph g;
    memset(&g, 0, sizeof g);
    g.edge_of = edge_of;
    const char *l_creates = vz_intern("creates"), *l_spawns = vz_intern("spawns"),
               *l_awaits = vz_intern("awaits"), *l_returns = vz_intern("finishes, continues"),
               *l_runs = vz_intern("runs epoll_wait"), *l_uring = vz_intern("runs io_uring_enter"),
               *l_submits = vz_intern("submits");
    /* per thread: the loop (context) whose epoll_wait it ran last */
    uint64_t *loop = NULL;
    unsigned threads = 0;
    /* Names can change (rename), so a first pass learns each id's last name
     * and whether it is an object. */
    for (size_t i = 0; i < t->n; i++) vz_model_apply(&m, &t->ev[i]);
    for (size_t i = 0; i < t->n; i++) {
        const coro_trace_ev *ev = &t->ev[i];
        g.ev = i;
        if (ev->thread >= threads) {
            unsigned nt = ev->thread + 8;
            loop = realloc(loop, nt * sizeof *loop);
            if (!loop) abort();
            memset(loop + threads, 0, (nt - threads) * sizeof *loop);
            threads = nt;
        }
        size_t co = ev->co.id ? node_for(&g, &m, ev->co.id, ev->co.name, o->fold) : 0;
        if (ev->co.id) g.nodes[co].events++;
        switch (ev->kind) {
        case CORO_EV_CREATE:
            /* A spawn follows its create at once: draw it once, as "spawns". */
            if (ev->by.id && !ev->obj.id &&
                !(i + 1 < t->n && t->ev[i + 1].kind == CORO_EV_SPAWN &&
                  t->ev[i + 1].co.id == ev->co.id))
                add_edge(&g, node_for(&g, &m, ev->by.id, ev->by.name, o->fold), co, l_creates, 1);
            if (ev->obj.id) node_for(&g, &m, ev->obj.id, ev->obj.name, o->fold);
            break;
        case CORO_EV_SPAWN:
            if (ev->by.id)
                add_edge(&g, node_for(&g, &m, ev->by.id, ev->by.name, o->fold), co, l_spawns, 1);
            break;
        case CORO_EV_AWAIT:
            if (ev->to.id)
                add_edge(&g, co, node_for(&g, &m, ev->to.id, ev->to.name, o->fold), l_awaits, 2);
            break;
        case CORO_EV_FINISH:
            if (ev->to.id)
                add_edge(&g, co, node_for(&g, &m, ev->to.id, ev->to.name, o->fold), l_returns, 4);
            break;
        case CORO_EV_RESUME:
            if (ev->from.id) {
                const char *c = ev->cause ? ev->cause : "";
                /* Already drawn: a continuation is the "returns" edge of the
                 * finish, and the start of an awaited child its "awaits". */
                bool drawn = !strcmp(c, "continuation") ||
                             (!strcmp(c, "start") && i > 0 && t->ev[i - 1].kind == CORO_EV_AWAIT &&
                              t->ev[i - 1].to.id == ev->co.id);
                if (drawn) {
                    /* A page lights the edge of the finish or await just before. */
                    if (edge_of && i > 0) edge_of[i] = edge_of[i - 1];
                    break;
                }
                /* The loop resumes what its epoll_wait or timers made ready. */
                uint64_t lp = loop[ev->thread];
                if (lp && (!strcmp(c, "io") || !strcmp(c, "timer") || !strcmp(c, "post") ||
                           !strcmp(c, "complete")))
                    add_edge(&g, node_for(&g, &m, lp, NULL, o->fold), co, cause_label(ev), 6);
                else if (ev->obj.id && !strcmp(c, "wake"))
                    add_edge(&g, node_for(&g, &m, ev->obj.id, ev->obj.name, o->fold), co,
                             vz_intern("woken"), 3);
                else
                    add_edge(&g, node_for(&g, &m, ev->from.id, ev->from.name, o->fold), co,
                             cause_label(ev), 0);
            }
            break;
        case CORO_EV_SUSPEND:
            /* Waiting on a synchronisation object: an edge to the object. */
            if (ev->obj.id && ev->reason && strcmp(ev->reason, "yield")) {
                char label[48];
                snprintf(label, sizeof label, "waits (%s)", ev->reason);
                add_edge(&g, co, node_for(&g, &m, ev->obj.id, ev->obj.name, o->fold),
                         vz_intern(label), 5);
            }
            break;
        case CORO_EV_EPOLL_WAIT:
            if (ev->obj.id) {
                loop[ev->thread] = ev->obj.id;
                bool uring = ev->reason && !strcmp(ev->reason, "io_uring");
                add_edge(&g, co, node_for(&g, &m, ev->obj.id, ev->obj.name, o->fold),
                         uring ? l_uring : l_runs, 6);
            }
            break;
        case CORO_EV_SUBMIT: /* io_uring: the call handed to the kernel */
            if (ev->obj.id)
                add_edge(&g, co, node_for(&g, &m, ev->obj.id, ev->obj.name, o->fold), l_submits, 5);
            break;
        default:
            break;
        }
    }
    /* Count the coroutines behind each node (more than one when folded). */
    for (size_t i = 0; i < m.n; i++) {
        if (!m.co[i].events) continue;
        g.nodes[node_for(&g, &m, m.co[i].id, m.co[i].name, o->fold)].members++;
    }

    /* Keep the busiest nodes. */
    size_t max = o->max_nodes ? o->max_nodes : 300;
    node **order = malloc((g.nn + 1) * sizeof *order);
    for (size_t i = 0; i < g.nn; i++) order[i] = &g.nodes[i];
    qsort(order, g.nn, sizeof *order, cmp_nodes);
    size_t kept = g.nn < max ? g.nn : max;
    uint64_t left_events = 0;
    for (size_t i = 0; i < g.nn; i++) {
        order[i]->kept = i < kept;
        if (i >= kept) left_events += order[i]->events;
    }
    free(order);

    fprintf(out, "digraph coroscope {\n");
    fprintf(out, "  graph [rankdir=LR, fontname=\"Helvetica\", label=");
    char title[512];
    snprintf(title, sizeof title, "%s: %zu events%s", t->program ? t->program : "trace", t->n,
             o->fold ? ", folded" : "");
    vz_dot_str(out, title, 200);
    fprintf(out, ", labelloc=t];\n  node [fontname=\"Helvetica\", fontsize=11];\n"
                 "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (size_t i = 0; i < g.nn; i++) {
        node *n = &g.nodes[i];
        if (!n->kept) continue;
        fprintf(out, "  n%zu [label=\"", i);
        vz_dot_esc(out, n->label, 80);
        if (n->members > 1)
            fprintf(out, "\\n%u coroutines, %llu events", n->members,
                    (unsigned long long)n->events);
        fprintf(out, "\"");
        if (edge_of) {
            char sid[32];
            vz_graph_node_id(n->id, fold_key(n, o->fold), sid, sizeof sid);
            fprintf(out, ", id=\"%s\"", sid);
        }
        if (n->object)
            fprintf(out, ", shape=ellipse, style=filled, fillcolor=\"#e8f0ff\"");
        else if (n->is_main)
            fprintf(out,
                    ", shape=box, peripheries=2, style=\"rounded,filled\", fillcolor=\"#f4f4f4\"");
        else
            fprintf(out, ", shape=box, style=\"rounded%s\"%s", n->members > 1 ? ",filled" : "",
                    n->members > 1 ? ", fillcolor=\"#fff4d6\"" : "");
        fprintf(out, "];\n");
    }
    static const char *styles[] = {"style=solid, color=\"#2a7a2a\"",
                                   "style=dashed, color=\"#777777\"",
                                   "style=bold, penwidth=2, color=\"#b06000\"",
                                   "style=dotted, color=\"#2040a0\"",
                                   "style=dashed, color=\"#b06000\", arrowhead=empty",
                                   "style=dotted, color=\"#a02020\", arrowhead=open",
                                   "style=solid, penwidth=1.5, color=\"#2040a0\""};
    for (size_t i = 0; i < g.ne; i++) {
        edge *e = &g.edges[i];
        if (!g.nodes[e->a].kept || !g.nodes[e->b].kept) continue;
        char label[128];
        if (e->count > 1)
            snprintf(label, sizeof label, "%s x %llu", e->label, (unsigned long long)e->count);
        else
            snprintf(label, sizeof label, "%s", e->label);
        fprintf(out, "  n%zu -> n%zu [label=", e->a, e->b);
        vz_dot_str(out, label, 100);
        if (edge_of) fprintf(out, ", id=\"e%zu\"", i + 1); /* a page finds it */
        fprintf(out, ", %s];\n", styles[e->style]);
    }
    if (kept < g.nn) {
        char note[256];
        snprintf(note, sizeof note,
                 "%zu more nodes (%llu events) not shown:\nuse --fold or --max-nodes %zu",
                 g.nn - kept, (unsigned long long)left_events, g.nn);
        fprintf(out, "  omitted [shape=note, label=");
        vz_dot_str(out, note, 200);
        fprintf(out, "];\n");
    }
    if (t->ngaps) {
        uint64_t lost = 0;
        for (size_t i = 0; i < t->ngaps; i++) lost += t->gaps[i].count;
        char note[128];
        snprintf(note, sizeof note,
                 "%llu events were lost by the tracer:\nthis picture is incomplete",
                 (unsigned long long)lost);
        fprintf(out, "  lost [shape=note, color=red, label=");
        vz_dot_str(out, note, 200);
        fprintf(out, "];\n");
    }
    fprintf(out, "  legend [shape=note, fontsize=9, label=\"how to read it\\l"
                 "green: control passes (resume), with its cause;\\l"
                 "  hands back = the coroutine it resumed suspended or finished\\l"
                 "bold orange: awaits; open arrow back: the child finished and\\l"
                 "  its awaiter continues\\l"
                 "blue: the event loop: epoll_wait, and the resumes it makes\\l"
                 "dotted: what a coroutine waits on, and who wakes it\\l"
                 "dashed grey: creates or spawns\\l"
                 "ellipses: runtime objects (loop, sockets, channels, timers)\\l\"];\n");
    fprintf(out, "}\n");
    free(loop);
    free(g.nodes);
    free(g.edges);
    free(g.eslot);
    free(g.nslot);
    vz_model_free(&m);
    return VZ_OK;
}
