/*
 * bin_int.h - what the binary recorder's two files share: the recording
 * (bin.c: threads, their chunks, strings, records) and the file (bin_file.c:
 * its mapping and growth, its header, opening, ending and counts).
 */
#ifndef CORO_BIN_INT_H
#define CORO_BIN_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "coro/trace_bin.h"
#include "sink.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#define A(p) ((_Atomic uint64_t *)(p))

struct coro__bin {
    int fd;
    char *base;
    coro_ctr_header *h;
    uint64_t mapped;  /* file size */
    uint64_t reserve; /* address space mapped: the file's largest size */
    uint64_t gen;     /* which recorder a thread's state belongs to */
    pthread_mutex_t lock;
    coro_ctr_chunk *strings; /* the string chunk being filled */
    coro_ctr_chunk *names;   /* the names chunk being filled */
    /* the latest binding of each coroutine id (bin_names.c) */
    struct {
        uint64_t id, ts;
        uint32_t sid;
    } * bound;
    size_t bound_cap, bound_len;
    /* interned strings: content -> id */
    struct {
        uint64_t hash;
        char *s;
        uint32_t sid;
    } * tab;
    size_t tab_cap, tab_len;
    bool ring;
    bool numbered; /* CORO_CTR_ORDER_SEQ */
    int ts_kind;
    _Atomic uint64_t done; /* events in chunks given back */
    struct coro__bin *retired_next;
    uint64_t ns0; /* CLOCK_MONOTONIC at opening */
};

static inline uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t ticks(void)
{
#if HAVE_TSC
    return __rdtsc();
#else
    return mono_ns();
#endif
}

static inline coro_ctr_chunk *chunk_at(coro__bin *b, uint64_t slot)
{
    return (coro_ctr_chunk *)(b->base + CORO_CTR_HEADER + slot * CORO_CTR_CHUNK);
}

/* bin.c: b->lock, or false when a signal handler records and cannot wait
 * for it; a number for a new recorder (threads' states belong to one). */
bool coro__bin_lock(coro__bin *b);
uint64_t coro__bin_generation(void);

/* bin_file.c: a new chunk slot at the end of the file, or NULL (no room). */
coro_ctr_chunk *coro__bin_new_slot(coro__bin *b, uint32_t type);

/* bin_file.c: with b->lock held, the chunk of `type` that has room for
 * `need` more bytes: *cur, or a new one it becomes. The lock is let go
 * to take a new one; *held says whether it is held on return. NULL when
 * there is no room (or the lock could not be taken back). The caller
 * writes at its count and then commits (coro__bin_appended). */
coro_ctr_chunk *coro__bin_room_in(coro__bin *b, coro_ctr_chunk **cur, uint32_t type, size_t need,
                                  bool *held);

static inline void coro__bin_appended(coro_ctr_chunk *c, size_t bytes)
{
    atomic_store_explicit(A(&c->count), c->count + bytes, memory_order_release);
}

/* bin_names.c: binds coroutine id's name (a string id) from ts on, unless
 * that is already its latest binding. False when it cannot be recorded. */
bool coro__bin_bind(coro__bin *b, uint64_t id, uint32_t sid, uint64_t ts);

/* ---- a thread's state (bin.c) and its string caches (bin_strings.c) ---- */

#define BIN_CACHE 256
#define BIN_BOUND 256 /* (an id's low byte: one instruction) */

/* Two addresses per name: an object's name may be read from two copies
 * (a socket's, and a wait's reference to it), which would otherwise evict
 * each other at every event and send each lookup to by_content. */
typedef struct name_slot {
    uint64_t id;
    const char *ptr, *ptr2;
    uint32_t sid;
} name_slot;

typedef struct ptr_slot {
    const char *ptr;
    uint32_t sid;
} ptr_slot;

/* A wait's detail by its parts (coro_trace_ev.op): formatted at a miss. */
typedef struct op_slot {
    const char *op;
    int fd;
    uint32_t obj, sid;
} op_slot;

typedef struct hash_slot {
    uint64_t hash;
    const char *copy;
    uint32_t sid;
} hash_slot;

/* The strings of a thread's last resume or suspend and their ids: a call
 * site that records again finds them with two or three compares. */
typedef struct memo_slot {
    const char *why, *file, *then;
    uint64_t sids; /* why | file << 32, as a short record holds them */
    uint32_t then_sid;
} memo_slot;

typedef struct bin_thread {
    uint64_t gen;
    coro__bin *b;
    coro_ctr_chunk *chunk;
    char *at;       /* the next free slot */
    uint64_t count; /* slots committed in the chunk (CORO_CTR_SLOTS_PER_CHUNK: no chunk) */
    uint64_t fulls; /* full records in the chunk */
    uint64_t folds; /* short records that stand for two events: it holds
                       count - 2 fulls + folds events */
    uint64_t first; /* this thread's number of the chunk's first event */
    uint64_t ticket;
    uint64_t short_cap; /* slots a short record may use: 0 when numbered (full records only) */
    uint64_t epoch;     /* the rename epoch the names below are good for */
    uint32_t no;
    memo_slot memo[2];         /* [0] resume, [1] suspend */
    uint64_t bound[BIN_BOUND]; /* coroutine ids whose names this trace has bound */
    name_slot names[BIN_CACHE];
    ptr_slot ptrs[BIN_CACHE];
    hash_slot details[BIN_CACHE];
    op_slot ops[BIN_CACHE];
} bin_thread;

/* bin_strings.c: a string's id through the thread's caches, interned at a
 * miss (0 if it cannot be recorded); names cached are good for one rename
 * epoch, which every rename moves on. */
extern _Atomic uint64_t coro__bin_rename_epoch;
uint32_t coro__bin_by_content(bin_thread *t, const char *s);
uint32_t coro__bin_name_missed(bin_thread *t, name_slot *e, uint64_t id, const char *s);
uint32_t coro__bin_op_missed(bin_thread *t, op_slot *e, const coro_trace_ev *ev, int fd,
                             uint32_t obj);

static inline uint32_t coro__bin_literal(bin_thread *t, const char *s)
{
    if (!s) return 0;
    ptr_slot *e = &t->ptrs[((uintptr_t)s >> 3) & (BIN_CACHE - 1)];
    if (__builtin_expect(e->ptr == s, 1)) return e->sid;
    uint32_t sid = coro__bin_by_content(t, s);
    if (sid) *e = (ptr_slot){s, sid};
    return sid;
}

/* The names cached are emptied when anything was renamed since. */
static inline void coro__bin_names_fresh(bin_thread *t)
{
    uint64_t epoch = atomic_load_explicit(&coro__bin_rename_epoch, memory_order_relaxed);
    if (__builtin_expect(t->epoch == epoch, 1)) return;
    memset(t->names, 0, sizeof t->names);
    t->epoch = epoch;
}

static inline uint32_t coro__bin_name(bin_thread *t, uint64_t id, const char *s)
{
    /* an absent name is not cached: a party named in one event may be
     * given by id alone in another (a resume's `by`), and must not evict
     * its name */
    if (!s) return 0;
    name_slot *e = &t->names[id & (BIN_CACHE - 1)];
    if (__builtin_expect(e->id == id && (e->ptr == s || e->ptr2 == s), 1)) return e->sid;
    return coro__bin_name_missed(t, e, id, s);
}

/* The id of the detail ev->op stands for, formatted only the first time
 * this thread meets that call on that fd or object (obj: its name's id). */
static inline uint32_t coro__bin_op_detail(bin_thread *t, const coro_trace_ev *ev, uint32_t obj)
{
    int fd = ev->has & CORO_EVH_FD ? ev->fd : -1;
    op_slot *e = &t->ops[((uintptr_t)ev->op >> 3 ^ (unsigned)fd ^ obj) & (BIN_CACHE - 1)];
    if (e->op == ev->op && e->fd == fd && e->obj == obj) return e->sid;
    return coro__bin_op_missed(t, e, ev, fd, obj);
}

#endif
