/*
 * dot.c - DOT output that is valid whatever a name contains, and rendering
 * through Graphviz.
 *
 * Names come from programs, so they may hold quotes, backslashes, braces,
 * newlines, any bytes: inside a DOT double-quoted string only `"` and `\`
 * need escaping, newlines become the `\n` escape, other control bytes are
 * dropped, and a very long name is cut (on a UTF-8 boundary) with an
 * ellipsis, so a 10 KB name neither breaks the file nor the layout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "viz.h"

void vz_dot_esc(FILE *f, const char *s, size_t max)
{
    size_t shown = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (shown >= max && (*p & 0xc0) != 0x80) {
            fputs("...", f);
            break;
        }
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            putc('\\', f);
            putc((int)c, f);
        } else if (c == '\n') {
            fputs("\\n", f);
        } else if (c < 0x20 || c == 0x7f) {
            continue;
        } else if (c >= 0x80) {
            /* whole characters only: a label cut by snprintf stays UTF-8 */
            size_t n = vz_utf8_seq(p);
            if (!n) continue;
            fwrite(p, 1, n, f);
            p += n - 1;
        } else {
            putc((int)c, f);
        }
        if ((c & 0xc0) != 0x80) shown++;
    }
}

void vz_dot_str(FILE *f, const char *s, size_t max)
{
    putc('"', f);
    vz_dot_esc(f, s, max);
    putc('"', f);
}

static const char *format_of(const char *out)
{
    const char *dot = strrchr(out, '.');
    if (!dot) return NULL;
    static const char *ok[] = {"svg", "png", "pdf", "dot", "json", "ps"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (!strcmp(dot + 1, ok[i])) return ok[i];
    return NULL;
}

int vz_render(const char *text, size_t len, const char *out, const char *engine,
              const char *extra_arg)
{
    const char *fmt = format_of(out);
    if (!fmt) {
        fprintf(stderr, "coroscope: cannot tell the format of %s: use .svg, .png or .pdf\n", out);
        return VZ_USAGE;
    }
    if (!strcmp(fmt, "dot")) {
        FILE *f = fopen(out, "w");
        if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
            fprintf(stderr, "coroscope: cannot write %s: %s\n", out, strerror(errno));
            return VZ_RENDER;
        }
        return VZ_OK;
    }
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "coroscope: cannot make a pipe to Graphviz: %s\n", strerror(errno));
        return VZ_RENDER;
    }
    char targ[16];
    snprintf(targ, sizeof targ, "-T%s", fmt);
    pid_t pid = fork();
    if (pid < 0) {
        /* No child: waitpid(-1) below would wait for any child at all. */
        fprintf(stderr, "coroscope: cannot start Graphviz '%s': %s\n", engine, strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return VZ_RENDER;
    }
    if (pid == 0) {
        dup2(fds[0], STDIN_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (extra_arg)
            execlp(engine, engine, extra_arg, targ, "-o", out, (char *)NULL);
        else
            execlp(engine, engine, targ, "-o", out, (char *)NULL);
        fprintf(stderr, "coroscope: cannot run Graphviz '%s': %s (install the graphviz package)\n",
                engine, strerror(errno));
        _exit(127);
    }
    close(fds[0]);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fds[1], text + off, len - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    close(fds[1]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "coroscope: %s failed to render %s\n", engine, out);
        return VZ_RENDER;
    }
    return VZ_OK;
}
