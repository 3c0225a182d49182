/*
 * view_states.c - `coroscope states`: each coroutine's state machine as it
 * really ran, with transition counts; with --fold one machine per name
 * pattern (all echo#N together). Suspensions are split by reason, so a
 * reader sees "suspended (recv) x 1,204" next to "suspended (yield) x 3".
 */
#include <stdlib.h>
#include <string.h>

#include "viz.h"

typedef struct trans {
    const char *group, *a, *b; /* interned */
    uint64_t count;
} trans;

static const char *state_label(const vz_coro *c)
{
    if (c->state != VZ_SUSPENDED) return vz_intern(vz_state_name(c->state));
    char buf[160];
    const char *w = c->waiting ? c->waiting : "?";
    /* "recv fd=7" -> "recv": the fd varies, the kind of wait does not. */
    size_t n = strcspn(w, " ");
    snprintf(buf, sizeof buf, "suspended\n(%.*s)", (int)(n < 60 ? n : 60), w);
    return vz_intern(buf);
}

static void count(trans **ts, size_t *n, const char *g, const char *a, const char *b)
{
    for (size_t i = 0; i < *n; i++)
        if ((*ts)[i].group == g && (*ts)[i].a == a && (*ts)[i].b == b) {
            (*ts)[i].count++;
            return;
        }
    *ts = realloc(*ts, (*n + 1) * sizeof **ts);
    if (!*ts) abort();
    (*ts)[(*n)++] = (trans){g, a, b, 1};
}

int vz_view_states(const vz_trace *t, const vz_opts *o, FILE *out)
{
    vz_model m;
    vz_model_init(&m);
    trans *ts = NULL;
    size_t nt = 0;
    size_t max_groups = o->max_nodes ? o->max_nodes : 12;
    const char **groups = NULL;
    size_t ng = 0;
    for (size_t i = 0; i < t->n; i++) {
        const coro_trace_ev *ev = &t->ev[i];
        uint64_t ids[2] = {ev->co.id, ev->kind == CORO_EV_RESUME ? ev->from.id : 0};
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
            const char *after = state_label(c);
            const char *from = existed[k] ? before[k] : vz_intern("(start)");
            if (from == after) continue;
            const char *g = o->fold ? vz_fold_name(c->name) : c->name;
            size_t j = 0;
            while (j < ng && groups[j] != g) j++;
            if (j == ng) {
                if (ng >= max_groups) continue;
                groups = realloc(groups, (ng + 1) * sizeof *groups);
                groups[ng++] = g;
            }
            count(&ts, &nt, g, from, after);
        }
    }
    fprintf(out, "digraph coroscope_states {\n  graph [fontname=\"Helvetica\", rankdir=LR, label=");
    vz_dot_str(out, o->fold ? "state machines (folded by name)" : "state machines", 100);
    fprintf(out, ", labelloc=t];\n  node [fontname=\"Helvetica\", fontsize=10, shape=ellipse];\n"
                 "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (size_t g = 0; g < ng; g++) {
        fprintf(out, "  subgraph cluster%zu {\n    label=", g);
        vz_dot_str(out, groups[g], 60);
        fprintf(out, ";\n    style=rounded;\n");
        /* Nodes: every state this group was in. */
        const char **seen = NULL;
        size_t ns = 0;
        for (size_t i = 0; i < nt; i++) {
            if (ts[i].group != groups[g]) continue;
            const char *st[2] = {ts[i].a, ts[i].b};
            for (int k = 0; k < 2; k++) {
                size_t j = 0;
                while (j < ns && seen[j] != st[k]) j++;
                if (j < ns) continue;
                seen = realloc(seen, (ns + 1) * sizeof *seen);
                seen[ns++] = st[k];
                fprintf(out, "    g%zu_s%zu [label=", g, j);
                vz_dot_str(out, st[k], 80);
                if (!strcmp(st[k], "running"))
                    fprintf(out, ", style=filled, fillcolor=\"#d8f0d8\"");
                else if (!strcmp(st[k], "(start)"))
                    fprintf(out, ", shape=point");
                else if (!strcmp(st[k], "dead"))
                    fprintf(out, ", shape=doublecircle");
                fprintf(out, "];\n");
            }
        }
        for (size_t i = 0; i < nt; i++) {
            if (ts[i].group != groups[g]) continue;
            size_t a = 0, b = 0;
            while (seen[a] != ts[i].a) a++;
            while (seen[b] != ts[i].b) b++;
            fprintf(out, "    g%zu_s%zu -> g%zu_s%zu [label=\"x %llu\"];\n", g, a, g, b,
                    (unsigned long long)ts[i].count);
        }
        free(seen);
        fprintf(out, "  }\n");
    }
    fprintf(out, "}\n");
    free(ts);
    free(groups);
    vz_model_free(&m);
    return VZ_OK;
}
