/*
 * stack_slab.c - the slab stack mode: unguarded stacks carved from large
 * mappings, so a million coroutines need about a thousand mappings rather
 * than two million.
 *
 * A slot is [canary | stack, growing down | record], slots of one size
 * side by side in a slab of a few MiB. Nothing stops an overflow at the
 * slot's edge, so the stack's lowest 16 bytes hold a canary, checked every
 * time the coroutine switches away (stack_switch.h) together with its stack
 * pointer: a coroutine that ran off the bottom of its stack is named at its
 * next switch, before the neighbour below it runs on corrupted memory. It
 * cannot catch a frame that jumps over the canary and writes only below
 * it; -fstack-clash-protection does not help there either (its probes only
 * read-or-write zero), which is why the guarded mode stays the default.
 *
 * Free slots go to a per-thread list of their size; a thread that ends
 * gives its lists to a shared one (the untouched rest of the slab it was
 * carving is left: address space, not memory). Slabs are never unmapped:
 * their memory is reused, not returned.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "coro_int.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND 1
#endif
#endif
#if defined(CORO_ASAN)
#include <sanitizer/asan_interface.h>
#endif

#define SLAB_BYTES     ((size_t)4 << 20)
#define MIN_SLAB_STACK ((size_t)4096)
#define MAX_CLASSES    16

typedef struct free_slot {
    struct free_slot *next;
} free_slot;

typedef struct size_class {
    size_t slot;     /* bytes per slot; 0 = unused class */
    free_slot *free; /* free slots (the link is at the slot's start) */
    char *bump, *end;
} size_class;

static _Thread_local size_class mine[MAX_CLASSES];
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static size_class shared[MAX_CLASSES];

static size_class *find(size_class *t, size_t slot)
{
    for (int i = 0; i < MAX_CLASSES; i++)
        if (t[i].slot == slot || !t[i].slot) {
            t[i].slot = slot;
            return &t[i];
        }
    return NULL;
}

static void *take(size_class *c, size_t slot, const char *who, int *err)
{
    if (c->free) {
        free_slot *f = c->free;
        c->free = f->next;
        return f;
    }
    pthread_mutex_lock(&shared_lock);
    size_class *g = find(shared, slot);
    if (g && g->free) {
        free_slot *f = g->free;
        g->free = f->next;
        pthread_mutex_unlock(&shared_lock);
        return f;
    }
    pthread_mutex_unlock(&shared_lock);
    if (c->bump + slot > c->end) {
        size_t bytes = slot * 16 > SLAB_BYTES ? slot * 16 : SLAB_BYTES;
        bytes = (bytes + coro__page_size() - 1) & ~(coro__page_size() - 1);
        void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (map == MAP_FAILED) {
            *err = errno;
            coro__fail(NULL, 0, *err,
                       "cannot create a slab stack for coroutine '%s': mmap of a %zu-byte slab: "
                       "%s",
                       who, bytes, strerror(*err));
            return NULL;
        }
        c->bump = map;
        c->end = (char *)map + bytes;
    }
    void *p = c->bump;
    c->bump += slot;
    return p;
}

int coro__slab_alloc(coro__stack *s, size_t usable, size_t record_size, const char *who)
{
    if (usable < MIN_SLAB_STACK) usable = MIN_SLAB_STACK;
    usable = (usable + 63) & ~(size_t)63;
    size_t rec = (record_size + 63) & ~(size_t)63;
    size_t slot = usable + rec;
    size_class *c = find(mine, slot);
    if (!c)
        return coro__fail(NULL, 0, EINVAL,
                          "cannot create a slab stack for coroutine '%s': more than %d different "
                          "slab stack sizes in one thread",
                          who, MAX_CLASSES);
    int err = 0;
    void *p = take(c, slot, who, &err);
    if (!p) return -err;
    s->map = p;
    s->map_size = slot;
    s->lo = p;
    s->size = usable;
    s->mode = CORO__SLAB;
#if defined(CORO_ASAN)
    __asan_unpoison_memory_region(p, slot);
#endif
    uint64_t *w = p;
    for (unsigned i = 0; i < CORO__CANARY_WORDS; i++) w[i] = coro__canary(p, i);
#ifdef HAVE_VALGRIND
    s->vg_id = VALGRIND_STACK_REGISTER(s->lo, (char *)p + slot);
#endif
    return 0;
}

void coro__slab_overrun(const coro_t *co)
{
    const uint64_t *w = co->stack.lo;
    for (unsigned i = 0; i < CORO__CANARY_WORDS; i++)
        if (w[i] != coro__canary(w, i)) coro__die_overrun(co, CORO__OVERRUN_CANARY, 0);
    coro__die_overrun(co, CORO__OVERRUN_SP, (uintptr_t)__builtin_frame_address(0));
}

void coro__slab_free(coro__stack *s)
{
#ifdef HAVE_VALGRIND
    VALGRIND_STACK_DEREGISTER(s->vg_id);
#endif
#if defined(CORO_ASAN)
    __asan_unpoison_memory_region(s->map, s->map_size);
#endif
    size_class *c = find(mine, s->map_size);
    free_slot *f = s->map;
    if (!c) { /* cannot happen: the class was made when the slot was taken */
        pthread_mutex_lock(&shared_lock);
        c = find(shared, s->map_size);
        if (c) {
            f->next = c->free;
            c->free = f;
        }
        pthread_mutex_unlock(&shared_lock);
        return;
    }
    f->next = c->free;
    c->free = f;
}

void coro__slab_thread_drain(void)
{
    pthread_mutex_lock(&shared_lock);
    for (int i = 0; i < MAX_CLASSES && mine[i].slot; i++) {
        size_class *c = &mine[i];
        size_class *g = find(shared, c->slot);
        if (!g) break;
        while (c->free) {
            free_slot *f = c->free;
            c->free = f->next;
            f->next = g->free;
            g->free = f;
        }
    }
    pthread_mutex_unlock(&shared_lock);
}
