/*
 * view_perfetto.c - `coroscope perfetto`: the Chrome trace-event JSON that
 * Perfetto's UI (ui.perfetto.dev) and chrome://tracing open. One track
 * (thread) per coroutine, a slice for every span it ran, and flow arrows
 * for spawns, awaits and wakes, so the causality of the run can be followed
 * on a timeline. Written through cJSON, so the output is valid JSON.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "viz.h"

typedef struct span {
    uint64_t id, start;
    bool open;
} span;

static double us(const vz_trace *t, uint64_t ts)
{
    return t->logical ? (double)ts : (double)ts / 1000.0;
}

static void emit(FILE *out, cJSON *o, bool *first)
{
    char *s = cJSON_PrintUnformatted(o);
    fprintf(out, "%s\n  %s", *first ? "" : ",", s);
    *first = false;
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

static void flow(FILE *out, bool *first, const vz_trace *t, const char *name, uint64_t id,
                 uint64_t from_tid, uint64_t to_tid, uint64_t ts)
{
    cJSON *s = base("s", name, from_tid, us(t, ts));
    cJSON_AddNumberToObject(s, "id", (double)id);
    cJSON_AddStringToObject(s, "cat", "flow");
    emit(out, s, first);
    cJSON *f = base("f", name, to_tid, us(t, ts));
    cJSON_AddNumberToObject(f, "id", (double)id);
    cJSON_AddStringToObject(f, "cat", "flow");
    cJSON_AddStringToObject(f, "bp", "e");
    emit(out, f, first);
}

int vz_view_perfetto(const vz_trace *t, const vz_opts *o, FILE *out)
{
    (void)o;
    vz_model m;
    vz_model_init(&m);
    span *running = NULL; /* per thread: the open slice */
    unsigned threads = 0;
    bool first = true;
    uint64_t flows = 0;
    fprintf(out, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
    for (size_t i = 0; i < t->n; i++) {
        const coro_trace_ev *ev = &t->ev[i];
        bool known = vz_model_find(&m, ev->co.id) != NULL;
        vz_model_apply(&m, ev);
        if (ev->co.id && !known) {
            cJSON *meta = base("M", "thread_name", ev->co.id, 0);
            cJSON *args = cJSON_AddObjectToObject(meta, "args");
            cJSON_AddStringToObject(args, "name", ev->co.name ? ev->co.name : "?");
            emit(out, meta, &first);
        }
        if (ev->thread >= threads) {
            unsigned n = ev->thread + 4;
            running = realloc(running, n * sizeof *running);
            memset(running + threads, 0, (n - threads) * sizeof *running);
            threads = n;
        }
        span *sp = &running[ev->thread];
        if (ev->kind == CORO_EV_RESUME) {
            if (sp->open && sp->id) {
                vz_coro *c = vz_model_find(&m, sp->id);
                cJSON *x = base("X", c ? c->name : "?", sp->id, us(t, sp->start));
                cJSON_AddNumberToObject(x, "dur", us(t, ev->ts) - us(t, sp->start));
                emit(out, x, &first);
            }
            *sp = (span){ev->co.id, ev->ts, true};
        }
        const char *fname = NULL;
        uint64_t src = 0;
        if (ev->kind == CORO_EV_SPAWN && ev->by.id)
            fname = "spawn", src = ev->by.id;
        else if (ev->kind == CORO_EV_AWAIT && ev->to.id)
            fname = "await", src = ev->co.id;
        else if (ev->kind == CORO_EV_WAKE && ev->by.id && ev->by.id != ev->co.id)
            fname = "wake", src = ev->by.id;
        else if (ev->kind == CORO_EV_RESUME && ev->cause && !strcmp(ev->cause, "continuation"))
            fname = "continuation", src = ev->from.id;
        if (fname) {
            uint64_t dst = ev->kind == CORO_EV_AWAIT ? ev->to.id : ev->co.id;
            flow(out, &first, t, fname, ++flows, src, dst, ev->ts);
        }
        if (ev->kind == CORO_EV_LOG) {
            cJSON *inst = base("i", ev->detail ? ev->detail : "log", ev->co.id, us(t, ev->ts));
            cJSON_AddStringToObject(inst, "s", "t");
            emit(out, inst, &first);
        }
    }
    for (unsigned th = 0; th < threads; th++)
        if (running[th].open && running[th].id && t->n) {
            vz_coro *c = vz_model_find(&m, running[th].id);
            cJSON *x = base("X", c ? c->name : "?", running[th].id, us(t, running[th].start));
            cJSON_AddNumberToObject(x, "dur", us(t, t->ev[t->n - 1].ts) - us(t, running[th].start));
            emit(out, x, &first);
        }
    fprintf(out, "\n]}\n");
    free(running);
    vz_model_free(&m);
    return VZ_OK;
}
