/*
 * view_ps.c - `coroscope ps PID`, `pstree PID` and `top PID`: the
 * coroutines of a running program, read from the table it publishes when
 * started with CORO_INSPECT=1 or traced (table.c, coro/inspect.h). The
 * program is neither stopped nor slowed: these only read shared memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "table.h"
#include "viz.h"

static const char *const help_ps =
    "usage: coroscope ps PID\n\n"
    "The coroutines of a running program started with CORO_INSPECT=1 (or traced):\n"
    "id, thread, state, time in that state, name, what it waits on (the call, the\n"
    "object's name, the fd) and the coroutine awaiting it. The program is not stopped.\n\n"
    "options:\n  -h, --help        this help\n";
static const char *const help_pstree =
    "usage: coroscope pstree PID\n\n"
    "The coroutines of a running program started with CORO_INSPECT=1 (or traced), as\n"
    "a tree: each under the coroutine that created it, with its state, what it waits\n"
    "on, and who awaits it.\n\n"
    "options:\n  -h, --help        this help\n";
static const char *const help_top =
    "usage: coroscope top [-n N] [-d SECONDS] PID\n\n"
    "The table of `coroscope ps`, refreshed, longest in its state first (the\n"
    "coroutines waiting longest at the top), until the program exits.\n\n"
    "options:\n"
    "  -n N              N refreshes, then exit (default: until interrupted)\n"
    "  -d SECONDS        between refreshes (default 1; fractions allowed)\n"
    "  -h, --help        this help\n";

static const char *color_of(const coro_inspect_slot *r)
{
    switch (r->state) {
    case 1:
        return "\033[36m";
    case 2:
        return "\033[32m";
    case 3:
        return "\033[33m";
    case 4:
        return "\033[90m";
    default:
        return "";
    }
}

static size_t threads_in(const vz_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) seen = t->rows[j].thread == t->rows[i].thread;
        n += !seen;
    }
    return n;
}

static void title(const vz_table *t, FILE *out)
{
    size_t th = threads_in(t);
    fprintf(out, "%s (pid %d): %zu coroutine%s on %zu thread%s\n", t->h.program, t->pid, t->n,
            t->n == 1 ? "" : "s", th, th == 1 ? "" : "s");
}

static void not_shown(const vz_table *t, FILE *out)
{
    if (t->unreadable)
        fprintf(out, "and %zu more changing too fast to read whole\n", t->unreadable);
    if (t->h.not_shown)
        fprintf(out,
                "and %llu more not shown: the table's %u rows are full (CORO_INSPECT_SLOTS=N "
                "makes more)\n",
                (unsigned long long)t->h.not_shown, t->h.capacity);
}

static int by_id(const void *a, const void *b)
{
    const coro_inspect_slot *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int by_age(const void *a, const void *b)
{
    const coro_inspect_slot *x = a, *y = b;
    if (x->since_ns != y->since_ns) return x->since_ns < y->since_ns ? -1 : 1;
    if ((x->state == 2) != (y->state == 2)) return x->state == 2 ? 1 : -1; /* waiting first */
    return by_id(a, b);
}

/* The table, at most max rows (0: all). */
static void print_rows(const vz_table *t, FILE *out, bool color, size_t max)
{
    enum { WAITS = 160 };
    size_t wname = 4, wwait = 8, wid = 2;
    char buf[WAITS];
    for (size_t i = 0; i < t->n; i++) {
        const coro_inspect_slot *r = &t->rows[i];
        size_t k = strlen(r->name);
        if (k > wname) wname = k;
        vz_table_waits(t, r, buf, sizeof buf);
        if ((k = strlen(buf)) > wwait) wwait = k;
        k = (size_t)snprintf(buf, sizeof buf, "%llu", (unsigned long long)r->id);
        if (k > wid) wid = k;
    }
    fprintf(out, "%*s  %3s  %-9s  %7s  %-*s  %-*s  %s\n", (int)wid, "ID", "THR", "STATE", "FOR",
            (int)wname, "NAME", (int)wwait, "WAITS ON", "AWAITED BY");
    for (size_t i = 0; i < t->n && (!max || i < max); i++) {
        const coro_inspect_slot *r = &t->rows[i];
        char since[16], waits[WAITS], by[96] = "-";
        vz_table_since(t, r, since, sizeof since);
        vz_table_waits(t, r, waits, sizeof waits);
        const coro_inspect_slot *a = vz_table_awaiter(t, r);
        if (a) snprintf(by, sizeof by, "%s (#%llu)", a->name, (unsigned long long)a->id);
        fprintf(out, "%*llu  %3u  %s%-9s%s  %7s  %-*s  %-*s  %s\n", (int)wid,
                (unsigned long long)r->id, r->thread, color ? color_of(r) : "", vz_table_state(r),
                color ? "\033[0m" : "", since, (int)wname, r->name, (int)wwait,
                waits[0] ? waits : "-", by);
    }
    if (max && t->n > max) fprintf(out, "... %zu more\n", t->n - max);
}

static int do_ps(vz_table *t, FILE *out, bool color)
{
    qsort(t->rows, t->n, sizeof *t->rows, by_id);
    title(t, out);
    print_rows(t, out, color, 0);
    not_shown(t, out);
    return VZ_OK;
}

/* ---- pstree ---- */

/* The rows sorted by id, each with the index of its creator's row (ids
 * grow, so a creator is older: no cycle) and its children as a list. */
typedef struct tree {
    const vz_table *t;
    size_t *first, *next; /* child lists; t->n = none */
    char prefix[4096];
    bool many_threads;
    FILE *out;
} tree;

static size_t index_of(const vz_table *t, uint64_t id)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->rows[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->n && t->rows[lo].id == id ? lo : t->n;
}

static void node(tree *tr, size_t i, size_t plen, bool last, bool root)
{
    const vz_table *t = tr->t;
    const coro_inspect_slot *r = &t->rows[i];
    char waits[160];
    vz_table_waits(t, r, waits, sizeof waits);
    fprintf(tr->out, "%s%s%s #%llu %s%s%s", tr->prefix,
            root   ? ""
            : last ? "└─ "
                   : "├─ ",
            r->name, (unsigned long long)r->id, vz_table_state(r), waits[0] ? ": " : "", waits);
    const coro_inspect_slot *a = vz_table_awaiter(t, r);
    if (a && a->id == r->parent)
        fputs(", awaited", tr->out);
    else if (a)
        fprintf(tr->out, ", awaited by %s (#%llu)", a->name, (unsigned long long)a->id);
    if (root && r->parent)
        fprintf(tr->out, " (created by #%llu, gone)", (unsigned long long)r->parent);
    if (tr->many_threads) fprintf(tr->out, " [thread %u]", r->thread);
    fputc('\n', tr->out);
    const char *more = root ? "" : last ? "   " : "│  ";
    size_t add = strlen(more);
    if (plen + add + 1 > sizeof tr->prefix) { /* 800 levels deep: the rest are counted */
        size_t n = 0;
        for (size_t c = tr->first[i]; c < t->n; c = tr->next[c]) n++;
        if (n) fprintf(tr->out, "%s   ... %zu more levels down\n", tr->prefix, n);
        return;
    }
    memcpy(tr->prefix + plen, more, add + 1);
    for (size_t c = tr->first[i]; c < t->n; c = tr->next[c])
        node(tr, c, plen + add, tr->next[c] >= t->n, false);
    tr->prefix[plen] = 0;
}

static int do_pstree(vz_table *t, FILE *out)
{
    qsort(t->rows, t->n, sizeof *t->rows, by_id);
    title(t, out);
    tree *tr = calloc(1, sizeof *tr);
    size_t *lists = calloc(2 * t->n + 1, sizeof *lists);
    if (!tr || !lists) {
        free(tr);
        free(lists);
        return VZ_BADINPUT;
    }
    tr->t = t;
    tr->out = out;
    tr->first = lists;
    tr->next = lists + t->n;
    tr->many_threads = threads_in(t) > 1;
    for (size_t i = 0; i < t->n; i++) tr->first[i] = tr->next[i] = t->n;
    /* children in id order: link from the last, each at its list's head */
    for (size_t i = t->n; i-- > 0;) {
        size_t p = t->rows[i].parent ? index_of(t, t->rows[i].parent) : t->n;
        if (p < i) {
            tr->next[i] = tr->first[p];
            tr->first[p] = i;
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        size_t p = t->rows[i].parent ? index_of(t, t->rows[i].parent) : t->n;
        if (p >= i) node(tr, i, 0, true, true);
    }
    free(lists);
    free(tr);
    not_shown(t, out);
    return VZ_OK;
}

/* ---- top ---- */

static int do_top(vz_table *t, FILE *out, bool tty, bool color, long n, double delay)
{
    for (long i = 0; !n || i < n; i++) {
        if (i) {
            struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
            while (nanosleep(&ts, &ts) && errno == EINTR) continue;
            if (vz_table_read(t)) {
                fprintf(out, "coroscope top: pid %d has exited\n", t->pid);
                return VZ_OK;
            }
        }
        qsort(t->rows, t->n, sizeof *t->rows, by_age);
        size_t max = 0;
        struct winsize ws;
        if (tty) {
            fputs("\033[H\033[2J", out);
            if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row > 4) max = ws.ws_row - 4u;
        } else if (i) {
            fputc('\n', out);
        }
        size_t counts[5] = {0};
        for (size_t k = 0; k < t->n; k++) counts[t->rows[k].state < 5 ? t->rows[k].state : 0]++;
        title(t, out);
        fprintf(out, "%zu running, %zu ready, %zu suspended, %zu not started, %zu finished\n",
                counts[2], counts[1], counts[3], counts[0], counts[4]);
        print_rows(t, out, color, max);
        not_shown(t, out);
        fflush(out);
    }
    return VZ_OK;
}

/* ---- the command line ---- */

static bool parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = s && *s ? strtol(s, &end, 10) : -1;
    if (!s || !*s || *end || errno || v < 0) return false;
    *out = v;
    return true;
}

int vz_inspect(const char *cmd, int argc, char **argv)
{
    bool top = !strcmp(cmd, "top");
    const char *help = top ? help_top : !strcmp(cmd, "ps") ? help_ps : help_pstree;
    long pid = -1, n = 0;
    double delay = 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(help, stdout);
            return VZ_OK;
        } else if (top && (!strcmp(a, "-n") || !strcmp(a, "-d"))) {
            char *end = NULL;
            bool ok = i + 1 < argc;
            if (ok && a[1] == 'n') ok = parse_long(argv[i + 1], &n) && n > 0;
            if (ok && a[1] == 'd') {
                delay = strtod(argv[i + 1], &end);
                ok = end != argv[i + 1] && !*end && delay > 0 && delay < 86400;
            }
            if (!ok) {
                fprintf(stderr, "coroscope top: %s wants a %s, not '%s'\n", a,
                        a[1] == 'n' ? "number of refreshes" : "number of seconds",
                        i + 1 < argc ? argv[i + 1] : "");
                return VZ_USAGE;
            }
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "coroscope %s: unknown option '%s' (see coroscope %s --help)\n", cmd, a,
                    cmd);
            return VZ_USAGE;
        } else if (pid >= 0 || !parse_long(a, &pid) || pid == 0 || pid > 0x7fffffff) {
            fprintf(stderr, "coroscope %s: expected one process id, not '%s'\n", cmd, a);
            return VZ_USAGE;
        }
    }
    if (pid < 0) {
        fputs(help, stderr);
        return VZ_USAGE;
    }
    vz_table t;
    int rc = vz_table_open((int)pid, &t, cmd);
    if (rc) return rc;
    if ((rc = vz_table_read(&t))) {
        fprintf(stderr, "coroscope %s: pid %ld has exited\n", cmd, pid);
    } else {
        const char *nc = getenv("NO_COLOR");
        bool tty = isatty(STDOUT_FILENO);
        bool color = tty && !(nc && *nc);
        rc = top                      ? do_top(&t, stdout, tty, color, n, delay)
             : !strcmp(cmd, "pstree") ? do_pstree(&t, stdout)
                                      : do_ps(&t, stdout, color);
    }
    vz_table_close(&t);
    return rc;
}
