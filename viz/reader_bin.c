/*
 * reader_bin.c - a binary trace (.ctr, coro/trace_bin.h) into the same
 * vz_trace the JSON reader fills, so that every view reads both.
 *
 * The file is mapped, its strings read into the interned set, and its
 * records (chunk by chunk, one thread each) put in seq order: by placing
 * each at seq - first when the numbers are dense, by sorting otherwise.
 * Missing numbers become gaps: events overwritten by the flight recorder,
 * or not recorded (no room). Every inconsistency is reported with where it
 * is in the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coro/trace_bin.h"
#include "viz.h"

bool vz_is_binary(const char *path)
{
    if (!strcmp(path, "-")) return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char m[8];
    bool yes = read(fd, m, 8) == 8 && !memcmp(m, CORO_CTR_MAGIC, 8);
    close(fd);
    return yes;
}

typedef struct bin_in {
    const char *path;
    const char *base;
    size_t size;
    const coro_ctr_header *h;
    const char **str; /* string id -> interned string */
    uint64_t nstr;
    uint64_t nchunks;
    double rate; /* ns per tick of a TSC clock */
} bin_in;

static int bad(const bin_in *in, const char *what, unsigned long long at)
{
    fprintf(stderr, "%s: %s (at byte %llu)\n", in->path, what, at);
    return VZ_BADINPUT;
}

static const coro_ctr_chunk *chunk(const bin_in *in, uint64_t i)
{
    return (const coro_ctr_chunk *)(in->base + CORO_CTR_HEADER + i * CORO_CTR_CHUNK);
}

static int read_header(bin_in *in, vz_trace *t)
{
    const coro_ctr_header *h = in->h;
    if (in->size < CORO_CTR_HEADER || memcmp(h->magic, CORO_CTR_MAGIC, 8))
        return bad(in, "not a coroscope binary trace", 0);
    if (h->endian != CORO_CTR_ENDIAN)
        return bad(in, "written on a machine of the other byte order; convert it there", 12);
    if (h->version != CORO_CTR_VERSION) {
        fprintf(stderr,
                "%s: binary trace format version %u is not understood; this coroscope reads "
                "version %d\n",
                in->path, h->version, CORO_CTR_VERSION);
        return VZ_BADINPUT;
    }
    if (h->header_size != CORO_CTR_HEADER || h->chunk_size != CORO_CTR_CHUNK ||
        h->record_size != sizeof(coro_ctr_record))
        return bad(in, "header sizes differ from this coroscope's format", 16);
    uint64_t fit = (in->size - CORO_CTR_HEADER) / CORO_CTR_CHUNK;
    in->nchunks = h->chunks < fit ? h->chunks : fit;
    if (h->ring_chunks > in->nchunks) return bad(in, "the ring is larger than the file", 40);
    char prog[sizeof h->program + 1];
    memcpy(prog, h->program, sizeof h->program);
    prog[sizeof h->program] = 0;
    t->program = strdup(prog);
    t->version = CORO_TRACE_VERSION;
    t->logical = h->ts_kind == CORO_CTR_TS_LOGICAL;
    t->ended = h->ended != 0;
    t->end_events = h->end_events;
    t->end_dropped = h->dropped;
    t->overwritten = h->overwritten;
    return 0;
}

static int read_strings(bin_in *in)
{
    in->nstr = in->h->strings;
    if (in->nstr > in->size) return bad(in, "more strings than bytes", 0);
    in->str = calloc(in->nstr + 1, sizeof *in->str);
    if (!in->str) return bad(in, "out of memory for the strings", 0);
    for (uint64_t i = 0; i < in->nchunks; i++) {
        const coro_ctr_chunk *c = chunk(in, i);
        if (c->type != CORO_CTR_STRINGS) continue;
        size_t used = c->count, room = CORO_CTR_CHUNK - sizeof *c;
        if (used > room) return bad(in, "a string chunk says it holds more than it can", 0);
        const char *p = (const char *)(c + 1), *end = p + used;
        while (p + sizeof(coro_ctr_string) <= end) {
            coro_ctr_string e;
            memcpy(&e, p, sizeof e);
            size_t need = (sizeof e + e.len + 1 + 7) & ~(size_t)7;
            unsigned long long at = (unsigned long long)(p - in->base);
            if (!e.id || e.id > in->nstr || need > (size_t)(end - p) || p[sizeof e + e.len])
                return bad(in, "a damaged string entry", at);
            in->str[e.id] = vz_intern(p + sizeof e);
            p += need;
        }
    }
    return 0;
}

static inline int str_of(const bin_in *in, uint32_t id, const char **out, const coro_ctr_record *r)
{
    if (!id) {
        *out = NULL;
        return 0;
    }
    if (id > in->nstr || !in->str[id]) {
        fprintf(stderr, "%s: event %llu refers to string %u, which the file does not hold\n",
                in->path, (unsigned long long)r->seq, id);
        return VZ_BADINPUT;
    }
    *out = in->str[id];
    return 0;
}

static int cmp_seq(const void *a, const void *b)
{
    uint64_t x = (*(const coro_ctr_record *const *)a)->seq;
    uint64_t y = (*(const coro_ctr_record *const *)b)->seq;
    return x < y ? -1 : x > y;
}

/* Every committed record, in seq order. */
static int collect(const bin_in *in, const coro_ctr_record ***out, size_t *n_out)
{
    size_t n = 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint64_t i = 0; i < in->nchunks; i++) {
        const coro_ctr_chunk *c = chunk(in, i);
        if (c->type != CORO_CTR_EVENTS) continue;
        if (c->count > CORO_CTR_RECORDS_PER_CHUNK)
            return bad(in, "an event chunk says it holds more records than it can",
                       (unsigned long long)((const char *)c - in->base));
        const coro_ctr_record *r = (const coro_ctr_record *)(c + 1);
        for (uint64_t k = 0; k < c->count; k++) {
            if (r[k].seq < lo) lo = r[k].seq;
            if (r[k].seq > hi) hi = r[k].seq;
        }
        n += c->count;
    }
    const coro_ctr_record **v = calloc(n ? n : 1, sizeof *v);
    if (!v) return bad(in, "out of memory for the events", 0);
    bool dense = n && hi - lo < 4 * (uint64_t)n + 1024;
    const coro_ctr_record **slot = dense ? calloc(hi - lo + 1, sizeof *slot) : NULL;
    size_t k = 0;
    for (uint64_t i = 0; i < in->nchunks; i++) {
        const coro_ctr_chunk *c = chunk(in, i);
        if (c->type != CORO_CTR_EVENTS) continue;
        const coro_ctr_record *r = (const coro_ctr_record *)(c + 1);
        for (uint64_t j = 0; j < c->count; j++) {
            if (!slot) {
                v[k++] = &r[j];
                continue;
            }
            const coro_ctr_record **s = &slot[r[j].seq - lo];
            if (*s) {
                fprintf(stderr, "%s: seq %llu appears twice\n", in->path,
                        (unsigned long long)r[j].seq);
                free(slot);
                free(v);
                return VZ_BADINPUT;
            }
            *s = &r[j];
        }
    }
    if (slot) {
        for (uint64_t s = 0; s <= hi - lo; s++)
            if (slot[s]) v[k++] = slot[s];
        free(slot);
    } else {
        qsort(v, k, sizeof *v, cmp_seq);
        for (size_t i = 1; i < k; i++)
            if (v[i]->seq == v[i - 1]->seq) {
                fprintf(stderr, "%s: seq %llu appears twice\n", in->path,
                        (unsigned long long)v[i]->seq);
                free(v);
                return VZ_BADINPUT;
            }
    }
    *out = v;
    *n_out = k;
    return 0;
}

static void add_gap(vz_trace *t, uint64_t after, uint64_t count, size_t index)
{
    vz_gap *g = realloc(t->gaps, (t->ngaps + 1) * sizeof *g);
    if (!g) abort();
    t->gaps = g;
    t->gaps[t->ngaps++] = (vz_gap){after, count, index};
}

static int convert(const bin_in *in, const coro_ctr_record *r, coro_trace_ev *ev)
{
    const coro_ctr_header *h = in->h;
    memset(ev, 0, sizeof *ev);
    if (r->kind >= CORO_EV__COUNT) {
        fprintf(stderr, "%s: event %llu has an unknown kind %u\n", in->path,
                (unsigned long long)r->seq, r->kind);
        return VZ_BADINPUT;
    }
    ev->seq = r->seq;
    if (h->ts_kind == CORO_CTR_TS_TSC) {
        double rate =
            h->tsc_b > h->tsc_a ? (double)(h->ns_b - h->ns_a) / (double)(h->tsc_b - h->tsc_a) : 1.0;
        ev->ts = r->ts > h->tsc_a ? h->ns_a + (uint64_t)((double)(r->ts - h->tsc_a) * rate) : 0;
    } else {
        ev->ts = r->ts;
    }
    ev->thread = r->thread;
    ev->kind = (coro_ev_kind)r->kind;
    ev->has = r->has;
    ev->co.id = r->co;
    ev->from.id = r->from;
    ev->to.id = r->to;
    ev->by.id = r->by;
    ev->obj.id = r->obj;
    int rc = str_of(in, r->co_name, &ev->co.name, r) | str_of(in, r->from_name, &ev->from.name, r) |
             str_of(in, r->to_name, &ev->to.name, r) | str_of(in, r->by_name, &ev->by.name, r) |
             str_of(in, r->obj_name, &ev->obj.name, r) | str_of(in, r->obj_kind, &ev->obj_kind, r) |
             str_of(in, r->cause, &ev->cause, r) | str_of(in, r->reason, &ev->reason, r) |
             str_of(in, r->detail, &ev->detail, r) | str_of(in, r->file, &ev->file, r);
    if (rc) return VZ_BADINPUT;
    if (!ev->co.name) ev->co.name = vz_intern(""); /* as the JSON form always has co_name */
    ev->wait = r->wait;
    ev->value = r->value;
    if (r->has & CORO_EVH_ADDR)
        ev->addr = r->aux;
    else
        ev->timeout_ms = (int64_t)r->aux;
    ev->line = r->line;
    ev->fd = r->fd;
    ev->events = r->events;
    ev->nready = r->nready;
    ev->depth = r->depth;
    return 0;
}

int vz_read_bin(const char *path, vz_trace *t, bool progress)
{
    (void)progress; /* reading is fast enough not to need a progress line */
    memset(t, 0, sizeof *t);
    t->path = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "coroscope: cannot open %s: %s\n", path, strerror(errno));
        return VZ_BADINPUT;
    }
    struct stat st;
    if (fstat(fd, &st) || st.st_size < (off_t)CORO_CTR_HEADER) {
        close(fd);
        fprintf(stderr, "%s: too short for a binary trace\n", path);
        return VZ_BADINPUT;
    }
    /* MAP_POPULATE: one call maps every page, rather than a fault per few. */
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        fprintf(stderr, "coroscope: cannot map %s: %s\n", path, strerror(errno));
        return VZ_BADINPUT;
    }
    bin_in in = {path, m, (size_t)st.st_size, m, NULL, 0, 0, 1.0};
    const coro_ctr_header *hh = m;
    if (hh->tsc_b > hh->tsc_a)
        in.rate = (double)(hh->ns_b - hh->ns_a) / (double)(hh->tsc_b - hh->tsc_a);
    const coro_ctr_record **v = NULL;
    size_t n = 0;
    int rc = read_header(&in, t);
    if (!rc) rc = read_strings(&in);
    if (!rc) rc = collect(&in, &v, &n);
    if (!rc) {
        t->cap = n ? n : 1;
        t->ev = malloc(t->cap * sizeof *t->ev);
        t->lineno = malloc(t->cap * sizeof *t->lineno);
        if (!t->ev || !t->lineno) rc = bad(&in, "out of memory for the events", 0);
    }
    uint64_t last = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        rc = convert(&in, v[i], &t->ev[i]);
        if (rc) break;
        if (v[i]->seq != last + 1) add_gap(t, last, v[i]->seq - last - 1, i);
        last = v[i]->seq;
        t->lineno[i] = (uint32_t)(i + 1);
        t->n = i + 1;
    }
    if (!rc && t->ended && t->end_events > last) add_gap(t, last, t->end_events - last, t->n);
    free(v);
    free(in.str);
    munmap(m, (size_t)st.st_size);
    if (rc) vz_free(t);
    return rc;
}
