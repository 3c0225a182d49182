/*
 * view_check.c - `coroscope check`: the trace against the state machine.
 *
 *   created -> running <-> suspended -> dead,  ready in between for the
 *   scheduler; one running coroutine per thread; every resume has a cause
 *   and comes from the coroutine that was running; await links point at
 *   coroutines that exist; nothing runs after it finished.
 *
 * Each violation is reported with the file line of the event, so a runtime
 * bug (or a hand-edited trace) can be found at once.
 */
#include <stdlib.h>
#include <string.h>

#include "viz.h"

typedef struct checker {
    const vz_trace *t;
    size_t violations;
    FILE *out;
    uint64_t *running; /* per thread: id of its running coroutine */
    unsigned threads;
} checker;

static void violation(checker *k, size_t i, const char *fmt, const char *a, const char *b)
{
    k->violations++;
    if (k->violations > 200) return;
    fprintf(k->out, "%s:%u: seq %llu: ", k->t->path, k->t->lineno[i],
            (unsigned long long)k->t->ev[i].seq);
    fprintf(k->out, fmt, a ? a : "?", b ? b : "?");
    fputc('\n', k->out);
}

static uint64_t *running_of(checker *k, unsigned thread)
{
    if (thread >= k->threads) {
        unsigned n = thread + 8;
        k->running = realloc(k->running, n * sizeof *k->running);
        if (!k->running) abort();
        memset(k->running + k->threads, 0, (n - k->threads) * sizeof *k->running);
        k->threads = n;
    }
    return &k->running[thread];
}

int vz_view_check(const vz_trace *t, const vz_opts *o, FILE *out)
{
    (void)o;
    checker k = {t, 0, out, NULL, 0};
    vz_model m;
    vz_model_init(&m);
    for (size_t i = 0; i < t->n; i++) {
        const coro_trace_ev *ev = &t->ev[i];
        vz_coro *c = vz_model_find(&m, ev->co.id);
        uint64_t *run = running_of(&k, ev->thread);
        switch (ev->kind) {
        case CORO_EV_CREATE:
            if (ev->obj.id) break;
            if (c && c->events) violation(&k, i, "%s is created twice%s", ev->co.name, "");
            if (!ev->by.id && !*run) *run = ev->co.id; /* the thread's main */
            break;
        case CORO_EV_RESUME: {
            if (!ev->cause || !*ev->cause)
                violation(&k, i, "resume of %s has no cause%s", ev->co.name, "");
            if (!c)
                violation(&k, i, "%s is resumed but was never created%s", ev->co.name, "");
            else if (c->state == VZ_DEAD)
                violation(&k, i, "%s is resumed after it finished%s", ev->co.name, "");
            else if (c->state == VZ_RUNNING)
                violation(&k, i, "%s is resumed while it is running%s", ev->co.name, "");
            if (ev->from.id && *run && ev->from.id != *run) {
                vz_coro *r = vz_model_find(&m, *run);
                violation(&k, i, "control passes from %s, but %s was running on this thread",
                          ev->from.name, r ? r->name : "?");
            }
            *run = ev->co.id;
            break;
        }
        case CORO_EV_SUSPEND:
        case CORO_EV_AWAIT:
        case CORO_EV_FINISH:
            if (!c)
                violation(&k, i, "%s was never created%s", ev->co.name, "");
            else if (c->state != VZ_RUNNING)
                violation(&k, i, "%s %s while it is not running", ev->co.name,
                          coro_ev_kind_name(ev->kind));
            if (ev->kind == CORO_EV_AWAIT && ev->to.id && !vz_model_find(&m, ev->to.id))
                violation(&k, i, "%s awaits %s, which was never created", ev->co.name, ev->to.name);
            break;
        default:
            break;
        }
        vz_model_apply(&m, ev);
    }
    if (k.violations > 200) fprintf(out, "... and %zu more\n", k.violations - 200);
    if (k.violations)
        fprintf(out, "%s: %zu violation%s in %zu events\n", t->path, k.violations,
                k.violations == 1 ? "" : "s", t->n);
    else
        fprintf(out, "%s: %zu events, %zu coroutines and objects: no violations%s\n", t->path, t->n,
                m.n, t->ngaps ? " (some events were lost: see `coroscope log`)" : "");
    free(k.running);
    vz_model_free(&m);
    return k.violations ? VZ_VIOLATIONS : VZ_OK;
}
