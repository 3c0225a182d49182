/*
 * ws.c - the work-stealing scheduler (see coro/ws.h).
 *
 * Each worker thread owns a run queue (a ring under its own mutex); it
 * takes work from the head of its own queue, then from the shared
 * injection queue (spawns from threads that are not workers), then steals
 * from the tail of another worker's queue. Plain mutexes rather than a
 * lock-free deque: the queues are touched once per scheduling decision, and
 * ThreadSanitizer can check every access.
 *
 * A coroutine that yields is put back on a queue only after it has
 * switched out completely (the worker does it once it has landed back on
 * its own stack); queued any earlier, another worker could steal it and
 * run it on two threads at once.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "coro/ws.h"
#include "coro_int.h"

typedef struct runq {
    pthread_mutex_t lock;
    coro_t **ring;
    size_t cap, head, len;
} runq;

typedef struct worker {
    coro_ws *ws;
    int index;
    pthread_t thread;
    runq q;
} worker;

struct coro_ws {
    int n;
    worker *w;
    runq inject;
    atomic_long live; /* spawned and not finished */
    atomic_bool closing;
    atomic_ullong steals;
    atomic_int idle_workers;
    pthread_mutex_t idle_lock;
    pthread_cond_t idle;
};

static _Thread_local worker *self_worker;

int coro_ws_worker(void)
{
    return self_worker ? self_worker->index : -1;
}
uint64_t coro_ws_steals(const coro_ws *ws)
{
    return atomic_load((atomic_ullong *)&ws->steals);
}

static void q_init(runq *q)
{
    pthread_mutex_init(&q->lock, NULL);
}

static void q_push(runq *q, coro_t *co)
{
    pthread_mutex_lock(&q->lock);
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        coro_t **r = malloc(cap * sizeof *r);
        if (!r) abort(); /* a coroutine that cannot be queued would be lost */
        for (size_t i = 0; i < q->len; i++) r[i] = q->ring[(q->head + i) % q->cap];
        free(q->ring);
        q->ring = r;
        q->cap = cap;
        q->head = 0;
    }
    q->ring[(q->head + q->len++) % q->cap] = co;
    pthread_mutex_unlock(&q->lock);
}

static coro_t *q_take(runq *q, bool from_tail)
{
    pthread_mutex_lock(&q->lock);
    coro_t *co = NULL;
    if (q->len) {
        if (from_tail) {
            co = q->ring[(q->head + q->len - 1) % q->cap];
        } else {
            co = q->ring[q->head];
            q->head = (q->head + 1) % q->cap;
        }
        q->len--;
    }
    pthread_mutex_unlock(&q->lock);
    return co;
}

static void nudge(coro_ws *ws)
{
    pthread_mutex_lock(&ws->idle_lock);
    pthread_cond_broadcast(&ws->idle);
    pthread_mutex_unlock(&ws->idle_lock);
}

void coro__ws_push(coro_t *co)
{
    coro_ws *ws = co->ws;
    if (self_worker && self_worker->ws == ws)
        q_push(&self_worker->q, co);
    else
        q_push(&ws->inject, co);
    /* Work to take: wake idle workers so they steal it. */
    if (atomic_load(&ws->idle_workers) > 0) nudge(ws);
}

/* After a switch on a coroutine that may have moved: this thread's state
 * (fetched here, not cached by the caller) and the coroutine's errno. */
coro__thread *coro__ws_landed(coro_t *self)
{
    coro__thread *t = &coro__t;
    errno = self->saved_errno;
    return t;
}

void coro__ws_count(coro_t *co)
{
    atomic_fetch_add(&co->ws->live, 1);
}

void coro__ws_finished(coro_t *co)
{
    if (atomic_fetch_sub(&co->ws->live, 1) == 1) nudge(co->ws);
}

static void trace_steal(coro_t *co, int victim)
{
    if (!CORO_TRACE_ON()) return;
    char detail[64];
    snprintf(detail, sizeof detail, "stolen from worker %d by worker %d", victim,
             self_worker->index);
    coro_trace_ev ev = {.kind = CORO_EV_WAKE, .cause = "steal", .detail = detail};
    coro__ev_co(&ev, co);
    coro_trace_emit(&ev);
}

static coro_t *find_work(worker *me)
{
    coro_t *co = q_take(&me->q, false);
    if (co) return co;
    if ((co = q_take(&me->ws->inject, false))) return co;
    coro_ws *ws = me->ws;
    for (int k = 1; k < ws->n; k++) {
        worker *v = &ws->w[(me->index + k) % ws->n];
        if ((co = q_take(&v->q, true))) {
            atomic_fetch_add(&ws->steals, 1);
            trace_steal(co, v->index);
            return co;
        }
    }
    return NULL;
}

static void *worker_main(void *arg)
{
    worker *me = arg;
    coro_ws *ws = me->ws;
    self_worker = me;
    coro__thread_get();
    coro_rename(coro_self(), "worker#%d", me->index);
    int spins = 0;
    for (;;) {
        coro_t *co = find_work(me);
        if (co) {
            spins = 0;
            coro__run_ready(co); /* a yield is queued by landed() (coro.c) */
            continue;
        }
        if (atomic_load(&ws->live) == 0 && atomic_load(&ws->closing)) break;
        /* Look again a few times before sleeping: work often appears within
         * microseconds, and a sleep and wake-up cost more than that. */
        if (++spins < 64) {
            sched_yield();
            continue;
        }
        spins = 0;
        /* Idle: sleep until nudged, or briefly (a steal may become possible). */
        pthread_mutex_lock(&ws->idle_lock);
        atomic_fetch_add(&ws->idle_workers, 1);
        if (atomic_load(&ws->live) != 0 || !atomic_load(&ws->closing)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200000;
            if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
            pthread_cond_timedwait(&ws->idle, &ws->idle_lock, &ts);
        }
        atomic_fetch_sub(&ws->idle_workers, 1);
        pthread_mutex_unlock(&ws->idle_lock);
    }
    coro_stack_pool_drain();
    return NULL;
}

coro_ws *coro_ws_create(int workers)
{
    if (workers < 1 || workers > 256) {
        errno = EINVAL;
        return NULL;
    }
    coro_ws *ws = calloc(1, sizeof *ws);
    if (!ws || !(ws->w = calloc((size_t)workers, sizeof *ws->w))) {
        free(ws);
        errno = ENOMEM;
        return NULL;
    }
    ws->n = workers;
    q_init(&ws->inject);
    pthread_mutex_init(&ws->idle_lock, NULL);
    pthread_cond_init(&ws->idle, NULL);
    for (int i = 0; i < workers; i++) {
        ws->w[i].ws = ws;
        ws->w[i].index = i;
        q_init(&ws->w[i].q);
    }
    for (int i = 0; i < workers; i++)
        if (pthread_create(&ws->w[i].thread, NULL, worker_main, &ws->w[i]) != 0) abort();
    return ws;
}

coro_t *coro_ws_spawn_at(const char *file, int line, coro_ws *ws, const char *fn_name, coro_fn fn,
                         void *arg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    coro_t *co = coro__create(file, line, NULL, fn_name, fn, arg, fmt, ap);
    va_end(ap);
    if (!co) return NULL;
    co->detached = true;
    co->ws = ws;
    co->migrates = true;
    atomic_fetch_add(&ws->live, 1);
    coro__wakeinfo w = {.cause = "start", .by = coro__t.current->named.id};
    coro__wake(co, &w, file, line);
    return co;
}

int coro_ws_join(coro_ws *ws)
{
    atomic_store(&ws->closing, true);
    nudge(ws);
    for (int i = 0; i < ws->n; i++) pthread_join(ws->w[i].thread, NULL);
    for (int i = 0; i < ws->n; i++) {
        free(ws->w[i].q.ring);
        pthread_mutex_destroy(&ws->w[i].q.lock);
    }
    free(ws->inject.ring);
    pthread_mutex_destroy(&ws->inject.lock);
    pthread_mutex_destroy(&ws->idle_lock);
    pthread_cond_destroy(&ws->idle);
    free(ws->w);
    free(ws);
    return 0;
}
