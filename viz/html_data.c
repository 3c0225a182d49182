/*
 * html_data.c - the data a `coroscope html` page carries: the run's events
 * and the viewer's model of it, as one JSON object read by stepper.js.
 *
 * The model (model.c) is replayed here, once; after each event the rows of
 * the coroutines that event touched are compared with what the page
 * already knows, and the rows that changed travel with the event. The page
 * rebuilds the frame after event i by applying those rows from a
 * checkpoint, so the frame logic exists once, in C, and a page of 100,000
 * events stays small (most events change one or two rows).
 *
 * The object (indices count from 0; "str" is an index into strs, -1 none):
 *   program, trace, logical, graph, fold   about the run and the page
 *   total, lo, cut, window, max, lost      the trace has `total` events; the
 *                                          page holds ev.length of them from
 *                                          index lo; cut: it left later ones out
 *   gaps   [[page index, events lost just before it], ...]
 *   ending what every view says when the run did not end cleanly, or ""
 *   states the model's state names; kinds the event kind names
 *   co     per coroutine or object: [id, final name str, function str,
 *          is object, object kind str, graph node id]
 *   init   rows of the coroutines that exist before the first event shown
 *   ev     per event: [seq, ts, kind, thread, co, from, to, by, obj, why str,
 *          file str, line, log line, [rows], [wait result, loop], edge] with
 *          parties as coroutine index + 1 (0 none); why is the cause or
 *          reason; then the frame view's lines on a wait's error result and
 *          on the loop in epoll_wait (text or null each); edge: the k of the
 *          graph's edge "e<k>" the event drew (the graph view decides), or 0
 *   row    [coroutine, state, waits-for str, awaited coroutine + 1, thread,
 *          name str, ready: the event that made it ready, or -1]
 *   src    {"file as the trace names it": its text, or null if not found}
 *   strs   the strings
 * Strings are escaped so that the JSON can sit inside a <script> element.
 */
#include <stdlib.h>
#include <string.h>

#include "html_data.h"

#ifndef VZ_SOURCE_DIR
#define VZ_SOURCE_DIR ""
#endif

enum { SRC_MAX_FILE = 1 << 20, SRC_MAX_TOTAL = 8 << 20 };

/* ---- JSON strings safe inside <script> ---- */

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0], min;
    size_t n;
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0)
        n = 2, min = 0x80, c &= 0x1f;
    else if ((c & 0xf0) == 0xe0)
        n = 3, min = 0x800, c &= 0x0f;
    else if ((c & 0xf8) == 0xf0)
        n = 4, min = 0x10000, c &= 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    return n;
}

static void json_str(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    putc('"', f);
    while (*s) {
        unsigned c = *s;
        size_t n = utf8_len(s);
        if (!n) {
            fputs("\\ufffd", f);
            s++;
            continue;
        }
        if (c == '"' || c == '\\')
            putc('\\', f), putc((int)c, f);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&')
            fprintf(f, "\\u%04x", c);
        else if (n == 3 && c == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
            fprintf(f, "\\u%04x", s[2] == 0xa8 ? 0x2028 : 0x2029);
        else
            fwrite(s, 1, n, f);
        s += n;
    }
    putc('"', f);
}

/* ---- the string table: interned pointers -> indices ---- */

typedef struct strtab {
    const char **s;
    size_t n, cap;
    size_t *slot; /* open addressing: index + 1 */
    size_t slots;
} strtab;

static size_t ptr_hash(const void *p, size_t slots)
{
    return (size_t)((uintptr_t)p * 11400714819323198485u >> 7) & (slots - 1);
}

static long str_index(strtab *t, const char *s)
{
    if (!s) return -1;
    if (t->n * 2 >= t->slots) {
        size_t ns = t->slots ? t->slots * 2 : 256;
        size_t *slot = calloc(ns, sizeof *slot);
        if (!slot) abort();
        for (size_t i = 0; i < t->n; i++) {
            size_t j = ptr_hash(t->s[i], ns);
            while (slot[j]) j = (j + 1) & (ns - 1);
            slot[j] = i + 1;
        }
        free(t->slot);
        t->slot = slot;
        t->slots = ns;
    }
    size_t j = ptr_hash(s, t->slots);
    for (; t->slot[j]; j = (j + 1) & (t->slots - 1))
        if (t->s[t->slot[j] - 1] == s) return (long)t->slot[j] - 1;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->s = realloc(t->s, t->cap * sizeof *t->s);
        if (!t->s) abort();
    }
    t->s[t->n] = s;
    t->slot[j] = ++t->n;
    return (long)t->n - 1;
}

/* ---- rows of the model ---- */

/* What the page knows of one coroutine. state -1: not seen yet; ready:
 * while ready, the event that made it so (the ready queue's order). */
typedef struct row {
    int state;
    const char *waiting, *name;
    uint64_t awaiting;
    unsigned thread;
    long ready;
} row;

/* The replay: the model, the row the page holds of each coroutine, and
 * the event of each one's latest spawn or wake. */
typedef struct replay {
    vz_model m;
    row *shadow;
    long *ready_at;
    size_t n, cap;
} replay;

static row row_of(const replay *r, size_t k)
{
    const vz_coro *c = &r->m.co[k];
    bool susp = c->state == VZ_SUSPENDED;
    return (row){(int)c->state, susp ? c->waiting : NULL,
                 c->name,       susp ? c->awaiting : 0,
                 c->thread,     c->state == VZ_READY ? r->ready_at[k] : -1};
}

static bool row_eq(row a, row b)
{
    return a.state == b.state && a.waiting == b.waiting && a.name == b.name &&
           a.awaiting == b.awaiting && a.thread == b.thread && a.ready == b.ready;
}

/* Apply event i; new coroutines start unseen by the page. */
static void advance(replay *r, const coro_trace_ev *ev, size_t i)
{
    vz_model_apply(&r->m, ev);
    if (r->m.n > r->cap) {
        r->cap = r->m.cap;
        r->shadow = realloc(r->shadow, r->cap * sizeof *r->shadow);
        r->ready_at = realloc(r->ready_at, r->cap * sizeof *r->ready_at);
        if (!r->shadow || !r->ready_at) abort();
    }
    for (; r->n < r->m.n; r->n++) {
        r->shadow[r->n] = (row){.state = -1, .ready = -1};
        r->ready_at[r->n] = -1;
    }
    const vz_coro *c = ev->co.id ? vz_model_find(&r->m, ev->co.id) : NULL;
    if (c && (ev->kind == CORO_EV_SPAWN || ev->kind == CORO_EV_WAKE))
        r->ready_at[c - r->m.co] = (long)i;
}

static long index_of(const vz_model *m, uint64_t id)
{
    const vz_coro *c = id ? vz_model_find(m, id) : NULL;
    return c ? (long)(c - m->co) : -1;
}

static void write_row(FILE *f, const vz_model *m, strtab *st, size_t k, row r)
{
    fprintf(f, "[%zu,%d,%ld,%ld,%u,%ld,%ld]", k, r.state, str_index(st, r.waiting),
            index_of(m, r.awaiting) + 1, r.thread, str_index(st, r.name), r.ready);
}

/* ---- sources ---- */

/* Only what looks like a program's source, named relative to its tree, is
 * embedded: a trace cannot make the page carry any other file. */
static bool source_name(const char *file)
{
    static const char *ext[] = {".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".S"};
    if (!*file || file[0] == '/' || strstr(file, "..")) return false;
    const char *dot = strrchr(file, '.');
    for (size_t i = 0; dot && i < sizeof ext / sizeof *ext; i++)
        if (!strcmp(dot, ext[i])) return true;
    return false;
}

static char *read_source(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = malloc(SRC_MAX_FILE + 1);
    size_t n = text ? fread(text, 1, SRC_MAX_FILE + 1, f) : 0;
    fclose(f);
    if (!text || n > SRC_MAX_FILE || memchr(text, 0, n)) {
        free(text);
        return NULL;
    }
    text[n] = 0;
    return text;
}

/* Look for file under --src; else here, in the trace's folder and its
 * parents, and in the source tree this coroscope was built from. */
static char *find_source(const vz_trace *t, const vz_opts *o, const char *file)
{
    char path[8192];
    if (!source_name(file)) return NULL;
    if (o->src) {
        snprintf(path, sizeof path, "%s/%s", o->src, file);
        return read_source(path);
    }
    char *text = read_source(file);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", t->path ? t->path : ".");
    for (int up = 0; !text && up < 5; up++) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else if (!strcmp(dir, ".") || !strcmp(dir, ".."))
            snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/..");
        else
            snprintf(dir, sizeof dir, ".");
        snprintf(path, sizeof path, "%s/%s", *dir ? dir : "/", file);
        text = read_source(path);
    }
    const char *tree = getenv("COROSCOPE_SOURCE_DIR"); /* as `coroscope tutorial` reads it */
    if (!tree || !*tree) tree = VZ_SOURCE_DIR;
    if (!text && *tree) {
        snprintf(path, sizeof path, "%s/%s", tree, file);
        text = read_source(path);
    }
    return text;
}

static void write_sources(FILE *f, const vz_trace *t, const vz_opts *o, size_t lo, size_t hi)
{
    strtab files = {0};
    for (size_t i = lo; i < hi; i++)
        if (t->ev[i].file) str_index(&files, t->ev[i].file);
    size_t total = 0;
    fputs(",\"src\":{", f);
    for (size_t k = 0; k < files.n; k++) {
        char *text = total < SRC_MAX_TOTAL ? find_source(t, o, files.s[k]) : NULL;
        if (k) putc(',', f);
        json_str(f, files.s[k]);
        putc(':', f);
        if (text) {
            json_str(f, text);
            total += strlen(text);
        } else {
            fputs("null", f);
        }
        free(text);
    }
    putc('}', f);
    free(files.s);
    free(files.slot);
}

/* ---- the object ---- */

static void window(const vz_trace *t, const vz_opts *o, size_t *lo, size_t *hi, bool *cut)
{
    size_t a = 0, b = t->n;
    while (o->from && a < t->n && t->ev[a].seq < o->from) a++;
    while (o->to && b > a && t->ev[b - 1].seq > o->to) b--;
    size_t max = o->first ? o->first : VZ_HTML_MAX_EVENTS;
    *cut = b - a > max;
    if (*cut) b = a + max;
    *lo = a;
    *hi = b;
}

static void write_event(FILE *f, const vz_trace *t, size_t i, const vz_model *m, strtab *st)
{
    const coro_trace_ev *ev = &t->ev[i];
    char line[1024];
    coro_trace_format(ev, line, sizeof line, t->logical ? CORO_FMT_LOGICAL : 0);
    fprintf(f, "[%llu,%llu,%d,%u,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%d,", (unsigned long long)ev->seq,
            (unsigned long long)ev->ts, (int)ev->kind, ev->thread, index_of(m, ev->co.id) + 1,
            index_of(m, ev->from.id) + 1, index_of(m, ev->to.id) + 1, index_of(m, ev->by.id) + 1,
            index_of(m, ev->obj.id) + 1, str_index(st, ev->cause ? ev->cause : ev->reason),
            str_index(st, ev->file), ev->file ? ev->line : 0);
    json_str(f, line);
    putc(',', f);
}

/* One line a function prints into f as a JSON string, or null. */
static void json_line(FILE *f, const vz_trace *t, size_t i, const vz_model *m, int which)
{
    static char buf[1024];
    FILE *mem = fmemopen(buf, sizeof buf, "w");
    long len = 0;
    if (mem) {
        if (which == 0)
            vz_frame_wait_result(&t->ev[i], mem);
        else
            vz_frame_loop_line(t, i, m, mem);
        fflush(mem);
        len = ftell(mem);
        fclose(mem);
    }
    while (len > 0 && buf[len - 1] == '\n') len--;
    if (len <= 0) {
        fputs("null", f);
        return;
    }
    buf[len < (long)sizeof buf ? len : (long)sizeof buf - 1] = 0;
    json_str(f, buf);
}

/* The frame view's lines about event i: a wait's error result, and the
 * loop blocking in or back from epoll_wait. */
static void write_notes(FILE *f, const vz_trace *t, size_t i, const vz_model *m)
{
    putc('[', f);
    json_line(f, t, i, m, 0);
    putc(',', f);
    json_line(f, t, i, m, 1);
    putc(']', f);
}

/* Replay events [lo, hi) writing each with the rows it changed. */
static void write_events(FILE *f, const vz_trace *t, size_t lo, size_t hi, replay *r, strtab *st,
                         const uint32_t *edge_of)
{
    fputs(",\"ev\":[", f);
    for (size_t i = lo; i < hi; i++) {
        const coro_trace_ev *ev = &t->ev[i];
        advance(r, ev, i);
        if (i > lo) putc(',', f);
        write_event(f, t, i, &r->m, st);
        const uint64_t touched[] = {ev->co.id, ev->from.id, ev->to.id, ev->by.id, ev->obj.id};
        long done[5];
        size_t nd = 0;
        bool any = false;
        putc('[', f);
        for (size_t p = 0; p < 5; p++) {
            long k = index_of(&r->m, touched[p]);
            bool skip = k < 0;
            for (size_t d = 0; d < nd && !skip; d++) skip = done[d] == k;
            if (skip) continue;
            done[nd++] = k;
            row now = row_of(r, (size_t)k);
            if (row_eq(now, r->shadow[k])) continue;
            r->shadow[k] = now;
            if (any) putc(',', f);
            write_row(f, &r->m, st, (size_t)k, now);
            any = true;
        }
        fputs("],", f);
        write_notes(f, t, i, &r->m);
        fprintf(f, ",%u]", edge_of ? edge_of[i] : 0);
    }
    putc(']', f);
}

/* What the page says about the run and about itself. */
static void write_about(FILE *f, const vz_trace *t, const vz_opts *o, size_t lo, size_t hi,
                        bool cut, bool fold, bool graph)
{
    uint64_t lost = 0;
    for (size_t g = 0; g < t->ngaps; g++) lost += t->gaps[g].count;
    fputs("\"program\":", f);
    json_str(f, t->program ? t->program : "");
    fputs(",\"trace\":", f);
    const char *base = t->path ? strrchr(t->path, '/') : NULL;
    json_str(f, base ? base + 1 : t->path ? t->path : "");
    fprintf(f,
            ",\"logical\":%s,\"graph\":%s,\"fold\":%s,\"total\":%zu,\"lo\":%zu,\"cut\":%s,"
            "\"window\":%s,\"max\":%zu,\"lost\":%llu,\"gaps\":[",
            t->logical ? "true" : "false", graph ? "true" : "false", fold ? "true" : "false", t->n,
            lo, cut ? "true" : "false", o->from || o->to ? "true" : "false",
            o->first ? o->first : (size_t)VZ_HTML_MAX_EVENTS, (unsigned long long)lost);
    bool first = true;
    for (size_t g = 0; g < t->ngaps; g++) {
        size_t at = t->gaps[g].index;
        if (at < lo || at >= hi) continue;
        fprintf(f, "%s[%zu,%llu]", first ? "" : ",", at - lo, (unsigned long long)t->gaps[g].count);
        first = false;
    }
    fputs("],\"ending\":", f);
    char *ending = NULL;
    size_t elen = 0;
    FILE *mem = open_memstream(&ending, &elen);
    if (mem) {
        vz_report_ending(t, mem); /* the words every view uses */
        fclose(mem);
    }
    json_str(f, ending ? ending : "");
    free(ending);
    fputs(",\"states\":[", f);
    for (int s = VZ_CREATED; s <= VZ_DEAD; s++) {
        if (s) putc(',', f);
        json_str(f, vz_state_name((vz_state)s));
    }
    fputs("],\"kinds\":[", f);
    for (int k = 0; k < CORO_EV__COUNT; k++) {
        if (k) putc(',', f);
        json_str(f, coro_ev_kind_name((coro_ev_kind)k));
    }
    putc(']', f);
}

/* The first `shown` coroutines with what the whole run says of them (as
 * the graph view saw it: final names), each naming its graph node. */
static void write_coroutines(FILE *f, const vz_model *m, size_t shown, bool fold, strtab *st)
{
    fputs(",\"co\":[", f);
    for (size_t k = 0; k < shown; k++) {
        const vz_coro *c = &m->co[k];
        char node[32];
        vz_graph_node_id(c->id, fold && !c->is_object ? vz_fold_name(c->name) : NULL, node,
                         sizeof node);
        fprintf(f, "%s[%llu,%ld,%ld,%d,%ld,\"%s\"]", k ? "," : "", (unsigned long long)c->id,
                str_index(st, c->name), str_index(st, c->fn), c->is_object,
                str_index(st, c->obj_kind), node);
    }
    putc(']', f);
}

int vz_html_data(FILE *f, const vz_trace *t, const vz_opts *o, bool fold, const uint32_t *edge_of)
{
    size_t lo, hi;
    bool cut;
    window(t, o, &lo, &hi, &cut);
    strtab st = {0};
    replay r = {0};
    vz_model_init(&r.m);
    for (size_t i = 0; i < lo; i++) advance(&r, &t->ev[i], i);
    putc('{', f);
    write_about(f, t, o, lo, hi, cut, fold, edge_of != NULL);

    /* The coroutines that exist before the window, as the page starts. */
    fputs(",\"init\":[", f);
    for (size_t k = 0; k < r.n; k++) {
        r.shadow[k] = row_of(&r, k);
        if (k) putc(',', f);
        write_row(f, &r.m, &st, k, r.shadow[k]);
    }
    putc(']', f);
    write_events(f, t, lo, hi, &r, &st, edge_of);

    size_t shown = r.m.n;
    for (size_t i = hi; i < t->n; i++) vz_model_apply(&r.m, &t->ev[i]);
    write_coroutines(f, &r.m, shown, fold, &st);
    write_sources(f, t, o, lo, hi);
    fputs(",\"strs\":[", f);
    for (size_t k = 0; k < st.n; k++) {
        if (k) putc(',', f);
        json_str(f, st.s[k]);
    }
    fputs("]}", f);
    free(r.shadow);
    free(r.ready_at);
    free(st.s);
    free(st.slot);
    vz_model_free(&r.m);
    return VZ_OK;
}
