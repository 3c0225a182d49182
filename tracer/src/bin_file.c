/*
 * bin_file.c - the binary trace file (coro/trace_bin.h): opened, emptied
 * and locked against a second writer, mapped once with room to grow, grown
 * by writing zeros so that a full disk is an error we count and not a
 * SIGBUS, its header's clock and counters kept, and ended. What records
 * into it is bin.c.
 *
 * The pages are the file's (MAP_SHARED): when the process is killed, the
 * kernel keeps everything recorded. Events are never written with write(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bin_int.h"

/* Address space reserved for the file's mapping; the file grows inside it. */
#define RESERVE ((uint64_t)1 << 36) /* 64 GiB */
#define GROW    ((uint64_t)4 << 20) /* the file grows 4 MiB at a time */
/* Does the kernel keep time with the TSC? (raw calls: a hooked read could
 * suspend) */
static bool tsc_trusted(void)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD,
                          "/sys/devices/system/clocksource/clocksource0/current_clocksource",
                          O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[16] = {0};
    ssize_t n = (ssize_t)syscall(SYS_read, fd, buf, sizeof buf - 1);
    coro__raw_close(fd);
    return n >= 3 && !strcmp(buf, "tsc\n");
}

/* Zeros written into the file from `from` to `to` (raw: a hooked pwrite
 * could suspend). Its blocks are then allocated and written, so that the
 * first touch of a page is a minor fault, not the conversion of an
 * unallocated or unwritten extent at the fault (measured on this ext4 VM:
 * 0.4-0.6 us a page against 2-11 us after posix_fallocate); a full disk is
 * an error here, not a SIGBUS later. */
static int write_zeros(int fd, uint64_t from, uint64_t to)
{
    static const char zeros[65536];
    while (from < to) {
        size_t n = to - from < sizeof zeros ? (size_t)(to - from) : sizeof zeros;
        ssize_t w = (ssize_t)syscall(SYS_pwrite64, fd, zeros, n, (off_t)from);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return errno;
        if (w == 0) return ENOSPC;
        from += (uint64_t)w;
    }
    return 0;
}

/* With b->lock held: make the file at least `size` bytes, its pages
 * supplied before any record needs them. */
static int grow_to(coro__bin *b, uint64_t size)
{
    if (size <= b->mapped) return 0;
    if (size > b->reserve) return EFBIG;
    uint64_t want = (size + GROW - 1) / GROW * GROW;
    if (want > b->reserve) want = b->reserve;
    int rc = write_zeros(b->fd, b->mapped, want);
    if (rc) return rc;
#ifdef MADV_POPULATE_WRITE
    /* Map them now in one call rather than one fault per page on the
     * recording path; before Linux 5.14 this fails and they come as touched. */
    madvise(b->base + b->mapped, want - b->mapped, MADV_POPULATE_WRITE);
#endif
    b->mapped = want;
    return 0;
}

coro_ctr_chunk *coro__bin_new_slot(coro__bin *b, uint32_t type)
{
    if (!coro__bin_lock(b)) return NULL;
    uint64_t slot = atomic_load(A(&b->h->chunks));
    coro_ctr_chunk *c = NULL;
    if (!grow_to(b, CORO_CTR_HEADER + (slot + 1) * CORO_CTR_CHUNK)) {
        atomic_store(A(&b->h->chunks), slot + 1);
        c = chunk_at(b, slot);
        c->type = type;
    }
    if (b->ts_kind == CORO_CTR_TS_TSC) { /* a longer baseline for the clock */
        uint64_t t = ticks(), n = mono_ns() - b->ns0;
        atomic_store(A(&b->h->ns_b), n);
        atomic_store(A(&b->h->tsc_b), t);
    }
    pthread_mutex_unlock(&b->lock);
    return c;
}

coro_ctr_chunk *coro__bin_room_in(coro__bin *b, coro_ctr_chunk **cur, uint32_t type, size_t need,
                                  bool *held)
{
    *held = true;
    coro_ctr_chunk *c = *cur;
    if (c && c->count + need <= CORO_CTR_CHUNK - sizeof(coro_ctr_chunk)) return c;
    pthread_mutex_unlock(&b->lock); /* new_slot takes it */
    c = coro__bin_new_slot(b, type);
    *held = coro__bin_lock(b);
    if (!c || !*held) return NULL;
    *cur = c;
    return c;
}

/* "64M", "512K", "1G", "1048576" -> bytes; 0 if not understood. */
static uint64_t parse_size(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return 0;
    uint64_t m = 1;
    if (*end == 'K' || *end == 'k')
        m = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        m = 1024 * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        m = 1024 * 1024 * 1024, end++;
    if (*end) return 0;
    return v * m;
}

bool coro__bin_wanted(const char *spec)
{
    const char *colon = strstr(spec, ":ring=");
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    return colon || (n > 4 && !memcmp(spec + n - 4, ".ctr", 4));
}

int coro__bin_parse(const char *spec, char *path, size_t cap, uint64_t *ring)
{
    *ring = 0;
    const char *colon = strstr(spec, ":ring=");
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    if (n == 0 || n >= cap) return -EINVAL;
    memcpy(path, spec, n);
    path[n] = 0;
    if (colon) {
        *ring = parse_size(colon + 6);
        if (*ring < 4 * CORO_CTR_CHUNK) return -EINVAL;
    }
    return 0;
}

coro__bin *coro__bin_open(const char *path, uint64_t ring_bytes, const char *program, int ts_kind,
                          bool numbered)
{
    /* Emptied only once this process holds it: another process recording
     * into the same file (two programs given one CORO_TRACE) would lose its
     * trace, and die of SIGBUS when its mapping outgrew the emptied file.
     * On a file system without locks the trace is recorded unlocked. */
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return NULL;
    int e = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK ? EBUSY : 0;
    if (!e && ftruncate(fd, 0) != 0) e = errno;
    if (e) {
        coro__raw_close(fd);
        errno = e;
        return NULL;
    }
    coro__bin *b = calloc(1, sizeof *b);
    void *base = MAP_FAILED;
    /* As much address space as we get (valgrind, a ulimit -v give less). */
    for (uint64_t r = RESERVE; b && base == MAP_FAILED && r >= ((uint64_t)64 << 20); r /= 2) {
        base = mmap(NULL, r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
        b->reserve = r;
    }
    int err = ENOMEM;
    if (base == MAP_FAILED) goto fail;
    b->fd = fd;
    b->base = base;
    b->h = base;
    pthread_mutex_init(&b->lock, NULL);
    uint64_t ring = ring_bytes / CORO_CTR_CHUNK;
    err = grow_to(b, CORO_CTR_HEADER + (ring + 1) * CORO_CTR_CHUNK);
    if (err) goto fail;
    coro_ctr_header *h = b->h;
    memcpy(h->magic, CORO_CTR_MAGIC, 8);
    h->version = CORO_CTR_VERSION;
    h->endian = CORO_CTR_ENDIAN;
    h->header_size = CORO_CTR_HEADER;
    h->chunk_size = CORO_CTR_CHUNK;
    h->record_size = CORO_CTR_SLOT;
    h->order = numbered ? CORO_CTR_ORDER_SEQ : CORO_CTR_ORDER_TIME;
    h->ring_chunks = ring;
    h->chunks = ring; /* the ring's slots come first; strings go after */
    h->pid = getpid();
    strncpy(h->program, program ? program : "", sizeof h->program - 1);
    if (ts_kind == CORO_CTR_TS_TSC && (!HAVE_TSC || !tsc_trusted())) ts_kind = CORO_CTR_TS_NS;
    h->ts_kind = (uint32_t)ts_kind;
    b->ts_kind = ts_kind;
    b->ring = ring > 0;
    b->numbered = numbered;
    b->ns0 = mono_ns();
    h->tsc_a = ticks();
    h->ns_a = 0;
    if (ts_kind == CORO_CTR_TS_TSC) { /* a first estimate of the tick rate */
        uint64_t n;
        while ((n = mono_ns() - b->ns0) < 200000) {
        }
        h->tsc_b = ticks();
        h->ns_b = n;
    }
    b->gen = coro__bin_generation();
    return b;
fail:
    if (b && base != MAP_FAILED) munmap(base, b->reserve);
    free(b);
    /* No half-written zeros left behind for a reader to take for a trace. */
    if (fd >= 0 && ftruncate(fd, 0) != 0 && !err) err = errno;
    coro__raw_close(fd);
    errno = err;
    return NULL;
}

/* Ended recorders are kept (threads still running may record into them),
 * on a list, so that they stay reachable. */
static coro__bin *_Atomic retired;

void coro__bin_retire(coro__bin *b)
{
    coro__bin *head = atomic_load(&retired);
    do b->retired_next = head;
    while (!atomic_compare_exchange_weak(&retired, &head, b));
}

void coro__bin_set_counts(coro__bin *b, uint64_t dropped, uint64_t overwritten)
{
    atomic_store(A(&b->h->dropped), dropped);
    atomic_store(A(&b->h->overwritten), overwritten);
}

/* Events in a chunk a thread still writes (a walk of its slots). */
static uint64_t events_in(const coro_ctr_chunk *c)
{
    uint64_t n = atomic_load_explicit(A(&((coro_ctr_chunk *)c)->count), memory_order_acquire);
    if (n > CORO_CTR_SLOTS_PER_CHUNK) n = CORO_CTR_SLOTS_PER_CHUNK;
    const unsigned char *slot = (const unsigned char *)(c + 1);
    uint64_t events = 0;
    for (uint64_t k = 0; k < n; events++) {
        const unsigned char *r = slot + k * CORO_CTR_SLOT;
        uint8_t size = r[offsetof(coro_ctr_short, slots)];
        uint32_t then;
        memcpy(&then, r + offsetof(coro_ctr_short, then), sizeof then);
        events += size == CORO_CTR_SHORT && then; /* two events */
        k += size ? size : 1;
    }
    return events;
}

uint64_t coro__bin_events(coro__bin *b)
{
    if (b->numbered) return atomic_load(A(&b->h->seq));
    /* done first: a chunk given back meanwhile is missed, never counted twice */
    uint64_t n = atomic_load(&b->done);
    uint64_t chunks = atomic_load(A(&b->h->chunks));
    for (uint64_t i = 0; i < chunks; i++) {
        coro_ctr_chunk *c = chunk_at(b, i);
        if (atomic_load_explicit((_Atomic uint32_t *)&c->type, memory_order_acquire) ==
                CORO_CTR_EVENTS &&
            (atomic_load(A(&c->owner)) & 1))
            n += events_in(c);
    }
    return n;
}

uint64_t coro__bin_dropped(coro__bin *b)
{
    return atomic_load(A(&b->h->dropped));
}

/* The end: counters into the header. Safe in a signal handler. The
 * mapping stays: threads still running may record into it, which is
 * harmless (the reader stops at the end counters it needs). */
void coro__bin_end(coro__bin *b, int signal)
{
    coro_ctr_header *h = b->h;
    if (b->ts_kind == CORO_CTR_TS_TSC) {
        uint64_t t = ticks(), n = mono_ns() - b->ns0;
        atomic_store(A(&h->ns_b), n);
        atomic_store(A(&h->tsc_b), t);
    }
    h->end_events = coro__bin_events(b);
    h->end_signal = signal;
    atomic_store((_Atomic uint32_t *)&h->ended, 1);
    /* The file grew in steps: give back what was not used. Threads still
     * running could take a new chunk in that space: only at a normal end,
     * when the program is leaving. */
    if (!signal) {
        pthread_mutex_lock(&b->lock);
        uint64_t used = CORO_CTR_HEADER + atomic_load(A(&h->chunks)) * CORO_CTR_CHUNK;
        if (used < b->mapped && ftruncate(b->fd, (off_t)used) == 0) b->mapped = used;
        pthread_mutex_unlock(&b->lock);
    }
    flock(b->fd, LOCK_UN); /* ended: the file may be recorded into anew */
}
