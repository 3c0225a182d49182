/*
 * stack.c - guarded coroutine stacks, the per-thread stack pool, the
 * process-wide stack settings, and the choice of stack mode (stack.h).
 *
 * A fresh stack costs an mmap and an mprotect (two system calls, about
 * 4.5 us here, plus page faults on first touch); a pooled one costs a list
 * pop. So finished coroutines give their mapping back to a small per-thread
 * pool and the next coroutine of the same size takes it.
 *
 * The guard region is mapped PROT_NONE and the rest made writable by
 * mprotect, which splits the mapping in two: every guarded stack costs two
 * of the kernel's memory mappings, of which a process may have
 * vm.max_map_count (65530 by default). When mmap or mprotect fails with
 * ENOMEM for that reason the error says so, and names the stack modes that
 * need no mapping per coroutine, because "out of memory" with 20 GiB free
 * sends people the wrong way.
 *
 * The guard is 64 KiB by default, not one page: code compiled without
 * -fstack-clash-protection moves the stack pointer by a whole frame at once,
 * so a frame with a 20 KiB array can step over a one-page guard into the
 * neighbouring mapping (another coroutine) and corrupt it silently. An
 * untouched PROT_NONE region costs address space only: no memory, no
 * commit charge, no page tables.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

#define MIN_STACK (16u * 1024u)

/* A pooled mapping keeps its stack struct in its own (unused) memory. */
typedef struct pooled {
    struct pooled *next;
    coro__stack st;
} pooled;

static _Thread_local pooled *pool_head;
static _Thread_local size_t pool_len;

/* Process-wide settings: any thread may change them while others create
 * coroutines, so they are atomics (relaxed: each is one independent value). */
static _Atomic size_t pool_limit = 64;
static _Atomic size_t default_stack = 64 * 1024;
static _Atomic size_t default_guard = 64 * 1024;
static _Atomic int default_mode = CORO_STACK_GUARDED;
static _Atomic size_t page_bytes;

/* A second, shared pool behind the per-thread ones, for stacks that one
 * thread frees and another allocates (a producer spawning coroutines that
 * workers finish): without it every such coroutine paid for a fresh mmap.
 * Touched only when a thread's own pool is empty or full. */
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static pooled *shared_head;
static size_t shared_len;
#define SHARED_LIMIT 1024

size_t coro__page_size(void)
{
    size_t ps = atomic_load_explicit(&page_bytes, memory_order_relaxed);
    if (!ps) {
        ps = (size_t)sysconf(_SC_PAGESIZE);
        atomic_store_explicit(&page_bytes, ps, memory_order_relaxed);
    }
    return ps;
}
#define page_size coro__page_size

static size_t round_pages(size_t n)
{
    size_t ps = page_size();
    return (n + ps - 1) & ~(ps - 1);
}

size_t coro__stack_round(size_t usable)
{
    return round_pages(usable < MIN_STACK ? MIN_STACK : usable);
}

void coro_set_stack_pool_limit(size_t stacks)
{
    atomic_store_explicit(&pool_limit, stacks, memory_order_relaxed);
}

int coro_set_default_stack_size(size_t bytes)
{
    if (bytes == 0 || bytes > ((size_t)1 << 36)) return -EINVAL;
    atomic_store_explicit(&default_stack, coro__stack_round(bytes), memory_order_relaxed);
    return 0;
}

size_t coro_default_stack_size(void)
{
    return atomic_load_explicit(&default_stack, memory_order_relaxed);
}

int coro_set_default_guard_size(size_t bytes)
{
    if (bytes == 0 || bytes > ((size_t)1 << 36)) return -EINVAL;
    atomic_store_explicit(&default_guard, round_pages(bytes), memory_order_relaxed);
    return 0;
}

size_t coro_default_guard_size(void)
{
    return atomic_load_explicit(&default_guard, memory_order_relaxed);
}

int coro_set_default_stack_mode(coro_stack_mode mode)
{
    if (mode < CORO_STACK_GUARDED || mode > CORO_STACK_COPY) return -EINVAL;
    atomic_store_explicit(&default_mode, (int)mode, memory_order_relaxed);
    return 0;
}

coro_stack_mode coro_default_stack_mode(void)
{
    return (coro_stack_mode)atomic_load_explicit(&default_mode, memory_order_relaxed);
}

const char *coro_stack_mode_name(coro_stack_mode mode)
{
    switch (mode) {
    case CORO_STACK_DEFAULT:
        return "default";
    case CORO_STACK_GUARDED:
        return "guarded";
    case CORO_STACK_SLAB:
        return "slab";
    case CORO_STACK_COPY:
        return "copy";
    }
    return "?";
}

coro_stack_mode coro_get_stack_mode(const coro_t *h)
{
    const coro_t *co = coro__deref(h); /* a handle (coro_int.h) */
    if (!co) return CORO_STACK_DEFAULT;
    switch (co->stack.mode) {
    case CORO__SLAB:
        return CORO_STACK_SLAB;
    case CORO__COPY:
        return CORO_STACK_COPY;
    }
    return CORO_STACK_GUARDED;
}

size_t coro_stack_in_use(const coro_t *h)
{
    const coro_t *co = coro__deref(h); /* a handle (coro_int.h) */
    if (!co || co->is_main || (co->state != CORO_SUSPENDED && co->state != CORO_READY)) return 0;
    uintptr_t top = ((uintptr_t)co->stack.lo + co->stack.size) & ~(uintptr_t)15;
#if !defined(CORO_SWITCH_UCONTEXT)
    uintptr_t sp = (uintptr_t)co->ctx.sp;
#elif defined(__x86_64__)
    uintptr_t sp = (uintptr_t)co->ctx.uc.uc_mcontext.gregs[REG_RSP];
#else
    uintptr_t sp = top;
#endif
    return sp <= top ? (size_t)(top - sp) : 0;
}

size_t coro__stack_guard(const coro__stack *s)
{
    return s->mode == CORO__GUARDED && s->map ? (size_t)((char *)s->lo - (char *)s->map) : 0;
}

static int count_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    int n = 0, c;
    while ((c = getc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

static long max_map_count(void)
{
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1) v = -1;
        fclose(f);
    }
    return v;
}

static int fail_nomem(const char *what, size_t size, const char *who)
{
    int maps = count_mappings();
    long limit = max_map_count();
    if (limit > 0 && maps >= 0 && maps + 16 >= limit)
        return coro__fail(NULL, 0, ENOMEM,
                          "cannot create a %zu-byte stack for coroutine '%s': %s failed with "
                          "ENOMEM: the process has %d memory mappings and vm.max_map_count is "
                          "%ld (each guarded stack uses two). Remedies: a stack mode without a "
                          "mapping per coroutine (coro_attr.stack_mode = CORO_STACK_SLAB or "
                          "CORO_STACK_COPY, or coro_set_default_stack_mode), a higher limit "
                          "(sysctl -w vm.max_map_count=%ld), or fewer coroutines alive at once",
                          size, who, what, maps, limit, limit * 4);
    return coro__fail(NULL, 0, ENOMEM,
                      "cannot create a %zu-byte stack for coroutine '%s': %s failed with ENOMEM "
                      "(out of memory or address space)",
                      size, who, what);
}

static int guarded_alloc(coro__stack *s, size_t usable, size_t guard, size_t record_size,
                         const char *who)
{
    size_t rec = round_pages(record_size);
    size_t map_size = guard + usable + rec;
    size_t limit = atomic_load_explicit(&pool_limit, memory_order_relaxed);

    for (pooled **pp = &pool_head; limit && *pp; pp = &(*pp)->next) {
        pooled *p = *pp;
        if (p->st.size == usable && p->st.map_size == map_size) {
            *pp = p->next;
            pool_len--;
            *s = p->st;
#if defined(CORO_ASAN)
            /* The last coroutine on this stack never returned through its
             * frames, so AddressSanitizer's shadow still marks them; clear
             * it, or the next coroutine trips over stale poison. */
            __asan_unpoison_memory_region(s->lo, s->size);
#endif
            return 0;
        }
    }

    pthread_mutex_lock(&shared_lock);
    for (pooled **pp = &shared_head; *pp; pp = &(*pp)->next) {
        pooled *p = *pp;
        if (p->st.size == usable && p->st.map_size == map_size) {
            *pp = p->next;
            shared_len--;
            *s = p->st;
            pthread_mutex_unlock(&shared_lock);
#if defined(CORO_ASAN)
            __asan_unpoison_memory_region(s->lo, s->size);
#endif
            return 0;
        }
    }
    pthread_mutex_unlock(&shared_lock);

    /* Reserved PROT_NONE first, so the guard is never charged as memory. */
    void *map = mmap(NULL, map_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (map == MAP_FAILED) {
        int e = errno;
        if (e == ENOMEM) return fail_nomem("mmap", usable, who);
        return coro__fail(NULL, 0, e, "cannot create a stack for coroutine '%s': mmap: %s", who,
                          strerror(e));
    }
    if (mprotect((char *)map + guard, usable + rec, PROT_READ | PROT_WRITE) != 0) {
        int e = errno;
        munmap(map, map_size);
        if (e == ENOMEM) return fail_nomem("mprotect of the stack below its guard", usable, who);
        return coro__fail(NULL, 0, e, "cannot create a stack for coroutine '%s': mprotect: %s", who,
                          strerror(e));
    }
    s->map = map;
    s->map_size = map_size;
    s->lo = (char *)map + guard;
    s->size = usable;
    s->mode = CORO__GUARDED;
#ifdef HAVE_VALGRIND
    s->vg_id = VALGRIND_STACK_REGISTER(s->lo, (char *)s->lo + usable + rec);
#else
    s->vg_id = 0;
#endif
    return 0;
}

int coro__stack_alloc(coro__stack *s, const coro_attr *attr, size_t record_size, const char *who)
{
    coro_stack_mode mode = attr ? attr->stack_mode : CORO_STACK_DEFAULT;
    if (mode == CORO_STACK_DEFAULT) mode = coro_default_stack_mode();
    size_t usable = attr && attr->stack_size ? attr->stack_size : coro_default_stack_size();
    memset(s, 0, sizeof *s);
    switch (mode) {
    case CORO_STACK_SLAB:
        return coro__slab_alloc(s, usable, record_size, who);
    case CORO_STACK_COPY:
        return coro__copy_alloc(s, record_size, who);
    case CORO_STACK_GUARDED:
    case CORO_STACK_DEFAULT:
        break;
    default:
        return coro__fail(NULL, 0, EINVAL, "coroutine '%s': unknown stack mode %d", who, (int)mode);
    }
    size_t guard =
        attr && attr->guard_size ? round_pages(attr->guard_size) : coro_default_guard_size();
    return guarded_alloc(s, coro__stack_round(usable), guard, record_size, who);
}

static void unmap(coro__stack *s)
{
#if defined(CORO_ASAN)
    __asan_unpoison_memory_region(s->lo, s->size); /* the address may be reused */
#endif
#ifdef HAVE_VALGRIND
    VALGRIND_STACK_DEREGISTER(s->vg_id);
#endif
    munmap(s->map, s->map_size);
}

void coro__stack_free(coro__stack *s)
{
    if (s->mode == CORO__SLAB) {
        coro__slab_free(s);
        return;
    }
    if (s->mode == CORO__COPY) {
        coro__copy_free(s);
        return;
    }
    size_t limit = atomic_load_explicit(&pool_limit, memory_order_relaxed);
    if (pool_len < limit) {
        /* The link lives at the bottom of the usable stack: far from the
         * record at the top, which the caller may still be reading. */
        pooled *p = s->lo;
        p->st = *s;
        p->next = pool_head;
        pool_head = p;
        pool_len++;
        return;
    }
    if (limit) {
        pthread_mutex_lock(&shared_lock);
        if (shared_len < SHARED_LIMIT) {
            pooled *p = s->lo;
            p->st = *s;
            p->next = shared_head;
            shared_head = p;
            shared_len++;
            pthread_mutex_unlock(&shared_lock);
            return;
        }
        pthread_mutex_unlock(&shared_lock);
    }
    unmap(s);
}

void coro_stack_pool_drain(void)
{
    while (pool_head) {
        pooled *p = pool_head;
        pool_head = p->next;
        coro__stack st = p->st;
        unmap(&st);
    }
    pool_len = 0;
    coro__slab_thread_drain();
    coro__copy_thread_drain();
}

void coro__stack_ctx_init(coro__stack *s, coro__ctx *ctx, coro__entry_fn entry, void *arg)
{
    if (s->mode == CORO__COPY)
        coro__copy_ctx_init(s, ctx, entry, arg);
    else
        coro__ctx_init(ctx, s->lo, s->size, entry, arg);
}
