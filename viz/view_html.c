/*
 * view_html.c - `coroscope html`: one self-contained page in which a learner
 * steps through a run in a browser (forward, back, to any event, playing,
 * or to a coroutine's next event), seeing on each step the annotated log
 * line, the source line that caused it, the frame (who runs, what each
 * suspended coroutine waits for, the ready queue, the await chains) and the
 * continuation graph with the edge that just fired.
 *
 * The page decides nothing about coroutines: every frame comes from this
 * viewer's model (model.c). The page carries, event by event, the rows of
 * the model that the event changed (html_data.c), and the browser rebuilds
 * any frame by applying them from its nearest checkpoint. The graph is the
 * graph view's DOT laid out by Graphviz here; the page only highlights and
 * hides its nodes and edges. The page's own HTML, CSS and JavaScript are the
 * files in viz/html/, built into this program (viz/html/embed.cmake).
 *
 * Names reach the page only as JSON inside <script type="application/json">
 * (with `<`, `>` and `&` escaped, so no name can end the element) or as SVG
 * text that Graphviz escaped, and the script shows them as text only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "html_assets.h"
#include "html_data.h"
#include "viz.h"

enum { FOLD_ABOVE = 40, GRAPH_NODES = 150 };

static void html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            putc(*s, f);
        }
    }
}

/* The graph view's picture of the whole run as SVG text (from its <svg>
 * element on), or NULL with the reason on stderr. */
static char *graph_svg(const vz_trace *t, bool fold, uint32_t *edge_of)
{
    vz_opts go = {.fold = fold, .max_nodes = GRAPH_NODES, .fd = -1, .kind = -1};
    char *dot = NULL, *svg = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&dot, &len);
    if (!mem) return NULL;
    int rc = vz_graph_for_page(t, &go, mem, edge_of);
    fclose(mem);
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/coroscope-html-XXXXXX.svg", tmp && *tmp ? tmp : "/tmp");
    int fd = rc ? -1 : mkstemps(path, 4);
    if (fd < 0) {
        if (!rc) fprintf(stderr, "coroscope html: cannot make %s: %s\n", path, strerror(errno));
        free(dot);
        return NULL;
    }
    close(fd);
    if (vz_render(dot, len, path, "dot", NULL) == VZ_OK) {
        FILE *f = fopen(path, "r");
        if (f) {
            char *all = NULL;
            size_t n = 0;
            FILE *m = open_memstream(&all, &n);
            char buf[65536];
            size_t r;
            while (m && (r = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, r, m);
            if (m) fclose(m);
            fclose(f);
            /* Keep the <svg> element: the XML prolog and doctype have no
             * place inside an HTML page. */
            char *start = all ? strstr(all, "<svg") : NULL;
            if (start) svg = strdup(start);
            free(all);
        }
    }
    unlink(path);
    free(dot);
    return svg;
}

static size_t coroutines(const vz_trace *t)
{
    vz_model m;
    vz_model_init(&m);
    for (size_t i = 0; i < t->n; i++) vz_model_apply(&m, &t->ev[i]);
    size_t n = 0;
    for (size_t k = 0; k < m.n; k++) n += !m.co[k].is_object;
    vz_model_free(&m);
    return n;
}

/* The page is page.html with its @@NAME@@ markers filled in. */
static int fill(FILE *out, const vz_trace *t, const vz_opts *o, const char *svg, bool fold,
                const uint32_t *edge_of)
{
    const char *p = (const char *)vz_asset_page_html;
    int rc = VZ_OK;
    for (;;) {
        const char *at = strstr(p, "@@");
        if (!at) break;
        const char *end = strstr(at + 2, "@@");
        if (!end) break;
        fwrite(p, 1, (size_t)(at - p), out);
        size_t nlen = (size_t)(end - at - 2);
        const char *name = at + 2;
#define IS(s) (nlen == sizeof(s) - 1 && !memcmp(name, s, nlen))
        if (IS("TITLE"))
            html_text(out, t->program ? t->program : "trace");
        else if (IS("CSS"))
            fputs((const char *)vz_asset_stepper_css, out);
        else if (IS("JS"))
            fputs((const char *)vz_asset_stepper_js, out);
        else if (IS("GRAPH"))
            fputs(svg ? svg : "", out);
        else if (IS("DATA"))
            rc = vz_html_data(out, t, o, fold, svg ? edge_of : NULL);
#undef IS
        p = end + 2;
    }
    fputs(p, out);
    return rc;
}

int vz_view_html(const vz_trace *t, const vz_opts *o, FILE *out)
{
    bool fold = coroutines(t) > FOLD_ABOVE;
    uint32_t *edge_of = calloc(t->n + 1, sizeof *edge_of);
    if (!edge_of) abort();
    char *svg = graph_svg(t, fold, edge_of);
    if (!svg) fprintf(stderr, "coroscope html: the page has no graph (Graphviz failed)\n");
    int rc = fill(out, t, o, svg, fold, edge_of);
    free(svg);
    free(edge_of);
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(stderr, "coroscope html: cannot write the page: %s\n", strerror(errno));
        return VZ_RENDER;
    }
    if (!rc && !svg) rc = VZ_RENDER;
    return rc;
}
