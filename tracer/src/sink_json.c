/*
 * sink_json.c - the JSON Lines trace, the project's public contract
 * (docs/trace-format.md).
 *
 * Written by hand rather than through a JSON library: an event is a flat
 * object of integers and strings, and appending digits and escaped bytes
 * straight into the output buffer costs a fraction of building a tree.
 * Every string is escaped so that the line is valid JSON whatever a name
 * contains: quotes, backslashes, control characters, and bytes that are not
 * UTF-8 (replaced by U+FFFD, so a reader never meets invalid text).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sink.h"

typedef struct out {
    char *p;
} out;

static void lit(out *o, const char *s, size_t n)
{
    memcpy(o->p, s, n);
    o->p += n;
}
#define LIT(o, s) lit((o), (s), sizeof(s) - 1)

static void u64(out *o, uint64_t v)
{
    char tmp[24];
    int i = 0;
    do {
        tmp[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i) *o->p++ = tmp[--i];
}

static void i64(out *o, int64_t v)
{
    if (v < 0) {
        *o->p++ = '-';
        u64(o, (uint64_t)0 - (uint64_t)v);
    } else {
        u64(o, (uint64_t)v);
    }
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80) return 0;
        if (c == 0xe0 && s[1] < 0xa0) return 0;  /* overlong */
        if (c == 0xed && s[1] >= 0xa0) return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80) return 0;
        if (c == 0xf0 && s[1] < 0x90) return 0;
        if (c == 0xf4 && s[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

static void str(out *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    *o->p++ = '"';
    while (*u) {
        unsigned c = *u;
        if (c == '"' || c == '\\') {
            *o->p++ = '\\';
            *o->p++ = (char)c;
            u++;
        } else if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n':
                LIT(o, "\\n");
                break;
            case '\t':
                LIT(o, "\\t");
                break;
            case '\r':
                LIT(o, "\\r");
                break;
            default:
                LIT(o, "\\u00");
                *o->p++ = hex[c >> 4];
                *o->p++ = hex[c & 15];
            }
            u++;
        } else if (c < 0x80) {
            *o->p++ = (char)c;
            u++;
        } else {
            size_t n = utf8_len(u);
            if (n) {
                lit(o, (const char *)u, n);
                u += n;
            } else {
                LIT(o, "\xef\xbf\xbd"); /* U+FFFD */
                u++;
            }
        }
    }
    *o->p++ = '"';
}

/* Worst case: every byte becomes \u00XX. */
static size_t bound(const char *s)
{
    return s ? strlen(s) * 6 + 16 : 0;
}

static void ref(out *o, const char *key, size_t klen, const char *nkey, size_t nlen,
                coro_trace_ref r)
{
    if (!r.id) return;
    lit(o, key, klen);
    u64(o, r.id);
    if (r.name) {
        lit(o, nkey, nlen);
        str(o, r.name);
    }
}
#define REF(o, k, r) ref((o), ",\"" k "\":", sizeof(k) + 3, ",\"" k "_name\":", sizeof(k) + 8, (r))

void coro__json_event(coro__sink *s, const coro_trace_ev *ev)
{
    size_t need = 512 + bound(ev->co.name) + bound(ev->from.name) + bound(ev->to.name) +
                  bound(ev->by.name) + bound(ev->obj.name) + bound(ev->obj_kind) +
                  bound(ev->cause) + bound(ev->reason) + bound(ev->detail) + bound(ev->file);
    if (!coro__sink_reserve(s, need)) {
        s->dropped++;
        return;
    }
    out o = {s->buf + s->len};
    LIT(&o, "{\"seq\":");
    u64(&o, ev->seq);
    LIT(&o, ",\"ts\":");
    u64(&o, ev->ts);
    LIT(&o, ",\"kind\":\"");
    const char *k = coro_ev_kind_name(ev->kind);
    lit(&o, k ? k : "unknown", strlen(k ? k : "unknown"));
    LIT(&o, "\",\"thread\":");
    u64(&o, ev->thread);
    LIT(&o, ",\"co\":");
    u64(&o, ev->co.id);
    LIT(&o, ",\"co_name\":");
    str(&o, ev->co.name ? ev->co.name : "");
    REF(&o, "from", ev->from);
    REF(&o, "to", ev->to);
    REF(&o, "by", ev->by);
    REF(&o, "obj", ev->obj);
    if (ev->obj_kind) {
        LIT(&o, ",\"obj_kind\":");
        str(&o, ev->obj_kind);
    }
    if (ev->cause) {
        LIT(&o, ",\"cause\":");
        str(&o, ev->cause);
    }
    if (ev->reason) {
        LIT(&o, ",\"reason\":");
        str(&o, ev->reason);
    }
    if (ev->detail) {
        LIT(&o, ",\"detail\":");
        str(&o, ev->detail);
    }
    if (ev->has & CORO_EVH_FD) {
        LIT(&o, ",\"fd\":");
        i64(&o, ev->fd);
    }
    if (ev->has & CORO_EVH_EVENTS) {
        LIT(&o, ",\"events\":");
        u64(&o, ev->events);
    }
    if (ev->has & CORO_EVH_TIMEOUT) {
        LIT(&o, ",\"timeout_ms\":");
        i64(&o, ev->timeout_ms);
    }
    if (ev->has & CORO_EVH_NREADY) {
        LIT(&o, ",\"nready\":");
        i64(&o, ev->nready);
    }
    if (ev->has & CORO_EVH_WAIT) {
        LIT(&o, ",\"wait\":");
        u64(&o, ev->wait);
    }
    if (ev->has & CORO_EVH_VALUE) {
        LIT(&o, ",\"value\":");
        i64(&o, ev->value);
    }
    if (ev->has & CORO_EVH_DEPTH) {
        LIT(&o, ",\"depth\":");
        i64(&o, ev->depth);
    }
    if (ev->has & CORO_EVH_ADDR) {
        LIT(&o, ",\"addr\":");
        u64(&o, ev->addr);
    }
    if (ev->file) {
        LIT(&o, ",\"file\":");
        str(&o, ev->file);
        LIT(&o, ",\"line\":");
        i64(&o, ev->line);
    }
    LIT(&o, "}\n");
    s->len = (size_t)(o.p - s->buf);
    coro__sink_event_done(s);
}

void coro__json_header(coro__sink *s, const char *program, coro_trace_clock clock)
{
    char line[1024];
    char prog[700];
    out o = {prog};
    str(&o, program ? program : ""); /* program is at most 255 bytes */
    *o.p = 0;
    int n = snprintf(line, sizeof line,
                     "{\"kind\":\"header\",\"format\":\"coroscope-trace\",\"version\":%d,"
                     "\"program\":%s,\"pid\":%ld,\"clock\":\"%s\",\"ts_unit\":\"%s\"}\n",
                     CORO_TRACE_VERSION, prog, (long)getpid(),
                     clock == CORO_CLOCK_LOGICAL ? "logical" : "monotonic",
                     clock == CORO_CLOCK_LOGICAL ? "tick" : "ns");
    coro__sink_put(s, line, (size_t)n);
}

/* Built without printf: it may be written from a signal handler. */
void coro__json_end(coro__sink *s, uint64_t events, uint64_t dropped, int signal)
{
    char line[160];
    out o = {line};
    LIT(&o, "{\"kind\":\"end\",\"events\":");
    u64(&o, events);
    LIT(&o, ",\"dropped\":");
    u64(&o, dropped);
    if (signal) {
        LIT(&o, ",\"signal\":");
        u64(&o, (uint64_t)signal);
    }
    LIT(&o, "}\n");
    coro__sink_put(s, line, (size_t)(o.p - line));
}
