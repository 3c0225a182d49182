/*
 * view_perfetto.c - `coroscope perfetto`: the Chrome trace-event JSON that
 * Perfetto's UI (ui.perfetto.dev) and chrome://tracing open. One track
 * (thread) per coroutine, a slice for every span it ran, a slice named for
 * each epoll_wait on the track of the coroutine that ran the loop (the
 * thread was blocked in the kernel then, not running), and flow arrows for
 * spawns, awaits, continuations, wakes and dispatches, so the causality of
 * the run can be followed on a timeline. Written through cJSON, so the
 * output is valid JSON (and the reader made every string valid UTF-8).
 *
 * Flow arrows are drawn only when both ends bind to a slice (the Trace
 * Event Format's rules): a flow start ("s") binds to the slice enclosing its
 * time on its track, so it is placed inside a span its source is running; a
 * flow end ("f") without "bp" binds to the next slice that begins on its
 * track at or after its time, which is how the target's next run is found.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "viz.h"

typedef struct span {
    uint64_t id, start;
    bool open;
} span;

typedef struct pf {
    FILE *out;
    const vz_trace *t;
    bool first;
    uint64_t flows;
} pf;

static double us(const vz_trace *t, uint64_t ts)
{
    return t->logical ? (double)ts : (double)ts / 1000.0;
}

static void emit(pf *p, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    fprintf(p->out, "%s\n  %s", p->first ? "" : ",", s ? s : "{}");
    p->first = false;
    free(s);
    cJSON_Delete(o);
}

static cJSON *base(const char *ph, const char *name, uint64_t tid, double ts)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ph", ph);
    cJSON_AddStringToObject(o, "name", name ? name : "?");
    cJSON_AddNumberToObject(o, "pid", 1);
    cJSON_AddNumberToObject(o, "tid", (double)tid);
    cJSON_AddNumberToObject(o, "ts", ts);
    return o;
}

static void slice(pf *p, const char *name, uint64_t tid, uint64_t from, uint64_t to)
{
    cJSON *x = base("X", name, tid, us(p->t, from));
    cJSON_AddNumberToObject(x, "dur", to >= from ? us(p->t, to) - us(p->t, from) : 0);
    emit(p, x);
}

/* A flow from the slice running on track `src` at ts to the next slice of
 * track `dst`. */
static void flow(pf *p, const char *name, uint64_t src, uint64_t dst, uint64_t ts)
{
    uint64_t id = ++p->flows;
    cJSON *s = base("s", name, src, us(p->t, ts));
    cJSON_AddNumberToObject(s, "id", (double)id);
    cJSON_AddStringToObject(s, "cat", "flow");
    emit(p, s);
    cJSON *f = base("f", name, dst, us(p->t, ts));
    cJSON_AddNumberToObject(f, "id", (double)id);
    cJSON_AddStringToObject(f, "cat", "flow");
    emit(p, f);
}

static span *span_of(span **running, unsigned *threads, unsigned th)
{
    if (th >= *threads) {
        unsigned n = th + 4;
        *running = realloc(*running, n * sizeof **running);
        if (!*running) abort();
        memset(*running + *threads, 0, (n - *threads) * sizeof **running);
        *threads = n;
    }
    return &(*running)[th];
}

static const char *name_in(const vz_model *m, uint64_t id)
{
    const vz_coro *c = vz_model_find(m, id);
    return c ? c->name : "?";
}

int vz_view_perfetto(const vz_trace *t, const vz_opts *o, FILE *out)
{
    (void)o;
    vz_model m;
    vz_model_init(&m);
    span *running = NULL; /* per thread: the open slice */
    unsigned threads = 0;
    pf p = {out, t, true, 0};
    /* When each coroutine last begins a slice: a flow to it from a later
     * time would bind to nothing, so it is not drawn. */
    vz_model last;
    vz_model_init(&last);
    for (size_t i = 0; i < t->n; i++)
        if ((t->ev[i].kind == CORO_EV_RESUME ||
             (t->ev[i].kind == CORO_EV_CREATE && !t->ev[i].by.id && !t->ev[i].obj.id)) &&
            t->ev[i].co.id)
            vz_model_get(&last, t->ev[i].co.id, NULL)->last_ts = t->ev[i].ts;
    fprintf(out, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
    for (size_t i = 0; i < t->n; i++) {
        const coro_trace_ev *ev = &t->ev[i];
        bool known = ev->co.id && vz_model_find(&m, ev->co.id) != NULL;
        uint64_t wait_start = vz_wait_start(&m, ev);
        vz_model_apply(&m, ev);
        if (ev->co.id && !known) {
            cJSON *meta = base("M", "thread_name", ev->co.id, 0);
            cJSON *args = cJSON_AddObjectToObject(meta, "args");
            cJSON_AddStringToObject(args, "name", ev->co.name ? ev->co.name : "?");
            emit(&p, meta);
        }
        span *sp = span_of(&running, &threads, ev->thread);
        /* A thread's main runs from its creation: its first slice starts there. */
        if (ev->kind == CORO_EV_CREATE && !ev->by.id && !ev->obj.id && ev->co.id && !sp->open)
            *sp = (span){ev->co.id, ev->ts, true};
        if (ev->kind == CORO_EV_RESUME) {
            if (sp->open && sp->id) slice(&p, name_in(&m, sp->id), sp->id, sp->start, ev->ts);
            *sp = (span){ev->co.id, ev->ts, true};
        }
        if (ev->kind == CORO_EV_EPOLL_WAIT && sp->open && sp->id == ev->co.id) {
            /* Running until the wait began, blocked in the kernel until now. */
            if (wait_start > sp->start)
                slice(&p, name_in(&m, sp->id), sp->id, sp->start, wait_start);
            char name[96];
            if (!(ev->has & CORO_EVH_TIMEOUT) || ev->timeout_ms < 0)
                snprintf(name, sizeof name, "epoll_wait (no timeout) -> %d ready", ev->nready);
            else
                snprintf(name, sizeof name, "epoll_wait (timeout %lld ms) -> %d ready",
                         (long long)ev->timeout_ms, ev->nready);
            slice(&p, name, sp->id, wait_start, ev->ts);
            sp->start = ev->ts;
        }
        /* Flows start inside the slice of the coroutine that is running. */
        uint64_t run = sp->open ? sp->id : 0;
        const char *fname = NULL;
        uint64_t src = 0, dst = ev->co.id;
        if (ev->kind == CORO_EV_SPAWN && ev->by.id)
            fname = "spawn", src = ev->by.id;
        else if (ev->kind == CORO_EV_AWAIT && ev->to.id)
            fname = "await", src = ev->co.id, dst = ev->to.id;
        else if (ev->kind == CORO_EV_FINISH && ev->to.id)
            fname = "finished, continues", src = ev->co.id, dst = ev->to.id;
        else if (ev->kind == CORO_EV_WAKE && ev->by.id && ev->by.id != ev->co.id)
            fname = "wake", src = ev->by.id;
        else if (ev->kind == CORO_EV_EPOLL_DISPATCH || ev->kind == CORO_EV_TIMER)
            fname = ev->kind == CORO_EV_TIMER ? "timer" : "fd ready", src = run;
        const vz_coro *later = fname && dst ? vz_model_find(&last, dst) : NULL;
        if (fname && src && src == run && dst != src && later && later->last_ts >= ev->ts)
            flow(&p, fname, src, dst, ev->ts);
        if (ev->kind == CORO_EV_LOG) {
            cJSON *inst = base("i", ev->detail ? ev->detail : "log", ev->co.id, us(t, ev->ts));
            cJSON_AddStringToObject(inst, "s", "t");
            emit(&p, inst);
        }
    }
    for (unsigned th = 0; th < threads; th++)
        if (running[th].open && running[th].id && t->n)
            slice(&p, name_in(&m, running[th].id), running[th].id, running[th].start,
                  t->ev[t->n - 1].ts);
    fprintf(out, "\n]}\n");
    free(running);
    vz_model_free(&last);
    vz_model_free(&m);
    return VZ_OK;
}
