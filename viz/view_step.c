/*
 * view_step.c - `coroscope step`: walk through a run one event at a time,
 * forward and back, seeing the event as a log line, its source location,
 * and every coroutine's state. Commands (interactive, or all at once with
 * --script "n n b j 10 q"):
 *   n [K]      next (K events)          b [K]   back
 *   j N        jump to event seq N      c NAME  next event of coroutine NAME
 *   q          quit                     h       help
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

static size_t find_seq(const vz_trace *t, uint64_t seq)
{
    size_t i = 0;
    while (i + 1 < t->n && t->ev[i + 1].seq <= seq) i++;
    return i;
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
    else if (!strcmp(cmd, "j") && arg)
        *i = find_seq(t, strtoull(arg, NULL, 10));
    else if (!strcmp(cmd, "c") && arg) {
        size_t j = *i + 1;
        while (j < t->n && !((t->ev[j].co.name && !strcmp(t->ev[j].co.name, arg)) ||
                             (t->ev[j].from.name && !strcmp(t->ev[j].from.name, arg))))
            j++;
        if (j < t->n)
            *i = j;
        else
            fprintf(out, "(no later event of %s)\n", arg);
    } else {
        fprintf(out, "commands: n [K] next, b [K] back, j N jump to seq N, c NAME next event of "
                     "NAME, q quit\n");
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
            if (strchr("nbjc", tok[0]) && !tok[1]) {
                char *peek = save;
                while (peek && *peek == ' ') peek++;
                bool takes =
                    tok[0] == 'j' || tok[0] == 'c' || (peek && *peek >= '0' && *peek <= '9');
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
        fprintf(out, "\n(n/b/j N/c NAME/q) > ");
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
