/*
 * bin_strings.c - the binary recorder's strings: each distinct string is
 * stored once per trace, in string chunks, and records refer to it by id.
 *
 * A thread finds a string's id in its own caches (the lookups are inline,
 * in bin_int.h):
 *  - cause, reason, obj_kind and file are string literals (the runtime's
 *    contract, trace.h): cached by address;
 *  - names are cached by (object id, address), emptied at any rename (a
 *    process-wide rename epoch), since a rename rewrites the name in place;
 *  - details are hashed by content.
 * A miss interns the string once for the whole trace (under the recorder's
 * mutex) and appends it to the string chunk being filled.
 */
#include <stdlib.h>
#include <string.h>

#include "bin_int.h"

_Atomic uint64_t coro__bin_rename_epoch = 1;

static uint64_t fnv(const char *s, size_t *len)
{
    uint64_t h = 1469598103934665603u;
    const char *p = s;
    while (*p) h = (h ^ (unsigned char)*p++) * 1099511628211u;
    *len = (size_t)(p - s);
    return h | 1; /* never 0: 0 marks an empty slot */
}

/* With b->lock held: append s to the string chunks. *held says whether
 * the lock is still held on return (it is let go to take a new chunk). */
static bool store_string(coro__bin *b, uint32_t sid, const char *s, size_t len, bool *held)
{
    size_t max = CORO_CTR_CHUNK - sizeof(coro_ctr_chunk) - sizeof(coro_ctr_string) - 8;
    if (len > max) len = max;
    size_t need = (sizeof(coro_ctr_string) + len + 1 + 7) & ~(size_t)7;
    coro_ctr_chunk *c = coro__bin_room_in(b, &b->strings, CORO_CTR_STRINGS, need, held);
    if (!c) return false;
    char *at = (char *)(c + 1) + c->count;
    coro_ctr_string e = {sid, (uint32_t)len};
    memcpy(at, &e, sizeof e);
    memcpy(at + sizeof e, s, len);
    at[sizeof e + len] = 0;
    coro__bin_appended(c, need);
    return true;
}

/* The process-wide id of s's content (0 if it cannot be recorded). */
static uint32_t intern(coro__bin *b, const char *s, uint64_t hash, size_t len, const char **copy)
{
    if (!coro__bin_lock(b)) return 0;
    if (b->tab_len * 2 >= b->tab_cap) {
        size_t ncap = b->tab_cap ? b->tab_cap * 2 : 1024;
        __typeof__(b->tab) n = calloc(ncap, sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&b->lock);
            return 0;
        }
        for (size_t i = 0; i < b->tab_cap; i++)
            if (b->tab[i].hash) {
                size_t j = b->tab[i].hash & (ncap - 1);
                while (n[j].hash) j = (j + 1) & (ncap - 1);
                n[j] = b->tab[i];
            }
        free(b->tab);
        b->tab = n;
        b->tab_cap = ncap;
    }
    size_t j = hash & (b->tab_cap - 1);
    while (b->tab[j].hash) {
        if (b->tab[j].hash == hash && !strcmp(b->tab[j].s, s)) {
            uint32_t sid = b->tab[j].sid;
            *copy = b->tab[j].s;
            pthread_mutex_unlock(&b->lock);
            return sid;
        }
        j = (j + 1) & (b->tab_cap - 1);
    }
    char *c = malloc(len + 1);
    uint32_t sid = 0;
    if (c) {
        memcpy(c, s, len + 1);
        sid = (uint32_t)atomic_fetch_add(A(&b->h->strings), 1) + 1;
        bool held = true;
        if (store_string(b, sid, c, len, &held)) {
            /* the table may have been grown while store_string let go of
             * the lock: find the slot again */
            j = hash & (b->tab_cap - 1);
            while (b->tab[j].hash) j = (j + 1) & (b->tab_cap - 1);
            b->tab[j].hash = hash;
            b->tab[j].s = c;
            b->tab[j].sid = sid;
            b->tab_len++;
            *copy = c;
        } else {
            free(c);
            sid = 0;
            if (!held) return 0;
        }
    }
    pthread_mutex_unlock(&b->lock);
    return sid;
}

uint32_t coro__bin_by_content(bin_thread *t, const char *s)
{
    size_t len;
    uint64_t h = fnv(s, &len);
    hash_slot *e = &t->details[h & (BIN_CACHE - 1)];
    if (e->hash == h && !strcmp(e->copy, s)) return e->sid;
    const char *copy = NULL;
    uint32_t sid = intern(t->b, s, h, len, &copy);
    if (sid) *e = (hash_slot){h, copy, sid};
    return sid;
}

uint32_t coro__bin_name_missed(bin_thread *t, name_slot *e, uint64_t id, const char *s)
{
    bool same = e->id == id;
    uint32_t sid = coro__bin_by_content(t, s);
    if (!sid) return 0;
    if (same && sid == e->sid)
        e->ptr2 = s;
    else
        *e = (name_slot){id, s, NULL, sid};
    return sid;
}

/* A detail not in the thread's cache: formatted, and its id found. */
uint32_t coro__bin_op_missed(bin_thread *t, op_slot *e, const coro_trace_ev *ev, int fd,
                             uint32_t obj)
{
    char buf[160];
    coro_trace_describe(buf, sizeof buf, ev->op, fd, ev->obj.name);
    uint32_t sid = coro__bin_by_content(t, buf);
    if (sid) *e = (op_slot){ev->op, fd, obj, sid};
    return sid;
}
