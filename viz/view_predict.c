/*
 * view_predict.c - `coroscope predict TRACE PREDICTION`: a learner writes
 * down, one per line, the transfers of control they expect ("main ->
 * counter"), and this says where the run agreed and, at the first
 * difference, what really happened and why (the resume's cause).
 *
 * Lines that are empty or start with '#' are ignored; names are compared
 * exactly, spaces around "->" do not matter.
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

int vz_view_predict(const vz_trace *t, const vz_opts *o, FILE *out)
{
    FILE *f = fopen(o->prediction, "r");
    if (!f) {
        fprintf(stderr, "coroscope predict: cannot open %s\n", o->prediction);
        return VZ_USAGE;
    }
    char *line = NULL;
    size_t cap = 0;
    unsigned long no = 0;
    size_t next = 0, right = 0;
    int rc = VZ_OK;
    while (getline(&line, &cap, f) > 0) {
        no++;
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        char *arrow = strstr(s, "->");
        if (!arrow) {
            fprintf(stderr, "%s:%lu: expected \"FROM -> TO\", got \"%s\"\n", o->prediction, no, s);
            rc = VZ_BADINPUT;
            break;
        }
        *arrow = 0;
        char *from = trim(s), *to = trim(arrow + 2);
        while (next < t->n && t->ev[next].kind != CORO_EV_RESUME) next++;
        if (next == t->n) {
            fprintf(out, "%s:%lu: you predict %s -> %s, but the run has no more transfers\n",
                    o->prediction, no, from, to);
            rc = VZ_VIOLATIONS;
            break;
        }
        const coro_trace_ev *ev = &t->ev[next];
        const char *rf = ev->from.name ? ev->from.name : "?", *rt = ev->co.name ? ev->co.name : "?";
        if (strcmp(from, rf) || strcmp(to, rt)) {
            char actual[1024];
            coro_trace_format(ev, actual, sizeof actual, t->logical ? CORO_FMT_LOGICAL : 0);
            fprintf(out,
                    "%s:%lu: you predict %s -> %s, but the run went %s -> %s (event %llu):\n%s\n",
                    o->prediction, no, from, to, rf, rt, (unsigned long long)ev->seq, actual);
            rc = VZ_VIOLATIONS;
            break;
        }
        char both[128];
        snprintf(both, sizeof both, "%s -> %s", from, to);
        fprintf(out, "ok  %-36s event %llu, cause: %s\n", both, (unsigned long long)ev->seq,
                ev->cause ? ev->cause : "?");
        right++;
        next++;
    }
    free(line);
    fclose(f);
    if (rc == VZ_OK)
        fprintf(out, "all %zu predicted transfers happened, in that order\n", right);
    else if (rc == VZ_VIOLATIONS)
        fprintf(out, "%zu right before the first difference\n", right);
    return rc;
}
