/*
 * view_frame.c - `coroscope frame N`: a photograph of the run just after
 * event N: the log lines around it and the source line that caused it, who
 * is running (or blocked in epoll_wait), what each suspended coroutine
 * waits for, the ready queue in order, and the await chains.
 *
 * Everything here is one replay of the events up to N and a few linear
 * passes over the coroutines, so a frame of a million-event trace costs one
 * pass; impossible traces (an await cycle, a coroutine awaiting itself) are
 * shown as they are, never followed forever.
 */
#include <stdlib.h>
#include <string.h>

#include "viz.h"

#define CONTEXT_LINES 2 /* log lines shown before and after the event */

const char *vz_state_name(vz_state s)
{
    static const char *names[] = {"created", "ready", "running", "suspended", "dead"};
    return (unsigned)s < 5 ? names[s] : "?";
}

int vz_view_frame(const vz_trace *t, const vz_opts *o, FILE *out)
{
    if (!t->n || o->frame < t->ev[0].seq || o->frame > t->ev[t->n - 1].seq) {
        if (t->n)
            fprintf(stderr, "coroscope frame: %s has events %llu to %llu; there is no event %llu\n",
                    t->path, (unsigned long long)t->ev[0].seq,
                    (unsigned long long)t->ev[t->n - 1].seq, (unsigned long long)o->frame);
        else
            fprintf(stderr, "coroscope frame: %s has no events\n", t->path);
        return VZ_USAGE;
    }
    size_t last = vz_find_seq(t, o->frame);
    if (t->ev[last].seq != o->frame)
        fprintf(out, "(event %llu was lost by the tracer)\n", (unsigned long long)o->frame);
    fprintf(out, "after event %llu:\n", (unsigned long long)t->ev[last].seq);
    vz_print_frame(t, last, out, 0);
    return VZ_OK;
}

size_t vz_find_seq(const vz_trace *t, uint64_t seq)
{
    /* The last event whose seq is at most `seq` (seq increases). */
    size_t lo = 0, hi = t->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->ev[mid].seq <= seq)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static void log_line(const vz_trace *t, size_t i, FILE *out, unsigned flags, const char *mark)
{
    char line[1024];
    size_t n = coro_trace_format(&t->ev[i], line, sizeof line,
                                 flags | (t->logical ? CORO_FMT_LOGICAL : 0));
    if (n >= sizeof line) vz_utf8_trim(line);
    fprintf(out, "%s%s%s\n", mark, line, n >= sizeof line ? "..." : "");
}

/* The text of line `no` of `file` (a path relative to the source tree):
 * looked for from the current directory, then from the trace's directory
 * and its parents. */
static bool source_text(const vz_trace *t, const char *file, int no, char *buf, size_t cap)
{
    if (!file || no <= 0 || file[0] == 0) return false;
    char dir[4096], path[8192];
    FILE *f = fopen(file, "r"); /* absolute, or relative to the current directory */
    char *real = realpath(t->path, NULL);
    snprintf(dir, sizeof dir, "%s", real ? real : "");
    free(real);
    for (char *slash; !f && (slash = strrchr(dir, '/'));) {
        *slash = 0;
        snprintf(path, sizeof path, "%s/%s", dir, file);
        f = fopen(path, "r");
    }
    if (!f) return false;
    bool found = false;
    for (int k = 1; fgets(buf, (int)cap, f); k++) {
        size_t len = strlen(buf);
        bool whole = len && buf[len - 1] == '\n';
        if (k == no) {
            buf[strcspn(buf, "\r\n")] = 0;
            for (char *p = buf; *p; p++)
                if ((unsigned char)*p < 0x20) *p = ' ';
            found = true;
            break;
        }
        while (!whole && fgets(buf, (int)cap, f)) {
            len = strlen(buf);
            whole = len && buf[len - 1] == '\n';
        }
    }
    fclose(f);
    return found;
}

/* A wait that ended in an error: the resume's or wake's value. */
void vz_frame_wait_result(const coro_trace_ev *at, FILE *out)
{
    if ((at->kind == CORO_EV_RESUME || at->kind == CORO_EV_WAKE) && (at->has & CORO_EVH_VALUE) &&
        at->value < 0 && at->value > -4096) {
        const char *e = strerrorname_np((int)-at->value);
        fprintf(out, "the wait ended with %lld (%s%s%s)\n", (long long)at->value, e ? e : "",
                e ? ": " : "", strerror((int)-at->value));
    }
}

/* The thread's loop: blocked in epoll_wait right after this event (the
 * next event on the thread is the epoll_wait that ends the wait), or just
 * back from it. */
void vz_frame_loop_line(const vz_trace *t, size_t upto, const vz_model *m, FILE *out)
{
    const coro_trace_ev *at = &t->ev[upto];
    const coro_trace_ev *next = NULL;
    for (size_t j = upto + 1; j < t->n && j < upto + 64; j++)
        if (t->ev[j].thread == at->thread) {
            next = &t->ev[j];
            break;
        }
    const coro_trace_ev *w = next && next->kind == CORO_EV_EPOLL_WAIT ? next : NULL;
    bool back = !w && at->kind == CORO_EV_EPOLL_WAIT;
    if (!w && !back) return;
    if (back) w = at;
    size_t fds = 0;
    char list[256] = "";
    size_t ll = 0;
    for (size_t k = 0; k < m->n; k++) {
        const vz_coro *c = &m->co[k];
        if (c->is_object || c->state != VZ_SUSPENDED || c->thread != w->thread || !c->reason ||
            strcmp(c->reason, "io"))
            continue;
        fds++;
        if (c->fd >= 0 && ll + 24 < sizeof list)
            ll += (size_t)snprintf(list + ll, sizeof list - ll, "%s%d", ll ? ", " : "", c->fd);
    }
    const char *who = w->co.name ? w->co.name : "?";
    char timeout[48];
    if (!(w->has & CORO_EVH_TIMEOUT) || w->timeout_ms < 0)
        snprintf(timeout, sizeof timeout, "no timeout");
    else
        snprintf(timeout, sizeof timeout, "timeout %lld ms", (long long)w->timeout_ms);
    if (back) {
        char took[48] = "";
        if (!t->logical) {
            vz_duration(w->ts - vz_wait_start(m, w), took + 7, sizeof took - 7);
            memcpy(took, " after ", 7);
        }
        fprintf(out, "%s: back from epoll_wait #%llu%s (%s): %d fd%s ready\n", who,
                (unsigned long long)w->wait, took, timeout, w->nready, w->nready == 1 ? "" : "s");
    } else {
        fprintf(out, "%s: in epoll_wait (wait #%llu), %s, %zu fd%s watched%s%s%s\n", who,
                (unsigned long long)w->wait, timeout, fds, fds == 1 ? "" : "s", *list ? " (" : "",
                list, *list ? ")" : "");
    }
}

static void await_chains(const vz_model *m, FILE *out)
{
    /* Chains start at coroutines nobody (alive) awaits; what is left after
     * that, with an await link, sits on a cycle. */
    unsigned char *mark = calloc(m->n + 1, 1); /* 1: awaited, 2: printed */
    if (!mark) abort();
    for (size_t k = 0; k < m->n; k++) {
        const vz_coro *c = &m->co[k];
        if (c->state == VZ_DEAD || !c->awaiting) continue;
        const vz_coro *a = vz_model_find(m, c->awaiting);
        if (a) mark[a - m->co] |= 1;
    }
    fprintf(out, "\nawait chains:");
    size_t chains = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < m->n; k++) {
            const vz_coro *c = &m->co[k];
            if (c->state == VZ_DEAD || !c->awaiting || (mark[k] & 2)) continue;
            if (pass == 0 && (mark[k] & 1)) continue;
            fprintf(out, "\n  %s", c->name);
            mark[k] |= 2;
            const vz_coro *x = c;
            for (size_t steps = 0; x && x->awaiting && steps <= m->n; steps++) {
                const vz_coro *n = vz_model_find(m, x->awaiting);
                fprintf(out, " -> awaits %s", n ? n->name : "?");
                if (!n) break;
                if (mark[n - m->co] & 2) {
                    if (pass == 1 || n == c) fprintf(out, "  (a cycle: it can never finish)");
                    break;
                }
                mark[n - m->co] |= 2;
                x = n;
            }
            chains++;
        }
    if (!chains) fprintf(out, " (none)");
    fprintf(out, "\n");
    free(mark);
}

void vz_print_frame(const vz_trace *t, size_t upto, FILE *out, unsigned fmt_flags)
{
    if (!t->n) return;
    if (upto >= t->n) upto = t->n - 1;
    vz_model m;
    vz_model_init(&m);
    /* The ready queue: coroutines in the order they became ready; an entry
     * counts while its coroutine is still ready and it is its latest. */
    uint64_t *ready = malloc((upto + 1) * sizeof *ready);
    if (!ready) abort();
    size_t nready = 0;
    for (size_t i = 0; i <= upto; i++) {
        const coro_trace_ev *ev = &t->ev[i];
        vz_model_apply(&m, ev);
        if ((ev->kind == CORO_EV_SPAWN || ev->kind == CORO_EV_WAKE) && ev->co.id) {
            ready[nready++] = ev->co.id;
            vz_model_find(&m, ev->co.id)->ready_mark = nready;
        }
    }
    const coro_trace_ev *at = &t->ev[upto];
    size_t lo = upto > CONTEXT_LINES ? upto - CONTEXT_LINES : 0;
    for (size_t i = lo; i < t->n && i <= upto + CONTEXT_LINES; i++)
        log_line(t, i, out, fmt_flags, i == upto ? ">> " : "   ");
    if (at->file) {
        char text[512];
        fprintf(out, "source: %s:%d", at->file, at->line);
        if (source_text(t, at->file, at->line, text, sizeof text)) {
            char *clean = vz_utf8_clean(text); /* a source file need not be UTF-8 */
            fprintf(out, "\n  %5d | %s", at->line, clean);
            free(clean);
        }
        fprintf(out, "\n");
    }
    vz_frame_wait_result(at, out);
    fprintf(out, "\n");
    vz_frame_loop_line(t, upto, &m, out);
    fprintf(out, "%-6s %-24s %-10s %s\n", "id", "coroutine", "state", "waits for");
    for (size_t k = 0; k < m.n; k++) {
        vz_coro *c = &m.co[k];
        if (c->is_object || c->state == VZ_DEAD) continue;
        const char *w = "";
        char buf[128] = "";
        if (c->state == VZ_SUSPENDED && c->awaiting) {
            vz_coro *a = vz_model_find(&m, c->awaiting);
            snprintf(buf, sizeof buf, "await %s", a ? a->name : "?");
            vz_utf8_trim(buf);
            w = buf;
        } else if (c->state == VZ_SUSPENDED && c->waiting) {
            w = c->waiting;
        }
        char clip[32];
        if (c->state == VZ_RUNNING && !*w) w = "<- running";
        char row[512];
        snprintf(row, sizeof row, "%-6llu %-24s %-10s %s", (unsigned long long)c->id,
                 vz_clip(c->name, 24, clip, sizeof clip), vz_state_name(c->state), w);
        vz_utf8_trim(row);
        size_t len = strlen(row);
        while (len && row[len - 1] == ' ') row[--len] = 0;
        fprintf(out, "%s\n", row);
    }
    fprintf(out, "\nready queue:");
    size_t shown = 0;
    for (size_t k = 0; k < nready; k++) {
        vz_coro *c = vz_model_find(&m, ready[k]);
        if (!c || c->state != VZ_READY || c->ready_mark != k + 1) continue;
        fprintf(out, "%s %s", shown++ ? "," : "", c->name);
    }
    if (!shown) fprintf(out, " (empty)");
    await_chains(&m, out);
    free(ready);
    vz_model_free(&m);
}
