/*
 * huge_pages.c - big arrays filled once from start to end (a binary trace's
 * events and their line numbers) ask the kernel for 2 MiB pages.
 *
 * Reading a trace of 2 million events writes 432 MB of events into memory
 * nobody touched yet; with 4 KiB pages that is 105,000 page faults, most of
 * the kernel's time, which was half of the reading (docs/performance.md,
 * "The recorder"). One fault per 2 MiB removes nearly all of them.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "viz.h"

void vz_huge_pages(void *p, size_t size)
{
    const uintptr_t huge = (uintptr_t)2 << 20;
    /* Only whole 2 MiB pages inside the allocation: the memory around them
     * may belong to something else. */
    uintptr_t from = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t to = ((uintptr_t)p + size) & ~(huge - 1);
    /* Advice only: where huge pages are off, the array works as before. */
    if (to > from) (void)madvise((void *)from, to - from, MADV_HUGEPAGE);
}
