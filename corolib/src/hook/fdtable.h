/*
 * fdtable.h - what libcorohook knows about each file descriptor.
 *
 * Descriptors belong to the process, so the table does too, and any thread
 * may call any hooked function at any time. The table never moves: a fixed
 * array of pointers to pages of one byte per descriptor, each page mapped
 * on first need and published atomically, never freed. Lookups take no lock
 * and allocate nothing; a descriptor's byte is changed with atomic bit
 * operations. A descriptor nobody has marked reads as 0, so calls on
 * descriptors the hook never managed (absurd numbers included) cost no
 * memory.
 */
#ifndef CORO_HOOK_FDTABLE_H
#define CORO_HOOK_FDTABLE_H

#include <stdbool.h>

enum {
    FDT_KIND = 3,         /* mask: what the descriptor is */
    FDT_UNKNOWN = 0,      /* never looked at */
    FDT_OTHER = 1,        /* not a socket: never waited on */
    FDT_SOCKET = 2,       /* a socket: calls in a coroutine may wait */
    FDT_OUR_NONBLOCK = 4, /* O_NONBLOCK is the hook's; the program believes it blocks */
};

/* The bits of fd (0 for an unknown or negative fd). */
unsigned fdt_get(int fd);

/* Set bits on fd, mapping its page if needed. False if fd is negative or
 * no memory is left (the caller then leaves fd alone). */
bool fdt_set(int fd, unsigned bits);

/* Clear bits (all of them: fdt_forget) on fd; never allocates. */
void fdt_clear(int fd, unsigned bits);
void fdt_forget(int fd);

#endif /* CORO_HOOK_FDTABLE_H */
