/*
 * stack.h - where a coroutine's stack lives (internal to corolib).
 *
 * Three stack modes (coro_stack_mode in coro/coro.h):
 *
 *   guarded  one mmap per coroutine: a PROT_NONE guard region, the stack,
 *            the record. An overflow faults and is named (overflow.c).
 *            Costs two kernel mappings (vm.max_map_count) and, with 1 KiB
 *            in use, two resident pages.                   (stack.c)
 *   slab     slots carved from large mappings, no guard; a canary at the
 *            low end is checked at every switch away from the coroutine.
 *            No mapping per coroutine.                     (stack_slab.c)
 *   copy     every copy-mode coroutine of a thread runs on one shared
 *            stack; a suspended one keeps only the bytes it used, copied
 *            out to the heap (libaco's copy-stack). Smallest memory; no
 *            pointer into a suspended coroutine's stack stays valid.
 *                                                          (stack_copy.c)
 */
#ifndef CORO_SRC_STACK_H
#define CORO_SRC_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coro/coro.h"
#include "switch.h"

enum { CORO__GUARDED = 0, CORO__SLAB = 1, CORO__COPY = 2 };

typedef struct coro__stack {
    void *map;       /* guarded: the mapping (guard first); slab: the slot; copy: the record */
    size_t map_size; /* bytes at map; the record sits at the top of them */
    void *lo;        /* lowest usable stack byte (copy: of the thread's shared stack) */
    size_t size;     /* usable bytes */
    unsigned vg_id;  /* valgrind stack id */
    unsigned char mode;
} coro__stack;

/* Allocate a stack for a coroutine created with attr (NULL = defaults),
 * with record_size bytes at the top of s->map for the record. who names
 * the coroutine in errors. Returns 0 or a negative errno (coro__fail). */
int coro__stack_alloc(coro__stack *s, const coro_attr *attr, size_t record_size, const char *who);
void coro__stack_free(coro__stack *s);
size_t coro__stack_round(size_t usable);
size_t coro__page_size(void);
/* Guard bytes below a guarded stack (0 for the other modes). */
size_t coro__stack_guard(const coro__stack *s);

/* ---- overflow.c ---- */
typedef enum coro__overrun {
    CORO__OVERRUN_GUARD,  /* a fault in the guard region */
    CORO__OVERRUN_JUMP,   /* a fault below the guard, with the stack pointer there */
    CORO__OVERRUN_CANARY, /* a slab stack's canary overwritten */
    CORO__OVERRUN_SP,     /* the stack pointer below the stack at a switch */
} coro__overrun;
/* Say which coroutine overran its stack (async-signal-safe) and abort. */
void coro__die_overrun(const coro_t *co, coro__overrun how, uintptr_t addr)
    __attribute__((noreturn, cold));

/* ---- stack_slab.c ---- */
int coro__slab_alloc(coro__stack *s, size_t usable, size_t record_size, const char *who);
void coro__slab_free(coro__stack *s);
void coro__slab_thread_drain(void);
/* A slab coroutine's canary or stack pointer failed the check at a switch
 * (stack_switch.h): says which, names it, aborts. */
void coro__slab_overrun(const coro_t *co) __attribute__((noreturn, cold));

/* The canary: two words at a slab stack's low end. Mixed with the address
 * so that a copied stack does not carry a valid canary elsewhere. */
#define CORO__CANARY_WORDS 2
static inline uint64_t coro__canary(const void *lo, unsigned i)
{
    return (0x5ca1ab1ec0ffee11ull + i) ^ (uint64_t)(uintptr_t)lo;
}

/* ---- stack_copy.c ---- */
int coro__copy_alloc(coro__stack *s, size_t record_size, const char *who);
void coro__copy_free(coro__stack *s);
void coro__copy_thread_drain(void);
void coro__copy_ctx_init(coro__stack *s, coro__ctx *ctx, coro__entry_fn entry, void *arg);

/* Prepare a new coroutine's first switch (all modes): the copy mode builds
 * the initial frame in the saved copy, not on the shared stack, which the
 * creator may be running on. */
void coro__stack_ctx_init(coro__stack *s, coro__ctx *ctx, coro__entry_fn entry, void *arg);

#endif /* CORO_SRC_STACK_H */
