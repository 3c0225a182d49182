/*
 * sink_log.c - the annotated human log as a sink: each event formatted by
 * coro_trace_format() (format.c) and written as one line.
 */
#include <string.h>

#include "sink.h"

void coro__log_header(coro__sink *s)
{
    const char *h = coro_trace_format_header();
    coro__sink_put(s, h, strlen(h));
    coro__sink_put(s, "\n", 1);
}

void coro__log_event(coro__sink *s, const coro_trace_ev *ev)
{
    char small[512];
    size_t n = coro_trace_format(ev, small, sizeof small, s->fmt_flags);
    if (n < sizeof small) {
        if (!coro__sink_reserve(s, n + 1)) {
            s->dropped++;
            return;
        }
        memcpy(s->buf + s->len, small, n);
    } else {
        /* A long name or message: format again straight into the buffer. */
        if (!coro__sink_reserve(s, n + 1)) {
            s->dropped++;
            return;
        }
        coro_trace_format(ev, s->buf + s->len, n + 1, s->fmt_flags);
    }
    s->buf[s->len + n] = '\n';
    s->len += n + 1;
    coro__sink_event_done(s);
}
