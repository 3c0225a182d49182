/*
 * bin_names.c - the names of the coroutines that a binary trace's short
 * records name by id alone: the bindings of its names chunks
 * (coro_ctr_binding), each id's in the order of their ts.
 */
#include <stdlib.h>
#include <string.h>

#include "reader_bin.h"
#include "viz.h"

static size_t slot_of(const bin_names *nm, uint64_t id)
{
    size_t j = (size_t)(id * 0x9E3779B97F4A7C15u >> 20) & (nm->idx_cap - 1);
    while (nm->idx[j].id && nm->idx[j].id != id) j = (j + 1) & (nm->idx_cap - 1);
    return j;
}

static int by_id_ts(const void *pa, const void *pb)
{
    const bin_binding *a = pa, *b = pb;
    if (a->id != b->id) return a->id < b->id ? -1 : 1;
    return a->ts < b->ts ? -1 : a->ts > b->ts;
}

/* The bindings of one names chunk, appended to nm->b. */
static int read_chunk(bin_in *in, const coro_ctr_chunk *c, size_t *cap)
{
    bin_names *nm = in->names;
    size_t used = c->count, room = CORO_CTR_CHUNK - sizeof *c;
    if (used > room || used % sizeof(coro_ctr_binding))
        return vz_bin_bad(in, "a names chunk says it holds more than it can",
                          (unsigned long long)((const char *)c - in->base));
    const char *p = (const char *)(c + 1);
    for (size_t k = 0; k < used / sizeof(coro_ctr_binding); k++) {
        coro_ctr_binding e;
        memcpy(&e, p + k * sizeof e, sizeof e);
        unsigned long long at = (unsigned long long)(p + k * sizeof e - in->base);
        if (!e.id || e.name > in->nstr || (e.name && !in->str[e.name]))
            return vz_bin_bad(in, "a damaged name binding", at);
        if (nm->n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            bin_binding *b = realloc(nm->b, *cap * sizeof *b);
            if (!b) return vz_bin_bad(in, "out of memory for the names", 0);
            nm->b = b;
        }
        nm->b[nm->n++] = (bin_binding){e.id, e.ts, e.name ? in->str[e.name] : NULL};
    }
    return 0;
}

int vz_bin_read_names(bin_in *in)
{
    bin_names *nm = in->names = calloc(1, sizeof *in->names);
    if (!nm) return vz_bin_bad(in, "out of memory for the names", 0);
    size_t cap = 0;
    for (uint64_t i = 0; i < in->nchunks; i++) {
        const coro_ctr_chunk *c = vz_bin_chunk(in, i);
        if (c->type != CORO_CTR_NAMES) continue;
        int rc = read_chunk(in, c, &cap);
        if (rc) return rc;
    }
    if (nm->n) qsort(nm->b, nm->n, sizeof *nm->b, by_id_ts); /* (qsort may not be given NULL) */
    nm->idx_cap = 16;
    while (nm->idx_cap < 2 * nm->n) nm->idx_cap *= 2;
    nm->idx = calloc(nm->idx_cap, sizeof *nm->idx);
    if (!nm->idx) return vz_bin_bad(in, "out of memory for the names", 0);
    for (size_t i = 0; i < nm->n;) {
        size_t j = i;
        while (j < nm->n && nm->b[j].id == nm->b[i].id) j++;
        size_t s = slot_of(nm, nm->b[i].id);
        nm->idx[s].id = nm->b[i].id;
        nm->idx[s].first = i;
        nm->idx[s].n = j - i;
        i = j;
    }
    return 0;
}

void vz_bin_free_names(bin_in *in)
{
    if (!in->names) return;
    free(in->names->b);
    free(in->names->idx);
    free(in->names);
    in->names = NULL;
}

const char *vz_bin_name_slow(bin_names *nm, uint64_t id, uint64_t ts, bool *found)
{
    size_t s = slot_of(nm, id);
    if (nm->idx[s].id != id) {
        *found = false;
        return NULL;
    }
    const bin_binding *b = nm->b + nm->idx[s].first;
    size_t n = nm->idx[s].n;
    /* the last binding whose ts is not after ts, or else the first */
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (b[mid].ts <= ts)
            lo = mid;
        else
            hi = mid;
    }
    __typeof__(nm->cache[0]) *c = &nm->cache[id & 1023];
    c->id = id;
    c->from = lo ? b[lo].ts : 0;
    c->to = lo + 1 < n ? b[lo + 1].ts : UINT64_MAX;
    c->name = b[lo].name;
    return b[lo].name;
}
