/*
 * cond.c - condition variables and wait groups: a queue of waiters and
 * the condition they wait for, kept by the program (cond) or counted here
 * (wait group).
 */
#include <errno.h>
#include <stdio.h>

#include "sync_int.h"

void coro_cond_init(coro_cond *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    coro_named_vinit(&c->named, "cond", fmt, ap);
    va_end(ap);
    c->waiters = (coro_waitq){0};
    coro__sync_created(&c->named, "cond");
}

int coro_cond_destroy(coro_cond *c)
{
    if (c->waiters.head) return -EBUSY;
    coro_named_fini(&c->named);
    return 0;
}

static void cond_describe(const coro__wait *w, char *buf, size_t n)
{
    snprintf(buf, n, "signal of %s", w->obj->name);
}

static void wg_describe(const coro__wait *w, char *buf, size_t n)
{
    const coro_waitgroup *wg = (const coro_waitgroup *)w->obj; /* named comes first */
    snprintf(buf, n, "%s (%ld left)", wg->named.name, wg->count);
}

static const coro__wait_ops cond_ops = {coro__sync_attach, coro__sync_detach, cond_describe,
                                        coro__sync_move};
static const coro__wait_ops wg_ops = {coro__sync_attach, coro__sync_detach, wg_describe,
                                      coro__sync_move};

int coro_cond_wait_at(const char *file, int line, coro_cond *c, coro_mutex *m)
{
    if (m->owner != coro__thread_get()->current->named.id)
        return coro__fail(file, line, EPERM, "wait on %s: the caller does not hold %s",
                          c->named.name, m->named.name);
    if (!coro_may_block())
        return coro__fail(file, line, EPERM, "wait on %s: must be called inside a coroutine",
                          c->named.name);
    coro__wnode n;
    coro_mutex_unlock_at(file, line, m);
    int rc = coro__sync_block(file, line, &c->waiters, &n, &cond_ops, &c->named, "cond", "wait");
    int rl = coro_mutex_lock_at(file, line, m);
    return rc ? rc : rl;
}

void coro_cond_signal_at(const char *file, int line, coro_cond *c)
{
    coro__wnode *n = coro__sync_pop(&c->waiters);
    if (n) coro__sync_wake(n, 0, file, line);
}

void coro_cond_broadcast_at(const char *file, int line, coro_cond *c)
{
    coro__wnode *n;
    while ((n = coro__sync_pop(&c->waiters))) coro__sync_wake(n, 0, file, line);
}

void coro_waitgroup_init(coro_waitgroup *wg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    coro_named_vinit(&wg->named, "waitgroup", fmt, ap);
    va_end(ap);
    wg->count = 0;
    wg->waiters = (coro_waitq){0};
    coro__sync_created(&wg->named, "waitgroup");
}

int coro_waitgroup_add_at(const char *file, int line, coro_waitgroup *wg, long n)
{
    if (wg->count + n < 0)
        return coro__fail(file, line, EINVAL, "%s: count would go below zero", wg->named.name);
    wg->count += n;
    if (wg->count == 0) {
        coro__wnode *w;
        while ((w = coro__sync_pop(&wg->waiters))) coro__sync_wake(w, 0, file, line);
    }
    return 0;
}

int coro_waitgroup_wait_at(const char *file, int line, coro_waitgroup *wg)
{
    if (wg->count == 0) return 0;
    coro__wnode n;
    return coro__sync_block(file, line, &wg->waiters, &n, &wg_ops, &wg->named, "waitgroup", "wait");
}
