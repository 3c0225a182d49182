/*
 * model.c - replaying events into what a reader wants to know: each
 * coroutine's name, state, what it waits for, who created it, how long it
 * ran. Views that need "the run as of event N" (frame, check) replay up to
 * N; views that need totals (graph, stats) replay everything once.
 */
#include <ctype.h>
#include <stdint.h>
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
    free(m->thread_ts);
    memset(m, 0, sizeof *m);
}

static size_t slot_of(uint64_t id, size_t slots)
{
    return (size_t)(id * 11400714819323198485u) & (slots - 1);
}

/* The lookup every event makes two or three of: inline in vz_model_apply. */
static inline vz_coro *find(const vz_model *m, uint64_t id)
{
    if (!m->slots) return NULL;
    for (size_t j = slot_of(id, m->slots);; j = (j + 1) & (m->slots - 1)) {
        size_t s = m->slot[j];
        if (!s) return NULL;
        if (m->co[s - 1].id == id) return &m->co[s - 1];
    }
}

vz_coro *vz_model_find(const vz_model *m, uint64_t id)
{
    return find(m, id);
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

/* A coroutine seen for the first time: once per coroutine, so kept out of
 * line, away from the lookup. */
static __attribute__((noinline)) vz_coro *add(vz_model *m, uint64_t id, const char *name)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->co = realloc(m->co, m->cap * sizeof *m->co);
        if (!m->co) abort();
    }
    vz_coro *c = &m->co[m->n++];
    memset(c, 0, sizeof *c);
    c->id = id;
    c->name = name ? name : vz_intern("?");
    c->state = VZ_CREATED;
    c->fd = -1;
    if (m->n * 2 > m->slots)
        rehash(m);
    else {
        size_t j = slot_of(id, m->slots);
        while (m->slot[j]) j = (j + 1) & (m->slots - 1);
        m->slot[j] = m->n;
    }
    return c;
}

static inline vz_coro *get(vz_model *m, uint64_t id, const char *name)
{
    vz_coro *c = find(m, id);
    if (!c) return add(m, id, name);
    if (name) c->name = name;
    return c;
}

vz_coro *vz_model_get(vz_model *m, uint64_t id, const char *name)
{
    return get(m, id, name);
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

bool vz_await_reaches(const vz_model *m, uint64_t from, uint64_t target)
{
    const vz_coro *x = vz_model_find(m, from);
    for (int k = 0; x && k < VZ_MAX_CHAIN; k++) {
        if (x->id == target) return true;
        if (x->state == VZ_DEAD || !x->awaiting) return false;
        x = vz_model_find(m, x->awaiting);
    }
    return false;
}

uint64_t vz_wait_start(const vz_model *m, const coro_trace_ev *ev)
{
    uint64_t s = ev->thread < m->threads ? m->thread_ts[ev->thread] : ev->ts;
    return s <= ev->ts ? s : ev->ts;
}

static void thread_seen(vz_model *m, const coro_trace_ev *ev)
{
    if (ev->thread >= m->threads) {
        unsigned n = ev->thread + 8;
        m->thread_ts = realloc(m->thread_ts, n * sizeof *m->thread_ts);
        if (!m->thread_ts) abort();
        for (unsigned k = m->threads; k < n; k++) m->thread_ts[k] = ev->ts;
        m->threads = n;
    }
    m->thread_ts[ev->thread] = ev->ts;
}

void vz_model_apply(vz_model *m, const coro_trace_ev *ev)
{
    /* Views apply a trace's events in array order: the hardware prefetcher
     * stops at each 4 KiB page (19 events), so ask for the event 4 ahead.
     * (An address only, which may lie past the array: a prefetch never faults.) */
    __builtin_prefetch((const void *)((uintptr_t)ev + 4 * sizeof *ev));
    uint64_t wait_start = vz_wait_start(m, ev);
    thread_seen(m, ev);
    /* Every party first: vz_model_get may grow (move) the array, so no
     * pointer into it is held across a call that can add an entry. */
    if (ev->obj.id) {
        vz_coro *o = get(m, ev->obj.id, ev->obj.name);
        o->is_object = true;
        if (ev->obj_kind) o->obj_kind = ev->obj_kind;
    }
    vz_coro *f = ev->kind == CORO_EV_RESUME && ev->from.id && ev->from.id != ev->co.id
                     ? get(m, ev->from.id, ev->from.name)
                     : NULL;
    size_t fi = f ? (size_t)(f - m->co) : 0;
    vz_coro *c = ev->co.id ? get(m, ev->co.id, ev->co.name) : NULL;
    if (f) f = &m->co[fi];
    if (c) {
        c->events++;
        c->thread = ev->thread;
        c->last_seq = ev->seq;
    }
    switch (ev->kind) {
    case CORO_EV_CREATE:
        if (c && !ev->obj.id) {
            c->created_by = ev->by.id;
            c->created_seq = ev->seq;
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
        if (f && f->state == VZ_RUNNING) {
            run_until(f, ev->ts);
            f->state = VZ_SUSPENDED;
            if (!f->waiting) f->waiting = vz_intern("resumed another, waits for control back");
        }
        if (c) {
            run_until(c, ev->ts);
            c->state = VZ_RUNNING;
            c->waiting = NULL;
            c->reason = NULL;
            c->fd = -1;
            c->wait_obj = 0;
            c->handed_to = 0;
            c->resumes++;
            /* An await ends when the child finishes (below); a thread's main
             * that awaits drives the scheduler meanwhile, so it runs again
             * while still awaiting. */
            if (f && c->awaiting == f->id && ev->cause && !strcmp(ev->cause, "continuation"))
                c->awaiting = 0;
        }
        break;
    }
    case CORO_EV_SUSPEND:
        if (c) {
            run_until(c, ev->ts);
            c->state = VZ_SUSPENDED;
            c->waiting = ev->detail ? ev->detail : ev->reason;
            c->reason = ev->reason;
            c->fd = (ev->has & CORO_EVH_FD) ? ev->fd : -1;
            c->wait_obj = ev->obj.id;
            c->handed_to = ev->to.id;
        }
        break;
    case CORO_EV_AWAIT: {
        /* Awaiting a child that already finished does not suspend. */
        vz_coro *child = ev->to.id ? find(m, ev->to.id) : NULL;
        if (c && ev->to.id && !(child && child->state == VZ_DEAD)) {
            run_until(c, ev->ts);
            c->state = VZ_SUSPENDED;
            c->awaiting = ev->to.id;
            c->waiting = vz_intern("await");
            c->reason = vz_intern("await");
            c->fd = -1;
            c->wait_obj = 0;
        }
        break;
    }
    case CORO_EV_EPOLL_WAIT:
        /* The event is written when epoll_wait returns: since the thread's
         * previous event it was blocked in the kernel, not running. */
        if (c && c->state == VZ_RUNNING) {
            run_until(c, wait_start);
            c->epoll_ns += ev->ts - wait_start;
            c->epoll_waits++;
            c->last_ts = ev->ts;
        }
        break;
    case CORO_EV_FINISH:
        if (c) {
            run_until(c, ev->ts);
            c->state = VZ_DEAD;
            c->waiting = NULL;
            c->handed_to = ev->to.id;
            c->awaiting = 0;
        }
        break;
    case CORO_EV_DESTROY:
        if (ev->obj.id)
            find(m, ev->obj.id)->state = VZ_DEAD;
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
