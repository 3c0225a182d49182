/*
 * bin_names.c - the names of the coroutines that short records name by id
 * alone (coro_ctr_binding in coro/trace_bin.h).
 *
 * A short record carries no names, so that recording one looks nothing
 * up: a thread checks only that it has bound each party's id in this
 * trace (bin.c). The binding is written once per id and again at each
 * rename, with the ts of the event it was made at, into names chunks,
 * which the flight recorder's ring never reuses: the reader finds the name
 * an id had at a record's ts even when the events that named it were
 * overwritten.
 */
#include <stdlib.h>
#include <string.h>

#include "bin_int.h"

/* The slot of id in b->bound (an empty one if it is not there). */
static size_t slot_of(const coro__bin *b, uint64_t id)
{
    size_t j = (size_t)(id * 0x9E3779B97F4A7C15u >> 20) & (b->bound_cap - 1);
    while (b->bound[j].id && b->bound[j].id != id) j = (j + 1) & (b->bound_cap - 1);
    return j;
}

static bool grow(coro__bin *b)
{
    if (b->bound_len * 2 < b->bound_cap) return true;
    size_t ncap = b->bound_cap ? b->bound_cap * 2 : 1024;
    __typeof__(b->bound) old = b->bound, n = calloc(ncap, sizeof *n);
    if (!n) return false;
    size_t ocap = b->bound_cap;
    b->bound = n;
    b->bound_cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].id) b->bound[slot_of(b, old[i].id)] = old[i];
    free(old);
    return true;
}

bool coro__bin_bind(coro__bin *b, uint64_t id, uint32_t sid, uint64_t ts)
{
    if (!id) return true; /* "none" has no name */
    if (!coro__bin_lock(b)) return false;
    if (!grow(b)) {
        pthread_mutex_unlock(&b->lock);
        return false;
    }
    size_t j = slot_of(b, id);
    if (b->bound[j].id == id && b->bound[j].sid == sid) {
        pthread_mutex_unlock(&b->lock);
        return true;
    }
    bool held;
    coro_ctr_chunk *c =
        coro__bin_room_in(b, &b->names, CORO_CTR_NAMES, sizeof(coro_ctr_binding), &held);
    if (c) {
        coro_ctr_binding e = {.id = id, .ts = ts, .name = sid};
        memcpy((char *)(c + 1) + c->count, &e, sizeof e);
        coro__bin_appended(c, sizeof e);
        /* A binding that comes late (its ts before the latest one's: a
         * thread that read the name before another renamed it) is in the
         * file, but the latest stays the latest. */
        j = slot_of(b, id); /* the table may have grown while unlocked */
        if (b->bound[j].id != id) {
            b->bound[j].id = id;
            b->bound[j].ts = 0;
            b->bound_len++;
        }
        if (ts >= b->bound[j].ts) {
            b->bound[j].ts = ts;
            b->bound[j].sid = sid;
        }
    }
    if (held) pthread_mutex_unlock(&b->lock);
    return c != NULL;
}
