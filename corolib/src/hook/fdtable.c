/*
 * fdtable.c - the hook's per-descriptor state (see fdtable.h).
 *
 * 2^15 page pointers of 2^16 descriptors each cover every int. Pages come
 * from mmap, not malloc: a hooked call may run in a signal handler or in
 * the middle of the allocator's own locking, and untouched parts of a page
 * cost no memory (a program whose descriptors stay below 65536 uses one
 * page, resident only where descriptors were marked).
 */
#include "fdtable.h"

#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#define PAGE_BITS 16
#define PAGE_FDS  (1u << PAGE_BITS)
#define NPAGES    (1u << (31 - PAGE_BITS))

typedef _Atomic unsigned char fdt_byte;

static _Atomic(fdt_byte *) pages[NPAGES];

/* fd's byte, or NULL if its page does not exist (and create is false). */
static fdt_byte *slot(int fd, bool create)
{
    if (fd < 0) return NULL;
    unsigned u = (unsigned)fd;
    _Atomic(fdt_byte *) *pp = &pages[u >> PAGE_BITS];
    fdt_byte *page = atomic_load_explicit(pp, memory_order_acquire);
    if (!page && create) {
        void *m = mmap(NULL, PAGE_FDS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) return NULL;
        page = m;
        fdt_byte *seen = NULL;
        if (!atomic_compare_exchange_strong_explicit(pp, &seen, page, memory_order_acq_rel,
                                                     memory_order_acquire)) {
            munmap(m, PAGE_FDS); /* another thread published its page first: use that one */
            page = seen;
        }
    }
    return page ? &page[u & (PAGE_FDS - 1)] : NULL;
}

unsigned fdt_get(int fd)
{
    fdt_byte *b = slot(fd, false);
    return b ? atomic_load_explicit(b, memory_order_relaxed) : 0;
}

bool fdt_set(int fd, unsigned bits)
{
    fdt_byte *b = slot(fd, true);
    if (!b) return false;
    atomic_fetch_or_explicit(b, (unsigned char)bits, memory_order_relaxed);
    return true;
}

void fdt_clear(int fd, unsigned bits)
{
    fdt_byte *b = slot(fd, false);
    if (b) atomic_fetch_and_explicit(b, (unsigned char)~bits, memory_order_relaxed);
}

void fdt_forget(int fd)
{
    fdt_byte *b = slot(fd, false);
    if (b) atomic_store_explicit(b, 0, memory_order_relaxed);
}
