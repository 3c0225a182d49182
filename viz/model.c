/*
 * model.c - replaying events into what a reader wants to know: each
 * coroutine's name, state, what it waits for, who created it, how long it
 * ran. Views that need "the run as of event N" (frame, check) replay up to
 * N; views that need totals (graph, stats) replay everything once.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "viz.h"

void vz_model_init(vz_model *m)
{
    memset(m, 0, sizeof *m);
}

void vz_model_free(vz_model *m)
{
    free(m->co);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

static size_t slot_of(uint64_t id, size_t slots)
{
    return (size_t)(id * 11400714819323198485u) & (slots - 1);
}

vz_coro *vz_model_find(const vz_model *m, uint64_t id)
{
    if (!m->slots) return NULL;
    for (size_t j = slot_of(id, m->slots);; j = (j + 1) & (m->slots - 1)) {
        size_t s = m->slot[j];
        if (!s) return NULL;
        if (m->co[s - 1].id == id) return &m->co[s - 1];
    }
}

static void rehash(vz_model *m)
{
    size_t slots = m->slots ? m->slots * 2 : 256;
    free(m->slot);
    m->slot = calloc(slots, sizeof *m->slot);
    if (!m->slot) abort();
    m->slots = slots;
    for (size_t i = 0; i < m->n; i++) {
        size_t j = slot_of(m->co[i].id, slots);
        while (m->slot[j]) j = (j + 1) & (slots - 1);
        m->slot[j] = i + 1;
    }
}

vz_coro *vz_model_get(vz_model *m, uint64_t id, const char *name)
{
    vz_coro *c = vz_model_find(m, id);
    if (c) {
        if (name) c->name = name;
        return c;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->co = realloc(m->co, m->cap * sizeof *m->co);
        if (!m->co) abort();
    }
    c = &m->co[m->n++];
    memset(c, 0, sizeof *c);
    c->id = id;
    c->name = name ? name : vz_intern("?");
    c->state = VZ_CREATED;
    if (m->n * 2 > m->slots)
        rehash(m);
    else {
        size_t j = slot_of(id, m->slots);
        while (m->slot[j]) j = (j + 1) & (m->slots - 1);
        m->slot[j] = m->n;
    }
    return c;
}

static void run_until(vz_coro *c, uint64_t ts)
{
    if (c->state == VZ_RUNNING && ts >= c->last_ts) {
        uint64_t span = ts - c->last_ts;
        c->run_ns += span;
        if (span > c->longest_run_ns) c->longest_run_ns = span;
    } else if (c->state == VZ_SUSPENDED && ts >= c->last_ts) {
        c->suspended_ns += ts - c->last_ts;
    }
    c->last_ts = ts;
}

void vz_model_apply(vz_model *m, const coro_trace_ev *ev)
{
    vz_coro *c = ev->co.id ? vz_model_get(m, ev->co.id, ev->co.name) : NULL;
    if (c) {
        c->events++;
        c->thread = ev->thread;
    }
    if (ev->obj.id) {
        vz_coro *o = vz_model_get(m, ev->obj.id, ev->obj.name);
        o->is_object = true;
        if (ev->obj_kind) o->obj_kind = ev->obj_kind;
    }
    switch (ev->kind) {
    case CORO_EV_CREATE:
        if (c && !ev->obj.id) {
            c->created_by = ev->by.id;
            c->fn = ev->detail;
            c->last_ts = ev->ts;
            if (!ev->by.id) c->state = VZ_RUNNING; /* a thread's main coroutine */
        }
        break;
    case CORO_EV_SPAWN:
    case CORO_EV_WAKE:
        if (c) {
            run_until(c, ev->ts);
            c->state = VZ_READY;
            c->waiting = NULL;
        }
        break;
    case CORO_EV_RESUME: {
        vz_coro *f = ev->from.id ? vz_model_get(m, ev->from.id, ev->from.name) : NULL;
        if (f && f->state == VZ_RUNNING) {
            run_until(f, ev->ts);
            f->state = VZ_SUSPENDED;
            if (!f->waiting) f->waiting = vz_intern("resumed another, waits for control back");
        }
        if (c) {
            run_until(c, ev->ts);
            c->state = VZ_RUNNING;
            c->waiting = NULL;
            c->awaiting = 0;
            c->resumes++;
        }
        break;
    }
    case CORO_EV_SUSPEND:
        if (c) {
            run_until(c, ev->ts);
            c->state = VZ_SUSPENDED;
            c->waiting = ev->detail ? ev->detail : ev->reason;
        }
        break;
    case CORO_EV_AWAIT:
        if (c && ev->to.id && !(ev->detail && strstr(ev->detail, "finished"))) {
            run_until(c, ev->ts);
            c->state = VZ_SUSPENDED;
            c->awaiting = ev->to.id;
            c->waiting = vz_intern("await");
        }
        break;
    case CORO_EV_FINISH:
        if (c) {
            run_until(c, ev->ts);
            c->state = VZ_DEAD;
            c->waiting = NULL;
        }
        break;
    case CORO_EV_DESTROY:
        if (ev->obj.id)
            vz_model_get(m, ev->obj.id, ev->obj.name)->state = VZ_DEAD;
        else if (c)
            c->state = VZ_DEAD;
        break;
    default:
        break;
    }
}

const char *vz_fold_name(const char *name)
{
    char buf[512];
    size_t j = 0;
    for (const char *p = name; *p && j < sizeof buf - 2; p++) {
        if (isdigit((unsigned char)*p)) {
            while (isdigit((unsigned char)p[1])) p++;
            buf[j++] = '*';
        } else {
            buf[j++] = *p;
        }
    }
    buf[j] = 0;
    return vz_intern(buf);
}
