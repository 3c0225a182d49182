/*
 * reader_bin.h - what the two halves of the binary trace reader share:
 * reader_bin.c (the file, its header and strings, records into events) and
 * bin_order.c (the order of the records).
 */
#ifndef VZ_READER_BIN_H
#define VZ_READER_BIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coro/trace_bin.h"

/* The names of the coroutines that short records name by id alone
 * (coro_ctr_binding), read by bin_names.c: each id's bindings, by ts. */
typedef struct bin_binding {
    uint64_t id, ts;
    const char *name;
} bin_binding;

typedef struct bin_names {
    bin_binding *b; /* by id, then ts */
    size_t n;
    struct {
        uint64_t id;
        size_t first, n;
    } * idx; /* id -> its bindings, open addressing */
    size_t idx_cap;
    /* The name last found for an id, and the ts it holds for: [from, to). */
    struct {
        uint64_t id, from, to;
        const char *name;
    } cache[1024];
} bin_names;

typedef struct bin_in {
    const char *path;
    const char *base;
    size_t size;
    const coro_ctr_header *h;
    const char **str; /* string id -> interned string */
    uint64_t nstr;
    bool whole; /* every id 1..nstr has its string: no hole to check for */
    uint64_t nchunks;
    const char *empty; /* interned "" */
    /* The clock, copied out of the header once (CORO_CTR_TS_TSC) */
    bool tsc;
    uint64_t tsc_a, ns_a;
    double rate; /* ns per tick */
    bin_names *names;
} bin_in;

/* CORO_CTR_ORDER_SEQ: full records that follow each other in the file and
 * in seq order. */
typedef struct bin_span {
    const coro_ctr_record *r;
    size_t n;
} bin_span;

/* CORO_CTR_ORDER_TIME: records of one thread that follow each other in its
 * chunk and in the run, slots at .. end; `missing` of the thread's events
 * come before them and are in no chunk (a gap). */
typedef struct bin_tspan {
    const unsigned char *at, *end;
    uint32_t thread;
    uint64_t missing;
} bin_tspan;

/* "path: what (at byte at)"; returns VZ_BADINPUT. */
int vz_bin_bad(const bin_in *in, const char *what, unsigned long long at);
/* "path: seq N appears twice"; returns VZ_BADINPUT. */
int vz_bin_twice(const bin_in *in, uint64_t seq);
const coro_ctr_chunk *vz_bin_chunk(const bin_in *in, uint64_t i);

/* CORO_CTR_ORDER_SEQ: the records as spans, in seq order if every event
 * chunk is in seq order (as the recorder writes them: one thread a chunk):
 * *n records in all. The caller checks the order while it reads them and,
 * if it is not, asks vz_bin_sorted. Returns 0 or VZ_BADINPUT. */
int vz_bin_runs(const bin_in *in, bin_span **out, size_t *nspans, size_t *n);
/* Every record in seq order, whatever the order in the file; a seq seen
 * twice is an error. */
int vz_bin_sorted(const bin_in *in, const coro_ctr_record ***out, size_t *n);

/* CORO_CTR_ORDER_TIME: the records as spans in the run's order: each
 * thread's chunks by their first event's number, the threads interleaved
 * by ts. *events: how many events the chunks say they hold (the reader
 * checks that they hold no more). Returns 0 or
 * VZ_BADINPUT (a damaged record, a thread's event in two chunks). */
int vz_bin_time_spans(const bin_in *in, bin_tspan **out, size_t *nspans, size_t *events);

/* bin_names.c: the file's names chunks into in->names. Returns 0 or
 * VZ_BADINPUT (a damaged binding, a name the file does not hold). */
int vz_bin_read_names(bin_in *in);
void vz_bin_free_names(bin_in *in);
/* The name coroutine id had at ts (raw, as recorded): its binding with the
 * largest ts not after it, or else its first; *found is false when the
 * file binds no name to id. */
const char *vz_bin_name_slow(bin_names *nm, uint64_t id, uint64_t ts, bool *found);

static inline const char *vz_bin_name(bin_names *nm, uint64_t id, uint64_t ts, bool *found)
{
    __typeof__(nm->cache[0]) *c = &nm->cache[id & 1023];
    if (__builtin_expect(c->id == id && ts >= c->from && ts < c->to, 1)) return c->name;
    return vz_bin_name_slow(nm, id, ts, found);
}

/* The slots of a record that begins at `at`, 0 if it is damaged (not a
 * known size, or past `end`). */
static inline unsigned vz_bin_slots(const unsigned char *at, const unsigned char *end)
{
    unsigned n = at[offsetof(coro_ctr_short, slots)];
    if (n != CORO_CTR_SHORT && n != CORO_CTR_FULL) return 0;
    return at + n * CORO_CTR_SLOT <= end ? n : 0;
}

#endif
