/*
 * view_predict.c - `coroscope predict TRACE PREDICTION`: a learner writes
 * down, one per line, the transfers of control they expect, and this says
 * where the run agreed and, at the first difference, what really happened
 * and why (the resume's cause).
 *
 * A line is `FROM -> TO`, optionally `because CAUSE`:
 *     main -> echo#1 because fd 8 readable   # the loop wakes it
 * `#` starts a comment (whole line or trailing). CAUSE is compared with the
 * cause the annotated log prints for that resume ("first start", "back from
 * counter", "fd 8 readable in wait #2"): it must be that phrase or its
 * beginning, or the cause's name in the trace format (start, return, io...).
 * A prediction covers the run to its end (from --from N) unless its last
 * line is `...`.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "viz.h"

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

/* The cause phrase of a resume as the annotated log prints it, without
 * "cause: " (the log's columns are separated by two spaces). */
static void cause_phrase(const vz_trace *t, const coro_trace_ev *ev, char *out, size_t n)
{
    char line[1024];
    coro_trace_format(ev, line, sizeof line, t->logical ? CORO_FMT_LOGICAL : 0);
    const char *c = strstr(line, "cause: ");
    out[0] = 0;
    if (!c) return;
    c += 7;
    const char *end = strstr(c, "  ");
    size_t len = end ? (size_t)(end - c) : strlen(c);
    while (len && isspace((unsigned char)c[len - 1])) len--;
    snprintf(out, n, "%.*s", (int)len, c);
}

static bool cause_matches(const char *want, const char *phrase, const char *name)
{
    if (name && !strcmp(want, name)) return true;
    size_t w = strlen(want);
    return !strncmp(want, phrase, w) && (phrase[w] == 0 || phrase[w] == ' ');
}

typedef struct predict {
    const vz_trace *t;
    const vz_opts *o;
    FILE *out;
    size_t next, right;
} predict;

static size_t next_transfer(const predict *p, size_t i)
{
    while (i < p->t->n && (p->t->ev[i].kind != CORO_EV_RESUME || p->t->ev[i].seq < p->o->from)) i++;
    return i;
}

/* One predicted line against the run's next transfer: VZ_OK or VZ_VIOLATIONS. */
static int check_line(predict *p, unsigned long no, const char *from, const char *to,
                      const char *because)
{
    const vz_trace *t = p->t;
    p->next = next_transfer(p, p->next);
    if (p->next == t->n) {
        fprintf(p->out, "%s:%lu: you predict %s -> %s, but the run has no more transfers\n",
                p->o->prediction, no, from, to);
        return VZ_VIOLATIONS;
    }
    const coro_trace_ev *ev = &t->ev[p->next];
    const char *rf = ev->from.name ? ev->from.name : "?", *rt = ev->co.name ? ev->co.name : "?";
    char phrase[256], actual[1024];
    cause_phrase(t, ev, phrase, sizeof phrase);
    coro_trace_format(ev, actual, sizeof actual, t->logical ? CORO_FMT_LOGICAL : 0);
    if (strcmp(from, rf) || strcmp(to, rt)) {
        fprintf(p->out,
                "%s:%lu: you predict %s -> %s, but the run went %s -> %s (event %llu):\n%s\n",
                p->o->prediction, no, from, to, rf, rt, (unsigned long long)ev->seq, actual);
        return VZ_VIOLATIONS;
    }
    if (because && !cause_matches(because, phrase, ev->cause)) {
        fprintf(
            p->out, "%s:%lu: %s -> %s happened, but not because %s: because %s (event %llu):\n%s\n",
            p->o->prediction, no, from, to, because, phrase, (unsigned long long)ev->seq, actual);
        return VZ_VIOLATIONS;
    }
    char both[128];
    snprintf(both, sizeof both, "%s -> %s", from, to);
    fprintf(p->out, "ok  %-36s event %llu, cause: %s\n", both, (unsigned long long)ev->seq, phrase);
    p->right++;
    p->next++;
    return VZ_OK;
}

int vz_view_predict(const vz_trace *t, const vz_opts *o, FILE *out)
{
    FILE *f = fopen(o->prediction, "r");
    if (!f) {
        fprintf(stderr, "coroscope predict: cannot open %s\n", o->prediction);
        return VZ_USAGE;
    }
    predict p = {.t = t, .o = o, .out = out};
    char *line = NULL;
    size_t cap = 0;
    unsigned long no = 0;
    bool open_end = false;
    int rc = VZ_OK;
    while (rc == VZ_OK && getline(&line, &cap, f) > 0) {
        no++;
        char *hash = strchr(line, '#');
        /* '#' starts a comment unless it is part of a name (echo#1). */
        while (hash && hash > line && !isspace((unsigned char)hash[-1]))
            hash = strchr(hash + 1, '#');
        if (hash) *hash = 0;
        char *s = trim(line);
        if (!*s) continue;
        if (!strcmp(s, "...")) {
            open_end = true;
            continue;
        }
        open_end = false;
        char *arrow = strstr(s, "->");
        if (!arrow) {
            fprintf(stderr,
                    "%s:%lu: expected \"FROM -> TO\" or \"FROM -> TO because CAUSE\", got \"%s\"\n",
                    o->prediction, no, s);
            rc = VZ_BADINPUT;
            break;
        }
        *arrow = 0;
        char *from = trim(s), *to = trim(arrow + 2), *because = NULL;
        char *b = strstr(to, " because ");
        if (b) {
            *b = 0;
            because = trim(b + 9);
            to = trim(to);
        }
        if (!*from || !*to || (because && !*because)) {
            fprintf(stderr, "%s:%lu: a transfer needs a name on each side of \"->\"%s\n",
                    o->prediction, no, because ? " and a cause after \"because\"" : "");
            rc = VZ_BADINPUT;
            break;
        }
        rc = check_line(&p, no, from, to, because);
    }
    free(line);
    fclose(f);
    if (rc == VZ_OK && !open_end) {
        size_t more = next_transfer(&p, p.next);
        if (more < t->n) {
            const coro_trace_ev *ev = &t->ev[more];
            char actual[1024];
            coro_trace_format(ev, actual, sizeof actual, t->logical ? CORO_FMT_LOGICAL : 0);
            fprintf(out,
                    "%s: your prediction ends after %zu transfer%s, but the run goes on with %s -> "
                    "%s (event %llu):\n%s\n(end the file with a line \"...\" to predict only the "
                    "beginning)\n",
                    o->prediction, p.right, p.right == 1 ? "" : "s",
                    ev->from.name ? ev->from.name : "?", ev->co.name ? ev->co.name : "?",
                    (unsigned long long)ev->seq, actual);
            rc = VZ_VIOLATIONS;
        }
    }
    if (rc == VZ_OK)
        fprintf(out, "all %zu predicted transfers happened, in that order\n", p.right);
    else if (rc == VZ_VIOLATIONS)
        fprintf(out, "%zu right before the first difference\n", p.right);
    return rc;
}
