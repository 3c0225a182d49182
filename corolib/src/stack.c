/*
 * stack.c - guarded coroutine stacks and the per-thread stack pool.
 *
 * A fresh stack costs an mmap and an mprotect (two system calls, about
 * 4.5 us here, plus page faults on first touch); a pooled one costs a list
 * pop. So finished coroutines give their mapping back to a small per-thread
 * pool and the next coroutine of the same size takes it.
 *
 * The guard page is made PROT_NONE by mprotect, which splits the mapping in
 * two: every guarded stack costs two of the kernel's memory mappings, of
 * which a process may have vm.max_map_count (65530 by default). When mmap
 * or mprotect fails with ENOMEM for that reason the error says so, because
 * "out of memory" with 20 GiB free sends people the wrong way.
 */
#include <errno.h>
#include <pthread.h>
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
static size_t pool_limit = 64;

/* A second, shared pool behind the per-thread ones, for stacks that one
 * thread frees and another allocates (a producer spawning coroutines that
 * workers finish): without it every such coroutine paid for a fresh mmap.
 * Touched only when a thread's own pool is empty or full. */
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static pooled *shared_head;
static size_t shared_len;
#define SHARED_LIMIT 1024

static size_t page_size(void)
{
    static size_t ps;
    if (!ps) ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

size_t coro__stack_round(size_t usable)
{
    size_t ps = page_size();
    if (usable < MIN_STACK) usable = MIN_STACK;
    return (usable + ps - 1) & ~(ps - 1);
}

void coro_set_stack_pool_limit(size_t stacks)
{
    pool_limit = stacks;
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
                          "ENOMEM because the process has %d memory mappings and the kernel "
                          "allows vm.max_map_count=%ld; each guarded stack uses two. Remedies: "
                          "raise the limit (sysctl -w vm.max_map_count=%ld), keep fewer "
                          "coroutines alive at once, or destroy finished ones sooner",
                          size, who, what, maps, limit, limit * 4);
    return coro__fail(NULL, 0, ENOMEM,
                      "cannot create a %zu-byte stack for coroutine '%s': %s failed with ENOMEM "
                      "(out of memory or address space)",
                      size, who, what);
}

int coro__stack_alloc(coro__stack *s, size_t usable, size_t record_size, const char *who)
{
    usable = coro__stack_round(usable);
    size_t ps = page_size();
    size_t rec = (record_size + ps - 1) & ~(ps - 1);
    size_t map_size = ps + usable + rec;

    for (pooled **pp = &pool_head; *pp; pp = &(*pp)->next) {
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

    void *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (map == MAP_FAILED) {
        int e = errno;
        if (e == ENOMEM) return fail_nomem("mmap", usable, who);
        return coro__fail(NULL, 0, e, "cannot create a stack for coroutine '%s': mmap: %s", who,
                          strerror(e));
    }
    if (mprotect(map, ps, PROT_NONE) != 0) {
        int e = errno;
        munmap(map, map_size);
        if (e == ENOMEM) return fail_nomem("mprotect of the guard page", usable, who);
        return coro__fail(NULL, 0, e, "cannot create a stack for coroutine '%s': mprotect: %s", who,
                          strerror(e));
    }
    s->map = map;
    s->map_size = map_size;
    s->lo = (char *)map + ps;
    s->size = usable;
#ifdef HAVE_VALGRIND
    s->vg_id = VALGRIND_STACK_REGISTER(s->lo, (char *)s->lo + usable + rec);
#else
    s->vg_id = 0;
#endif
    return 0;
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
    if (pool_len < pool_limit) {
        /* The link lives at the bottom of the usable stack: far from the
         * record at the top, which the caller may still be reading. */
        pooled *p = s->lo;
        p->st = *s;
        p->next = pool_head;
        pool_head = p;
        pool_len++;
        return;
    }
    if (pool_limit) {
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
}
