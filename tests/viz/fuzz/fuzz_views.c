/*
 * fuzz_views.c - libFuzzer target for the model and every view. Any input
 * must give a picture or a clean error: never a crash, a hang, a leak, an
 * undefined behaviour, invalid JSON from `perfetto` or `html` or invalid UTF-8 in any
 * output.
 *
 * Two ways in, chosen by FUZZ_MODE:
 *   json    the bytes are a trace file: reader, then the views (mutated
 *           JSON reaches the views only when it still parses)
 *   events  the bytes are a program of events, 8 bytes each (kind, parties,
 *           cause, optional fields, thread, gaps): every sequence of events,
 *           possible or not, reaches the model and the views directly
 * FUZZ_VIEW names one view (graph, seq, states, perfetto, frame, step,
 * check, stats, log, html, all); default all.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "html_data.h"
#include "viz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *view_env(void)
{
    const char *v = getenv("FUZZ_VIEW");
    return v && *v ? v : "all";
}

static bool want(const char *name)
{
    const char *v = view_env();
    return !strcmp(v, "all") || !strcmp(v, name);
}

typedef int (*view_fn)(const vz_trace *, const vz_opts *, FILE *);

/* Runs a view into memory and checks what any output must be. */
static void run(view_fn fn, const vz_trace *t, const vz_opts *o, bool json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) abort();
    fn(t, o, f);
    fclose(f);
    if (!vz_utf8_valid(buf)) {
        fprintf(stderr, "fuzz: a view wrote invalid UTF-8\n");
        abort();
    }
    if (json) {
        cJSON *root = cJSON_ParseWithLength(buf, len);
        if (!root) {
            fprintf(stderr, "fuzz: a view wrote invalid JSON:\n%.2000s\n", buf);
            abort();
        }
        cJSON_Delete(root);
    }
    free(buf);
}

/* coroscope html's data (the page less Graphviz's picture): JSON a page parses. */
static int html_data(const vz_trace *t, const vz_opts *o, FILE *f)
{
    return vz_html_data(f, t, o, o->fold, NULL);
}

static void views(const vz_trace *t, const uint8_t *data, size_t size)
{
    vz_opts o = {.fd = -1, .kind = -1};
    uint8_t k = size ? data[size - 1] : 0;
    o.fold = k & 1;
    if (k & 2) o.max_nodes = 1 + (k >> 4);
    if (want("graph")) run(vz_view_graph, t, &o, false);
    if (want("seq")) {
        vz_opts s = o;
        if (k & 4) s.from = k >> 3, s.to = k;
        if (k & 8) s.first = 1 + (k >> 5);
        run(vz_view_seq, t, &s, false);
    }
    if (want("states")) run(vz_view_states, t, &o, false);
    if (want("perfetto")) run(vz_view_perfetto, t, &o, true);
    if (want("check")) run(vz_view_check, t, &o, false);
    if (want("stats")) run(vz_view_stats, t, &o, false);
    if (want("log")) {
        vz_opts l = o;
        if (k & 4) l.fd = k & 15;
        if (k & 8) l.coro = "a";
        if (k & 16) l.kind = k % CORO_EV__COUNT;
        run(vz_view_log, t, &l, false);
    }
    if (want("frame") && t->n) {
        vz_opts fr = o;
        for (size_t i = 0; i < t->n && i < 64; i += 1 + t->n / 8) {
            fr.frame = t->ev[i].seq;
            run(vz_view_frame, t, &fr, false);
        }
        fr.frame = t->ev[t->n - 1].seq + 5; /* out of range: an error, not a crash */
        run(vz_view_frame, t, &fr, false);
    }
    if (want("html")) {
        vz_opts h = o;
        if (k & 4) h.from = k >> 3, h.to = k;
        if (k & 8) h.first = 1 + (k >> 5);
        run(html_data, t, &h, true);
    }
    if (want("step") && t->n) {
        vz_opts st = o;
        st.script = "n n b j 3 c a C b n 4 b 2 c main C main j 999999 x q";
        run(vz_view_step, t, &st, false);
    }
}

/* ---- json mode ---- */

static void from_json(const uint8_t *data, size_t size)
{
    int fd = memfd_create("trace", 0);
    if (fd < 0) return;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    vz_trace t;
    if (vz_read(path, &t, false) == 0) {
        views(&t, data, size);
        vz_free(&t);
    }
    close(fd);
}

/* ---- events mode ---- */

static const char *const names[] = {
    "main",        "a",           "b",          "echo#1",     "echo#2", "new\nline",
    "esc\x1b[31m", "bad\xff\xfe", "c1\xc2\x9b", "quote\"{x}", "",       "loop"};
static const char *const causes[] = {NULL, "start", "resume", "return", "continuation", "ready",
                                     "io", "timer", "post",   "wake",   "steal",        ""};
static const char *const reasons[] = {NULL, "yield", "io", "await", "channel", "lock", "timer"};
static const char *const kinds[] = {NULL, "context", "conn", "acceptor", "chan", "timer"};

#define NIDS 80

static const char *name_of(unsigned id)
{
    return names[id % (sizeof names / sizeof *names)];
}

static void from_events(const uint8_t *data, size_t size)
{
    size_t n = size / 8;
    if (n > 4096) n = 4096;
    vz_trace t = {0};
    t.path = "fuzz.jsonl";
    t.program = strdup("fuzz");
    t.logical = size & 1;
    t.ev = calloc(n + 1, sizeof *t.ev);
    t.lineno = calloc(n + 1, sizeof *t.lineno);
    t.gaps = calloc(n + 1, sizeof *t.gaps);
    if (!t.program || !t.ev || !t.lineno || !t.gaps) abort();
    uint64_t seq = 0, ts = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *b = data + i * 8;
        coro_trace_ev *ev = &t.ev[t.n];
        memset(ev, 0, sizeof *ev);
        ev->kind = (coro_ev_kind)(b[0] % CORO_EV__COUNT);
        unsigned co = b[1] % NIDS, from = b[2] % NIDS, to = b[3] % NIDS, other = b[4] % NIDS;
        if (co) ev->co = (coro_trace_ref){co, vz_intern(name_of(co))};
        if (from) ev->from = (coro_trace_ref){from, vz_intern(name_of(from))};
        if (to) ev->to = (coro_trace_ref){to, vz_intern(name_of(to))};
        if (other && (b[5] & 1)) ev->by = (coro_trace_ref){other, vz_intern(name_of(other))};
        if (other && (b[5] & 2)) {
            ev->obj = (coro_trace_ref){other, vz_intern(name_of(other + 1))};
            ev->obj_kind = vz_intern(kinds[(b[5] >> 2) % 6] ? kinds[(b[5] >> 2) % 6] : "conn");
        }
        ev->cause = vz_intern(causes[b[6] % (sizeof causes / sizeof *causes)]);
        ev->reason = vz_intern(reasons[(b[6] >> 4) % (sizeof reasons / sizeof *reasons)]);
        if (b[5] & 0x20) ev->detail = vz_intern(name_of(b[6]));
        if (b[5] & 0x40) ev->file = vz_intern("tests/viz/fuzz/fuzz_views.c"), ev->line = b[4];
        if (b[7] & 1) ev->has |= CORO_EVH_FD, ev->fd = b[4] % 12;
        if (b[7] & 2) ev->has |= CORO_EVH_EVENTS, ev->events = b[3];
        if (b[7] & 4)
            ev->has |= CORO_EVH_TIMEOUT | CORO_EVH_NREADY, ev->timeout_ms = (int8_t)b[2],
                                                           ev->nready = b[3] % 5;
        if (b[7] & 8) ev->has |= CORO_EVH_WAIT, ev->wait = b[6] % 7;
        if (b[7] & 16)
            ev->has |= CORO_EVH_VALUE | CORO_EVH_DEPTH, ev->value = b[2], ev->depth = b[3] % 30;
        ev->thread = 1 + ((b[7] >> 5) & 1);
        if (b[7] & 0x40) {
            t.gaps[t.ngaps++] = (vz_gap){seq, 2, t.n};
            seq += 2;
        }
        ev->seq = ++seq;
        ts = t.logical ? seq : ts + (uint64_t)b[5] * (b[7] & 0x80 ? 1000000u : 100u);
        ev->ts = ts;
        t.lineno[t.n] = (uint32_t)t.n + 2;
        t.n++;
    }
    views(&t, data, size);
    free(t.program);
    free(t.ev);
    free(t.lineno);
    free(t.gaps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *mode = getenv("FUZZ_MODE");
    if (mode && !strcmp(mode, "events"))
        from_events(data, size);
    else
        from_json(data, size);
    return 0;
}
