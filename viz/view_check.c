/*
 * view_check.c - `coroscope check`: the trace against the state machine and
 * against every relation the format states between fields.
 *
 *   created -> running <-> suspended -> dead,  ready in between for the
 *   scheduler; one running coroutine per thread; every resume has a cause,
 *   names its coroutine in `to`, and comes from the coroutine that was
 *   running; control goes where a suspend or finish said it would (`to`);
 *   a continuation goes to the awaiter; await links point at coroutines
 *   that exist and never close a cycle; nothing runs after it finished;
 *   the loop's dispatches belong to the latest epoll_wait and are no more
 *   than it reported ready; time does not go backwards on a thread.
 *
 * Each violation is reported with the file line of the event, so a runtime
 * bug (or a hand-edited trace) can be found at once.
 *
 * Across a gap (events lost, or overwritten by the flight recorder) what
 * happened is not known: a coroutine whose create is not after the latest
 * gap has an unknown history, so the checks that rest on it (was it
 * created, running, awaiting, where did it hand control) are not made for
 * it, and each thread's running coroutine and epoll_wait start unknown. The other views
 * survive every one of these (they are fuzzed with such traces).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "viz.h"

#define MAX_SHOWN 200

typedef struct thread_state {
    uint64_t running; /* id of its running coroutine */
    uint64_t ts;      /* its latest event's ts */
    uint64_t wait;    /* its latest epoll_wait: number, ready count, dispatches */
    int nready;
    int dispatched;
    bool seen;
} thread_state;

typedef struct checker {
    const vz_trace *t;
    size_t violations;
    FILE *out;
    thread_state *th;
    unsigned threads;
    bool gapped;      /* a gap lies before the event being checked */
    uint64_t gap_end; /* the last seq the latest such gap lost */
} checker;

/* Is c's whole history in the trace since the latest gap (or is there no
 * gap)? The checks that rest on its history are made only then. */
static bool known(const checker *k, const vz_coro *c)
{
    return c && (!k->gapped || c->created_seq > k->gap_end);
}

/* A coroutine is "never created" only in a trace that lost nothing. */
static bool missing(const checker *k, const vz_coro *c)
{
    return !c && !k->gapped;
}

static void violation(checker *k, size_t i, const char *fmt, ...) CORO_PRINTF(3, 4);
static void violation(checker *k, size_t i, const char *fmt, ...)
{
    k->violations++;
    if (k->violations > MAX_SHOWN) return;
    fprintf(k->out, "%s:%u: seq %llu: ", k->t->path, k->t->lineno[i],
            (unsigned long long)k->t->ev[i].seq);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(k->out, fmt, ap);
    va_end(ap);
    fputc('\n', k->out);
}

static thread_state *thread_of(checker *k, unsigned thread)
{
    if (thread >= k->threads) {
        unsigned n = thread + 8;
        k->th = realloc(k->th, n * sizeof *k->th);
        if (!k->th) abort();
        memset(k->th + k->threads, 0, (n - k->threads) * sizeof *k->th);
        k->threads = n;
    }
    return &k->th[thread];
}

static const char *nm(const char *s)
{
    return s ? s : "?";
}

static bool is(const char *a, const char *b)
{
    return a && !strcmp(a, b);
}

static void check_resume(checker *k, vz_model *m, size_t i, thread_state *th)
{
    const coro_trace_ev *ev = &k->t->ev[i];
    const char *name = nm(ev->co.name);
    vz_coro *c = vz_model_find(m, ev->co.id);
    if (!ev->cause || !*ev->cause) violation(k, i, "resume of %s has no cause", name);
    if (ev->to.id && ev->to.id != ev->co.id)
        violation(k, i, "resume names %s as `to` but %s as `co`: they must be the same",
                  nm(ev->to.name), name);
    if (ev->from.id && ev->from.id == ev->co.id) violation(k, i, "%s resumes itself", name);
    if (missing(k, c))
        violation(k, i, "%s is resumed but was never created", name);
    else if (c && c->state == VZ_DEAD)
        violation(k, i, "%s is resumed after it finished", name);
    else if (known(k, c) && c->state == VZ_RUNNING && ev->from.id != ev->co.id)
        violation(k, i, "%s is resumed while it is running (on t%u)", name, c->thread);
    if (c && is(ev->cause, "start") && c->resumes)
        violation(k, i, "%s is resumed with cause start, but it ran before", name);
    if (ev->from.id && th->running && ev->from.id != th->running) {
        vz_coro *r = vz_model_find(m, th->running);
        violation(k, i, "control passes from %s, but %s was running on this thread",
                  nm(ev->from.name), r ? r->name : "?");
    }
    vz_coro *f = ev->from.id ? vz_model_find(m, ev->from.id) : NULL;
    if (!known(k, f)) f = NULL;
    if (f && f->handed_to && f->handed_to != ev->co.id) {
        vz_coro *h = vz_model_find(m, f->handed_to);
        violation(k, i, "%s handed control to %s (seq %llu), but %s runs", f->name,
                  h ? h->name : "?", (unsigned long long)f->last_seq, name);
    }
    if (f && (is(ev->cause, "return") || is(ev->cause, "continuation")) && f->state == VZ_RUNNING)
        violation(k, i,
                  "control comes back from %s (cause %s), but it neither suspended nor "
                  "finished",
                  f->name, ev->cause);
    if (is(ev->cause, "continuation") && known(k, c) && f && c->awaiting != f->id)
        violation(k, i, "%s continues after %s finished, but it did not await it", name, f->name);
    if (is(ev->cause, "io") && !(ev->has & CORO_EVH_FD))
        violation(k, i, "resume of %s with cause io has no fd", name);
    if (is(ev->cause, "io") && (ev->has & CORO_EVH_WAIT) && th->wait && ev->wait > th->wait)
        violation(k, i,
                  "resume of %s names epoll_wait #%llu, which has not happened (latest #%llu)",
                  name, (unsigned long long)ev->wait, (unsigned long long)th->wait);
    if (is(ev->cause, "wake") && !ev->obj.id && !ev->by.id)
        violation(k, i, "resume of %s with cause wake names no object or waker", name);
    th->running = ev->co.id;
}

static void check_event(checker *k, vz_model *m, size_t i)
{
    const coro_trace_ev *ev = &k->t->ev[i];
    const char *name = nm(ev->co.name);
    vz_coro *c = vz_model_find(m, ev->co.id);
    thread_state *th = thread_of(k, ev->thread);
    if (th->seen && ev->ts < th->ts)
        violation(k, i, "time goes backwards on t%u (%llu after %llu)", ev->thread,
                  (unsigned long long)ev->ts, (unsigned long long)th->ts);
    if (k->t->logical && ev->ts != ev->seq)
        violation(k, i, "with the logical clock ts must equal seq (ts %llu)",
                  (unsigned long long)ev->ts);
    th->seen = true;
    th->ts = ev->ts;
    switch (ev->kind) {
    case CORO_EV_CREATE:
        if (ev->obj.id) break;
        if (c && c->events) violation(k, i, "%s is created twice", name);
        if (!ev->by.id && !th->running) th->running = ev->co.id; /* the thread's main */
        break;
    case CORO_EV_RESUME:
        check_resume(k, m, i, th);
        break;
    case CORO_EV_SUSPEND:
    case CORO_EV_AWAIT:
    case CORO_EV_FINISH:
        if (missing(k, c))
            violation(k, i, "%s was never created", name);
        else if (known(k, c) && c->state != VZ_RUNNING)
            violation(k, i, "%s %s while it is not running", name, coro_ev_kind_name(ev->kind));
        if (ev->kind == CORO_EV_AWAIT && ev->to.id) {
            vz_coro *child = vz_model_find(m, ev->to.id);
            if (ev->to.id == ev->co.id)
                violation(k, i, "%s awaits itself: it can never finish", name);
            else if (missing(k, child))
                violation(k, i, "%s awaits %s, which was never created", name, nm(ev->to.name));
            else if (!k->gapped && vz_await_reaches(m, ev->to.id, ev->co.id))
                violation(k, i, "%s awaits %s, which (through its awaits) awaits %s: a cycle", name,
                          nm(ev->to.name), name);
        }
        if (ev->kind == CORO_EV_FINISH && ev->to.id) {
            vz_coro *a = vz_model_find(m, ev->to.id);
            if (missing(k, a) || (known(k, a) && a->awaiting != ev->co.id))
                violation(k, i, "%s finishes into %s, which does not await it", name,
                          nm(ev->to.name));
        }
        break;
    case CORO_EV_WAKE:
        if (c && c->state == VZ_DEAD) violation(k, i, "%s is woken after it finished", name);
        break;
    case CORO_EV_EPOLL_WAIT:
        if (th->running && ev->co.id != th->running)
            violation(k, i, "epoll_wait by %s, but another coroutine was running", name);
        if (ev->has & CORO_EVH_WAIT) {
            if (th->wait && ev->wait <= th->wait)
                violation(k, i, "epoll_wait #%llu after #%llu: the numbers must increase",
                          (unsigned long long)ev->wait, (unsigned long long)th->wait);
            th->wait = ev->wait;
            th->nready = ev->nready;
            th->dispatched = 0;
        }
        break;
    case CORO_EV_EPOLL_DISPATCH:
        if ((ev->has & CORO_EVH_WAIT) && ev->wait != th->wait)
            violation(k, i,
                      "dispatch of fd %d belongs to epoll_wait #%llu, but the latest is #%llu",
                      ev->fd, (unsigned long long)ev->wait, (unsigned long long)th->wait);
        else if ((ev->has & CORO_EVH_WAIT) && ++th->dispatched > th->nready)
            violation(k, i, "epoll_wait #%llu reported %d ready, but this is dispatch %d",
                      (unsigned long long)ev->wait, th->nready, th->dispatched);
        if (c && c->state == VZ_DEAD)
            violation(k, i, "fd %d is dispatched to %s, which finished", ev->fd, name);
        break;
    case CORO_EV_DESTROY:
        if (!ev->obj.id && known(k, c) && c->state == VZ_RUNNING)
            violation(k, i, "%s is destroyed while it is running", name);
        break;
    default:
        break;
    }
}

int vz_view_check(const vz_trace *t, const vz_opts *o, FILE *out)
{
    (void)o;
    checker k = {.t = t, .out = out};
    vz_model m;
    vz_model_init(&m);
    size_t g = 0;
    for (size_t i = 0; i < t->n; i++) {
        for (; g < t->ngaps && t->gaps[g].index <= i; g++) { /* what the gap hid */
            k.gapped = true;
            k.gap_end = t->gaps[g].after + t->gaps[g].count;
            for (unsigned th = 0; th < k.threads; th++) {
                k.th[th].running = 0;
                k.th[th].wait = 0;
            }
        }
        check_event(&k, &m, i);
        vz_model_apply(&m, &t->ev[i]);
    }
    if (k.violations > MAX_SHOWN) fprintf(out, "... and %zu more\n", k.violations - MAX_SHOWN);
    if (k.violations)
        fprintf(out, "%s: %zu violation%s in %zu events\n", t->path, k.violations,
                k.violations == 1 ? "" : "s", t->n);
    else
        fprintf(out, "%s: %zu events, %zu coroutines and objects: no violations%s\n", t->path, t->n,
                m.n, t->ngaps ? " (some events were lost: see `coroscope log`)" : "");
    free(k.th);
    vz_model_free(&m);
    return k.violations ? VZ_VIOLATIONS : VZ_OK;
}
