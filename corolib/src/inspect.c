/*
 * inspect.c - the coroutine table a running program publishes for
 * `coroscope ps PID`, `pstree PID` and `top PID` (format: coro/inspect.h).
 *
 * Switched on before main() by CORO_INSPECT=1, or by tracing (tracer/src/
 * env.c calls coro__inspect_start). Every change of state goes through
 * coro__move, which, when inspection is on, rewrites the coroutine's row
 * here (transfer() does it for both its parties at once); switched off,
 * that costs one relaxed load and a branch predicted not taken. Rows are written without a lock:
 * each has its own seqlock counter, and a coroutine runs on one thread at a time, so one thread
 * writes a row at a time (handing a coroutine to another thread already orders its writes, as it
 * does for the record's own fields). Only taking and giving back a row locks, once per coroutine.
 *
 * The file is removed at exit and when SIGINT, SIGTERM or SIGHUP ends the
 * program; a program killed otherwise leaves it, and `coroscope ps` tells a
 * table left behind from a live one by the process's start time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coro/inspect.h"
#include "coro_int.h"
#include "io_int.h" /* the context a loop runs, for its name */

int coro__inspect_on;

/* Orders the odd counter before a row's fields (and a header before its
 * magic) for the reader, another process. GCC refuses fences under
 * ThreadSanitizer, which never sees that reader: a compiler barrier there
 * (enough on x86-64, where stores stay in order). */
#if defined(__SANITIZE_THREAD__)
#define STORE_FENCE() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#else
#define STORE_FENCE() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#define NO_ROW UINT32_MAX /* coro.irow: the table was full when it was created */

static coro_inspect_header *hdr;
static coro_inspect_slot *rows;
static pthread_mutex_t rows_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t *free_rows, nfree;
static char path[300];
static pid_t owner;

/* This thread's number and kernel id, and which coroutine runs its event
 * loop: the one running when the loop was first seen set (an io_context
 * sets coro__t.drive as it starts). initial-exec: one %fs-relative load in
 * libcoro.so too, not a call to __tls_get_addr. */
static _Thread_local struct {
    unsigned no;
    pid_t tid;
    const void *loop_seen;
    uint64_t loop_runner;
} me __attribute__((tls_model("initial-exec")));

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void copy(char *dst, size_t cap, const char *s)
{
    size_t n = s ? strnlen(s, cap - 1) : 0;
    memcpy(dst, s ? s : "", n);
    dst[n] = 0;
}

/* ---- a row's seqlock ---------------------------------------------------- */

/* Fields are stored in place between making the counter odd and even
 * again: a handful of stores, so that a reader finds the row whole even
 * when its coroutine yields in a loop, millions of times a second. */
static inline __attribute__((always_inline)) uint32_t write_begin(coro_inspect_slot *r)
{
    uint32_t s = __atomic_load_n(&r->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&r->seq, s + 1, __ATOMIC_RELAXED);
    STORE_FENCE(); /* the odd counter is visible before any field changes */
    return s;
}

static inline __attribute__((always_inline)) void write_end(coro_inspect_slot *r, uint32_t s)
{
    __atomic_store_n(&r->seq, s + 2, __ATOMIC_RELEASE);
}

static uint32_t take_row(void)
{
    pthread_mutex_lock(&rows_lock);
    uint32_t i = nfree ? free_rows[--nfree] : NO_ROW;
    if (i != NO_ROW)
        __atomic_add_fetch(&hdr->used, 1, __ATOMIC_RELAXED);
    else
        __atomic_add_fetch(&hdr->not_shown, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&rows_lock);
    return i;
}

/* ---- what a row says ---------------------------------------------------- */

/* Where a row's texts were last copied from (this process's memory; the
 * reader sees only the text): a change of state copies a text only when its
 * source changed. reason and op are literals, compared by address; an
 * object's name by its id and the count of renames (coro__renames). */
typedef struct row_src {
    const char *reason, *op;
    uint64_t obj_id, renames;
} row_src;

static row_src *srcs;
static const char unset[1]; /* a source no text has: the next fill copies */

static row_src *src_of(const coro_inspect_slot *r)
{
    return &srcs[r - rows];
}

static void put(char *dst, size_t cap, const char **last, const char *s)
{
    if (*last == s) return;
    copy(dst, cap, s);
    *last = s;
}

/* The row's object: the one a wait is on, or the context a loop runs. */
static void put_obj(coro_inspect_slot *r, row_src *src, const coro_named *obj)
{
    uint64_t id = obj ? obj->id : 0;
    uint64_t renames = __atomic_load_n(&coro__renames, __ATOMIC_RELAXED);
    r->obj_id = id;
    if (id == src->obj_id && renames == src->renames) return;
    copy(r->obj, sizeof r->obj, obj ? obj->name : NULL);
    src->obj_id = id;
    src->renames = renames;
}

/* w may be NULL for a moment (between a wait's end and the move). */
static void fill_wait(coro_inspect_slot *r, row_src *src, const coro__wait *w)
{
    put(r->reason, sizeof r->reason, &src->reason, w ? w->reason : NULL);
    put(r->op, sizeof r->op, &src->op, w ? w->op : NULL);
    put_obj(r, src, w ? w->obj : NULL);
    r->fd = w ? w->fd : -1;
    r->ms = w && w->kind == CORO__WAIT_SLEEP ? w->ms : 0;
}

/* The state's fields; the name only when asked (after a rename, at the
 * coroutine's next change of state). The texts are written only in the
 * states that define them (coro/inspect.h): a reader ignores them in the
 * others, so a coroutine that alternates between running and waiting on
 * the same call copies nothing. */
static inline __attribute__((always_inline)) void fill(coro_inspect_slot *r, const coro_t *co,
                                                       uint64_t now, bool name)
{
    coro__thread *t = &coro__t;
    r->state = (uint8_t)co->state;
    r->flags = (co->is_main ? CORO_INSPECT_MAIN : 0) | (co->detached ? CORO_INSPECT_DETACHED : 0);
    r->since_ns = now;
    r->changes++;
    r->resumer = co->resumer ? co->resumer->named.id : 0;
    if (name) copy(r->name, sizeof r->name, co->named.name);
    switch (co->state) {
    case CORO_RUNNING:
        r->thread = me.no;
        r->tid = me.tid;
        if (t->drive && co->named.id == me.loop_runner) {
            r->flags |= CORO_INSPECT_LOOP;
            put_obj(r, src_of(r), &((const coro_ctx *)t->drive_arg)->named);
        }
        break;
    case CORO_SUSPENDED:
        r->block = co->block == CORO__BLOCK_RESUMING ? CORO_INSPECT_RESUMING
                   : co->block == CORO__BLOCK_AWAIT  ? CORO_INSPECT_AWAITING
                   : co->block == CORO__BLOCK_EVENT  ? CORO_INSPECT_WAITING
                                                     : CORO_INSPECT_YIELDED;
        if (co->block == CORO__BLOCK_AWAIT) r->awaiting = co->awaiting ? co->awaiting->named.id : 0;
        if (co->block == CORO__BLOCK_EVENT) fill_wait(r, src_of(r), co->wait);
        break;
    case CORO_READY:
        put(r->reason, sizeof r->reason, &src_of(r)->reason, co->wake.cause);
        break;
    default:
        break;
    }
}

/* The kernel's tick clock: a few nanoseconds a read where CLOCK_MONOTONIC
 * costs about 30, at every change of state; ps and top show times in
 * milliseconds and more, within a tick (1 to 4 ms). */
static uint64_t stamp(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void number_thread(void)
{
    me.no = __atomic_add_fetch(&hdr->threads, 1, __ATOMIC_RELAXED);
    me.tid = gettid();
}

static void publish(coro_t *co, const coro_t *by)
{
    if (!me.no) number_thread(); /* a thread's main is created first: 1, 2, ... */
    uint32_t i = take_row();
    co->irow = i == NO_ROW ? NO_ROW : i + 1;
    if (i == NO_ROW) return;
    uint64_t now = stamp();
    coro_inspect_slot *r = &rows[i];
    uint32_t s = write_begin(r);
    r->used = 1;
    r->parent = by ? by->named.id : 0;
    r->id = co->named.id;
    r->changes = 0;
    r->thread = me.no;
    r->tid = me.tid;
    copy(r->fn, sizeof r->fn, co->fn_name);
    srcs[i] = (row_src){unset, unset, UINT64_MAX, 0};
    fill(r, co, now, true);
    write_end(r, s);
    __atomic_add_fetch(&hdr->published, 1, __ATOMIC_RELAXED);
}

void coro__inspect_created(coro_t *co, const coro_t *by)
{
    publish(co, by);
}

/* The thread has its number (me.no). */
static inline __attribute__((always_inline)) void move_at(coro_t *co, uint64_t now)
{
    uint32_t i = co->irow - 1; /* 0 (no row yet) and NO_ROW (none) wrap to the top */
    if (__builtin_expect(i >= NO_ROW - 1, 0)) {
        if (!co->irow) publish(co, NULL); /* created before inspection began */
        return;
    }
    coro_inspect_slot *r = &rows[i];
    uint32_t s = write_begin(r);
    fill(r, co, now, co->irenamed);
    co->irenamed = false;
    write_end(r, s);
}

void coro__inspect_move(coro_t *co)
{
    if (!me.no) number_thread();
    move_at(co, stamp());
}

/* Both parties of a switch, at one reading of the clock. */
void coro__inspect_transfer(coro_t *from, coro_t *to)
{
    coro__thread *t = &coro__t;
    if (t->drive_arg != me.loop_seen) { /* a loop started or ended since the last transfer */
        me.loop_seen = t->drive_arg;
        me.loop_runner = me.loop_seen ? t->current->named.id : 0;
    }
    if (!me.no) number_thread();
    uint64_t now = stamp();
    move_at(from, now);
    move_at(to, now);
}

void coro__inspect_free(coro_t *co)
{
    uint32_t i = co->irow;
    co->irow = 0;
    if (!i || !__atomic_load_n(&coro__inspect_on, __ATOMIC_RELAXED)) return;
    if (i == NO_ROW) {
        __atomic_sub_fetch(&hdr->not_shown, 1, __ATOMIC_RELAXED);
        return;
    }
    coro_inspect_slot *r = &rows[i - 1];
    uint32_t s = write_begin(r);
    r->used = 0;
    r->state = CORO_DEAD;
    write_end(r, s);
    pthread_mutex_lock(&rows_lock);
    free_rows[nfree++] = i - 1;
    __atomic_sub_fetch(&hdr->used, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&rows_lock);
}

/* ---- the file ----------------------------------------------------------- */

static void remove_file(void)
{
    if (getpid() == owner) unlink(path);
}

/* A child forked by the program has none of its parent's threads and must
 * not write into its parent's table: it publishes nothing. Its copy of the
 * mapping becomes private memory, so a row it still writes lands there. */
static void in_child(void)
{
    __atomic_store_n(&coro__inspect_on, 0, __ATOMIC_RELAXED);
    size_t size = sizeof *hdr + (size_t)hdr->capacity * sizeof *rows;
    mmap(hdr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static struct sigaction previous[SIGHUP > SIGTERM ? SIGHUP + 1 : SIGTERM + 1];
static const int ending_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* The handler that was there (the tracer's, which completes the trace, or
 * the default action) runs first; the file goes only if the program then
 * dies of the signal, not when a handler of its own keeps it running, and
 * never by a forked child's death. */
static void on_ending(int sig)
{
    int saved = errno;
    struct sigaction *old = &previous[sig];
    if (old->sa_handler == SIG_DFL) {
        signal(sig, SIG_DFL);
        raise(sig); /* delivered when this handler returns */
    } else if (old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
    }
    struct sigaction now;
    sigset_t pending;
    if (getpid() == owner && !sigaction(sig, NULL, &now) && now.sa_handler == SIG_DFL &&
        !sigpending(&pending) && sigismember(&pending, sig))
        unlink(path);
    errno = saved;
}

static void install_endings(void)
{
    for (size_t i = 0; i < sizeof ending_signals / sizeof *ending_signals; i++) {
        int sig = ending_signals[i];
        struct sigaction sa;
        if (sigaction(sig, NULL, &previous[sig]) || previous[sig].sa_handler == SIG_IGN ||
            (previous[sig].sa_flags & SA_SIGINFO))
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_ending;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, NULL);
    }
}

/* Field 22 of /proc/self/stat: when the process started, in clock ticks. */
static uint64_t start_ticks(void)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* Tables left behind in dir by programs that are gone (SIGKILL and crashes
 * leave them: no handler runs), once they are a minute old, so that a
 * machine that runs inspected programs does not fill /dev/shm with them;
 * the minute leaves `coroscope ps` time to say what happened. */
static void sweep(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        if (strncmp(e->d_name, "coroscope-", 10)) continue;
        long pid = strtol(e->d_name + 10, &end, 10);
        if (*end || pid <= 0 || pid == owner || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        struct stat st;
        char magic[sizeof hdr->magic];
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode) ||
            st.st_uid != getuid() || now - st.st_mtime < 60)
            continue;
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) continue;
        bool ours = read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
                    !memcmp(magic, CORO_INSPECT_MAGIC, sizeof magic);
        close(fd);
        if (ours) unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static int make_file(size_t size)
{
    const char *dirs[] = {"/dev/shm", getenv("XDG_RUNTIME_DIR"), "/tmp"};
    int err = ENOENT;
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        if (!dirs[i] || !*dirs[i]) continue;
        snprintf(path, sizeof path, "%s/coroscope-%d", dirs[i], (int)owner);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (ftruncate(fd, (off_t)size) == 0) {
            sweep(dirs[i]);
            return fd;
        }
        err = errno;
        close(fd);
        unlink(path);
    }
    errno = err;
    return -1;
}

void coro__inspect_start(void)
{
    if (hdr) return;
    uint32_t capacity = CORO_INSPECT_SLOTS;
    const char *c = getenv("CORO_INSPECT_SLOTS");
    if (c && *c) {
        unsigned long v = strtoul(c, NULL, 10);
        if (v >= 1 && v <= (1u << 20)) capacity = (uint32_t)v;
    }
    owner = getpid();
    size_t size = sizeof *hdr + (size_t)capacity * sizeof *rows;
    free_rows = malloc(capacity * sizeof *free_rows);
    srcs = calloc(capacity, sizeof *srcs);
    int fd = free_rows && srcs ? make_file(size) : -1;
    void *map = fd < 0 ? MAP_FAILED : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        fprintf(stderr, "coroscope: cannot publish the coroutine table (CORO_INSPECT): %s\n",
                strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        free(free_rows);
        free(srcs);
        free_rows = NULL;
        srcs = NULL;
        return;
    }
    close(fd);
    hdr = map;
    rows = (coro_inspect_slot *)(hdr + 1);
    for (uint32_t i = 0; i < capacity; i++) free_rows[i] = capacity - 1 - i;
    nfree = capacity;
    hdr->version = CORO_INSPECT_VERSION;
    hdr->header_size = sizeof *hdr;
    hdr->slot_size = sizeof *rows;
    hdr->capacity = capacity;
    hdr->pid = owner;
    hdr->start_ticks = start_ticks();
    hdr->start_ns = now_ns();
    copy(hdr->program, sizeof hdr->program, program_invocation_short_name);
    STORE_FENCE(); /* the magic last: a reader that sees it sees the rest */
    memcpy(hdr->magic, CORO_INSPECT_MAGIC, sizeof hdr->magic);
    atexit(remove_file);
    pthread_atfork(NULL, NULL, in_child);
    install_endings();
    __atomic_store_n(&coro__inspect_on, 1, __ATOMIC_RELEASE);
}
