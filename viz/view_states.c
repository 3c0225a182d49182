/*
 * view_states.c - `coroscope states`: each coroutine's state machine as it
 * really ran, with transition counts; with --fold one machine per name
 * pattern (all echo#N together). Machines come in the order the coroutines
 * were created. Each state says what it means ("waiting: control back (it
 * resumed another)", "waiting: io on a conn", "waiting: channel"), each edge
 * into ready or running names its cause ("fd ready x 1,204"), and the time a
 * thread's main spends blocked in epoll_wait is a state of its own.
 *
 * Transitions are counted in a hash on interned keys, so the view is one
 * pass over the events whatever --max-nodes asks for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "viz.h"

/* The state of a thread's main while it waits for the kernel. */
#define IN_WAIT "blocked in epoll_wait\n(the loop waits for fds)"

typedef struct trans {
    const char *group, *a, *b, *why; /* interned */
    uint64_t count;
} trans;

/* A map from an interned pointer to an index. */
typedef struct pmap {
    const void **key;
    size_t *val;
    size_t n, cap;
} pmap;

static size_t pslot(const void *k, size_t cap)
{
    return (size_t)(((uintptr_t)k * 11400714819323198485u) >> 7) & (cap - 1);
}

static size_t *pmap_at(pmap *m, const void *k, bool add)
{
    if (add && (m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        const void **key = calloc(cap, sizeof *key);
        size_t *val = calloc(cap, sizeof *val);
        if (!key || !val) abort();
        for (size_t i = 0; i < m->cap; i++)
            if (m->key[i]) {
                size_t j = pslot(m->key[i], cap);
                while (key[j]) j = (j + 1) & (cap - 1);
                key[j] = m->key[i];
                val[j] = m->val[i];
            }
        free(m->key);
        free(m->val);
        m->key = key;
        m->val = val;
        m->cap = cap;
    }
    if (!m->cap) return NULL;
    size_t j = pslot(k, m->cap);
    while (m->key[j]) {
        if (m->key[j] == k) return &m->val[j];
        j = (j + 1) & (m->cap - 1);
    }
    if (!add) return NULL;
    m->key[j] = k;
    m->n++;
    return &m->val[j];
}

static void pmap_free(pmap *m)
{
    free(m->key);
    free(m->val);
}

static const char *state_label(const vz_coro *c)
{
    char buf[160];
    switch (c->state) {
    case VZ_CREATED:
        return vz_intern("created\n(not started yet)");
    case VZ_READY:
        return vz_intern("ready\n(queued to run)");
    case VZ_RUNNING:
        return vz_intern("running");
    case VZ_DEAD:
        return vz_intern("finished");
    case VZ_SUSPENDED:
        break;
    }
    const char *r = c->reason;
    if (c->awaiting || (r && !strcmp(r, "await")))
        return vz_intern("waiting: await\n(a child to finish)");
    if (!r) return vz_intern("waiting: control back\n(it resumed another)");
    if (!strcmp(r, "yield")) return vz_intern("waiting: yielded\n(to be resumed)");
    if (!strcmp(r, "io")) return vz_intern("waiting: io\n(a socket to be ready)");
    if (!strcmp(r, "timer")) return vz_intern("waiting: timer\n(sleeping)");
    snprintf(buf, sizeof buf, "waiting: %.60s", r); /* channel, lock, cond, ... */
    return vz_intern(buf);
}

typedef struct states {
    trans *ts;
    size_t nt, cap;
    pmap tmap; /* key "group\x1f a\x1f b\x1f why" -> transition */
    pmap gmap; /* group -> its index + 1 */
    const char **groups;
    size_t ng, max_groups;
} states;

static void count(states *s, const char *g, const char *a, const char *b, const char *why)
{
    size_t *gi = pmap_at(&s->gmap, g, false);
    if (!gi) {
        if (s->ng >= s->max_groups) return;
        s->groups = realloc(s->groups, (s->ng + 1) * sizeof *s->groups);
        if (!s->groups) abort();
        s->groups[s->ng++] = g;
        *pmap_at(&s->gmap, g, true) = s->ng;
    }
    char key[1024];
    snprintf(key, sizeof key, "%p\x1f%p\x1f%p\x1f%p", (const void *)g, (const void *)a,
             (const void *)b, (const void *)why);
    const char *k = vz_intern(key);
    size_t *ti = pmap_at(&s->tmap, k, true);
    if (*ti) {
        s->ts[*ti - 1].count++;
        return;
    }
    if (s->nt == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->ts = realloc(s->ts, s->cap * sizeof *s->ts);
        if (!s->ts) abort();
    }
    s->ts[s->nt++] = (trans){g, a, b, why, 1};
    *ti = s->nt;
}

/* What made the coroutine of this event change state, for the edge label. */
static const char *why_of(const coro_trace_ev *ev, bool is_co, bool fold)
{
    if (!is_co) return NULL;
    if (ev->kind == CORO_EV_RESUME || ev->kind == CORO_EV_WAKE) {
        if (ev->cause && !strcmp(ev->cause, "wake") && ev->obj.name) {
            char buf[128];
            snprintf(buf, sizeof buf, "woken by %.100s", ev->obj.name);
            return fold ? vz_fold_name(buf) : vz_intern(buf);
        }
        return vz_intern(vz_cause_word(ev->cause));
    }
    return NULL;
}

/* Each group's states and transitions, in one pass over the transitions:
 * group g's into bf[g]. */
static void write_bodies(states *s, FILE **bf)
{
    const char *in_wait = vz_intern(IN_WAIT);
    const char *running = vz_intern("running");
    const char *start = vz_intern("(start)");
    pmap seen = {0}; /* "group state" -> node number + 1 */
    size_t nodes = 0;
    for (size_t i = 0; i < s->nt; i++) {
        trans *x = &s->ts[i];
        size_t g = *pmap_at(&s->gmap, x->group, false) - 1;
        size_t id[2];
        const char *st[2] = {x->a, x->b};
        for (int k = 0; k < 2; k++) {
            char key[64];
            snprintf(key, sizeof key, "%p %p", (const void *)x->group, (const void *)st[k]);
            size_t *v = pmap_at(&seen, vz_intern(key), true);
            if (!*v) {
                *v = ++nodes;
                fprintf(bf[g], "    s%zu [label=", *v);
                vz_dot_str(bf[g], st[k], 80);
                if (st[k] == running)
                    fprintf(bf[g], ", style=filled, fillcolor=\"#d8f0d8\"");
                else if (st[k] == start)
                    fprintf(bf[g], ", shape=point");
                else if (st[k] == in_wait)
                    fprintf(bf[g], ", style=filled, fillcolor=\"#dde4f4\"");
                else if (!strcmp(st[k], "finished"))
                    fprintf(bf[g], ", shape=doublecircle");
                fprintf(bf[g], "];\n");
            }
            id[k] = *v;
        }
        char label[200];
        if (x->why)
            snprintf(label, sizeof label, "%s x %llu", x->why, (unsigned long long)x->count);
        else
            snprintf(label, sizeof label, "x %llu", (unsigned long long)x->count);
        fprintf(bf[g], "    s%zu -> s%zu [label=", id[0], id[1]);
        vz_dot_str(bf[g], label, 120);
        fprintf(bf[g], "];\n");
    }
    pmap_free(&seen);
}

/* The machines as DOT. Each group's body is built in its own memory
 * stream, so that nothing is written when one cannot be made. */
static int draw(states *s, const vz_opts *o, bool any_wait, FILE *out)
{
    char **body = calloc(s->ng + 1, sizeof *body);
    size_t *blen = calloc(s->ng + 1, sizeof *blen);
    FILE **bf = calloc(s->ng + 1, sizeof *bf);
    if (!body || !blen || !bf) abort();
    for (size_t g = 0; g < s->ng; g++) {
        bf[g] = open_memstream(&body[g], &blen[g]);
        if (bf[g]) continue;
        fprintf(stderr, "coroscope: cannot buffer the states view: %s\n", strerror(errno));
        while (g-- > 0) {
            fclose(bf[g]);
            free(body[g]);
        }
        free(body);
        free(blen);
        free(bf);
        return VZ_RENDER;
    }
    fprintf(out, "digraph coroscope_states {\n  graph [fontname=\"Helvetica\", rankdir=LR, label=");
    vz_dot_str(out, o->fold ? "state machines (folded by name)" : "state machines", 100);
    fprintf(out, ", labelloc=t];\n  node [fontname=\"Helvetica\", fontsize=10, shape=ellipse];\n"
                 "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    write_bodies(s, bf);
    for (size_t g = 0; g < s->ng; g++) fclose(bf[g]);
    /* dot stacks a left-to-right graph's clusters bottom up: emitted last
     * to first, the first created comes out on top. */
    for (size_t g = s->ng; g-- > 0;) {
        fprintf(out, "  subgraph cluster%zu {\n    label=", g);
        vz_dot_str(out, s->groups[g], 60);
        fprintf(out, ";\n    style=rounded;\n");
        fwrite(body[g], 1, blen[g], out);
        free(body[g]);
        fprintf(out, "  }\n");
    }
    fprintf(out,
            "  legend [shape=note, fontsize=9, label=\"how to read it\\l"
            "one box per coroutine%s, in the order they were created\\l"
            "an arrow: a change of state, with its cause and how often\\l"
            "waiting: control back = it resumed another coroutine and waits\\l"
            "for it to suspend or finish\\l%s\"];\n",
            o->fold ? " (or name pattern)" : "",
            any_wait ? "blue: the thread blocked in epoll_wait, waiting for the kernel\\l" : "");
    fprintf(out, "}\n");
    free(body);
    free(blen);
    free(bf);
    return VZ_OK;
}

int vz_view_states(const vz_trace *t, const vz_opts *o, FILE *out)
{
    vz_model m;
    vz_model_init(&m);
    states s = {.max_groups = o->max_nodes ? o->max_nodes : 12};
    const char *in_wait = vz_intern(IN_WAIT);
    const char *running = vz_intern("running");
    const char *start = vz_intern("(start)");
    bool any_wait = false;
    for (size_t i = 0; i < t->n; i++) {
        const coro_trace_ev *ev = &t->ev[i];
        uint64_t ids[2] = {ev->co.id, ev->kind == CORO_EV_RESUME ? ev->from.id : 0};
        if (ids[1] == ids[0]) ids[1] = 0;
        const char *before[2] = {0, 0};
        bool existed[2];
        for (int k = 0; k < 2; k++) {
            vz_coro *c = ids[k] ? vz_model_find(&m, ids[k]) : NULL;
            existed[k] = c != NULL;
            if (c) before[k] = state_label(c);
        }
        vz_model_apply(&m, ev);
        for (int k = 0; k < 2; k++) {
            if (!ids[k]) continue;
            vz_coro *c = vz_model_find(&m, ids[k]);
            if (!c || c->is_object) continue;
            const char *g = o->fold ? vz_fold_name(c->name) : c->name;
            if (ev->kind == CORO_EV_EPOLL_WAIT && k == 0 && c->state == VZ_RUNNING) {
                any_wait = true;
                count(&s, g, running, in_wait, NULL);
                count(&s, g, in_wait, running, vz_intern("fds ready or timeout"));
                continue;
            }
            const char *after = state_label(c);
            const char *from = existed[k] ? before[k] : start;
            if (from == after) continue;
            count(&s, g, from, after, why_of(ev, k == 0, o->fold));
        }
    }
    int rc = draw(&s, o, any_wait, out);
    pmap_free(&s.tmap);
    pmap_free(&s.gmap);
    free(s.ts);
    free(s.groups);
    vz_model_free(&m);
    return rc;
}
