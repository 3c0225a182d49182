/*
 * table.c - reading the coroutine table of a running program (format:
 * coro/inspect.h) without stopping it: the file is mapped read-only and
 * each row copied out under its seqlock, so the program never waits for
 * the reader and the reader never sees half a row.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "table.h"
#include "viz.h"

/* The rows' fields are read between two reads of their counter; GCC
 * refuses fences under ThreadSanitizer (the writer is another process
 * there anyway): a compiler barrier, enough on x86-64. */
#if defined(__SANITIZE_THREAD__)
#define LOAD_FENCE() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#else
#define LOAD_FENCE() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Field 22 of /proc/PID/stat (start time in ticks); 0 if unknown. */
static uint64_t start_ticks(int pid)
{
    char name[64], buf[1024];
    snprintf(name, sizeof name, "/proc/%d/stat", pid);
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

static bool process_exists(int pid)
{
    return kill(pid, 0) == 0 || errno == EPERM;
}

bool vz_table_alive(const vz_table *t)
{
    if (!process_exists(t->pid)) return false;
    uint64_t now = start_ticks(t->pid);
    return !now || !t->h.start_ticks || now == t->h.start_ticks;
}

/* Terminated, and no control character can reach the terminal. */
static void clean(char *s, size_t cap)
{
    s[cap - 1] = 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

static int open_file(int pid, vz_table *t)
{
    const char *dirs[] = {"/dev/shm", getenv("XDG_RUNTIME_DIR"), "/tmp"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        if (!dirs[i] || !*dirs[i]) continue;
        snprintf(t->path, sizeof t->path, "%s/coroscope-%d", dirs[i], pid);
        int fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 || errno != ENOENT) return fd;
    }
    errno = ENOENT;
    return -1;
}

static int refuse(vz_table *t, const char *cmd, const char *why)
{
    fprintf(stderr, "coroscope %s: %s %s\n", cmd, t->path, why);
    vz_table_close(t);
    return VZ_BADINPUT;
}

int vz_table_open(int pid, vz_table *t, const char *cmd)
{
    memset(t, 0, sizeof *t);
    t->pid = pid;
    int fd = open_file(pid, t);
    if (fd < 0 && errno == ENOENT) {
        if (!process_exists(pid))
            fprintf(stderr, "coroscope %s: no process with pid %d\n", cmd, pid);
        else
            fprintf(stderr,
                    "coroscope %s: no coroutine table for pid %d: was it started with "
                    "CORO_INSPECT=1?\n",
                    cmd, pid);
        return VZ_BADINPUT;
    }
    if (fd < 0) {
        fprintf(stderr, "coroscope %s: cannot read %s: %s\n", cmd, t->path, strerror(errno));
        return VZ_BADINPUT;
    }
    struct stat st;
    const coro_inspect_header *h = MAP_FAILED;
    if (!fstat(fd, &st) && (size_t)st.st_size >= sizeof *h)
        h = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (h == MAP_FAILED) return refuse(t, cmd, "is not a coroutine table (too short)");
    t->map = h;
    t->map_size = (size_t)st.st_size;
    LOAD_FENCE(); /* the writer stores the magic last */
    if (memcmp(h->magic, CORO_INSPECT_MAGIC, sizeof h->magic))
        return refuse(t, cmd, "is not a coroutine table (or its program is still starting)");
    if (h->version != CORO_INSPECT_VERSION) {
        char why[128];
        snprintf(why, sizeof why, "has format version %u; this coroscope reads version %d",
                 h->version, CORO_INSPECT_VERSION);
        return refuse(t, cmd, why);
    }
    if (h->header_size != sizeof *h || h->slot_size != sizeof(coro_inspect_slot) ||
        (t->map_size - sizeof *h) / sizeof(coro_inspect_slot) < h->capacity)
        return refuse(t, cmd, "is not a coroutine table (its sizes do not match)");
    t->h = *h;
    clean(t->h.program, sizeof t->h.program);
    if (!vz_table_alive(t)) {
        fprintf(stderr,
                "coroscope %s: pid %d has exited; %s is the table it left behind (it was killed): "
                "remove it\n",
                cmd, pid, t->path);
        vz_table_close(t);
        return VZ_BADINPUT;
    }
    return VZ_OK;
}

void vz_table_close(vz_table *t)
{
    if (t->map) munmap((void *)t->map, t->map_size);
    free(t->rows);
    t->map = NULL;
    t->rows = NULL;
    t->n = t->cap = 0;
}

/* One row, consistent: its counter even and the same before and after.
 * A row stays odd while its writer is preempted in the middle of it (for
 * a time slice or more on a loaded machine), so a read tries again, giving
 * the processor up, until *until (set at the first wait: up to 2 s for
 * all the rows of a read). */
static bool copy_row(const coro_inspect_slot *src, coro_inspect_slot *dst, uint64_t *until)
{
    for (unsigned tries = 0;; tries++) {
        uint32_t s1 = __atomic_load_n(&src->seq, __ATOMIC_ACQUIRE);
        if (!(s1 & 1)) {
            memcpy(dst, (const void *)src, sizeof *dst);
            LOAD_FENCE();
            if (__atomic_load_n(&src->seq, __ATOMIC_RELAXED) == s1) return true;
        }
        if (tries < 16) continue;
        if (!*until) *until = now_ns() + 2000000000u;
        if (now_ns() > *until) return false;
        sched_yield();
    }
}

int vz_table_read(vz_table *t)
{
    const coro_inspect_header *h = t->map;
    const coro_inspect_slot *rows = (const coro_inspect_slot *)(h + 1);
    if (t->cap < t->h.capacity) {
        free(t->rows);
        t->rows = malloc(t->h.capacity * sizeof *t->rows);
        if (!t->rows) return VZ_BADINPUT;
        t->cap = t->h.capacity;
    }
    t->n = t->unreadable = 0;
    uint64_t until = 0;
    for (uint32_t i = 0; i < t->h.capacity; i++) {
        if (!__atomic_load_n(&rows[i].seq, __ATOMIC_RELAXED)) continue; /* never used */
        coro_inspect_slot *r = &t->rows[t->n];
        if (!copy_row(&rows[i], r, &until)) {
            t->unreadable++;
            continue;
        }
        if (!r->used) continue;
        clean(r->name, sizeof r->name);
        clean(r->fn, sizeof r->fn);
        clean(r->reason, sizeof r->reason);
        clean(r->op, sizeof r->op);
        clean(r->obj, sizeof r->obj);
        t->n++;
    }
    t->now_ns = now_ns();
    t->h.used = __atomic_load_n(&h->used, __ATOMIC_RELAXED);
    t->h.threads = __atomic_load_n(&h->threads, __ATOMIC_RELAXED);
    t->h.not_shown = __atomic_load_n(&h->not_shown, __ATOMIC_RELAXED);
    t->h.published = __atomic_load_n(&h->published, __ATOMIC_RELAXED);
    return vz_table_alive(t) ? VZ_OK : VZ_BADINPUT;
}

const coro_inspect_slot *vz_table_find(const vz_table *t, uint64_t id)
{
    for (size_t i = 0; id && i < t->n; i++)
        if (t->rows[i].id == id) return &t->rows[i];
    return NULL;
}

const coro_inspect_slot *vz_table_awaiter(const vz_table *t, const coro_inspect_slot *r)
{
    for (size_t i = 0; i < t->n; i++) {
        const coro_inspect_slot *a = &t->rows[i];
        if (a->state == 3 && a->block == CORO_INSPECT_AWAITING && a->awaiting == r->id) return a;
    }
    return NULL;
}

/* The coroutine r resumed and waits to get control back from. */
static const coro_inspect_slot *resumed(const vz_table *t, const coro_inspect_slot *r)
{
    for (size_t i = 0; i < t->n; i++) {
        const coro_inspect_slot *c = &t->rows[i];
        if (c->resumer == r->id && c != r &&
            (c->state == 2 || (c->state == 3 && c->block == CORO_INSPECT_RESUMING)))
            return c;
    }
    return NULL;
}

static void name_of(const vz_table *t, uint64_t id, char *buf, size_t n)
{
    const coro_inspect_slot *c = vz_table_find(t, id);
    if (c)
        snprintf(buf, n, "%s (#%llu)", c->name, (unsigned long long)id);
    else
        snprintf(buf, n, "#%llu", (unsigned long long)id);
}

/* A ready coroutine, by the cause its waker recorded (trace-format.md). */
static void ready(const char *cause, char *buf, size_t n)
{
    static const char *const says[][2] = {
        {"start", "ready to start"},      {"ready", "ready again after a yield"},
        {"io", "ready: its io is ready"}, {"timer", "ready: its timer fired"},
        {"post", "ready: posted to it"},  {"wake", "ready: woken"},
    };
    for (size_t i = 0; i < sizeof says / sizeof *says; i++)
        if (!strcmp(cause, says[i][0])) {
            snprintf(buf, n, "%s", says[i][1]);
            return;
        }
    snprintf(buf, n, "ready: %s", cause[0] ? cause : "?");
}

void vz_table_waits(const vz_table *t, const coro_inspect_slot *r, char *buf, size_t n)
{
    char who[96];
    buf[0] = 0;
    switch (r->state) {
    case 0:
        snprintf(buf, n, "not started");
        return;
    case 1:
        ready(r->reason, buf, n);
        return;
    case 2:
        if (r->flags & CORO_INSPECT_LOOP) snprintf(buf, n, "event loop \"%s\"", r->obj);
        return;
    case 4:
        snprintf(buf, n, "finished, not destroyed");
        return;
    }
    switch (r->block) {
    case CORO_INSPECT_YIELDED:
        snprintf(buf, n, "yielded");
        break;
    case CORO_INSPECT_RESUMING: {
        const coro_inspect_slot *c = resumed(t, r);
        if (c) name_of(t, c->id, who, sizeof who);
        snprintf(buf, n, "resumed %s", c ? who : "another");
        break;
    }
    case CORO_INSPECT_AWAITING:
        name_of(t, r->awaiting, who, sizeof who);
        snprintf(buf, n, "await %s", who);
        break;
    default: {
        size_t k = (size_t)snprintf(buf, n, "%s", r->op[0] ? r->op : r->reason);
        if (r->obj[0] && k < n) k += (size_t)snprintf(buf + k, n - k, " %s", r->obj);
        if (r->fd >= 0 && k < n) k += (size_t)snprintf(buf + k, n - k, " fd=%d", r->fd);
        if (r->ms > 0 && k < n) snprintf(buf + k, n - k, " %lld ms", (long long)r->ms);
        break;
    }
    }
}

void vz_table_since(const vz_table *t, const coro_inspect_slot *r, char *buf, size_t n)
{
    uint64_t ns = t->now_ns > r->since_ns ? t->now_ns - r->since_ns : 0;
    /* stamped with the kernel's tick clock: milliseconds at best */
    if (ns < 1000000000)
        snprintf(buf, n, "%llums", (unsigned long long)(ns / 1000000));
    else if (ns < 60 * 1000000000ull)
        snprintf(buf, n, "%.1fs", (double)ns / 1e9);
    else if (ns < 3600 * 1000000000ull)
        snprintf(buf, n, "%llum%02llus", (unsigned long long)(ns / 60000000000ull),
                 (unsigned long long)(ns / 1000000000ull % 60));
    else
        snprintf(buf, n, "%lluh%02llum", (unsigned long long)(ns / 3600000000000ull),
                 (unsigned long long)(ns / 60000000000ull % 60));
}

const char *vz_table_state(const coro_inspect_slot *r)
{
    static const char *names[] = {"created", "ready", "running", "suspended", "dead"};
    return r->state < 5 ? names[r->state] : "?";
}
