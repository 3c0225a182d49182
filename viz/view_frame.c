/*
 * view_frame.c - `coroscope frame N`: a photograph of the run just after
 * event N: who is running, what each suspended coroutine waits for, the
 * ready queue in order, and the await chains.
 */
#include <stdlib.h>
#include <string.h>

#include "viz.h"

const char *vz_state_name(vz_state s)
{
    static const char *names[] = {"created", "ready", "running", "suspended", "dead"};
    return (unsigned)s < 5 ? names[s] : "?";
}

int vz_view_frame(const vz_trace *t, const vz_opts *o, FILE *out)
{
    size_t last = 0;
    bool any = false;
    for (size_t i = 0; i < t->n && t->ev[i].seq <= o->frame; i++) {
        last = i;
        any = true;
    }
    if (!any) {
        fprintf(stderr, "coroscope: %s has no event %llu\n", t->path, (unsigned long long)o->frame);
        return VZ_USAGE;
    }
    fprintf(out, "after event %llu:\n", (unsigned long long)t->ev[last].seq);
    vz_print_frame(t, last, out, 0);
    return VZ_OK;
}

void vz_print_frame(const vz_trace *t, size_t upto, FILE *out, unsigned fmt_flags)
{
    vz_model m;
    vz_model_init(&m);
    /* The ready queue: coroutines in the order they became ready. */
    uint64_t *ready = NULL;
    size_t nready = 0;
    size_t i;
    const coro_trace_ev *at = NULL;
    for (i = 0; i < t->n && i <= upto; i++) {
        const coro_trace_ev *ev = &t->ev[i];
        vz_model_apply(&m, ev);
        at = ev;
        if (ev->kind == CORO_EV_SPAWN || ev->kind == CORO_EV_WAKE) {
            ready = realloc(ready, (nready + 1) * sizeof *ready);
            ready[nready++] = ev->co.id;
        } else if (ev->kind == CORO_EV_RESUME) {
            for (size_t k = 0; k < nready; k++)
                if (ready[k] == ev->co.id) {
                    memmove(ready + k, ready + k + 1, (nready - k - 1) * sizeof *ready);
                    nready--;
                    break;
                }
        }
    }
    char line[1024];
    coro_trace_format(at, line, sizeof line, fmt_flags | (t->logical ? CORO_FMT_LOGICAL : 0));
    fprintf(out, "%s\n", line);
    if (at->file) fprintf(out, "source: %s:%d\n", at->file, at->line);
    fprintf(out, "\n");
    fprintf(out, "%-6s %-24s %-10s %s\n", "id", "coroutine", "state", "waits for");
    for (size_t k = 0; k < m.n; k++) {
        vz_coro *c = &m.co[k];
        if (c->is_object || c->state == VZ_DEAD) continue;
        const char *w = "";
        char buf[128] = "";
        if (c->state == VZ_SUSPENDED && c->awaiting) {
            vz_coro *a = vz_model_find(&m, c->awaiting);
            snprintf(buf, sizeof buf, "await %s", a ? a->name : "?");
            w = buf;
        } else if (c->state == VZ_SUSPENDED && c->waiting) {
            w = c->waiting;
        }
        fprintf(out, "%-6llu %-24.24s %-10s %s%s\n", (unsigned long long)c->id, c->name,
                vz_state_name(c->state), w, c->state == VZ_RUNNING ? "  <- running" : "");
    }
    fprintf(out, "\nready queue:");
    if (!nready) fprintf(out, " (empty)");
    for (size_t k = 0; k < nready; k++) {
        vz_coro *c = vz_model_find(&m, ready[k]);
        fprintf(out, "%s %s", k ? "," : "", c ? c->name : "?");
    }
    fprintf(out, "\nawait chains:");
    size_t chains = 0;
    for (size_t k = 0; k < m.n; k++) {
        vz_coro *c = &m.co[k];
        if (c->state == VZ_DEAD || !c->awaiting) continue;
        /* Start chains at coroutines nobody awaits. */
        bool awaited = false;
        for (size_t j = 0; j < m.n; j++)
            if (m.co[j].awaiting == c->id && m.co[j].state != VZ_DEAD) awaited = true;
        if (awaited) continue;
        fprintf(out, "\n  %s", c->name);
        for (vz_coro *x = c; x && x->awaiting; x = vz_model_find(&m, x->awaiting)) {
            vz_coro *n = vz_model_find(&m, x->awaiting);
            fprintf(out, " -> awaits %s", n ? n->name : "?");
            if (!n || n == c) break;
        }
        chains++;
    }
    if (!chains) fprintf(out, " (none)");
    fprintf(out, "\n");
    free(ready);
    vz_model_free(&m);
}
