/*
 * reader_bin.c - a binary trace (.ctr, coro/trace_bin.h) into the same
 * vz_trace the JSON reader fills, so that every view reads both.
 *
 * The file is mapped, its strings read into the interned set, and its
 * records, in the run's order (bin_order.c), turned into events: a short
 * record into a resume or a suspend, a full one into any event. Events are
 * numbered here when the file is ordered by time (each thread's missing
 * numbers then make a gap), and keep their numbers when it is numbered.
 * Missing numbers become gaps: events overwritten by the flight recorder,
 * or not recorded (no room). Every inconsistency is reported with where it
 * is in the file.
 *
 * Speed (docs/performance.md, "The recorder"): the file is read once, a
 * record becomes an event by writing every field once, its ten strings are
 * resolved with one range check when the file holds all its strings, and
 * the event array asks for huge pages, whose faults otherwise cost as much
 * as the reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coro/trace_bin.h"
#include "reader_bin.h"
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

int vz_bin_bad(const bin_in *in, const char *what, unsigned long long at)
{
    fprintf(stderr, "%s: %s (at byte %llu)\n", in->path, what, at);
    return VZ_BADINPUT;
}

int vz_bin_twice(const bin_in *in, uint64_t seq)
{
    fprintf(stderr, "%s: seq %llu appears twice\n", in->path, (unsigned long long)seq);
    return VZ_BADINPUT;
}

const coro_ctr_chunk *vz_bin_chunk(const bin_in *in, uint64_t i)
{
    return (const coro_ctr_chunk *)(in->base + CORO_CTR_HEADER + i * CORO_CTR_CHUNK);
}

static void read_clock(bin_in *in)
{
    const coro_ctr_header *h = in->h;
    in->tsc = h->ts_kind == CORO_CTR_TS_TSC;
    in->tsc_a = h->tsc_a;
    in->ns_a = h->ns_a;
    in->rate =
        h->tsc_b > h->tsc_a ? (double)(h->ns_b - h->ns_a) / (double)(h->tsc_b - h->tsc_a) : 1.0;
}

static int read_header(bin_in *in, vz_trace *t)
{
    const coro_ctr_header *h = in->h;
    if (in->size < CORO_CTR_HEADER || memcmp(h->magic, CORO_CTR_MAGIC, 8))
        return vz_bin_bad(in, "not a coroscope binary trace", 0);
    if (h->endian != CORO_CTR_ENDIAN)
        return vz_bin_bad(in, "written on a machine of the other byte order; convert it there", 12);
    if (h->version != CORO_CTR_VERSION) {
        fprintf(stderr,
                "%s: binary trace format version %u is not understood; this coroscope reads "
                "version %d\n",
                in->path, h->version, CORO_CTR_VERSION);
        return VZ_BADINPUT;
    }
    if (h->header_size != CORO_CTR_HEADER || h->chunk_size != CORO_CTR_CHUNK ||
        h->record_size != CORO_CTR_SLOT)
        return vz_bin_bad(in, "header sizes differ from this coroscope's format", 16);
    if (h->order != CORO_CTR_ORDER_TIME && h->order != CORO_CTR_ORDER_SEQ)
        return vz_bin_bad(in, "an unknown order of events",
                          (unsigned long long)offsetof(coro_ctr_header, order));
    uint64_t fit = (in->size - CORO_CTR_HEADER) / CORO_CTR_CHUNK;
    in->nchunks = h->chunks < fit ? h->chunks : fit;
    if (h->ring_chunks > in->nchunks) return vz_bin_bad(in, "the ring is larger than the file", 40);
    char prog[sizeof h->program + 1];
    memcpy(prog, h->program, sizeof h->program);
    prog[sizeof h->program] = 0;
    t->program = strdup(prog);
    t->version = CORO_TRACE_VERSION;
    t->logical = h->ts_kind == CORO_CTR_TS_LOGICAL;
    t->ended = h->ended != 0;
    t->end_events = h->end_events;
    t->end_signal = h->end_signal > 0 && h->end_signal <= 64 ? h->end_signal : 0;
    t->end_dropped = t->unrecorded = h->dropped;
    t->overwritten = h->overwritten;
    read_clock(in);
    return 0;
}

static int read_strings(bin_in *in)
{
    in->nstr = in->h->strings;
    if (in->nstr > in->size) return vz_bin_bad(in, "more strings than bytes", 0);
    in->str = calloc(in->nstr + 1, sizeof *in->str);
    if (!in->str) return vz_bin_bad(in, "out of memory for the strings", 0);
    uint64_t held = 0;
    for (uint64_t i = 0; i < in->nchunks; i++) {
        const coro_ctr_chunk *c = vz_bin_chunk(in, i);
        if (c->type != CORO_CTR_STRINGS) continue;
        size_t used = c->count, room = CORO_CTR_CHUNK - sizeof *c;
        if (used > room) return vz_bin_bad(in, "a string chunk says it holds more than it can", 0);
        const char *p = (const char *)(c + 1), *end = p + used;
        while (p + sizeof(coro_ctr_string) <= end) {
            coro_ctr_string e;
            memcpy(&e, p, sizeof e);
            size_t need = (sizeof e + e.len + 1 + 7) & ~(size_t)7;
            unsigned long long at = (unsigned long long)(p - in->base);
            if (!e.id || e.id > in->nstr || need > (size_t)(end - p) || p[sizeof e + e.len])
                return vz_bin_bad(in, "a damaged string entry", at);
            held += !in->str[e.id];
            in->str[e.id] = vz_intern(p + sizeof e);
            p += need;
        }
    }
    in->whole = held == in->nstr;
    return 0;
}

/* The slow way, for a record that names a string the file may not hold:
 * says which event refers to which. */
static inline int str_of(const bin_in *in, uint32_t id, const char **out, uint64_t seq)
{
    if (!id) {
        *out = NULL;
        return 0;
    }
    if (id > in->nstr || !in->str[id]) {
        fprintf(stderr, "%s: event %llu refers to string %u, which the file does not hold\n",
                in->path, (unsigned long long)seq, id);
        return VZ_BADINPUT;
    }
    *out = in->str[id];
    return 0;
}

/* A record's string fields, co_name .. file, one after another. */
enum { NSTRF = 10 };
_Static_assert(offsetof(coro_ctr_record, file) - offsetof(coro_ctr_record, co_name) ==
                   (NSTRF - 1) * sizeof(uint32_t),
               "the string ids are consecutive");

static inline uint32_t max32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

/* Does the record name only strings the file holds? When the file holds
 * every string, an id no larger than the last is one (0 is "none", and
 * str[0] is NULL): one test for all ten, on their largest. */
static inline bool strings_held(const bin_in *in, const coro_ctr_record *r)
{
    uint32_t hi = max32(max32(max32(r->co_name, r->from_name), max32(r->to_name, r->by_name)),
                        max32(max32(r->obj_name, r->obj_kind), max32(r->cause, r->reason)));
    hi = max32(hi, max32(r->detail, r->file));
    return in->whole && hi <= in->nstr;
}

/* The slow way: each id checked alone, to say which string is missing. */
static int strings_checked(const bin_in *in, const uint32_t *id, int n, uint64_t seq)
{
    const char *s;
    for (int k = 0; k < n; k++)
        if (str_of(in, id[k], &s, seq)) return VZ_BADINPUT;
    return 0;
}

static void add_gap(vz_trace *t, uint64_t after, uint64_t count, size_t index)
{
    vz_gap *g = realloc(t->gaps, (t->ngaps + 1) * sizeof *g);
    if (!g) abort();
    t->gaps = g;
    t->gaps[t->ngaps++] = (vz_gap){after, count, index};
}

static inline uint64_t ns_of(const bin_in *in, uint64_t ts)
{
    if (!in->tsc) return ts;
    return ts > in->tsc_a ? in->ns_a + (uint64_t)((double)(ts - in->tsc_a) * in->rate) : 0;
}

/* One record into one event: every field written once, in the event's
 * order (no clearing of the 216-byte event first), each string straight
 * from the table once the ids are known to be good. */
static inline int convert(const bin_in *in, const coro_ctr_record *r, uint64_t seq,
                          coro_trace_ev *ev)
{
    if (r->kind >= CORO_EV__COUNT) {
        fprintf(stderr, "%s: event %llu has an unknown kind %u\n", in->path,
                (unsigned long long)seq, r->kind);
        return VZ_BADINPUT;
    }
    if (!strings_held(in, r) &&
        strings_checked(in,
                        (const uint32_t *)((const char *)r + offsetof(coro_ctr_record, co_name)),
                        NSTRF, seq))
        return VZ_BADINPUT;
    const char **str = in->str;
    bool addr = r->has & CORO_EVH_ADDR;
    ev->seq = seq;
    ev->ts = ns_of(in, r->ts);
    ev->thread = r->thread;
    ev->kind = (coro_ev_kind)r->kind;
    ev->has = r->has;
    ev->co.id = r->co;
    /* as the JSON form always has co_name */
    ev->co.name = r->co_name ? str[r->co_name] : in->empty;
    ev->from = (coro_trace_ref){r->from, str[r->from_name]};
    ev->to = (coro_trace_ref){r->to, str[r->to_name]};
    ev->by = (coro_trace_ref){r->by, str[r->by_name]};
    ev->obj = (coro_trace_ref){r->obj, str[r->obj_name]};
    ev->obj_kind = str[r->obj_kind];
    ev->cause = str[r->cause];
    ev->reason = str[r->reason];
    ev->detail = str[r->detail];
    ev->fd = r->fd;
    ev->events = r->events;
    ev->timeout_ms = addr ? 0 : (int64_t)r->aux;
    ev->nready = r->nready;
    ev->wait = r->wait;
    ev->value = r->value;
    ev->depth = r->depth;
    ev->addr = addr ? r->aux : 0;
    ev->file = str[r->file];
    ev->line = r->line;
    return 0;
}

/* The fields no short record has: no object, detail or optional number
 * but the depth. */
static inline void no_extras(coro_trace_ev *ev)
{
    ev->obj = (coro_trace_ref){0, NULL};
    ev->obj_kind = NULL;
    ev->detail = NULL;
    ev->fd = 0;
    ev->events = 0;
    ev->timeout_ms = 0;
    ev->nready = 0;
    ev->wait = 0;
    ev->value = 0;
    ev->addr = 0;
}

/* A short record: a resume (co is `to`, `other` is `from`) or a suspend
 * (`other` is `to`), as the full record of the same event would read. */
static inline int convert_short(const bin_in *in, const coro_ctr_short *r, uint64_t seq,
                                uint32_t thread, coro_trace_ev *ev)
{
    bool resume = r->kind == CORO_EV_RESUME;
    if (!resume && r->kind != CORO_EV_SUSPEND) {
        fprintf(stderr, "%s: event %llu is a short record of kind %u, not a resume or a suspend\n",
                in->path, (unsigned long long)seq, r->kind);
        return VZ_BADINPUT;
    }
    uint32_t hi = max32(max32(r->why, r->file), r->then);
    const char *then;
    if (!(in->whole && hi <= in->nstr) &&
        (strings_checked(in, (const uint32_t *)((const char *)r + offsetof(coro_ctr_short, why)), 2,
                         seq) ||
         str_of(in, r->then, &then, seq)))
        return VZ_BADINPUT;
    const char **str = in->str;
    bool co_found = true, other_found = true;
    const char *co_name = vz_bin_name(in->names, r->co, r->ts, &co_found);
    const char *other_name =
        r->other ? vz_bin_name(in->names, r->other, r->ts, &other_found) : NULL;
    if (__builtin_expect(!co_found || !other_found, 0)) {
        fprintf(stderr,
                "%s: event %llu names coroutine %llu by id alone, and the file binds no "
                "name to that id\n",
                in->path, (unsigned long long)seq,
                (unsigned long long)(co_found ? r->other : r->co));
        return VZ_BADINPUT;
    }
    coro_trace_ref other = {r->other, other_name};
    ev->seq = seq;
    ev->ts = ns_of(in, r->ts);
    ev->thread = thread;
    ev->kind = (coro_ev_kind)r->kind;
    ev->has = CORO_EVH_DEPTH;
    ev->co.id = r->co;
    ev->co.name = co_name ? co_name : in->empty;
    ev->from = resume ? other : (coro_trace_ref){0, NULL};
    ev->to = resume ? (coro_trace_ref){r->co, co_name} : other;
    ev->by = (coro_trace_ref){r->by, resume && r->by && r->by == r->other ? other.name : NULL};
    ev->cause = resume ? str[r->why] : NULL;
    ev->reason = resume ? NULL : str[r->why];
    no_extras(ev);
    ev->depth = r->depth;
    ev->file = str[r->file];
    ev->line = r->line;
    return 0;
}

/* The resume a suspend with `then` stands for, after it: the suspend's
 * event ev + 1 has been filled from ev. */
static inline void convert_then(const bin_in *in, const coro_ctr_short *r, coro_trace_ev *ev)
{
    coro_trace_ev *s = ev - 1;
    ev->seq = s->seq + 1;
    ev->ts = s->ts;
    ev->thread = s->thread;
    ev->kind = CORO_EV_RESUME;
    ev->has = CORO_EVH_DEPTH;
    ev->co.id = s->to.id;
    ev->co.name = s->to.name ? s->to.name : in->empty;
    ev->from = (coro_trace_ref){s->co.id, s->co.name != in->empty ? s->co.name : NULL};
    ev->to = s->to;
    ev->by = (coro_trace_ref){0, NULL};
    ev->cause = in->str[r->then];
    ev->reason = NULL;
    no_extras(ev);
    ev->depth = r->then_depth;
    ev->file = NULL;
    ev->line = 0;
}

static int alloc_events(const bin_in *in, vz_trace *t, size_t n)
{
    t->cap = n ? n : 1;
    t->ev = malloc(t->cap * sizeof *t->ev);
    t->lineno = malloc(t->cap * sizeof *t->lineno);
    if (!t->ev || !t->lineno) return vz_bin_bad(in, "out of memory for the events", 0);
    vz_huge_pages(t->ev, t->cap * sizeof *t->ev);
    vz_huge_pages(t->lineno, t->cap * sizeof *t->lineno);
    return 0;
}

enum { UNORDERED = -1 };

/* The address n elements after p, as a number: it may lie past the end of
 * the array, which only a prefetch (that never faults) may be given. */
#define AHEAD(p, n) ((const void *)((uintptr_t)(p) + (n) * sizeof *(p)))

/* The record after the one numbered *last: its event, its line, the gap
 * before it. UNORDERED when it does not come after *last, unless the
 * records are known to be sorted (a record numbered 0 then makes a gap, as
 * it always did). */
static inline int emit(const bin_in *in, const coro_ctr_record *r, vz_trace *t, uint64_t *last,
                       bool sorted)
{
    if (r->seq != *last + 1) {
        if (!sorted && r->seq <= *last) return UNORDERED;
        add_gap(t, *last, r->seq - *last - 1, t->n);
    }
    size_t i = t->n;
    /* The hardware prefetcher stops at each 4 KiB page, and both arrays
     * cross one every 19-26 records: ask for the lines 8 records ahead. */
    __builtin_prefetch(AHEAD(r, 8));
    __builtin_prefetch(AHEAD(&t->ev[i], 8), 1);
    if (r->slots != CORO_CTR_FULL)
        return vz_bin_bad(in, "a numbered trace holds a record that is not full",
                          (unsigned long long)((const char *)r - in->base));
    if (convert(in, r, r->seq, &t->ev[i])) return VZ_BADINPUT;
    t->lineno[i] = (uint32_t)(i + 1);
    t->n = i + 1;
    *last = r->seq;
    return 0;
}

/* A file whose chunks were not runs in order: the events again, from the
 * records sorted one by one. */
static int read_sorted(const bin_in *in, vz_trace *t, uint64_t *last)
{
    t->n = 0;
    t->ngaps = 0;
    *last = 0;
    const coro_ctr_record **v = NULL;
    size_t n = 0;
    int rc = vz_bin_sorted(in, &v, &n);
    for (size_t i = 0; !rc && i < n; i++) rc = emit(in, v[i], t, last, true);
    free(v);
    return rc;
}

/* A file ordered by time: the spans' records into events numbered 1, 2,
 * ..., each thread's missing numbers a gap before its next record. */
static int read_by_time(const bin_in *in, vz_trace *t)
{
    bin_tspan *sp = NULL;
    size_t nsp = 0, events = 0;
    int rc = vz_bin_time_spans(in, &sp, &nsp, &events);
    if (!rc) rc = alloc_events(in, t, events + 1);
    uint64_t seq = 0;
    /* in locals: the events' stores could alias t's fields */
    coro_trace_ev *ev = t->ev;
    uint32_t *lineno = t->lineno;
    size_t n = 0, cap = t->cap;
    for (size_t k = 0; !rc && k < nsp; k++) {
        if (sp[k].missing) {
            add_gap(t, seq, sp[k].missing, n);
            seq += sp[k].missing;
        }
        uint32_t thread = sp[k].thread;
        for (const unsigned char *at = sp[k].at; !rc && at < sp[k].end;) {
            if (__builtin_expect(n + 2 > cap, 0)) { /* (+2: a short record may be two) */
                rc = vz_bin_bad(in, "an event chunk holds more events than it says",
                                (unsigned long long)((const char *)at - in->base));
                break;
            }
            __builtin_prefetch(at + 8 * CORO_CTR_SLOT);
            __builtin_prefetch(AHEAD(&ev[n], 8), 1);
            unsigned size = at[offsetof(coro_ctr_short, slots)]; /* checked by bin_order.c */
            const coro_ctr_short *r = (const coro_ctr_short *)at;
            rc = size == CORO_CTR_SHORT ? convert_short(in, r, ++seq, thread, &ev[n])
                                        : convert(in, (const coro_ctr_record *)at, ++seq, &ev[n]);
            lineno[n] = (uint32_t)(n + 1);
            n++;
            if (!rc && size == CORO_CTR_SHORT && r->then) {
                convert_then(in, r, &ev[n]);
                lineno[n] = (uint32_t)(n + 1);
                n++;
                seq++;
            }
            at += size * CORO_CTR_SLOT;
        }
    }
    t->n = n;
    free(sp);
    if (!rc && t->end_events > seq) add_gap(t, seq, t->end_events - seq, t->n);
    /* the end's count may miss a chunk a thread was giving back (bin.c) */
    if (!rc && t->ended && t->end_events < seq) t->end_events = seq;
    return rc;
}

/* The records, in seq order, into t's events; the missing numbers into gaps. */
static int read_events(const bin_in *in, vz_trace *t)
{
    if (in->h->order == CORO_CTR_ORDER_TIME) return read_by_time(in, t);
    bin_span *sp = NULL;
    size_t nsp = 0, n = 0;
    int rc = vz_bin_runs(in, &sp, &nsp, &n);
    if (!rc) rc = alloc_events(in, t, n);
    uint64_t last = 0;
    for (size_t k = 0; !rc && k < nsp; k++)
        for (size_t j = 0; !rc && j < sp[k].n; j++) rc = emit(in, &sp[k].r[j], t, &last, false);
    free(sp);
    if (rc == UNORDERED) rc = read_sorted(in, t, &last);
    if (!rc && t->ended && t->end_events > last) add_gap(t, last, t->end_events - last, t->n);
    return rc;
}

/* The whole file, mapped, and *fd open on it: NULL after saying why not. */
static void *map_file(const char *path, size_t *size, int *fd_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "coroscope: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) || st.st_size < (off_t)CORO_CTR_HEADER) {
        close(fd);
        fprintf(stderr, "%s: too short for a binary trace\n", path);
        return NULL;
    }
    /* MAP_POPULATE: one call maps every page, rather than a fault per few. */
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (m == MAP_FAILED) {
        int e = errno;
        close(fd);
        fprintf(stderr, "coroscope: cannot map %s: %s\n", path, strerror(e));
        return NULL;
    }
    *fd_out = fd;
    *size = (size_t)st.st_size;
    return m;
}

int vz_read_bin(const char *path, vz_trace *t, bool progress)
{
    (void)progress; /* reading is fast enough not to need a progress line */
    memset(t, 0, sizeof *t);
    t->path = path;
    size_t size = 0;
    int fd = -1;
    void *m = map_file(path, &size, &fd);
    if (!m) return VZ_BADINPUT;
    bin_in in = {.path = path, .base = m, .size = size, .h = m, .empty = vz_intern("")};
    int rc = read_header(&in, t);
    /* No end record: does a process still record into it? It holds the
     * recorder's lock (tracer/src/bin_file.c), which the kernel lets go of
     * when that process ends, however it ends. (Tested only here: a
     * recorder starting while this holds the lock would find it busy.) */
    if (!rc && !t->ended && flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
        t->recording = in.h->pid > 0 ? in.h->pid : -1;
    close(fd); /* (and the lock, if this took it) */
    if (!rc) rc = read_strings(&in);
    if (!rc) rc = vz_bin_read_names(&in);
    if (!rc) rc = read_events(&in, t);
    vz_bin_free_names(&in);
    free(in.str);
    munmap(m, size);
    if (rc) vz_free(t);
    return rc;
}
