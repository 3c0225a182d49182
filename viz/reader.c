/*
 * reader.c - a trace file into memory. The only file that knows the JSON
 * library (cJSON, chosen for speed: about 1.1 M events/s here against
 * jansson's 0.37 M), so swapping it touches nothing else.
 *
 * Streaming: one line is read, parsed into a small tree, copied into a
 * compact event with interned strings, and the tree freed; the file is never
 * held in memory. Errors name the file, the line and what was expected.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "viz.h"

/* ---- interning: an open-addressing set of strings ---- */

static const char **set;
static size_t set_cap, set_len;

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603u;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211u;
    return h;
}

const char *vz_intern(const char *s)
{
    if (!s) return NULL;
    if (set_len * 2 >= set_cap) {
        size_t ncap = set_cap ? set_cap * 2 : 1024;
        const char **n = calloc(ncap, sizeof *n);
        if (!n) abort();
        for (size_t i = 0; i < set_cap; i++)
            if (set[i]) {
                size_t j = hash(set[i]) & (ncap - 1);
                while (n[j]) j = (j + 1) & (ncap - 1);
                n[j] = set[i];
            }
        free(set);
        set = n;
        set_cap = ncap;
    }
    size_t j = hash(s) & (set_cap - 1);
    while (set[j]) {
        if (!strcmp(set[j], s)) return set[j];
        j = (j + 1) & (set_cap - 1);
    }
    /* The format promises UTF-8; a file that breaks the promise must not
     * carry invalid bytes into JSON, DOT or a terminal: they become U+FFFD
     * here, once per distinct string. */
    if (!vz_utf8_valid(s)) {
        char *clean = vz_utf8_clean(s);
        const char *r = vz_intern(clean);
        free(clean);
        return r;
    }
    char *copy = strdup(s);
    if (!copy) abort();
    set[j] = copy;
    set_len++;
    return copy;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF included). */
size_t vz_utf8_seq(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (!n || c > 0xf4) return 0;
    for (size_t k = 1; k < n; k++)
        if ((p[k] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && p[1] < 0xa0) return 0;
    if (c == 0xed && p[1] >= 0xa0) return 0;
    if (c == 0xf0 && p[1] < 0x90) return 0;
    if (c == 0xf4 && p[1] >= 0x90) return 0;
    return n;
}

bool vz_utf8_valid(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t n = vz_utf8_seq(p);
        if (!n) return false;
        p += n;
    }
    return true;
}

void vz_utf8_trim(char *s)
{
    /* Drop a sequence cut short at the end (by snprintf, say). */
    size_t n = strlen(s), k = n;
    while (k > 0 && n - k < 4 && ((unsigned char)s[k - 1] & 0xc0) == 0x80) k--;
    if (k > 0 && (unsigned char)s[k - 1] >= 0xc0 && !vz_utf8_seq((unsigned char *)s + k - 1))
        s[k - 1] = 0;
}

const char *vz_clip(const char *s, size_t max, char *buf, size_t cap)
{
    snprintf(buf, cap < max + 1 ? cap : max + 1, "%s", s ? s : "?");
    vz_utf8_trim(buf);
    return buf;
}

char *vz_utf8_clean(const char *s)
{
    char *out = malloc(strlen(s) * 3 + 1), *o = out;
    if (!out) abort();
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = vz_utf8_seq(p);
        if (n) {
            memcpy(o, p, n);
            o += n;
            p += n;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            p++;
        }
    }
    *o = 0;
    return out;
}

/* ---- an arena for cJSON ----
 * A line's tree is thrown away as soon as the event is copied out, so its
 * nodes come from a bump allocator that is reset per line: cJSON's own
 * malloc/free per node cost a third of the reading time. Blocks too big for
 * the arena (a 10 KB name) fall back to malloc and are freed at the reset. */

static char arena[1 << 16];
static size_t arena_used;
static void **spill;
static size_t nspill, spill_cap;

static void *arena_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (arena_used + n <= sizeof arena) {
        void *p = arena + arena_used;
        arena_used += n;
        return p;
    }
    void *p = malloc(n);
    if (!p) return NULL;
    if (nspill == spill_cap) {
        spill_cap = spill_cap ? spill_cap * 2 : 16;
        void **ns = realloc(spill, spill_cap * sizeof *spill);
        if (!ns) {
            free(p);
            return NULL;
        }
        spill = ns;
    }
    spill[nspill++] = p;
    return p;
}

static void arena_free(void *p)
{
    (void)p;
}

static void arena_reset(void)
{
    for (size_t i = 0; i < nspill; i++) free(spill[i]);
    nspill = 0;
    arena_used = 0;
}

/* ---- one line ---- */

typedef struct line_ctx {
    const char *path;
    unsigned long no;
} line_ctx;

static int bad(const line_ctx *c, const char *what, const char *key)
{
    if (key)
        fprintf(stderr, "%s:%lu: %s \"%s\"\n", c->path, c->no, what, key);
    else
        fprintf(stderr, "%s:%lu: %s\n", c->path, c->no, what);
    return VZ_BADINPUT;
}

static const cJSON *item(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* Keys of an event, for one pass over the object's members. */
enum key {
    K_SEQ,
    K_TS,
    K_THREAD,
    K_CO,
    K_CO_NAME,
    K_FROM,
    K_FROM_NAME,
    K_TO,
    K_TO_NAME,
    K_BY,
    K_BY_NAME,
    K_OBJ,
    K_OBJ_NAME,
    K_OBJ_KIND,
    K_CAUSE,
    K_REASON,
    K_DETAIL,
    K_FILE,
    K_FD,
    K_EVENTS,
    K_TIMEOUT,
    K_NREADY,
    K_WAIT,
    K_VALUE,
    K_DEPTH,
    K_LINE,
    K_KIND,
    K__COUNT
};
static const char *const key_names[K__COUNT] = {
    "seq",    "ts",      "thread", "co",      "co_name", "from",     "from_name",
    "to",     "to_name", "by",     "by_name", "obj",     "obj_name", "obj_kind",
    "cause",  "reason",  "detail", "file",    "fd",      "events",   "timeout_ms",
    "nready", "wait",    "value",  "depth",   "line",    "kind"};
static const bool key_is_string[K__COUNT] = {
    [K_CO_NAME] = 1,  [K_FROM_NAME] = 1, [K_TO_NAME] = 1, [K_BY_NAME] = 1,
    [K_OBJ_NAME] = 1, [K_OBJ_KIND] = 1,  [K_CAUSE] = 1,   [K_REASON] = 1,
    [K_DETAIL] = 1,   [K_FILE] = 1,      [K_KIND] = 1};

static int key_of(const char *k)
{
    /* Index the table by first letter once; then a few comparisons. */
    static signed char first[256][6];
    static bool ready;
    if (!ready) {
        memset(first, -1, sizeof first);
        for (int i = 0; i < K__COUNT; i++) {
            signed char *f = first[(unsigned char)key_names[i][0]];
            for (int j = 0; j < 6; j++)
                if (f[j] < 0) {
                    f[j] = (signed char)i;
                    break;
                }
        }
        ready = true;
    }
    const signed char *f = first[(unsigned char)k[0]];
    for (int j = 0; j < 6 && f[j] >= 0; j++)
        if (!strcmp(k, key_names[f[j]])) return f[j];
    return -1;
}

static int parse_event(const line_ctx *c, const cJSON *o, coro_trace_ev *ev)
{
    memset(ev, 0, sizeof *ev);
    const cJSON *v[K__COUNT] = {0};
    if (!cJSON_IsObject(o)) return bad(c, "event has no string", "kind");
    for (const cJSON *m = o->child; m; m = m->next) {
        int k = key_of(m->string);
        if (k < 0) continue; /* unknown keys are allowed: later versions may add some */
        if (key_is_string[k] ? !cJSON_IsString(m) : !cJSON_IsNumber(m))
            return bad(c, key_is_string[k] ? "expected a string for" : "expected a number for",
                       key_names[k]);
        v[k] = m;
    }
    /* Numbers become C integers: anything outside a field's range (or not
     * a whole number) is bad input, not undefined behaviour. */
    static const struct {
        int key;
        double lo, hi;
    } ranges[] = {{K_SEQ, 0, 9007199254740992.0},
                  {K_TS, 0, 9007199254740992.0},
                  {K_THREAD, 0, 65535},
                  {K_CO, 0, 9007199254740992.0},
                  {K_FROM, 0, 9007199254740992.0},
                  {K_TO, 0, 9007199254740992.0},
                  {K_BY, 0, 9007199254740992.0},
                  {K_OBJ, 0, 9007199254740992.0},
                  {K_WAIT, 0, 9007199254740992.0},
                  {K_FD, -1, 2147483647.0},
                  {K_EVENTS, 0, 4294967295.0},
                  {K_TIMEOUT, -9007199254740992.0, 9007199254740992.0},
                  {K_NREADY, 0, 2147483647.0},
                  {K_VALUE, -9007199254740992.0, 9007199254740992.0},
                  {K_DEPTH, 0, 100000},
                  {K_LINE, 0, 2147483647.0}};
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++) {
        const cJSON *r = v[ranges[i].key];
        if (!r) continue;
        double d = r->valuedouble;
        if (!(d >= ranges[i].lo && d <= ranges[i].hi) || d != (double)(int64_t)d) {
            fprintf(stderr, "%s:%lu: \"%s\" is %g, expected a whole number from %.0f to %.0f\n",
                    c->path, c->no, key_names[ranges[i].key], d, ranges[i].lo, ranges[i].hi);
            return VZ_BADINPUT;
        }
    }
    if (!v[K_KIND]) return bad(c, "event has no string", "kind");
    int kind = coro_ev_kind_parse(v[K_KIND]->valuestring);
    if (kind < 0) {
        fprintf(stderr, "%s:%lu: unknown event kind \"%s\"\n", c->path, c->no,
                v[K_KIND]->valuestring);
        return VZ_BADINPUT;
    }
    ev->kind = (coro_ev_kind)kind;
    static const int required[] = {K_SEQ, K_TS, K_THREAD, K_CO};
    for (int i = 0; i < 4; i++) {
        const cJSON *r = v[required[i]];
        if (!r) return bad(c, "event has no", key_names[required[i]]);
    }
    ev->seq = (uint64_t)v[K_SEQ]->valuedouble;
    ev->ts = (uint64_t)v[K_TS]->valuedouble;
    ev->thread = (unsigned)v[K_THREAD]->valuedouble;
    ev->co.id = (uint64_t)v[K_CO]->valuedouble;
#define STR(k) (v[k] ? vz_intern(v[k]->valuestring) : NULL)
#define NUM(k) (v[k] ? v[k]->valuedouble : 0)
    ev->co.name = STR(K_CO_NAME);
    ev->from = (coro_trace_ref){(uint64_t)NUM(K_FROM), STR(K_FROM_NAME)};
    ev->to = (coro_trace_ref){(uint64_t)NUM(K_TO), STR(K_TO_NAME)};
    ev->by = (coro_trace_ref){(uint64_t)NUM(K_BY), STR(K_BY_NAME)};
    ev->obj = (coro_trace_ref){(uint64_t)NUM(K_OBJ), STR(K_OBJ_NAME)};
    ev->obj_kind = STR(K_OBJ_KIND);
    ev->cause = STR(K_CAUSE);
    ev->reason = STR(K_REASON);
    ev->detail = STR(K_DETAIL);
    ev->file = STR(K_FILE);
    ev->line = (int)NUM(K_LINE);
    static const struct {
        int key;
        unsigned bit;
    } opt[] = {{K_FD, CORO_EVH_FD},           {K_EVENTS, CORO_EVH_EVENTS},
               {K_TIMEOUT, CORO_EVH_TIMEOUT}, {K_NREADY, CORO_EVH_NREADY},
               {K_WAIT, CORO_EVH_WAIT},       {K_VALUE, CORO_EVH_VALUE},
               {K_DEPTH, CORO_EVH_DEPTH}};
    for (size_t i = 0; i < sizeof opt / sizeof *opt; i++)
        if (v[opt[i].key]) ev->has |= opt[i].bit;
    ev->fd = (int)NUM(K_FD);
    ev->events = (uint32_t)NUM(K_EVENTS);
    ev->timeout_ms = (int64_t)NUM(K_TIMEOUT);
    ev->nready = (int)NUM(K_NREADY);
    ev->wait = (uint64_t)NUM(K_WAIT);
    ev->value = (int64_t)NUM(K_VALUE);
    ev->depth = (int)NUM(K_DEPTH);
#undef STR
#undef NUM
    return 0;
}

#define NOT_A_TRACE                                                                                \
    "not a coroscope trace: the first line must be the header "                                    \
    "{\"kind\":\"header\",\"format\":\"coroscope-trace\",...}"

static int header(const line_ctx *c, const cJSON *o, vz_trace *t)
{
    const cJSON *kind = item(o, "kind"), *fmt = item(o, "format"), *ver = item(o, "version");
    if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "header") || !cJSON_IsString(fmt) ||
        strcmp(fmt->valuestring, "coroscope-trace"))
        return bad(c, NOT_A_TRACE, NULL);
    if (!cJSON_IsNumber(ver)) return bad(c, "header has no number", "version");
    /* Compared as a double first: casting 1e300 to int is undefined, and
     * 1.9 is not version 1. */
    double vd = ver->valuedouble;
    if (!(vd >= 1 && vd <= CORO_TRACE_VERSION) || vd != (double)(int)vd) {
        fprintf(stderr,
                "%s:%lu: trace format version %g is not understood; this coroscope reads "
                "version %d\n",
                c->path, c->no, vd, CORO_TRACE_VERSION);
        return VZ_BADINPUT;
    }
    t->version = (int)vd;
    const cJSON *prog = item(o, "program"), *clk = item(o, "clock");
    t->program = vz_utf8_clean(cJSON_IsString(prog) ? prog->valuestring : "?");
    t->logical = cJSON_IsString(clk) && !strcmp(clk->valuestring, "logical");
    return 0;
}

/* A count of the end record: absent is 0; anything but a whole number from
 * 0 to 2^53 is bad input (it would print as 18446744073709551610 lost). */
static int count_of(const line_ctx *c, const cJSON *o, const char *key, uint64_t *out)
{
    const cJSON *v = item(o, key);
    *out = 0;
    if (!v) return 0;
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d) {
        fprintf(stderr, "%s:%lu: end record: \"%s\" must be a whole number from 0 to 2^53\n",
                c->path, c->no, key);
        return VZ_BADINPUT;
    }
    *out = (uint64_t)d;
    return 0;
}

static int end_record(const line_ctx *c, const cJSON *o, vz_trace *t)
{
    if (t->ended) return bad(c, "a second end record", NULL);
    t->ended = true;
    uint64_t sig;
    if (count_of(c, o, "events", &t->end_events) || count_of(c, o, "signal", &sig))
        return VZ_BADINPUT;
    if (sig > 64) return bad(c, "end record: \"signal\" is not a signal number", NULL);
    t->end_signal = (int)sig;
    return count_of(c, o, "dropped", &t->end_dropped);
}

static void push(vz_trace *t, const coro_trace_ev *ev, unsigned long no)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4096;
        t->ev = realloc(t->ev, t->cap * sizeof *t->ev);
        t->lineno = realloc(t->lineno, t->cap * sizeof *t->lineno);
        if (!t->ev || !t->lineno) {
            fprintf(stderr, "coroscope: out of memory reading %s\n", t->path);
            exit(VZ_BADINPUT);
        }
    }
    t->lineno[t->n] = (uint32_t)no;
    t->ev[t->n++] = *ev;
}

static void gap(vz_trace *t, uint64_t after, uint64_t count)
{
    t->gaps = realloc(t->gaps, (t->ngaps + 1) * sizeof *t->gaps);
    if (!t->gaps) abort();
    t->gaps[t->ngaps++] = (vz_gap){after, count, t->n};
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int vz_read(const char *path, vz_trace *t, bool progress)
{
    if (vz_is_binary(path)) return vz_read_bin(path, t, progress);
    memset(t, 0, sizeof *t);
    t->path = path;
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "coroscope: cannot open %s: %s\n", path, strerror(errno));
        return VZ_BADINPUT;
    }
    struct stat st;
    off_t total = fstat(fileno(f), &st) == 0 ? st.st_size : 0;
    double start = now_s(), last = start;
    bool shown = false;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    line_ctx c = {path, 0};
    cJSON_Hooks hooks = {arena_alloc, arena_free};
    cJSON_InitHooks(&hooks);
    int rc = 0;
    uint64_t last_seq = 0;
    while ((len = getline(&buf, &cap, f)) > 0) {
        c.no++;
        bool complete = buf[len - 1] == '\n';
        if (len == 1 && complete && c.no > 1) continue; /* blank line (not the header's) */
        arena_reset();
        cJSON *o = cJSON_ParseWithLength(buf, (size_t)len);
        if (!o) {
            if (!complete) {
                fprintf(stderr,
                        "%s:%lu: warning: the last line is cut short (was the program killed "
                        "while writing?); using the %zu events before it\n",
                        path, c.no, t->n);
                break;
            }
            rc = bad(&c, c.no == 1 ? NOT_A_TRACE : "not valid JSON", NULL);
            break;
        }
        if (c.no == 1) {
            rc = header(&c, o, t);
            (void)o; /* freed by arena_reset() */
            if (rc) break;
            continue;
        }
        const cJSON *kind = item(o, "kind");
        if (cJSON_IsString(kind) && !strcmp(kind->valuestring, "end")) {
            rc = end_record(&c, o, t);
            if (rc) break;
            continue;
        }
        coro_trace_ev ev;
        rc = parse_event(&c, o, &ev);
        (void)o; /* freed by arena_reset() */
        if (rc) break;
        if (ev.seq <= last_seq) {
            fprintf(stderr, "%s:%lu: seq %llu does not follow %llu (it must increase)\n", path,
                    c.no, (unsigned long long)ev.seq, (unsigned long long)last_seq);
            rc = VZ_BADINPUT;
            break;
        }
        if (ev.seq != last_seq + 1) gap(t, last_seq, ev.seq - last_seq - 1);
        last_seq = ev.seq;
        push(t, &ev, c.no);
        if (progress && (c.no & 0xffff) == 0) {
            double now = now_s();
            if (now - start > 1.0 && now - last > 0.2) {
                long pos = ftell(f);
                fprintf(stderr, "\rcoroscope: reading %s: %zu events (%ld%%)", path, t->n,
                        total ? (long)(100.0 * (double)pos / (double)total) : 0L);
                last = now;
                shown = true;
            }
        }
    }
    if (shown) fprintf(stderr, "\n");
    arena_reset();
    cJSON_InitHooks(NULL);
    free(buf);
    if (f != stdin) fclose(f);
    if (!rc && c.no == 0) {
        fprintf(stderr, "%s: empty file, not a coroscope trace\n", path);
        rc = VZ_BADINPUT;
    }
    if (!rc && t->ended && t->end_events > last_seq) gap(t, last_seq, t->end_events - last_seq);
    if (rc) vz_free(t); /* a failed read leaves nothing to free */
    return rc;
}

void vz_free(vz_trace *t)
{
    free(t->ev);
    free(t->lineno);
    free(t->gaps);
    free(t->program);
    memset(t, 0, sizeof *t);
}
