/*
 * view_log.c - `coroscope log`: the annotated human log, re-rendered from a
 * trace with the same formatter as the live log (coro_trace_format), with
 * filters and a marker wherever the tracer lost events.
 */
#include <stdlib.h>
#include <string.h>

#include "viz.h"

/* Does the event concern the coroutine (or folded pattern) called name? */
static bool mentions(const coro_trace_ev *ev, const char *name)
{
    const coro_trace_ref *r[] = {&ev->co, &ev->from, &ev->to, &ev->obj};
    for (size_t i = 0; i < sizeof r / sizeof *r; i++)
        if (r[i]->name &&
            (!strcmp(r[i]->name, name) || vz_fold_name(r[i]->name) == vz_intern(name)))
            return true;
    return false;
}

bool vz_log_selected(const coro_trace_ev *ev, const vz_opts *o);
bool vz_log_selected(const coro_trace_ev *ev, const vz_opts *o)
{
    if (o->from && ev->seq < o->from) return false;
    if (o->to && ev->seq > o->to) return false;
    if (o->kind >= 0 && (int)ev->kind != o->kind) return false;
    if (o->fd >= 0 && (!(ev->has & CORO_EVH_FD) || ev->fd != o->fd)) return false;
    if (o->coro && !mentions(ev, o->coro)) return false;
    return true;
}

/* With --fd N: the suspends that waited on fd N. A suspend that carries
 * `fd` says so itself; one written before the format had it is found from
 * the dispatch that ends the wait: the same coroutine's latest suspend on
 * the same object. */
static bool *fd_suspends(const vz_trace *t, int fd)
{
    bool *mark = calloc(t->n + 1, sizeof *mark);
    vz_model m;
    vz_model_init(&m);
    if (!mark) abort();
    for (size_t i = 0; i < t->n; i++) {
        const coro_trace_ev *ev = &t->ev[i];
        if (!ev->co.id) continue;
        vz_coro *c = vz_model_get(&m, ev->co.id, NULL);
        if (ev->kind == CORO_EV_SUSPEND) {
            c->ready_mark = i + 1; /* here: its latest suspend */
            c->wait_obj = ev->obj.id;
            c->fd = (ev->has & CORO_EVH_FD) ? ev->fd : -1;
        } else if ((ev->kind == CORO_EV_EPOLL_DISPATCH || ev->kind == CORO_EV_TIMER) &&
                   (ev->has & CORO_EVH_FD) && ev->fd == fd && c->ready_mark &&
                   c->wait_obj == ev->obj.id && c->fd < 0) {
            mark[c->ready_mark - 1] = true;
        }
    }
    vz_model_free(&m);
    return mark;
}

/* For each epoll_wait: how many distinct fds its dispatches handed over (on
 * io_uring: how many completions), so a wait that reported more ready than
 * it dispatched can say why. */
static int *dispatched_fds(const vz_trace *t)
{
    int *count = calloc(t->n + 1, sizeof *count);
    if (!count) abort();
    size_t *last_wait = NULL; /* per thread: index + 1 of its latest epoll_wait */
    int *last_fd = NULL;
    unsigned threads = 0;
    for (size_t i = 0; i < t->n; i++) {
        const coro_trace_ev *ev = &t->ev[i];
        if (ev->thread >= threads) {
            unsigned n = ev->thread + 8;
            last_wait = realloc(last_wait, n * sizeof *last_wait);
            last_fd = realloc(last_fd, n * sizeof *last_fd);
            if (!last_wait || !last_fd) abort();
            for (unsigned k = threads; k < n; k++) last_wait[k] = 0, last_fd[k] = -1;
            threads = n;
        }
        if (ev->kind == CORO_EV_EPOLL_WAIT) {
            last_wait[ev->thread] = i + 1;
            last_fd[ev->thread] = -1;
        } else if (ev->kind == CORO_EV_EPOLL_DISPATCH && last_wait[ev->thread]) {
            const coro_trace_ev *w = &t->ev[last_wait[ev->thread] - 1];
            if ((ev->has & CORO_EVH_WAIT) && (w->has & CORO_EVH_WAIT) && ev->wait != w->wait)
                continue;
            if (ev->fd != last_fd[ev->thread]) count[last_wait[ev->thread] - 1]++;
            last_fd[ev->thread] = ev->fd;
        } else if (ev->kind == CORO_EV_COMPLETE && last_wait[ev->thread]) {
            count[last_wait[ev->thread] - 1]++; /* io_uring: each completion is one entry */
        }
    }
    free(last_wait);
    free(last_fd);
    return count;
}

static void print_event(const vz_trace *t, size_t i, unsigned flags, FILE *out)
{
    char small[1024];
    const coro_trace_ev *ev = &t->ev[i];
    size_t n = coro_trace_format(ev, small, sizeof small, flags);
    if (n >= sizeof small) {
        char *big = malloc(n + 1);
        if (!big) abort();
        coro_trace_format(ev, big, n + 1, flags);
        fprintf(out, "%s\n", big);
        free(big);
    } else {
        fprintf(out, "%s\n", small);
    }
}

int vz_view_log(const vz_trace *t, const vz_opts *o, FILE *out)
{
    unsigned flags = (t->logical ? CORO_FMT_LOGICAL : 0) | (o->color ? CORO_FMT_COLOR : 0);
    /* The live log's header, with the time column's unit named. */
    fprintf(out, "  seq %9s  thr  event\n", t->logical ? "ticks" : "time(us)");
    bool *waited_on_fd = o->fd >= 0 ? fd_suspends(t, o->fd) : NULL;
    int *dispatched = dispatched_fds(t);
    size_t g = 0, shown = 0;
    for (size_t i = 0; i < t->n; i++) {
        for (; g < t->ngaps && t->gaps[g].index <= i; g++)
            fprintf(out, "  ----- %llu events lost by the tracer here (after seq %llu) -----\n",
                    (unsigned long long)t->gaps[g].count, (unsigned long long)t->gaps[g].after);
        const coro_trace_ev *ev = &t->ev[i];
        bool selected = vz_log_selected(ev, o);
        if (!selected && waited_on_fd && waited_on_fd[i]) {
            vz_opts any_fd = *o;
            any_fd.fd = -1;
            selected = vz_log_selected(ev, &any_fd);
        }
        if (!selected) continue;
        if (o->first && shown >= o->first) break;
        print_event(t, i, flags, out);
        if (ev->kind == CORO_EV_EPOLL_WAIT && (ev->has & CORO_EVH_NREADY) &&
            dispatched[i] < ev->nready) {
            int other = ev->nready - dispatched[i];
            char others[32] = "the other";
            if (other > 1) snprintf(others, sizeof others, "the other %d", other);
            fprintf(out,
                    "%24s(%d ready, %d dispatched: %s had no coroutine waiting for that readiness, "
                    "or %s the loop's own wake-up for posted work)\n",
                    "", ev->nready, dispatched[i], others, other > 1 ? "one was" : "was");
        }
        shown++;
    }
    for (; g < t->ngaps; g++)
        fprintf(out, "  ----- %llu events lost by the tracer here (after seq %llu) -----\n",
                (unsigned long long)t->gaps[g].count, (unsigned long long)t->gaps[g].after);
    free(waited_on_fd);
    free(dispatched);
    return VZ_OK;
}
