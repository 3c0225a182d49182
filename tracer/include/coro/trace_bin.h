/*
 * coro/trace_bin.h - the binary trace file (.ctr), version 1: its C form.
 * docs/trace-format.md describes it in words; the viewer reads it with these
 * structs (viz/reader_bin.c), the recorder writes it (tracer/src/bin.c).
 *
 * A file is a 4 KiB header followed by chunks of CORO_CTR_CHUNK bytes.
 * Each chunk begins with a chunk header and holds either fixed-size event
 * records (one thread writes a chunk: no lock) or interned strings (names,
 * source files, details), which records refer to by id (0 = none). The
 * header's counters and each chunk's `count` are updated in place in a
 * shared mapping of the file, so what was recorded is in the file even if
 * the process is killed. Events of all threads are ordered by `seq`, one
 * process-wide counter. Integers are little-endian (the writer's order);
 * the header's `magic` and `endian` let a reader refuse what it cannot read.
 */
#ifndef CORO_TRACE_BIN_H
#define CORO_TRACE_BIN_H

#include <stdint.h>

#define CORO_CTR_MAGIC   "CORO-CTR"
#define CORO_CTR_VERSION 1
#define CORO_CTR_HEADER  4096u
#define CORO_CTR_CHUNK   65536u
#define CORO_CTR_ENDIAN  0x01020304u

enum coro_ctr_ts {
    CORO_CTR_TS_NS = 0,     /* ts in nanoseconds since the trace was opened */
    CORO_CTR_TS_TSC = 1,    /* ts in CPU timestamp ticks: ns = ns_a + (ts - tsc_a) * rate */
    CORO_CTR_TS_LOGICAL = 2 /* ts = seq */
};

enum coro_ctr_chunk_type { CORO_CTR_FREE = 0, CORO_CTR_EVENTS = 1, CORO_CTR_STRINGS = 2 };

typedef struct coro_ctr_header {
    char magic[8];        /* "CORO-CTR" */
    uint32_t version;     /* CORO_CTR_VERSION */
    uint32_t endian;      /* CORO_CTR_ENDIAN as the writer stored it */
    uint32_t header_size; /* CORO_CTR_HEADER */
    uint32_t chunk_size;  /* CORO_CTR_CHUNK */
    uint32_t record_size; /* sizeof(coro_ctr_record) */
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
    uint64_t seq;         /* the last sequence number handed out */
    uint64_t dropped;     /* events that could not be recorded (no room: disk full) */
    uint64_t overwritten; /* events whose chunk the ring gave to newer ones */
    uint64_t strings;     /* the last string id handed out */
    uint32_t ended;       /* 1 once the end was written */
    int32_t end_signal;   /* the signal that ended the run, 0 = returned normally */
    uint64_t end_events;  /* events recorded, at the end */
} coro_ctr_header;

typedef struct coro_ctr_chunk {
    uint32_t type;   /* enum coro_ctr_chunk_type */
    uint32_t thread; /* events: the thread that wrote it */
    uint64_t ticket; /* events: which hand-out this is (older tickets were overwritten) */
    uint64_t owner;  /* ticket << 1 | 1 while a thread writes it (the ring skips it) */
    uint64_t count;  /* events: records committed; strings: bytes committed */
    uint64_t reserved[16];
} coro_ctr_chunk; /* 160 bytes, one record's size */

/* One event. String fields are ids of interned strings (0 = absent). */
typedef struct coro_ctr_record {
    uint64_t seq, ts;
    uint64_t co, from, to, by, obj;
    uint64_t wait;
    int64_t value;
    uint64_t aux; /* timeout_ms (CORO_EVH_TIMEOUT) or addr (CORO_EVH_ADDR) */
    uint32_t co_name, from_name, to_name, by_name;
    uint32_t obj_name, obj_kind, cause, reason;
    uint32_t detail, file;
    int32_t line, fd;
    uint32_t events;
    int32_t nready, depth;
    uint32_t thread;
    uint16_t kind, has;
    uint32_t pad[3];
} coro_ctr_record;

/* In a string chunk, after the chunk header: entries of this header, then
 * len bytes and a NUL, padded to 8 bytes. */
typedef struct coro_ctr_string {
    uint32_t id, len;
} coro_ctr_string;

#define CORO_CTR_RECORDS_PER_CHUNK                                                                 \
    ((CORO_CTR_CHUNK - sizeof(coro_ctr_chunk)) / sizeof(coro_ctr_record))

_Static_assert(sizeof(coro_ctr_header) <= CORO_CTR_HEADER, "header fits its page");
_Static_assert(sizeof(coro_ctr_record) == 160, "record layout");
_Static_assert(sizeof(coro_ctr_chunk) == 160, "chunk header layout");

#endif /* CORO_TRACE_BIN_H */
