/*
 * ws.c - the work-stealing scheduler (see coro/ws.h).
 *
 * Each worker thread owns a run queue: a ring of LOCAL_CAP slots that only
 * its owner appends to (the tail) and that the owner and thieves take from
 * by moving the head with a compare-and-swap, so no operation takes a lock
 * (Go's runtime uses the same shape for a P's local run queue). A worker
 * takes from its own queue first, then from the shared injection queue
 * (spawns from threads that are not workers, and a full ring's overflow;
 * this one has a mutex, as it is rare), then steals from another worker.
 * Both ends take from the head, so a worker's queue is first in, first out:
 * a coroutine that yields goes behind the others instead of running again.
 *
 * A coroutine that yields is put back on a queue only after it has
 * switched out completely (the worker does it once it has landed back on
 * its own stack); queued any earlier, another worker could steal it and
 * run it on two threads at once.
 *
 * Sleeping without losing a wake-up: an idle worker counts itself idle and
 * then looks for work once more; a producer publishes its work and then
 * reads the idle count with a read-modify-write of the same counter. The
 * two updates of the counter are ordered, so at least one side sees the
 * other: either the worker finds the work, or the producer sees an idle
 * worker and signals it, under the lock the worker holds from its last
 * look until it sleeps.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro/ws.h"
#include "coro_int.h"

#define LOCAL_CAP 256 /* a power of two */

/* A worker's ring: single producer (its owner), many consumers. head and
 * tail only grow; a slot is tail % LOCAL_CAP. */
typedef struct localq {
    _Alignas(64) atomic_size_t head;
    _Alignas(64) atomic_size_t tail;
    _Atomic(coro_t *) slot[LOCAL_CAP];
} localq;

/* The injection queue: a growable ring under a mutex. */
typedef struct injectq {
    pthread_mutex_t lock;
    coro_t **ring;
    size_t cap, head, len;
    atomic_size_t approx_len; /* read without the lock to skip it when empty */
} injectq;

typedef struct worker {
    localq q;
    coro_ws *ws;
    int index;
    unsigned picks; /* coroutines taken, for the turn of the spawn queue */
    pthread_t thread;
} worker;

struct coro_ws {
    int n;
    worker *w;
    injectq inject;
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

static void inject_push(injectq *q, coro_t *co)
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
    atomic_store(&q->approx_len, q->len);
    pthread_mutex_unlock(&q->lock);
}

static coro_t *inject_take(injectq *q)
{
    if (atomic_load_explicit(&q->approx_len, memory_order_relaxed) == 0) return NULL;
    pthread_mutex_lock(&q->lock);
    coro_t *co = NULL;
    if (q->len) {
        co = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
        atomic_store(&q->approx_len, q->len);
    }
    pthread_mutex_unlock(&q->lock);
    return co;
}

/* Owner only. False when the ring is full. */
static bool local_push(localq *q, coro_t *co)
{
    size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    if (t - h >= LOCAL_CAP) return false;
    atomic_store_explicit(&q->slot[t % LOCAL_CAP], co, memory_order_relaxed);
    atomic_store_explicit(&q->tail, t + 1, memory_order_release);
    return true;
}

/* Owner or thief: the oldest entry, or NULL when empty. A thief that reads
 * a slot the owner is refilling loses the compare-and-swap and retries. */
static coro_t *local_take(localq *q)
{
    size_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    for (;;) {
        size_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (h == t) return NULL;
        coro_t *co = atomic_load_explicit(&q->slot[h % LOCAL_CAP], memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return co;
    }
}

static bool local_empty(localq *q)
{
    return atomic_load(&q->head) == atomic_load(&q->tail);
}

/* Wake one sleeping worker, if any, after publishing work (see the top). */
static void wake_one(coro_ws *ws)
{
    /* A read-modify-write, not a load: it is ordered with the sleeper's
     * increment of the same counter, so if it comes later it sees the
     * sleeper, and if earlier the sleeper's increment reads from it and then
     * sees the work we published before. */
    if (atomic_fetch_add(&ws->idle_workers, 0) == 0) return;
    pthread_mutex_lock(&ws->idle_lock);
    pthread_cond_signal(&ws->idle);
    pthread_mutex_unlock(&ws->idle_lock);
}

/* Wake them all: the scheduler is closing or has run out of coroutines. */
static void wake_all(coro_ws *ws)
{
    pthread_mutex_lock(&ws->idle_lock);
    pthread_cond_broadcast(&ws->idle);
    pthread_mutex_unlock(&ws->idle_lock);
}

void coro__ws_push(coro_t *co)
{
    coro_ws *ws = co->ws;
    if (!(self_worker && self_worker->ws == ws && local_push(&self_worker->q, co)))
        inject_push(&ws->inject, co);
    wake_one(ws);
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
    if (atomic_fetch_sub(&co->ws->live, 1) == 1) wake_all(co->ws);
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
    coro_ws *ws = me->ws;
    coro_t *co;
    /* Coroutines that keep yielding go back on this worker's own queue and
     * would be taken again before the spawns from outside forever: every
     * 61st pick looks at the spawn queue first (Go's scheduler does the same
     * with its global queue). */
    if (++me->picks % 61 == 0 && (co = inject_take(&ws->inject))) return co;
    if ((co = local_take(&me->q))) return co;
    if ((co = inject_take(&ws->inject))) return co;
    for (int k = 1; k < ws->n; k++) {
        worker *v = &ws->w[(me->index + k) % ws->n];
        if ((co = local_take(&v->q))) {
            atomic_fetch_add(&ws->steals, 1);
            trace_steal(co, v->index);
            return co;
        }
    }
    return NULL;
}

/* Under idle_lock, after counting ourselves idle: is there anything to do
 * (work anywhere, or the end)? */
static bool worth_waking(coro_ws *ws)
{
    if (atomic_load(&ws->live) == 0 && atomic_load(&ws->closing)) return true;
    if (atomic_load(&ws->inject.approx_len)) return true;
    for (int i = 0; i < ws->n; i++)
        if (!local_empty(&ws->w[i].q)) return true;
    return false;
}

static void sleep_until_work(coro_ws *ws)
{
    pthread_mutex_lock(&ws->idle_lock);
    atomic_fetch_add(&ws->idle_workers, 1);
    if (!worth_waking(ws)) pthread_cond_wait(&ws->idle, &ws->idle_lock);
    atomic_fetch_sub(&ws->idle_workers, 1);
    pthread_mutex_unlock(&ws->idle_lock);
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
        sleep_until_work(ws);
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
    /* Workers are cache-line aligned, so that one's queue ends do not share
     * a line with another's. */
    if (!ws || !(ws->w = aligned_alloc(_Alignof(worker), (size_t)workers * sizeof *ws->w))) {
        free(ws);
        errno = ENOMEM;
        return NULL;
    }
    memset(ws->w, 0, (size_t)workers * sizeof *ws->w);
    ws->n = workers;
    pthread_mutex_init(&ws->inject.lock, NULL);
    pthread_mutex_init(&ws->idle_lock, NULL);
    pthread_cond_init(&ws->idle, NULL);
    for (int i = 0; i < workers; i++) {
        ws->w[i].ws = ws;
        ws->w[i].index = i;
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
    coro_t *h = coro__handle(co); /* before the wake: on a scheduler it may be gone at once */
    coro__wakeinfo w = {.cause = "start", .by = coro__t.current->named.id};
    coro__wake(co, &w, file, line);
    return h;
}

int coro_ws_join(coro_ws *ws)
{
    atomic_store(&ws->closing, true);
    wake_all(ws);
    for (int i = 0; i < ws->n; i++) pthread_join(ws->w[i].thread, NULL);
    free(ws->inject.ring);
    pthread_mutex_destroy(&ws->inject.lock);
    pthread_mutex_destroy(&ws->idle_lock);
    pthread_cond_destroy(&ws->idle);
    free(ws->w);
    free(ws);
    return 0;
}
