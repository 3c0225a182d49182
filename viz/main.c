/*
 * main.c - the coroscope command line: `coroscope VIEW [OPTIONS] TRACE`.
 * Parses options, reads the trace, runs the view, and renders DOT through
 * Graphviz when -o names an image. Usage and exit codes: docs/coroscope.md.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "viz.h"

typedef int (*view_fn)(const vz_trace *, const vz_opts *, FILE *);

typedef struct view {
    const char *name;
    view_fn fn;
    const char *engine; /* NULL: text output, not DOT */
    const char *summary;
    const char *options;
} view;

static const view views[] = {
    {"graph", vz_view_graph, "dot", "who created, awaited, resumed and woke whom (DOT)",
     "  --fold            merge coroutines whose names differ only in numbers (echo#*)\n"
     "  --max-nodes N     keep the N busiest nodes (default 300) and summarise the rest\n"},
    {"seq", vz_view_seq, "neato", "sequence diagram: lanes, numbered transfers (DOT)",
     "  --from N --to N   the window of sequence numbers to draw\n"
     "  --first N         draw at most N steps (default 80)\n"},
    {"frame", vz_view_frame, NULL, "the state of every coroutine just after event N",
     "  N                 the sequence number (first argument: coroscope frame N TRACE)\n"},
    {"states", vz_view_states, "dot", "each coroutine's state machine with transition counts (DOT)",
     "  --fold            one machine per name pattern (echo#*)\n"
     "  --max-nodes N     at most N machines (default 12)\n"},
    {"perfetto", vz_view_perfetto, NULL, "Chrome trace-event JSON for Perfetto / chrome://tracing",
     "  open the output in ui.perfetto.dev: a track per coroutine, flows for spawn/await/wake\n"},
    {"step", vz_view_step, NULL, "step through the run, forward and back",
     "  --script \"n n b j 10 c NAME C NAME q\"  run these commands instead of reading a terminal\n"
     "  (n next, b back, j N jump, c NAME next of NAME, C NAME previous of NAME, q quit)\n"},
    {"html", vz_view_html, NULL,
     "a page to step through the run in a browser (one file, -o run.html)",
     "  --src DIR         where the program's sources are (default: here, then the trace's "
     "folders)\n"
     "  --from N --to N   the window of sequence numbers the page holds\n"
     "  --first N         at most N events (default 100000); the page says what it left out\n"},
    {"predict", vz_view_predict, NULL, "check a learner's predicted order of transfers",
     "  PREDICTION        a file with one \"FROM -> TO [because CAUSE]\" per line, # comments;\n"
     "                    it covers the whole run unless its last line is \"...\"\n"
     "  --from N          start comparing at the first transfer at or after event N\n"
     "  exits 4 at the first transfer that did not happen as predicted\n"},
    {"log", vz_view_log, NULL, "the annotated log, with filters",
     "  --coro NAME       events about this coroutine (or pattern, e.g. echo#*)\n"
     "  --fd N            events about this file descriptor\n"
     "  --kind K          events of this kind (resume, suspend, ...)\n"
     "  --from N --to N   a window of sequence numbers\n"
     "  --first N         at most N lines\n"},
    {"stats", vz_view_stats, NULL, "per coroutine: resumes, time running and waiting", ""},
    {"check", vz_view_check, NULL, "validate the trace against the coroutine state machine",
     "  exits 4 when it finds violations, each reported with its line\n"},
};
#define NVIEWS (sizeof views / sizeof *views)

static void usage(FILE *f)
{
    fprintf(f, "usage: coroscope VIEW [OPTIONS] TRACE\n"
               "       coroscope run [-d DIR] -- PROGRAM [ARGS...]\n"
               "       coroscope tutorial list | run N | check N PREDICTION\n"
               "       coroscope ps | pstree | top PID\n\n"
               "Turns a coroscope trace (JSON Lines or binary .ctr, see docs/trace-format.md)\n"
               "into diagrams and readable logs.\n\nviews:\n");
    for (size_t i = 0; i < NVIEWS; i++) fprintf(f, "  %-8s %s\n", views[i].name, views[i].summary);
    fprintf(f, "  %-8s %s\n", "run",
            "run a program traced; write its trace and diagrams to a folder");
    fprintf(f, "  %-8s %s\n", "tutorial",
            "the course: list its chapters, run one, check a prediction");
    fprintf(f, "  %-8s %s\n", "convert", "a binary trace (.ctr) to JSON Lines, or back");
    fprintf(f, "  %-8s %s\n", "ps", "the coroutines of a running program (CORO_INSPECT=1)");
    fprintf(f, "  %-8s %s\n", "pstree", "the same as a tree: who created and awaits whom");
    fprintf(f, "  %-8s %s\n", "top", "the same, refreshed, the longest waiting first");
    fprintf(
        f,
        "\ncommon options:\n"
        "  -o FILE           write to FILE; .svg/.png/.pdf render through Graphviz\n"
        "  -h, --help        this help; `coroscope VIEW --help` for a view's options\n"
        "\nexit codes: 0 ok, 1 usage, 2 bad input, 3 render failure, 4 check found "
        "violations\n            or the run did not go as predicted (predict, tutorial check)\n");
}

static void view_usage(const view *v, FILE *f)
{
    fprintf(f,
            "usage: coroscope %s [OPTIONS] %sTRACE%s\n\n%s.\n\noptions:\n%s"
            "  -o FILE           write to FILE%s\n  -h, --help        this help\n",
            v->name, !strcmp(v->name, "frame") ? "N " : "",
            !strcmp(v->name, "predict") ? " PREDICTION" : "", v->summary, v->options,
            v->engine ? " (.svg, .png, .pdf render through Graphviz; .dot keeps DOT)" : "");
}

static bool number(const char *s, uint64_t *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || s[0] == '-') return false;
    *out = v;
    return true;
}

static int run_program(int argc, char **argv);

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? VZ_USAGE : VZ_OK;
    }
    if (!strcmp(argv[1], "run")) return run_program(argc - 2, argv + 2);
    if (!strcmp(argv[1], "convert")) return vz_convert(argc - 2, argv + 2);
    if (!strcmp(argv[1], "ps") || !strcmp(argv[1], "pstree") || !strcmp(argv[1], "top"))
        return vz_inspect(argv[1], argc - 2, argv + 2); /* a live program, not a trace */
    if (!strcmp(argv[1], "tutorial")) {
        bool html = false;
        for (size_t i = 0; i < NVIEWS; i++) html |= !strcmp(views[i].name, "html");
        return vz_tutorial(argc - 2, argv + 2, argv[0], html);
    }
    const view *v = NULL;
    for (size_t i = 0; i < NVIEWS; i++)
        if (!strcmp(argv[1], views[i].name)) v = &views[i];
    if (!v) {
        fprintf(stderr, "coroscope: unknown view '%s'\n", argv[1]);
        usage(stderr);
        return VZ_USAGE;
    }
    vz_opts o = {.fd = -1, .kind = -1};
    const char *nc = getenv("NO_COLOR");
    const char *trace = NULL;
    bool have_frame = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        uint64_t n;
#define NEED_ARG()                                                                                 \
    do {                                                                                           \
        if (i + 1 >= argc) {                                                                       \
            fprintf(stderr, "coroscope %s: %s needs a value\n", v->name, a);                       \
            return VZ_USAGE;                                                                       \
        }                                                                                          \
    } while (0)
#define NEED_NUM(dst)                                                                              \
    do {                                                                                           \
        NEED_ARG();                                                                                \
        if (!number(argv[++i], &n)) {                                                              \
            fprintf(stderr, "coroscope %s: %s wants a number, not '%s'\n", v->name, a, argv[i]);   \
            return VZ_USAGE;                                                                       \
        }                                                                                          \
        dst = n;                                                                                   \
    } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            view_usage(v, stdout);
            return VZ_OK;
        } else if (!strcmp(a, "-o")) {
            NEED_ARG();
            o.out = argv[++i];
        } else if (!strcmp(a, "--fold")) {
            o.fold = true;
        } else if (!strcmp(a, "--max-nodes")) {
            NEED_NUM(o.max_nodes);
        } else if (!strcmp(a, "--from")) {
            NEED_NUM(o.from);
        } else if (!strcmp(a, "--to")) {
            NEED_NUM(o.to);
        } else if (!strcmp(a, "--first")) {
            NEED_NUM(o.first);
        } else if (!strcmp(a, "--fd")) {
            NEED_NUM(o.fd);
        } else if (!strcmp(a, "--script")) {
            NEED_ARG();
            o.script = argv[++i];
        } else if (!strcmp(a, "--src")) {
            NEED_ARG();
            o.src = argv[++i];
        } else if (!strcmp(a, "--coro")) {
            NEED_ARG();
            o.coro = argv[++i];
        } else if (!strcmp(a, "--kind")) {
            NEED_ARG();
            o.kind = coro_ev_kind_parse(argv[++i]);
            if (o.kind < 0 && !strcmp(argv[i], "dispatch")) o.kind = CORO_EV_EPOLL_DISPATCH;
            if (o.kind < 0) {
                fprintf(stderr, "coroscope %s: unknown event kind '%s'\n", v->name, argv[i]);
                return VZ_USAGE;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "coroscope %s: unknown option '%s' (see coroscope %s --help)\n",
                    v->name, a, v->name);
            return VZ_USAGE;
        } else if (!strcmp(v->name, "frame") && !have_frame) {
            if (!number(a, &o.frame)) {
                fprintf(stderr, "coroscope frame: expected an event number, not '%s'\n", a);
                return VZ_USAGE;
            }
            have_frame = true;
        } else if (!trace) {
            trace = a;
        } else if (!strcmp(v->name, "predict") && !o.prediction) {
            o.prediction = a;
        } else {
            fprintf(stderr, "coroscope %s: one trace at a time ('%s' and '%s')\n", v->name, trace,
                    a);
            return VZ_USAGE;
        }
    }
    if (!trace || (!strcmp(v->name, "frame") && !have_frame) ||
        (!strcmp(v->name, "predict") && !o.prediction)) {
        view_usage(v, stderr);
        return VZ_USAGE;
    }
    o.progress = isatty(STDERR_FILENO);
    o.color = !o.out && isatty(STDOUT_FILENO) && !(nc && *nc);

    vz_trace t;
    int rc = vz_read(trace, &t, o.progress);
    if (rc) return rc;
    vz_report_ending(&t, stderr);

    if (!o.out) {
        rc = v->fn(&t, &o, stdout);
    } else if (v->engine) {
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        if (!mem) {
            fprintf(stderr, "coroscope: cannot buffer the drawing for %s: %s\n", o.out,
                    strerror(errno));
            vz_free(&t);
            return VZ_RENDER;
        }
        rc = v->fn(&t, &o, mem);
        fclose(mem);
        if (!rc) {
            rc = vz_render(text, len, o.out, v->engine, !strcmp(v->engine, "neato") ? "-n2" : NULL);
            if (!rc && isatty(STDERR_FILENO)) fprintf(stderr, "coroscope: wrote %s\n", o.out);
        }
        free(text);
    } else {
        FILE *f = fopen(o.out, "w");
        if (!f) {
            fprintf(stderr, "coroscope: cannot write %s: %s\n", o.out, strerror(errno));
            rc = VZ_USAGE;
        } else {
            rc = v->fn(&t, &o, f);
            fclose(f);
        }
    }
    vz_free(&t);
    return rc;
}

/* ---- coroscope run ---- */

static int write_view(const char *name, const vz_trace *t, const char *dir, const char *file)
{
    const view *v = NULL;
    for (size_t i = 0; i < NVIEWS; i++)
        if (!strcmp(views[i].name, name)) v = &views[i];
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    vz_opts o = {.fd = -1, .kind = -1, .out = path, .fold = true};
    if (!v->engine) {
        FILE *f = fopen(path, "w");
        if (!f) {
            fprintf(stderr, "coroscope run: cannot write %s: %s\n", path, strerror(errno));
            return VZ_RENDER;
        }
        int rc = v->fn(t, &o, f);
        fclose(f);
        return rc == VZ_VIOLATIONS ? VZ_OK : rc;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) {
        fprintf(stderr, "coroscope run: cannot buffer the drawing for %s: %s\n", path,
                strerror(errno));
        return VZ_RENDER;
    }
    int rc = v->fn(t, &o, mem);
    fclose(mem);
    if (!rc) rc = vz_render(text, len, path, v->engine, !strcmp(v->engine, "neato") ? "-n2" : NULL);
    free(text);
    return rc;
}

static int run_program(int argc, char **argv)
{
    const char *dir = "coroscope-run";
    int i = 0;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "-d") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: coroscope run [-d DIR] -- PROGRAM [ARGS...]\n\n"
                   "Runs PROGRAM with tracing switched on (CORO_TRACE), then writes into DIR\n"
                   "(default coroscope-run): trace.jsonl, log.txt, graph.svg (folded), seq.svg,\n"
                   "stats.txt, check.txt and run.html (open it in a browser to step through).\n");
            return VZ_OK;
        } else if (!strcmp(argv[i], "--")) {
            i++;
            break;
        } else
            break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: coroscope run [-d DIR] -- PROGRAM [ARGS...]\n");
        return VZ_USAGE;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "coroscope run: cannot make %s: %s\n", dir, strerror(errno));
        return VZ_USAGE;
    }
    char trace[4096];
    snprintf(trace, sizeof trace, "%s/trace.jsonl", dir);
    pid_t pid = fork();
    if (pid < 0) {
        /* No child: waitpid(-1) would wait for any child, and then draw a
         * trace nobody wrote. */
        fprintf(stderr, "coroscope run: cannot start %s: %s\n", argv[i], strerror(errno));
        return VZ_USAGE;
    }
    if (pid == 0) {
        setenv("CORO_TRACE", trace, 1);
        execvp(argv[i], argv + i);
        fprintf(stderr, "coroscope run: cannot run %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127) return VZ_USAGE;
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        fprintf(stderr, "coroscope run: %s exited with status %d; drawing what it traced\n",
                argv[i], WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    vz_trace t;
    int rc = vz_read(trace, &t, isatty(STDERR_FILENO));
    if (rc) return rc;
    vz_report_ending(&t, stderr);
    static const struct {
        const char *view, *file;
    } outs[] = {{"log", "log.txt"},     {"graph", "graph.svg"}, {"seq", "seq.svg"},
                {"stats", "stats.txt"}, {"check", "check.txt"}, {"html", "run.html"}};
    for (size_t k = 0; k < sizeof outs / sizeof *outs; k++) {
        int r = write_view(outs[k].view, &t, dir, outs[k].file);
        if (r)
            rc = r;
        else
            printf("wrote %s/%s\n", dir, outs[k].file);
    }
    vz_free(&t);
    return rc;
}
