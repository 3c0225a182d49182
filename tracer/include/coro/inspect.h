/*
 * coro/inspect.h - the coroutine table a running program publishes for
 * `coroscope ps`, `pstree` and `top` (docs/trace-format.md, "The live
 * coroutine table").
 *
 * A program switched on with CORO_INSPECT=1 (or tracing: CORO_TRACE,
 * CORO_LOG) keeps one row per coroutine in a file it maps MAP_SHARED:
 * /dev/shm/coroscope-PID (or $XDG_RUNTIME_DIR, then /tmp, when /dev/shm is
 * not there). The runtime writes a coroutine's row at each change of its
 * state; a reader maps the file read-only and copies rows out, so looking
 * costs the program nothing and needs no debugger.
 *
 * Each row has its own sequence counter (a seqlock): odd while its writer
 * is in the middle of it. A reader copies a row, then reads the counter
 * again; a row whose counter was odd or moved is read again. Only one
 * thread writes a given row at a time (a coroutine runs on one thread at a
 * time), so writers need no lock either.
 *
 * The layout is fixed-size, little-endian as the machine writes it, and
 * versioned: a reader refuses a magic or version it does not know.
 */
#ifndef CORO_INSPECT_H
#define CORO_INSPECT_H

#include <stdint.h>

#define CORO_INSPECT_MAGIC   "CORO-TAB" /* 8 bytes, no terminator in the file */
#define CORO_INSPECT_VERSION 1
#define CORO_INSPECT_SLOTS   4096 /* default capacity; CORO_INSPECT_SLOTS=N changes it */

/* The file's first 256 bytes. Counters are updated atomically. */
typedef struct coro_inspect_header {
    char magic[8];         /* CORO_INSPECT_MAGIC */
    uint32_t version;      /* CORO_INSPECT_VERSION */
    uint32_t header_size;  /* bytes before the first row (sizeof this struct) */
    uint32_t slot_size;    /* bytes per row (sizeof coro_inspect_slot) */
    uint32_t capacity;     /* rows in the file */
    int64_t pid;           /* the program's process id */
    uint64_t start_ticks;  /* its start time (field 22 of /proc/PID/stat): a reused pid differs */
    uint64_t start_ns;     /* CLOCK_MONOTONIC when the table was made */
    uint32_t used;         /* rows holding a coroutine now */
    uint32_t threads;      /* threads that used coroutines so far */
    uint64_t not_shown;    /* coroutines alive without a row: the table was full */
    uint64_t published;    /* coroutines that ever had a row */
    char program[64];      /* the executable's name */
    uint8_t reserved[120]; /* zero */
} coro_inspect_header;

/* What a suspended coroutine is blocked by (the runtime's coro__block). */
enum {
    CORO_INSPECT_YIELDED,  /* suspended by a yield: anyone may resume it */
    CORO_INSPECT_RESUMING, /* it resumed another, which has not given control back */
    CORO_INSPECT_AWAITING, /* waits for the child `awaiting` to finish */
    CORO_INSPECT_WAITING,  /* waits for an event: `op` on `obj` (fd) */
};

/* Row flags. */
enum {
    CORO_INSPECT_MAIN = 1u << 0,     /* a thread's main coroutine */
    CORO_INSPECT_DETACHED = 1u << 1, /* spawned: freed when it finishes */
    CORO_INSPECT_LOOP = 1u << 2,     /* running an event loop (obj: the context) */
};

/* One row, 256 bytes. Strings are NUL-terminated, cut to fit. A field whose
 * comment names states has a meaning only in them; in the others it keeps
 * whatever it last held (the writer does not clear it), and readers ignore it. */
typedef struct coro_inspect_slot {
    uint32_t seq;      /* seqlock: odd while being written; 0 = never used */
    uint8_t used;      /* 1 while a coroutine holds the row */
    uint8_t state;     /* coro_state: 0 created, 1 ready, 2 running, 3 suspended, 4 dead */
    uint8_t block;     /* CORO_INSPECT_YIELDED ... (suspended only) */
    uint8_t flags;     /* CORO_INSPECT_MAIN ... */
    uint32_t thread;   /* the thread it runs or last ran on: 1, 2, ... in first-use order */
    int32_t tid;       /* that thread's kernel id */
    uint64_t id;       /* the coroutine's id (as in the trace) */
    uint64_t parent;   /* who created it (0: nobody, a main) */
    uint64_t awaiting; /* awaiting: the child's id */
    uint64_t resumer;  /* running, or resuming another: who resumed it */
    uint64_t obj_id;   /* waiting: the object's id; loop: the context's */
    uint64_t since_ns; /* CLOCK_MONOTONIC_COARSE of its last change of state */
    int64_t ms;        /* waiting in a sleep: its length */
    int32_t fd;        /* waiting: the descriptor, or -1 */
    uint32_t changes;  /* changes of state so far */
    char name[48];     /* its name (coro_rename'd names show after its next change) */
    char fn[40];       /* its function */
    char reason[16];   /* waiting: io, timer, lock, channel, hook, ...; ready: the wake's cause */
    char op[24];       /* waiting: the call (recv, accept, hook:read, lock, ...) */
    char obj[48];      /* waiting: the object's name; loop: the context's */
} coro_inspect_slot;

_Static_assert(sizeof(coro_inspect_header) == 256, "the table's header is 256 bytes");
_Static_assert(sizeof(coro_inspect_slot) == 256, "a row is 256 bytes");

#endif /* CORO_INSPECT_H */
