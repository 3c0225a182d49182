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

#endif
