/*
 * view_tutorial.c - `coroscope tutorial list | run N | check N FILE`: the
 * course from the viewer. A chapter is a folder tutorials/NN-name/ of the
 * source tree; its program is built in the build tree, whose
 * tutorials/chapters.tsv (written by tutorials/CMakeLists.txt) lists
 * "number, folder, program target, arguments" per line.
 *
 * The source and build trees are the ones this coroscope was built from
 * (VZ_SOURCE_DIR, VZ_BUILD_DIR); COROSCOPE_SOURCE_DIR and
 * COROSCOPE_BUILD_DIR override them. An installed coroscope without them
 * says where the course lives.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "viz.h"

#ifndef VZ_SOURCE_DIR
#define VZ_SOURCE_DIR ""
#endif
#ifndef VZ_BUILD_DIR
#define VZ_BUILD_DIR ""
#endif

typedef struct chapter {
    char num[8], dir[256], target[128], args[512];
    char title[256];
} chapter;

/* Copies src whole into dst[n], or returns false if it does not fit. */
static bool copy_field(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    if (len >= n) return false;
    memcpy(dst, src, len + 1);
    return true;
}

static const char *tree(const char *env, const char *built)
{
    const char *e = getenv(env);
    return e && *e ? e : built;
}

static int course_missing(void)
{
    fprintf(stderr,
            "coroscope tutorial: no course here: the chapters live in a coroscope source checkout\n"
            "  built with `make demo` (looked for %s/tutorials/chapters.tsv;\n"
            "  set COROSCOPE_SOURCE_DIR and COROSCOPE_BUILD_DIR to point elsewhere)\n",
            tree("COROSCOPE_BUILD_DIR", VZ_BUILD_DIR));
    return VZ_USAGE;
}

/* The chapters, in order; *n of them. NULL when the course is not built. */
static chapter *chapters(size_t *n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tutorials/chapters.tsv",
             tree("COROSCOPE_BUILD_DIR", VZ_BUILD_DIR));
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    chapter *v = NULL;
    size_t cap = 0;
    *n = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            chapter *nv = realloc(v, cap * sizeof *v);
            if (!nv) break;
            v = nv;
        }
        chapter *c = &v[*n];
        memset(c, 0, sizeof *c);
        char *tok[4] = {0};
        char *p = line;
        for (int i = 0; i < 4; i++) {
            char *tab = strchr(p, '\t');
            tok[i] = p;
            if (!tab) break;
            *tab = 0;
            p = tab + 1;
        }
        if (!tok[2]) continue;
        if (!copy_field(c->num, sizeof c->num, tok[0]) ||
            !copy_field(c->dir, sizeof c->dir, tok[1]) ||
            !copy_field(c->target, sizeof c->target, tok[2]) ||
            !copy_field(c->args, sizeof c->args, tok[3] ? tok[3] : ""))
            continue; /* not a line the build wrote */
        snprintf(path, sizeof path, "%s/tutorials/%s/README.md",
                 tree("COROSCOPE_SOURCE_DIR", VZ_SOURCE_DIR), c->dir);
        FILE *r = fopen(path, "r");
        if (r && fgets(c->title, sizeof c->title, r)) {
            c->title[strcspn(c->title, "\n")] = 0;
            memmove(c->title, c->title + strspn(c->title, "# "), strlen(c->title) + 1);
        }
        if (r) fclose(r);
        (*n)++;
    }
    fclose(f);
    return v;
}

static const chapter *find(const chapter *v, size_t n, const char *num)
{
    char *end;
    long want = strtol(num, &end, 10);
    if (*end || end == num) return NULL;
    for (size_t i = 0; i < n; i++)
        if (atol(v[i].num) == want) return &v[i];
    return NULL;
}

/* Run argv; with quiet, its output goes to a file shown only if it fails.
 * extra_env: "NAME=value" strings put in its environment. */
static int spawn(char *const argv[], char *const extra_env[], bool quiet)
{
    char log[] = "/tmp/coroscope-tutorial-XXXXXX";
    int fd = quiet ? mkstemp(log) : -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        for (size_t i = 0; extra_env && extra_env[i]; i++) putenv(extra_env[i]);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd); /* the program sees 0-2 only, as on the chapter's page */
        }
        execvp(argv[0], argv);
        fprintf(stderr, "coroscope tutorial: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (fd >= 0) {
        if (rc) {
            char buf[4096];
            ssize_t k;
            lseek(fd, 0, SEEK_SET);
            while ((k = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)k, stderr);
        }
        close(fd);
        unlink(log);
    }
    return rc;
}

/* Build the chapter's program if it is out of date; its path in prog. */
static int build(const chapter *c, char *prog, size_t n)
{
    const char *b = tree("COROSCOPE_BUILD_DIR", VZ_BUILD_DIR);
    snprintf(prog, n, "%s/tutorials/%s", b, c->target);
    char *argv[] = {"cmake", "--build", (char *)b, "--target", (char *)c->target, NULL};
    if (spawn(argv, NULL, true) != 0) {
        struct stat st;
        if (stat(prog, &st) == 0) {
            fprintf(stderr,
                    "coroscope tutorial: could not rebuild %s; running the one built before\n",
                    c->target);
            return 0;
        }
        fprintf(stderr, "coroscope tutorial: cannot build %s (see above)\n", c->target);
        return VZ_USAGE;
    }
    return 0;
}

/* Run the chapter's program traced (logical clock) into trace; its own
 * output goes to the terminal, or nowhere with quiet. */
static int run_traced(const chapter *c, const char *prog, const char *trace, bool quiet)
{
    char *argv[64] = {(char *)prog};
    char args[512];
    snprintf(args, sizeof args, "%s", c->args);
    size_t k = 1;
    for (char *s = strtok(args, " "); s && k < 63; s = strtok(NULL, " ")) argv[k++] = s;
    argv[k] = NULL;
    char env_trace[4200];
    snprintf(env_trace, sizeof env_trace, "CORO_TRACE=%s", trace);
    char *env[] = {env_trace, "CORO_TRACE_CLOCK=logical", NULL};
    int rc = spawn(argv, env, quiet);
    if (rc == 127) return VZ_USAGE;
    if (rc) fprintf(stderr, "coroscope tutorial: %s exited with status %d\n", c->target, rc);
    return VZ_OK;
}

static int draw(const vz_trace *t, int (*fn)(const vz_trace *, const vz_opts *, FILE *),
                const char *engine, const char *path)
{
    vz_opts o = {.fd = -1, .kind = -1, .out = path};
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) return VZ_RENDER;
    int rc = fn(t, &o, mem);
    fclose(mem);
    if (!rc) rc = vz_render(text, len, path, engine, !strcmp(engine, "neato") ? "-n2" : NULL);
    free(text);
    return rc;
}

static int list(const char *self, const chapter *v, size_t n)
{
    printf("The course: one idea per chapter (tutorials/README.md).\n\n");
    for (size_t i = 0; i < n; i++) printf("  %s  %s\n", v[i].num, v[i].title);
    printf("\nrun one: %s tutorial run N\nread one: tutorials/NN-*/README.md\n", self);
    return VZ_OK;
}

static int run(const char *self, const chapter *c, const char *dir, bool has_html)
{
    char prog[4096], trace[4096], path[4096];
    int rc = build(c, prog, sizeof prog);
    if (rc) return rc;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "coroscope tutorial: cannot make %s: %s\n", dir, strerror(errno));
        return VZ_USAGE;
    }
    snprintf(trace, sizeof trace, "%s/trace.jsonl", dir);
    printf("== chapter %s: %s\n== running %s traced\n", c->num, c->title, c->target);
    fflush(stdout);
    rc = run_traced(c, prog, trace, false);
    if (rc) return rc;
    vz_trace t;
    rc = vz_read(trace, &t, false);
    if (rc) return rc;
    printf("\n== the annotated log (%s)\n", trace);
    vz_opts o = {.fd = -1, .kind = -1};
    vz_view_log(&t, &o, stdout);
    printf("\n== diagrams\n");
    static const struct {
        const char *file, *engine;
        int (*fn)(const vz_trace *, const vz_opts *, FILE *);
    } d[] = {{"graph.svg", "dot", vz_view_graph}, {"seq.svg", "neato", vz_view_seq}};
    for (size_t i = 0; i < sizeof d / sizeof *d; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, d[i].file);
        int r = draw(&t, d[i].fn, d[i].engine, path);
        if (r)
            rc = r;
        else
            printf("wrote %s\n", path);
    }
    if (has_html) {
        snprintf(path, sizeof path, "%s/run.html", dir);
        vz_opts h = {
            .fd = -1, .kind = -1, .out = path, .src = tree("COROSCOPE_SOURCE_DIR", VZ_SOURCE_DIR)};
        FILE *f = fopen(path, "w");
        int r = f ? vz_view_html(&t, &h, f) : VZ_RENDER;
        if (f) fclose(f);
        if (r)
            rc = r;
        else
            printf("wrote %s (open it in a browser to step through the run)\n", path);
    }
    vz_free(&t);
    printf("\n== next\n"
           "step through it:   %s step %s\n"
           "one moment:        %s frame N %s\n"
           "predict, then check: write FROM -> TO lines in a file, then\n"
           "                   %s tutorial check %s FILE\n",
           self, trace, self, trace, self, c->num);
    return rc;
}

static int check(const chapter *c, const char *file)
{
    char prog[4096];
    int rc = build(c, prog, sizeof prog);
    if (rc) return rc;
    if (access(file, R_OK) != 0) {
        fprintf(stderr, "coroscope tutorial check: cannot read %s: %s\n", file, strerror(errno));
        return VZ_USAGE;
    }
    char dir[] = "/tmp/coroscope-check-XXXXXX", trace[64];
    if (!mkdtemp(dir)) return VZ_USAGE;
    snprintf(trace, sizeof trace, "%s/trace.jsonl", dir);
    rc = run_traced(c, prog, trace, true);
    vz_trace t;
    if (!rc) rc = vz_read(trace, &t, false);
    unlink(trace);
    rmdir(dir);
    if (rc) return rc;
    vz_opts o = {.fd = -1, .kind = -1, .prediction = file};
    rc = vz_view_predict(&t, &o, stdout);
    vz_free(&t);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: coroscope tutorial list\n"
               "       coroscope tutorial run N [-d DIR]\n"
               "       coroscope tutorial check N PREDICTION\n\n"
               "list    the chapters of the course (tutorials/README.md)\n"
               "run     build chapter N's program if needed, run it traced, print its annotated\n"
               "        log and write its diagrams into DIR (default tutorial-out/NN)\n"
               "check   run chapter N's program and compare its transfers of control with\n"
               "        PREDICTION (see coroscope predict --help); exits 4 at a difference\n");
}

int vz_tutorial(int argc, char **argv, const char *self, bool has_html)
{
    if (argc < 1 || !strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
        usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? VZ_USAGE : VZ_OK;
    }
    const char *cmd = argv[0];
    bool is_list = !strcmp(cmd, "list"), is_run = !strcmp(cmd, "run"),
         is_check = !strcmp(cmd, "check");
    if (!is_list && !is_run && !is_check) {
        fprintf(stderr, "coroscope tutorial: unknown command '%s'\n", cmd);
        usage(stderr);
        return VZ_USAGE;
    }
    const char *dir = NULL;
    if (is_run && argc == 4 && !strcmp(argv[2], "-d")) {
        dir = argv[3];
        argc = 2;
    }
    if ((is_list && argc != 1) || (is_run && argc != 2) || (is_check && argc != 3)) {
        usage(stderr);
        return VZ_USAGE;
    }
    size_t n = 0;
    chapter *v = chapters(&n);
    if (!v) return course_missing();
    int rc;
    if (is_list) {
        rc = list(self, v, n);
    } else {
        const chapter *c = find(v, n, argv[1]);
        if (!c) {
            fprintf(stderr, "coroscope tutorial: no chapter '%s' (coroscope tutorial list)\n",
                    argv[1]);
            rc = VZ_USAGE;
        } else if (is_run) {
            char def[300];
            if (!dir) {
                mkdir("tutorial-out", 0755);
                snprintf(def, sizeof def, "tutorial-out/%s", c->num);
                dir = def;
            }
            rc = run(self, c, dir, has_html);
        } else {
            rc = check(c, argv[2]);
        }
    }
    free(v);
    return rc;
}
