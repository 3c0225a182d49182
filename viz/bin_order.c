/*
 * bin_order.c - the records of a binary trace in the run's order.
 *
 * Ordered by time (CORO_CTR_ORDER_TIME, vz_bin_time_spans): a thread's
 * chunks follow each other by the number of their first event, and the
 * threads' records interleave by ts; a single thread's chunks are simply
 * concatenated, and several threads' are merged in spans, each as long as
 * its ts stay below the other threads' next.
 *
 * Numbered (CORO_CTR_ORDER_SEQ, full records only): each event chunk is
 * written by one thread, whose numbers only grow: a
 * chunk is a run already in order. Merging the runs (vz_bin_runs) looks at
 * a few numbers per chunk, not at every record, so the file is read once,
 * by the conversion; a single-threaded trace's chunks simply follow each
 * other. A file whose chunks are not runs (damaged, or written some other
 * way) is put in order record by record instead (vz_bin_sorted): by placing
 * each at seq - first when the numbers are dense, by sorting otherwise.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader_bin.h"
#include "viz.h"

static unsigned long long offset(const bin_in *in, const void *p)
{
    return (unsigned long long)((const char *)p - in->base);
}

/* Is a chunk's count one it can hold: at most a chunk of slots and, in a
 * numbered trace, whole full records? Says which chunk when not. */
static bool count_ok(const bin_in *in, const coro_ctr_chunk *c, bool numbered)
{
    if (c->count <= CORO_CTR_SLOTS_PER_CHUNK && !(numbered && c->count % CORO_CTR_FULL))
        return true;
    vz_bin_bad(in, "an event chunk says it holds more records than it can", offset(in, c));
    return false;
}

/* ---- merging the runs ---- */

/* The records of a chunk not yet handed out: r .. end. */
typedef struct run {
    const coro_ctr_record *r, *end;
} run;

static int cmp_head(const void *a, const void *b)
{
    uint64_t x = ((const run *)a)->r->seq, y = ((const run *)b)->r->seq;
    return x < y ? -1 : x > y;
}

/* A min-heap of runs by the seq of their first record. */
static void sift_down(run *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && h[l].r->seq < h[m].r->seq) m = l;
        if (l + 1 < n && h[l + 1].r->seq < h[m].r->seq) m = l + 1;
        if (m == i) return;
        run x = h[i];
        h[i] = h[m];
        h[m] = x;
        i = m;
    }
}

/* Every event chunk that holds records; a sorted array is a heap. */
static int list_runs(const bin_in *in, run **out, size_t *nruns, size_t *n)
{
    run *h = malloc((in->nchunks ? in->nchunks : 1) * sizeof *h);
    if (!h) return vz_bin_bad(in, "out of memory for the events", 0);
    size_t k = 0;
    *n = 0;
    for (uint64_t i = 0; i < in->nchunks; i++) {
        const coro_ctr_chunk *c = vz_bin_chunk(in, i);
        if (c->type != CORO_CTR_EVENTS) continue;
        if (!count_ok(in, c, true)) {
            free(h);
            return VZ_BADINPUT;
        }
        const coro_ctr_record *r = (const coro_ctr_record *)(c + 1);
        uint64_t records = c->count / CORO_CTR_FULL;
        if (records) h[k++] = (run){r, r + records};
        *n += records;
    }
    qsort(h, k, sizeof *h, cmp_head);
    *out = h;
    *nruns = k;
    return 0;
}

/* The first record of a run (in order) whose seq is at least seq. */
static const coro_ctr_record *first_from(const run *a, uint64_t seq)
{
    if (a->end[-1].seq < seq) return a->end;
    const coro_ctr_record *lo = a->r, *hi = a->end;
    while (lo < hi) {
        const coro_ctr_record *mid = lo + (hi - lo) / 2;
        if (mid->seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int add_span(bin_span **v, size_t *n, size_t *cap, const coro_ctr_record *r, size_t len)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        bin_span *g = realloc(*v, c * sizeof *g);
        if (!g) return -1;
        *v = g;
        *cap = c;
    }
    (*v)[(*n)++] = (bin_span){r, len};
    return 0;
}

int vz_bin_runs(const bin_in *in, bin_span **out, size_t *nspans, size_t *n)
{
    run *h = NULL;
    size_t nh = 0, cap = 0;
    int rc = list_runs(in, &h, &nh, n);
    if (rc) return rc;
    *out = NULL;
    *nspans = 0;
    while (nh && !rc) {
        /* The lowest run, up to the lowest first record of the others (a
         * child of the root); at least one record, so that two records of
         * one seq still come out, for the reader to see. */
        uint64_t next = UINT64_MAX;
        if (nh > 1) next = h[1].r->seq;
        if (nh > 2 && h[2].r->seq < next) next = h[2].r->seq;
        const coro_ctr_record *stop = first_from(&h[0], next);
        if (stop == h[0].r) stop++;
        if (add_span(out, nspans, &cap, h[0].r, (size_t)(stop - h[0].r)))
            rc = vz_bin_bad(in, "out of memory for the events", 0);
        h[0].r = stop;
        if (stop == h[0].end) h[0] = h[--nh];
        sift_down(h, nh, 0);
    }
    free(h);
    return rc;
}

/* ---- record by record ---- */

static int cmp_seq(const void *a, const void *b)
{
    uint64_t x = (*(const coro_ctr_record *const *)a)->seq;
    uint64_t y = (*(const coro_ctr_record *const *)b)->seq;
    return x < y ? -1 : x > y;
}

/* The committed records: how many, their lowest and highest seq. */
static int count_records(const bin_in *in, size_t *n, uint64_t *lo, uint64_t *hi)
{
    *n = 0;
    *lo = UINT64_MAX;
    *hi = 0;
    for (uint64_t i = 0; i < in->nchunks; i++) {
        const coro_ctr_chunk *c = vz_bin_chunk(in, i);
        if (c->type != CORO_CTR_EVENTS) continue;
        if (!count_ok(in, c, true)) return VZ_BADINPUT;
        const coro_ctr_record *r = (const coro_ctr_record *)(c + 1);
        for (uint64_t k = 0; k < c->count / CORO_CTR_FULL; k++) {
            if (r[k].seq < *lo) *lo = r[k].seq;
            if (r[k].seq > *hi) *hi = r[k].seq;
        }
        *n += c->count / CORO_CTR_FULL;
    }
    return 0;
}

/* Dense numbers: each record at seq - lo in an array of hi - lo + 1, then
 * the empty places squeezed out in the same array. */
static int place_dense(const bin_in *in, uint64_t lo, uint64_t hi, const coro_ctr_record ***out,
                       size_t *n_out)
{
    size_t span = (size_t)(hi - lo + 1);
    const coro_ctr_record **slot = calloc(span, sizeof *slot);
    if (!slot) return vz_bin_bad(in, "out of memory for the events", 0);
    for (uint64_t i = 0; i < in->nchunks; i++) {
        const coro_ctr_chunk *c = vz_bin_chunk(in, i);
        if (c->type != CORO_CTR_EVENTS) continue;
        const coro_ctr_record *r = (const coro_ctr_record *)(c + 1);
        for (uint64_t j = 0; j < c->count / CORO_CTR_FULL; j++) {
            const coro_ctr_record **s = &slot[r[j].seq - lo];
            if (*s) {
                free(slot);
                return vz_bin_twice(in, r[j].seq);
            }
            *s = &r[j];
        }
    }
    size_t k = 0;
    for (size_t s = 0; s < span; s++)
        if (slot[s]) slot[k++] = slot[s];
    *out = slot;
    *n_out = k;
    return 0;
}

/* Sparse numbers: every record, sorted by seq. */
static int sort_sparse(const bin_in *in, size_t n, const coro_ctr_record ***out, size_t *n_out)
{
    const coro_ctr_record **v = calloc(n ? n : 1, sizeof *v);
    if (!v) return vz_bin_bad(in, "out of memory for the events", 0);
    size_t k = 0;
    for (uint64_t i = 0; i < in->nchunks; i++) {
        const coro_ctr_chunk *c = vz_bin_chunk(in, i);
        if (c->type != CORO_CTR_EVENTS) continue;
        const coro_ctr_record *r = (const coro_ctr_record *)(c + 1);
        for (uint64_t j = 0; j < c->count / CORO_CTR_FULL; j++) v[k++] = &r[j];
    }
    qsort(v, k, sizeof *v, cmp_seq);
    for (size_t i = 1; i < k; i++)
        if (v[i]->seq == v[i - 1]->seq) {
            uint64_t seq = v[i]->seq;
            free(v);
            return vz_bin_twice(in, seq);
        }
    *out = v;
    *n_out = k;
    return 0;
}

int vz_bin_sorted(const bin_in *in, const coro_ctr_record ***out, size_t *n_out)
{
    size_t n;
    uint64_t lo, hi;
    int rc = count_records(in, &n, &lo, &hi);
    if (rc) return rc;
    if (n && hi - lo < 4 * (uint64_t)n + 1024) return place_dense(in, lo, hi, out, n_out);
    return sort_sparse(in, n, out, n_out);
}

/* ---- ordered by time ---- */

/* What moving a cursor gives: a record, the end of the thread, or an error
 * (said on stderr). */
enum { DONE = 0, MORE = 1, BAD = -1 };

/* A thread's chunks, by their first event's number. */
typedef struct tchunk {
    const coro_ctr_chunk *c;
} tchunk;

static int cmp_chunk(const void *a, const void *b)
{
    const coro_ctr_chunk *x = ((const tchunk *)a)->c, *y = ((const tchunk *)b)->c;
    if (x->thread != y->thread) return x->thread < y->thread ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Where a thread is: its chunks [c, cend), in chunk *c at slot `at`. */
typedef struct cursor {
    const tchunk *c, *cend;
    const unsigned char *at, *end;
    uint64_t next;    /* the number of the thread's event at `at` */
    uint64_t missing; /* events before `at` that no chunk holds */
    uint32_t thread;
} cursor;

/* The cursor on its next chunk that holds a record (MORE), or DONE. Counts
 * the numbers between chunks as missing; a number in two chunks is BAD. */
static int enter(const bin_in *in, cursor *k)
{
    while (k->c < k->cend) {
        const coro_ctr_chunk *c = k->c->c;
        if (c->first < k->next) {
            fprintf(stderr, "%s: thread %u's event %llu is in two chunks (at byte %llu)\n",
                    in->path, c->thread, (unsigned long long)c->first, offset(in, c));
            return BAD;
        }
        k->missing += c->first - k->next;
        k->next = c->first;
        k->at = (const unsigned char *)(c + 1);
        k->end = k->at + c->count * CORO_CTR_SLOT;
        if (k->at < k->end) return MORE;
        k->c++;
    }
    return DONE;
}

/* The record at k->at has been handed out: step past it. */
static int step(const bin_in *in, cursor *k)
{
    unsigned n = vz_bin_slots(k->at, k->end);
    if (!n) {
        vz_bin_bad(in, "a damaged event record", offset(in, k->at));
        return BAD;
    }
    uint32_t then = 0; /* a short record with `then` is two events */
    if (n == CORO_CTR_SHORT) memcpy(&then, k->at + offsetof(coro_ctr_short, then), sizeof then);
    k->at += n * CORO_CTR_SLOT;
    k->next += then ? 2 : 1;
    if (k->at < k->end) return MORE;
    k->c++;
    return enter(in, k);
}

static uint64_t ts_at(const cursor *k)
{
    uint64_t ts;
    memcpy(&ts, k->at + offsetof(coro_ctr_short, ts), sizeof ts);
    return ts;
}

/* Is a's next record before b's? By ts, then by thread. */
static bool before(const cursor *a, const cursor *b)
{
    uint64_t x = ts_at(a), y = ts_at(b);
    return x != y ? x < y : a->thread < b->thread;
}

static int add_tspan(bin_tspan **v, size_t *n, size_t *cap, bin_tspan sp)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        bin_tspan *g = realloc(*v, c * sizeof *g);
        if (!g) return -1;
        *v = g;
        *cap = c;
    }
    (*v)[(*n)++] = sp;
    return 0;
}

/* The threads, each as a cursor on its first record. */
static int open_cursors(const bin_in *in, tchunk *all, size_t n, cursor **out, size_t *nk)
{
    cursor *ks = calloc(n ? n : 1, sizeof *ks);
    if (!ks) return vz_bin_bad(in, "out of memory for the events", 0);
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && all[j].c->thread == all[i].c->thread) j++;
        cursor k = {.c = &all[i], .cend = &all[j], .next = 1, .thread = all[i].c->thread};
        int rc = enter(in, &k);
        if (rc == BAD) {
            free(ks);
            return VZ_BADINPUT;
        }
        if (rc) ks[m++] = k;
        i = j;
    }
    *out = ks;
    *nk = m;
    return 0;
}

/* Hand out the records of cursor k up to the first one that comes after
 * limit's next (limit NULL: all of them), as spans, one per chunk. Returns
 * MORE (k has more), DONE or BAD. */
static int drain(const bin_in *in, cursor *k, const cursor *limit, bin_tspan **v, size_t *n,
                 size_t *cap)
{
    for (;;) {
        const unsigned char *from = k->at, *chunk_end = k->end;
        const tchunk *chunk = k->c;
        uint64_t missing = k->missing;
        k->missing = 0; /* what enter() finds before the next chunk is the next span's */
        int rc;
        do rc = step(in, k);
        while (rc == MORE && k->c == chunk && (!limit || !before(limit, k)));
        const unsigned char *to = rc == MORE && k->c == chunk ? k->at : chunk_end;
        if (add_tspan(v, n, cap, (bin_tspan){from, to, k->thread, missing})) {
            vz_bin_bad(in, "out of memory for the events", 0);
            return BAD;
        }
        if (rc != MORE || (limit && before(limit, k))) return rc;
    }
}

int vz_bin_time_spans(const bin_in *in, bin_tspan **out, size_t *nspans, size_t *events)
{
    *out = NULL;
    *nspans = *events = 0;
    tchunk *all = malloc((in->nchunks ? in->nchunks : 1) * sizeof *all);
    if (!all) return vz_bin_bad(in, "out of memory for the events", 0);
    size_t n = 0;
    for (uint64_t i = 0; i < in->nchunks; i++) {
        const coro_ctr_chunk *c = vz_bin_chunk(in, i);
        if (c->type != CORO_CTR_EVENTS) continue;
        if (!count_ok(in, c, false)) {
            free(all);
            return VZ_BADINPUT;
        }
        all[n++] = (tchunk){c};
        /* a chunk given back says how many events it holds; one still
         * written when the run ended holds at most two a slot */
        *events += c->events && c->events <= 2 * c->count ? c->events : 2 * c->count;
    }
    qsort(all, n, sizeof *all, cmp_chunk);
    cursor *ks = NULL;
    size_t nk = 0, cap = 0;
    int rc = open_cursors(in, all, n, &ks, &nk);
    /* Each turn: the thread whose next record comes first, for as long as
     * its records come before every other thread's next one. */
    while (!rc && nk) {
        size_t lo = 0, second = SIZE_MAX;
        for (size_t i = 1; i < nk; i++) {
            if (before(&ks[i], &ks[lo])) {
                second = lo;
                lo = i;
            } else if (second == SIZE_MAX || before(&ks[i], &ks[second])) {
                second = i;
            }
        }
        int r = drain(in, &ks[lo], second == SIZE_MAX ? NULL : &ks[second], out, nspans, &cap);
        if (r == BAD)
            rc = VZ_BADINPUT;
        else if (r == DONE)
            ks[lo] = ks[--nk];
    }
    free(ks);
    free(all);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}
