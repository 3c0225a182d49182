/*
 * bin.c - the binary recorder: each thread records into chunks of 64-byte
 * slots of the trace file's shared mapping (format: coro/trace_bin.h).
 *
 * Recording an event takes no lock, formats nothing and shares nothing with
 * other threads: a timestamp from the CPU's counter (which orders the
 * threads' events, CORO_CTR_ORDER_TIME) and a copy of the event's fields
 * into the thread's current chunk, one 64-byte slot for a resume or a
 * suspend, three for any other event. A logical clock numbers the events
 * with one atomic counter instead (CORO_CTR_ORDER_SEQ), as does a converter
 * that keeps a trace's numbers. Strings become ids through per-thread caches
 * (bin_strings.c), and a short record names no one: its coroutines' names
 * are bound to their ids once per trace and at each rename (bin_names.c),
 * and the fast path checks only that this thread has seen each id bound.
 * Chunks are handed out with an atomic counter; the file (bin_file.c)
 * grows under the recorder's mutex.
 *
 * The flight recorder (ring=SIZE) reuses the oldest event chunk that no
 * thread is writing; the events it held are counted as overwritten.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bin_int.h"

static _Atomic uint64_t generation;

uint64_t coro__bin_generation(void)
{
    return atomic_fetch_add(&generation, 1) + 1;
}
static _Atomic uint32_t thread_count;
/* A thread that has not recorded points at no_thread, whose state belongs
 * to no recorder and has no room: the fast path need not test for NULL. */
static bin_thread no_thread = {.count = CORO_CTR_SLOTS_PER_CHUNK};
static _Thread_local bin_thread *me __attribute__((tls_model("initial-exec"))) = &no_thread;
/* Set while a signal handler records: the slow paths must not wait for a
 * lock the interrupted code may hold. */
static _Thread_local int in_handler __attribute__((tls_model("initial-exec")));
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
/* Without the key a thread's state could never be released at its exit,
 * and an unset exit_key would name some other code's key: no thread
 * records then, and what it would have recorded counts as dropped. */
static bool key_made;

/* An event's timestamp: the CPU's counter where the kernel keeps time with
 * it (clocksource "tsc": it found the counters of all CPUs in step, which
 * the order of the threads' events relies on), else CLOCK_MONOTONIC. */
static inline uint64_t stamp(const coro__bin *b)
{
    if (__builtin_expect(HAVE_TSC && b->ts_kind == CORO_CTR_TS_TSC, 1)) return ticks();
    return mono_ns() - b->ns0;
}

bool coro__bin_lock(coro__bin *b)
{
    if (!in_handler) {
        pthread_mutex_lock(&b->lock);
        return true;
    }
    return pthread_mutex_trylock(&b->lock) == 0;
}

/* Release the thread's event chunk: the ring may reuse it. Given back
 * before its events are counted as done, so that coro__bin_events() may
 * miss them for a moment but never counts them twice. */
static void release(bin_thread *t)
{
    uint64_t n = t->chunk ? t->count - 2 * t->fulls + t->folds : 0;
    if (t->chunk && t->gen == atomic_load(&generation)) {
        atomic_store(A(&t->chunk->events), n);
        atomic_store_explicit(A(&t->chunk->owner), t->ticket << 1, memory_order_release);
        atomic_fetch_add(&t->b->done, n);
    }
    t->first += n;
    t->chunk = NULL;
    t->count = CORO_CTR_SLOTS_PER_CHUNK;
    t->short_cap = 0;
}

static bool take_chunk(bin_thread *t)
{
    coro__bin *b = t->b;
    release(t);
    coro_ctr_chunk *c = NULL;
    uint64_t ticket = 0;
    if (!b->ring) {
        c = coro__bin_new_slot(b, CORO_CTR_EVENTS);
        ticket = atomic_fetch_add(A(&b->h->tickets), 1);
    } else {
        /* The oldest slot no thread is writing. At most one per thread is
         * busy, and the ring has more slots than that (or we give up). */
        for (int tries = 0; tries < 4096 && !c; tries++) {
            ticket = atomic_fetch_add(A(&b->h->tickets), 1);
            coro_ctr_chunk *s = chunk_at(b, ticket % b->h->ring_chunks);
            uint64_t w = atomic_load_explicit(A(&s->owner), memory_order_acquire);
            if (w & 1) continue;
            if (!atomic_compare_exchange_strong(A(&s->owner), &w, ticket << 1 | 1)) continue;
            if (s->type == CORO_CTR_EVENTS)
                atomic_fetch_add(A(&b->h->overwritten), atomic_load(A(&s->events)));
            c = s;
        }
    }
    if (!c) return false;
    atomic_store(A(&c->count), 0);
    c->thread = t->no;
    c->ticket = ticket;
    c->owner = ticket << 1 | 1;
    c->first = t->first;
    c->events = 0;
    atomic_store_explicit((_Atomic uint32_t *)&c->type, CORO_CTR_EVENTS, memory_order_release);
    t->chunk = c;
    t->at = (char *)(c + 1);
    t->count = t->fulls = t->folds = 0;
    /* the fast path of a short record: time-ordered, with the TSC */
    t->short_cap = b->numbered || b->ts_kind != CORO_CTR_TS_TSC ? 0 : CORO_CTR_SLOTS_PER_CHUNK;
    t->ticket = ticket;
    return true;
}

static void thread_exit(void *p)
{
    bin_thread *t = p;
    release(t);
    free(t);
}

static void make_key(void)
{
    int rc = pthread_key_create(&exit_key, thread_exit);
    key_made = rc == 0;
    if (key_made) return;
    /* Raw write, as everywhere in the tracer: a hooked write could suspend. */
    char msg[160];
    int n = snprintf(msg, sizeof msg,
                     "coroscope: cannot keep per-thread trace state (pthread_key_create: %s); "
                     "binary trace events are counted as lost\n",
                     strerror(rc));
    if (n > 0)
        coro__raw_write(STDERR_FILENO, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

static bin_thread *thread_state(coro__bin *b)
{
    bin_thread *t = me;
    if (t != &no_thread && t->gen == b->gen) return t;
    if (t == &no_thread) {
        pthread_once(&key_once, make_key);
        if (!key_made) return NULL;
        t = calloc(1, sizeof *t);
        if (!t) return NULL;
        pthread_setspecific(exit_key, t);
        me = t;
    }
    memset(t, 0, sizeof *t);
    t->count = CORO_CTR_SLOTS_PER_CHUNK; /* no chunk yet */
    t->first = 1;
    t->gen = b->gen;
    t->b = b;
    t->no = atomic_fetch_add(&thread_count, 1) + 1;
    return t;
}

/* ---- recording ---- */

/* This thread's state with room for a record of `slots` slots, or NULL
 * (the event is counted as dropped). */
static inline bin_thread *room(coro__bin *b, uint64_t slots)
{
    bin_thread *t = me;
    if (__builtin_expect(t->gen == b->gen && t->count + slots <= CORO_CTR_SLOTS_PER_CHUNK, 1))
        return t;
    t = thread_state(b);
    if (t && take_chunk(t)) return t;
    atomic_fetch_add(A(&b->h->dropped), 1);
    return NULL;
}

/* The record is in the file once its chunk's count covers it. */
static inline void commit(bin_thread *t, uint64_t slots)
{
    t->count += slots;
    t->at += slots * CORO_CTR_SLOT;
    atomic_store_explicit(A(&t->chunk->count), t->count, memory_order_release);
}

void coro__bin_record(coro__bin *b, coro_trace_ev *ev, bool keep_order)
{
    bin_thread *t = room(b, CORO_CTR_FULL);
    if (!t) return;
    if (ev->kind == CORO_EV_RENAME) atomic_fetch_add(&coro__bin_rename_epoch, 1);
    coro__bin_names_fresh(t);
    if (keep_order) {
        uint64_t s = atomic_load(A(&b->h->seq));
        if (ev->seq > s) atomic_store(A(&b->h->seq), ev->seq);
    } else {
        /* the text sinks beside a numbered trace show its numbers */
        ev->seq =
            b->numbered ? atomic_fetch_add_explicit(A(&b->h->seq), 1, memory_order_relaxed) + 1 : 0;
        ev->ts = b->ts_kind == CORO_CTR_TS_LOGICAL ? ev->seq : stamp(b);
        ev->thread = t->no;
    }
    coro_ctr_record *r = (coro_ctr_record *)t->at;
    r->kind = (uint16_t)ev->kind;
    r->slots = CORO_CTR_FULL;
    r->flags = 0;
    r->depth = ev->depth;
    r->ts = ev->ts;
    r->seq = ev->seq;
    r->co = ev->co.id;
    r->from = ev->from.id;
    r->to = ev->to.id;
    r->by = ev->by.id;
    r->obj = ev->obj.id;
    r->wait = ev->wait;
    r->value = ev->value;
    r->aux = (ev->has & CORO_EVH_ADDR) ? ev->addr : (uint64_t)ev->timeout_ms;
    r->co_name = coro__bin_name(t, ev->co.id, ev->co.name);
    /* a rename's new name, for the short records that follow (a binding
     * that cannot be written leaves them the old name: the file is full,
     * and events are being lost, which the reader reports) */
    if (ev->kind == CORO_EV_RENAME && !b->numbered)
        coro__bin_bind(b, ev->co.id, r->co_name, ev->ts);
    r->from_name = coro__bin_name(t, ev->from.id, ev->from.name);
    r->to_name = coro__bin_name(t, ev->to.id, ev->to.name);
    r->by_name = coro__bin_name(t, ev->by.id, ev->by.name);
    r->obj_name = coro__bin_name(t, ev->obj.id, ev->obj.name);
    r->obj_kind = coro__bin_literal(t, ev->obj_kind);
    r->cause = coro__bin_literal(t, ev->cause);
    r->reason = coro__bin_literal(t, ev->reason);
    r->detail = ev->detail ? coro__bin_by_content(t, ev->detail)
                : ev->op   ? coro__bin_op_detail(t, ev, r->obj_name)
                           : 0;
    r->file = coro__bin_literal(t, ev->file);
    r->line = ev->line;
    r->fd = ev->fd;
    r->events = ev->events;
    r->nready = ev->nready;
    r->thread = ev->thread;
    r->has = ev->has;
    memset(r->pad, 0, sizeof r->pad);
    t->fulls++;
    commit(t, CORO_CTR_FULL);
}

/* The short record of a brief event, its strings' ids found; `then`
 * (suspend only, coro_trace_brief) and its depth. */
static inline __attribute__((always_inline)) void
write_short(uint64_t ts, bin_thread *t, coro_ev_kind kind, const coro_trace_brief *e, uint64_t co,
            uint64_t other, uint64_t why_file, uint32_t then, int then_depth)
{
    coro_ctr_short *r = (coro_ctr_short *)t->at;
    /* kind, slots and flags in one store */
    uint32_t head = (uint32_t)kind | (uint32_t)CORO_CTR_SHORT << 16;
    memcpy(r, &head, sizeof head);
    r->depth = e->depth;
    r->then_depth = then_depth;
    r->ts = ts;
    r->co = co;
    r->other = other;
    r->by = e->by;
    memcpy(&r->why, &why_file, sizeof why_file); /* why, then file */
    r->line = e->line;
    r->then = then;
    r->reserved = 0;
    t->folds += then != 0;
    commit(t, CORO_CTR_SHORT);
}

/* A suspend's `then`, or NULL (a resume has none). */
static inline const char *then_of(const coro_trace_brief *e)
{
    return e->kind == CORO_EV_SUSPEND ? e->then : NULL;
}

/* A brief event as the full records of its one or two events. */
static void brief_as_full(coro__bin *b, const coro_trace_brief *e)
{
    coro_trace_ev ev;
    coro__trace_expand(e, &ev);
    coro__bin_record(b, &ev, false);
    if (then_of(e)) {
        coro__trace_expand_then(e, &ev);
        coro__bin_record(b, &ev, false);
    }
}

/* May a short record name coroutine r by id alone: has this trace bound
 * its name? Binds it at ts if this thread has not seen it bound. */
static bool bound(bin_thread *t, uint64_t ts, coro_trace_ref r)
{
    uint64_t *slot = &t->bound[r.id & (BIN_BOUND - 1)];
    if (*slot == r.id) return true;
    uint32_t sid = coro__bin_name(t, r.id, r.name);
    if ((r.name && !sid) || !coro__bin_bind(t->b, r.id, sid, ts)) return false;
    *slot = r.id;
    return true;
}

/* A brief event whose strings are not all in the caches, or that needs a
 * chunk first, or is recorded in a numbered trace, or is of a kind a short
 * record does not hold (as full records). */
void coro__bin_brief_slow(coro__bin *b, const coro_trace_brief *e)
{
    if (b->numbered || (e->kind != CORO_EV_RESUME && e->kind != CORO_EV_SUSPEND)) {
        brief_as_full(b, e);
        return;
    }
    bin_thread *t = room(b, CORO_CTR_SHORT);
    if (!t) return;
    coro__bin_names_fresh(t);
    bool resume = e->kind == CORO_EV_RESUME;
    const coro_trace_ref *other = resume ? &e->from : &e->to;
    uint64_t ts = stamp(b);
    if (!bound(t, ts, e->co) || !bound(t, ts, *other)) { /* names kept in full records */
        brief_as_full(b, e);
        return;
    }
    uint32_t why = coro__bin_literal(t, resume ? e->cause : e->reason);
    uint32_t file = coro__bin_literal(t, e->file);
    const char *then = then_of(e);
    uint32_t then_id = then ? coro__bin_literal(t, then) : 0;
    write_short(ts, t, e->kind, e, e->co.id, other->id, why | (uint64_t)file << 32, then_id,
                then ? e->then_depth : 0);
}

/* The ids of a brief event's strings into m, from the thread's caches;
 * false when a string is not in them. */
static inline __attribute__((always_inline)) bool
remember(bin_thread *t, memo_slot *m, const char *why, const char *file, const char *then)
{
    /* (a NULL cause or reason is never cached: the slow path) */
    const ptr_slot *p1 = &t->ptrs[((uintptr_t)why >> 3) & (BIN_CACHE - 1)];
    const ptr_slot *p2 = &t->ptrs[((uintptr_t)file >> 3) & (BIN_CACHE - 1)];
    const ptr_slot *p3 = &t->ptrs[((uintptr_t)then >> 3) & (BIN_CACHE - 1)];
    if (p1->ptr != why || (file && p2->ptr != file) || (then && p3->ptr != then)) return false;
    *m = (memo_slot){why, file, then, p1->sid | (uint64_t)(file ? p2->sid : 0) << 32,
                     then ? p3->sid : 0};
    return true;
}

/* The fast path of one kind of brief event (emit_short), false when a
 * party's name is not bound or a string is not in the caches. */
static inline __attribute__((always_inline)) bool brief_fast(bin_thread *t,
                                                             const coro_trace_brief *e, bool resume)
{
    const coro_trace_ref *other = resume ? &e->from : &e->to;
    const char *why = resume ? e->cause : e->reason;
    const char *then = resume ? NULL : e->then;
    uint64_t co = e->co.id, oid = other->id; /* (read once: kept in registers) */
    if (t->bound[co & (BIN_BOUND - 1)] != co || t->bound[oid & (BIN_BOUND - 1)] != oid)
        return false;
    memo_slot *m = &t->memo[!resume];
    if (__builtin_expect(m->why != why || m->file != e->file || (!resume && m->then != then), 0) &&
        !remember(t, m, why, e->file, then))
        return false;
    /* (this path runs only where stamp() reads the TSC: short_cap is 0
     * otherwise; ticks() calls nothing) */
    uint32_t then_sid = resume ? 0 : m->then_sid;
    write_short(ticks(), t, resume ? CORO_EV_RESUME : CORO_EV_SUSPEND, e, co, oid, m->sids,
                then_sid, then_sid ? e->then_depth : 0);
    return true;
}

/* A brief event (trace.h) in the short form, one slot, every field stored
 * once (a ring's chunk holds old records). The tracer's entry points
 * themselves (trace.h), so that a recorded event makes one call: they call
 * nothing when the thread has room and knows the ids, so that they save
 * no registers, and hand anything else to trace.c. */
static inline __attribute__((always_inline)) void emit_short(const coro_trace_brief *e, bool resume)
{
    bin_thread *t = me;
    if (__builtin_expect(t->b == __atomic_load_n(&coro__brief_bin, __ATOMIC_RELAXED) &&
                             t->count < t->short_cap,
                         1) &&
        __builtin_expect(brief_fast(t, e, resume), 1))
        return;
    coro__trace_brief_slow(e);
}

void coro_trace_emit_resume(const coro_trace_brief *e)
{
    emit_short(e, true);
}

void coro_trace_emit_suspend(const coro_trace_brief *e)
{
    emit_short(e, false);
}

void coro_trace_emit_brief(const coro_trace_brief *e)
{
    if (e->kind == CORO_EV_RESUME)
        coro_trace_emit_resume(e);
    else if (e->kind == CORO_EV_SUSPEND)
        coro_trace_emit_suspend(e);
    else
        coro__trace_brief_slow(e);
}

void coro__bin_record_in_handler(coro__bin *b, coro_trace_ev *ev)
{
    in_handler = 1;
    coro__bin_record(b, ev, false);
    in_handler = 0;
}
