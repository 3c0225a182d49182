/*
 * view_log.c - `coroscope log`: the annotated human log, re-rendered from a
 * trace with the same formatter as the live log (coro_trace_format), with
 * filters and a marker wherever the tracer lost events.
 */
#include <stdlib.h>
#include <string.h>

#include "viz.h"

/* Does the event concern the coroutine (or folded pattern) called name? */
static bool mentions(const coro_trace_ev *ev, const char *name)
{
    const coro_trace_ref *r[] = {&ev->co, &ev->from, &ev->to, &ev->obj};
    for (size_t i = 0; i < sizeof r / sizeof *r; i++)
        if (r[i]->name &&
            (!strcmp(r[i]->name, name) || vz_fold_name(r[i]->name) == vz_intern(name)))
            return true;
    return false;
}

bool vz_log_selected(const coro_trace_ev *ev, const vz_opts *o);
bool vz_log_selected(const coro_trace_ev *ev, const vz_opts *o)
{
    if (o->from && ev->seq < o->from) return false;
    if (o->to && ev->seq > o->to) return false;
    if (o->kind >= 0 && (int)ev->kind != o->kind) return false;
    if (o->fd >= 0 && (!(ev->has & CORO_EVH_FD) || ev->fd != o->fd)) return false;
    if (o->coro && !mentions(ev, o->coro)) return false;
    return true;
}

int vz_view_log(const vz_trace *t, const vz_opts *o, FILE *out)
{
    unsigned flags = (t->logical ? CORO_FMT_LOGICAL : 0) | (o->color ? CORO_FMT_COLOR : 0);
    fprintf(out, "%s\n", coro_trace_format_header());
    size_t g = 0, shown = 0;
    char small[1024];
    for (size_t i = 0; i < t->n; i++) {
        for (; g < t->ngaps && t->gaps[g].index <= i; g++)
            fprintf(out, "  ----- %llu events lost by the tracer here (after seq %llu) -----\n",
                    (unsigned long long)t->gaps[g].count, (unsigned long long)t->gaps[g].after);
        const coro_trace_ev *ev = &t->ev[i];
        if (!vz_log_selected(ev, o)) continue;
        if (o->first && shown >= o->first) break;
        size_t n = coro_trace_format(ev, small, sizeof small, flags);
        if (n >= sizeof small) {
            char *big = malloc(n + 1);
            if (!big) return VZ_BADINPUT;
            coro_trace_format(ev, big, n + 1, flags);
            fprintf(out, "%s\n", big);
            free(big);
        } else {
            fprintf(out, "%s\n", small);
        }
        shown++;
    }
    for (; g < t->ngaps; g++)
        fprintf(out, "  ----- %llu events lost by the tracer here (after seq %llu) -----\n",
                (unsigned long long)t->gaps[g].count, (unsigned long long)t->gaps[g].after);
    return VZ_OK;
}
