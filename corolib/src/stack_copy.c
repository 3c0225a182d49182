/*
 * stack_copy.c - the copy stack mode, and the slow half of a switch for
 * the modes that need one (stack_switch.h).
 *
 * All copy-mode coroutines of a thread run on one shared stack (256 KiB,
 * guarded). The one whose frames are on it is the *occupant*. Switching to
 * a copy-mode coroutine that is not the occupant goes through the thread's
 * *copier*, a small context on its own stack (copying onto the shared stack
 * cannot be done while running on it): the copier saves the occupant's
 * bytes in use, [its stack pointer, top), to a heap buffer of exactly that
 * size, copies the new coroutine's saved bytes back to the same addresses
 * and switches to it. Switching to the occupant, or away from a copy-mode
 * coroutine to any other, copies nothing (libco's share-stack does the
 * same), so main <-> one coroutine round trips cost no copy at all.
 *
 * A suspended coroutine then costs its record and the bytes it used. The
 * price: a pointer into its stack does not survive its suspension, and it
 * cannot move to another thread. The runtime's own waits keep their record
 * on the waiter's stack, and others (the timer heap, a socket, a mutex's
 * queue) point at it: each save and restore of a waiting coroutine tells
 * wait.c where its record went (coro__wait_moved), which re-points those
 * links, so a waiting coroutine costs nothing more than a yielded one. Only
 * the assembly switch backends support the mode (the ucontext one keeps
 * stack addresses in its saved context).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "coro_int.h"
#include "stack_switch.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND 1
#endif
#endif
#if defined(CORO_ASAN)
#include <sanitizer/asan_interface.h>
#define NO_ASAN __attribute__((no_sanitize("address")))
#else
#define NO_ASAN
#endif

#define SHARED_STACK ((size_t)256 * 1024)
#define COPIER_STACK ((size_t)64 * 1024)

/* A copy-mode coroutine's saved stack. It sits just above its record, in
 * the slack of the record's 64-byte-aligned slot. */
typedef struct coro__copy {
    char *buf;
    uint32_t len, cap;
} coro__copy;

/* Records come from a per-thread pool of 64-byte-aligned slots carved from
 * 256 KiB chunks: a malloc per record would cost its header and the
 * alignment on top, about 50 bytes of a suspended coroutine's ~1.4 KiB. */
#define RECORD_CHUNK ((size_t)256 * 1024)
typedef struct free_rec {
    struct free_rec *next;
} free_rec;
static _Thread_local struct {
    free_rec *free;
    char *bump, *end;
} recs;

#if !defined(CORO_SWITCH_UCONTEXT)
static size_t slot_size(size_t record)
{
    return (record + sizeof(coro__copy) + 63) & ~(size_t)63;
}

static void *rec_alloc(size_t slot)
{
    if (recs.free) {
        free_rec *r = recs.free;
        recs.free = r->next;
        return r;
    }
    if (recs.bump + slot > recs.end) {
        char *c =
            mmap(NULL, RECORD_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (c == MAP_FAILED) return NULL;
        recs.bump = c;
        recs.end = c + RECORD_CHUNK;
    }
    void *p = recs.bump;
    recs.bump += slot;
    return p;
}

#endif

static void rec_free(void *p)
{
    free_rec *r = p;
    r->next = recs.free;
    recs.free = r;
}

static _Thread_local struct shared {
    void *map;
    size_t map_size;
    char *lo, *top; /* usable shared stack; top as coro__ctx_init aligns it */
    coro_t *occupant;
    coro__ctx copier;
    void *copier_stack;
    coro_t *to;
    size_t live; /* copy-mode coroutines made on this thread and not freed */
    unsigned vg_shared, vg_copier;
} sh;

/* The record is at the start of its slot (map), the saved stack's header
 * after it (map_size is the record's size). */
static coro__copy *hdr(const coro__stack *s)
{
    return (coro__copy *)((char *)s->map + ((s->map_size + 7) & ~(size_t)7));
}

#if !defined(CORO_SWITCH_UCONTEXT)
static coro__copy *copy_of(const coro_t *co)
{
    return hdr(&co->stack);
}

static __attribute__((noreturn, cold)) void die(const coro_t *co, const char *why)
{
    fprintf(stderr, "coroscope: coroutine '%s' (id %llu, copy stack): %s\n", co->named.name,
            (unsigned long long)co->named.id, why);
    abort();
}

static NO_ASAN void save(coro_t *co)
{
    coro__copy *c = copy_of(co);
    char *sp = co->ctx.sp;
    size_t len = (size_t)(sh.top - sp);
    if (sp < sh.lo || sp > sh.top) die(co, "its saved stack pointer is outside the shared stack");
    /* A wait record on the shared stack is in the frames kept, [sp, top),
     * or its links would point at bytes the next occupant overwrites. */
    CORO__ASSERT(!co->wait || (char *)co->wait >= sp || (char *)co->wait < sh.lo);
    if (len > c->cap || len * 2 < c->cap) {
        char *b = malloc(len ? len : 1);
        if (!b) die(co, "no memory to save its stack while it is suspended");
        free(c->buf);
        c->buf = b;
        c->cap = (uint32_t)len;
    }
#if defined(CORO_ASAN)
    __asan_unpoison_memory_region(sp, len); /* its frames' redzones */
#endif
    memcpy(c->buf, sp, len);
    c->len = (uint32_t)len;
    if (co->wait) coro__wait_moved(co, sp, sh.top, c->buf - sp); /* no call for a yield */
}

static NO_ASAN void restore(coro_t *co)
{
    coro__copy *c = copy_of(co);
#if defined(CORO_ASAN)
    __asan_unpoison_memory_region(sh.lo, (size_t)(sh.top - sh.lo)); /* the last one's poison */
#endif
#ifdef HAVE_VALGRIND
    /* memcheck marked the bytes below the last occupant's stack pointer
     * unaddressable as its frames returned; these are a stack again. */
    VALGRIND_MAKE_MEM_UNDEFINED(sh.top - c->len, c->len);
#endif
    memcpy(sh.top - c->len, c->buf, c->len);
    if (co->wait) coro__wait_moved(co, c->buf, c->buf + c->len, (sh.top - c->len) - c->buf);
}

static NO_ASAN void copier_main(void *arg)
{
    (void)arg;
    for (;;) {
        coro_t *to = sh.to, *occ = sh.occupant;
        if (occ && occ != to && occ->state != CORO_DEAD) save(occ);
        restore(to);
        sh.occupant = to;
        coro__ctx_switch(&sh.copier, &to->ctx);
    }
}

static int shared_init(const char *who)
{
    size_t guard = coro_default_guard_size();
    size_t bytes = guard + SHARED_STACK;
    void *map = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (map == MAP_FAILED || mprotect((char *)map + guard, SHARED_STACK, PROT_READ | PROT_WRITE)) {
        int e = errno;
        if (map != MAP_FAILED) munmap(map, bytes);
        return coro__fail(NULL, 0, e, "cannot create the shared stack for coroutine '%s': %s", who,
                          strerror(e));
    }
    void *cs = mmap(NULL, COPIER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (cs == MAP_FAILED) {
        int e = errno;
        munmap(map, bytes);
        return coro__fail(NULL, 0, e, "cannot create the copier stack for coroutine '%s': %s", who,
                          strerror(e));
    }
    sh.map = map;
    sh.map_size = bytes;
    sh.lo = (char *)map + guard;
    sh.top = (char *)((uintptr_t)(sh.lo + SHARED_STACK) & ~(uintptr_t)15);
    sh.copier_stack = cs;
    coro__ctx_init(&sh.copier, cs, COPIER_STACK, copier_main, NULL);
#ifdef HAVE_VALGRIND
    sh.vg_shared = VALGRIND_STACK_REGISTER(sh.lo, sh.lo + SHARED_STACK);
    sh.vg_copier = VALGRIND_STACK_REGISTER(cs, (char *)cs + COPIER_STACK);
#endif
    return 0;
}
#endif

int coro__copy_alloc(coro__stack *s, size_t record_size, const char *who)
{
#if defined(CORO_SWITCH_UCONTEXT)
    (void)s;
    (void)record_size;
    return coro__fail(NULL, 0, ENOTSUP,
                      "coroutine '%s': the copy stack mode needs an assembly switch backend "
                      "(this build uses ucontext)",
                      who);
#else
    if (!sh.lo && shared_init(who) != 0) return -errno;
    /* coro__create asks for room to align the record to 64 bytes; the slot
     * is aligned already, so map_size is the record itself and coro.c puts
     * it at the slot's start. */
    size_t record = sizeof(struct coro);
    CORO__ASSERT(record_size >= record);
    void *slot = rec_alloc(slot_size(record));
    /* The initial frame (coro__copy_ctx_init) needs at most 176 bytes. */
    char *buf = malloc(192);
    if (!slot || !buf) {
        if (slot) rec_free(slot);
        free(buf);
        return coro__fail(NULL, 0, ENOMEM, "cannot create coroutine '%s': out of memory", who);
    }
    s->map = slot;
    s->map_size = record;
    *hdr(s) = (coro__copy){.buf = buf, .cap = 192};
    s->lo = sh.lo;
    s->size = (size_t)(sh.top - sh.lo);
    s->mode = CORO__COPY;
    sh.live++;
    return 0;
#endif
}

void coro__copy_ctx_init(coro__stack *s, coro__ctx *ctx, coro__entry_fn entry, void *arg)
{
#if defined(CORO_SWITCH_UCONTEXT)
    (void)s, (void)ctx, (void)entry, (void)arg;
#else
    /* Built off to the side and kept as this coroutine's saved bytes: the
     * frame holds no stack address, so it may run at the shared top. */
    _Alignas(16) char tmp[192];
    coro__ctx_init(ctx, tmp, sizeof tmp, entry, arg);
    size_t n = (size_t)(tmp + sizeof tmp - (char *)ctx->sp);
    coro__copy *c = hdr(s);
    memcpy(c->buf, ctx->sp, n);
    c->len = (uint32_t)n;
    ctx->sp = sh.top - n;
#endif
}

void coro__copy_free(coro__stack *s)
{
    coro__copy *c = hdr(s);
    if (sh.occupant && sh.occupant->stack.map == s->map) sh.occupant = NULL;
    free(c->buf);
    rec_free(s->map);
    if (sh.live) sh.live--;
}

void coro__copy_thread_drain(void)
{
#if !defined(CORO_SWITCH_UCONTEXT)
    if (!sh.lo || sh.live) return;
#ifdef HAVE_VALGRIND
    VALGRIND_STACK_DEREGISTER(sh.vg_shared);
    VALGRIND_STACK_DEREGISTER(sh.vg_copier);
#endif
    munmap(sh.map, sh.map_size);
    munmap(sh.copier_stack, COPIER_STACK);
    memset(&sh, 0, sizeof sh);
#endif
}

void coro__stack_switch_slow(coro_t *from, coro_t *to)
{
#if !defined(CORO_SWITCH_UCONTEXT)
    if (to->stack.mode == CORO__COPY && sh.occupant != to) {
        if (to->stack.lo != sh.lo)
            die(to, "it was made on another thread; copy-mode coroutines stay on their thread");
        sh.to = to;
        coro__ctx_switch(&from->ctx, &sh.copier);
        return;
    }
#endif
    coro__ctx_switch(&from->ctx, &to->ctx);
}
