/*
 * view_step.c - `coroscope step`: walk through a run one event at a time,
 * forward and back, seeing the event as a log line, its source location,
 * and every coroutine's state. Commands (interactive, or all at once with
 * --script "n n b j 10 q"):
 *   n [K]      next (K events)          b [K]   back
 *   j N        jump to event seq N      c NAME  next event of coroutine NAME
 *   C NAME     previous event of NAME   q       quit        h   help
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "viz.h"

static void show(const vz_trace *t, size_t i, const vz_opts *o, FILE *out)
{
    size_t g;
    for (g = 0; g < t->ngaps; g++)
        if (t->gaps[g].index == i && i > 0)
            fprintf(out, "----- %llu events lost by the tracer just before this one -----\n",
                    (unsigned long long)t->gaps[g].count);
    fprintf(out, "[event %zu of %zu]\n", i + 1, t->n);
    vz_print_frame(t, i, out, o->color ? CORO_FMT_COLOR : 0);
}

static bool about(const coro_trace_ev *ev, const char *name)
{
    return (ev->co.name && !strcmp(ev->co.name, name)) ||
           (ev->from.name && !strcmp(ev->from.name, name));
}

/* One command; returns false on quit. */
static bool command(const vz_trace *t, size_t *i, char *cmd, FILE *out)
{
    char *arg = strchr(cmd, ' ');
    if (arg) *arg++ = 0;
    long k = arg ? atol(arg) : 1;
    if (k < 1) k = 1;
    if (!strcmp(cmd, "q")) return false;
    if (!strcmp(cmd, "n"))
        *i = *i + (size_t)k < t->n ? *i + (size_t)k : t->n - 1;
    else if (!strcmp(cmd, "b"))
        *i = *i >= (size_t)k ? *i - (size_t)k : 0;
    else if (!strcmp(cmd, "j") && arg) {
        char *end;
        unsigned long long seq = strtoull(arg, &end, 10);
        if (*end || seq < t->ev[0].seq || seq > t->ev[t->n - 1].seq)
            fprintf(out, "(no event %s: this trace has events %llu to %llu)\n", arg,
                    (unsigned long long)t->ev[0].seq, (unsigned long long)t->ev[t->n - 1].seq);
        else
            *i = vz_find_seq(t, seq);
    } else if (!strcmp(cmd, "c") && arg) {
        size_t j = *i + 1;
        while (j < t->n && !about(&t->ev[j], arg)) j++;
        if (j < t->n)
            *i = j;
        else
            fprintf(out, "(no later event of %s)\n", arg);
    } else if (!strcmp(cmd, "C") && arg) {
        size_t j = *i;
        while (j > 0 && !about(&t->ev[j - 1], arg)) j--;
        if (j > 0)
            *i = j - 1;
        else
            fprintf(out, "(no earlier event of %s)\n", arg);
    } else {
        fprintf(out, "commands: n [K] next, b [K] back, j N jump to seq N, c NAME next event of "
                     "NAME, C NAME previous event of NAME, q quit\n");
        return true;
    }
    return true;
}

int vz_view_step(const vz_trace *t, const vz_opts *o, FILE *out)
{
    if (!t->n) return VZ_OK;
    size_t i = 0;
    show(t, i, o, out);
    if (o->script) {
        /* Commands separated by spaces; a number after n/b/j/c binds to it. */
        char *s = strdup(o->script), *save = NULL;
        for (char *tok = strtok_r(s, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            char cmd[256];
            snprintf(cmd, sizeof cmd, "%s", tok);
            if (strchr("nbjcC", tok[0]) && !tok[1]) {
                char *peek = save;
                while (peek && *peek == ' ') peek++;
                bool takes = tok[0] == 'j' || tok[0] == 'c' || tok[0] == 'C' ||
                             (peek && *peek >= '0' && *peek <= '9');
                if (takes) {
                    char *argtok = strtok_r(NULL, " ", &save);
                    if (argtok) snprintf(cmd, sizeof cmd, "%s %s", tok, argtok);
                }
            }
            fprintf(out, "\n> %s\n", cmd);
            if (!command(t, &i, cmd, out)) break;
            show(t, i, o, out);
        }
        free(s);
        return VZ_OK;
    }
    char *line = NULL;
    size_t cap = 0;
    for (;;) {
        fprintf(out, "\n(n/b/j N/c NAME/C NAME/q) > ");
        fflush(out);
        if (getline(&line, &cap, stdin) <= 0) break;
        line[strcspn(line, "\n")] = 0;
        if (!*line) strcpy(line, "n");
        if (!command(t, &i, line, out)) break;
        show(t, i, o, out);
    }
    free(line);
    return VZ_OK;
}
