/*
 * coro/trace_bin.h - the binary trace file (.ctr), version 3: its C form.
 * docs/trace-format.md describes it in words; the viewer reads it with these
 * structs (viz/reader_bin.c), the recorder writes it (tracer/src/bin.c).
 *
 * A file is a 4 KiB header followed by chunks of CORO_CTR_CHUNK bytes.
 * Each chunk begins with a 64-byte chunk header and holds either event
 * records (one thread writes a chunk: no lock), interned strings (names,
 * source files, details), which records refer to by id (0 = none), or the
 * names of the coroutines that short records name by id alone. An event
 * record is one 64-byte slot (the short form: a resume or a suspend between
 * two coroutines, the runtime's most frequent events) or three (the full
 * form). The header's counters and each chunk's `count` are updated in
 * place in a shared mapping of the file, so what was recorded is in the
 * file even if the process is killed.
 *
 * The order of events (`order` in the header):
 *  - CORO_CTR_ORDER_TIME: a thread's events are in the order of its chunks
 *    (by `first`, its number of the chunk's first event) and of the records
 *    in them; the threads' events interleave by `ts`, one reading of the
 *    CPU's invariant counter per event. Nothing is shared between threads
 *    per event. The reader numbers the events; a thread's numbers that no
 *    chunk holds (overwritten, not recorded) are gaps.
 *  - CORO_CTR_ORDER_SEQ: every record is full and carries its `seq`, one
 *    process-wide counter (a logical clock, a converted JSON trace).
 * Integers are little-endian (the writer's order); the header's `magic` and
 * `endian` let a reader refuse what it cannot read.
 */
#ifndef CORO_TRACE_BIN_H
#define CORO_TRACE_BIN_H

#include <stdint.h>

#define CORO_CTR_MAGIC   "CORO-CTR"
#define CORO_CTR_VERSION 3
#define CORO_CTR_HEADER  4096u
#define CORO_CTR_CHUNK   65536u
#define CORO_CTR_ENDIAN  0x01020304u
#define CORO_CTR_SLOT    64u

enum coro_ctr_ts {
    CORO_CTR_TS_NS = 0,     /* ts in nanoseconds since the trace was opened */
    CORO_CTR_TS_TSC = 1,    /* ts in CPU timestamp ticks: ns = ns_a + (ts - tsc_a) * rate */
    CORO_CTR_TS_LOGICAL = 2 /* ts = seq */
};

enum coro_ctr_order { CORO_CTR_ORDER_TIME = 0, CORO_CTR_ORDER_SEQ = 1 };

enum coro_ctr_chunk_type {
    CORO_CTR_FREE = 0,
    CORO_CTR_EVENTS = 1,
    CORO_CTR_STRINGS = 2,
    CORO_CTR_NAMES = 3 /* coro_ctr_binding entries */
};

typedef struct coro_ctr_header {
    char magic[8];        /* "CORO-CTR" */
    uint32_t version;     /* CORO_CTR_VERSION */
    uint32_t endian;      /* CORO_CTR_ENDIAN as the writer stored it */
    uint32_t header_size; /* CORO_CTR_HEADER */
    uint32_t chunk_size;  /* CORO_CTR_CHUNK */
    uint32_t record_size; /* CORO_CTR_SLOT: records are 1 or 3 slots */
    uint32_t ts_kind;     /* enum coro_ctr_ts */
    uint64_t ring_chunks; /* event chunks in the ring (flight recorder), 0 = keep everything */
    int64_t pid;
    /* The clock: two (tsc, ns) pairs, the second updated as the run goes
     * on; ns are CLOCK_MONOTONIC minus the opening time. */
    uint64_t tsc_a, ns_a, tsc_b, ns_b;
    char program[256];

    /* Updated in place while the program runs (atomics). */
    uint64_t chunks;      /* chunk slots in use in the file */
    uint64_t tickets;     /* event chunks handed out (a ring slot is ticket % ring_chunks) */
    uint64_t seq;         /* CORO_CTR_ORDER_SEQ: the last number handed out */
    uint64_t dropped;     /* events that could not be recorded (no room: disk full) */
    uint64_t overwritten; /* events whose chunk the ring gave to newer ones */
    uint64_t strings;     /* the last string id handed out */
    uint32_t ended;       /* 1 once the end was written */
    int32_t end_signal;   /* the signal that ended the run, 0 = returned normally */
    uint64_t end_events;  /* events recorded, at the end (0: not known) */
    uint32_t order;       /* enum coro_ctr_order */
} coro_ctr_header;

typedef struct coro_ctr_chunk {
    uint32_t type;   /* enum coro_ctr_chunk_type */
    uint32_t thread; /* events: the thread that wrote it (1, 2, ...) */
    uint64_t ticket; /* events: which hand-out this is (older tickets were overwritten) */
    uint64_t owner;  /* ticket << 1 | 1 while a thread writes it (the ring skips it) */
    uint64_t count;  /* events: slots committed; strings: bytes committed */
    uint64_t first;  /* events: the thread's number of the first event here (1, 2, ...) */
    uint64_t events; /* events: how many it holds, once its thread has given it back */
    uint64_t reserved[2];
} coro_ctr_chunk; /* 64 bytes, one slot */

/* What both forms begin with. */
enum { CORO_CTR_SHORT = 1, CORO_CTR_FULL = 3 }; /* slots */

/* The short form, one slot: a resume (co is also `to`, `other` is `from`)
 * or a suspend (`other` is `to`; no `from`). It holds no names: co's and
 * other's are their names bound at its ts (coro_ctr_binding). `by` is
 * named only when it is `other` in a resume; `why` is the resume's cause or
 * the suspend's reason; `has` is CORO_EVH_DEPTH. A suspend with `then`
 * stands for two events: the suspend, then `other`'s resume by co with the
 * cause `then`, at depth then_depth, with no `by` and no call site, at the
 * same ts. */
typedef struct coro_ctr_short {
    uint16_t kind; /* coro_ev_kind: CORO_EV_RESUME or CORO_EV_SUSPEND */
    uint8_t slots; /* CORO_CTR_SHORT */
    uint8_t flags; /* 0 */
    int32_t depth;
    uint64_t ts;
    uint64_t co, other, by;
    uint32_t why, file;
    int32_t line;
    uint32_t then; /* a string id, 0 = a single event */
    int32_t then_depth;
    uint32_t reserved;
} coro_ctr_short;

/* In a names chunk, after the chunk header (count: bytes committed): the
 * name of coroutine `id` from `ts` on (the ts of the event it was bound
 * at), until its next binding. A short record's party takes the binding
 * with the largest ts not after the record's, or else its first binding
 * (a thread may record an event a moment before another thread's
 * binding of the same name is written). Kept outside the ring. */
typedef struct coro_ctr_binding {
    uint64_t id;
    uint64_t ts;
    uint32_t name; /* a string id, 0 = no name */
    uint32_t reserved;
} coro_ctr_binding;

/* The full form, three slots: every field of an event. String fields are
 * ids of interned strings (0 = absent). */
typedef struct coro_ctr_record {
    uint16_t kind; /* coro_ev_kind */
    uint8_t slots; /* CORO_CTR_FULL */
    uint8_t flags; /* 0 */
    int32_t depth;
    uint64_t ts;
    uint64_t seq; /* CORO_CTR_ORDER_SEQ: the event's number; else 0 */
    uint64_t co, from, to, by, obj;
    uint64_t wait;
    int64_t value;
    uint64_t aux; /* timeout_ms (CORO_EVH_TIMEOUT) or addr (CORO_EVH_ADDR) */
    uint32_t co_name, from_name, to_name, by_name;
    uint32_t obj_name, obj_kind, cause, reason;
    uint32_t detail, file;
    int32_t line, fd;
    uint32_t events;
    int32_t nready;
    uint32_t thread;
    uint32_t has;
    uint32_t pad[10];
} coro_ctr_record;

/* In a string chunk, after the chunk header: entries of this header, then
 * len bytes and a NUL, padded to 8 bytes. */
typedef struct coro_ctr_string {
    uint32_t id, len;
} coro_ctr_string;

/* Slots for records in an event chunk. */
#define CORO_CTR_SLOTS_PER_CHUNK ((CORO_CTR_CHUNK - sizeof(coro_ctr_chunk)) / CORO_CTR_SLOT)

_Static_assert(sizeof(coro_ctr_header) <= CORO_CTR_HEADER, "header fits its page");
_Static_assert(sizeof(coro_ctr_short) == CORO_CTR_SHORT * CORO_CTR_SLOT, "short record layout");
_Static_assert(sizeof(coro_ctr_record) == CORO_CTR_FULL * CORO_CTR_SLOT, "full record layout");
_Static_assert(sizeof(coro_ctr_chunk) == CORO_CTR_SLOT, "chunk header layout");
_Static_assert(sizeof(coro_ctr_binding) == 24, "binding layout");

#endif /* CORO_TRACE_BIN_H */
