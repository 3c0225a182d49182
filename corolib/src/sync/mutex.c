/*
 * mutex.c - a coroutine mutex with FIFO hand-off: unlock gives the mutex
 * to the first waiter directly, so a coroutine that unlocks and relocks in
 * a loop cannot starve the others (no barging).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sync_int.h"

void coro_mutex_init(coro_mutex *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    coro_named_vinit(&m->named, "mutex", fmt, ap);
    va_end(ap);
    m->owner = 0;
    m->owner_name[0] = 0;
    m->waiters = (coro_waitq){0};
    coro__sync_created(&m->named, "mutex");
}

int coro_mutex_destroy(coro_mutex *m)
{
    if (m->owner || m->waiters.head) return -EBUSY;
    coro_named_fini(&m->named);
    return 0;
}

static void lock_describe(const coro__wait *w, char *buf, size_t n)
{
    const coro_mutex *m = (const coro_mutex *)w->obj; /* named is its first member */
    snprintf(buf, n, "lock %s (held by %s)", m->named.name, m->owner_name);
}

static const coro__wait_ops lock_ops = {coro__sync_attach, coro__sync_detach, lock_describe,
                                        coro__sync_move};

static void take(coro_mutex *m, coro_t *co)
{
    m->owner = co->named.id;
    const char *name = co->named.name;
    _Static_assert(sizeof m->owner_name == sizeof co->named.buf, "a short name fits whole");
    if (name == co->named.buf) { /* the usual short name: one copy of a known size */
        memcpy(m->owner_name, co->named.buf, sizeof m->owner_name);
        return;
    }
    size_t n = strnlen(name, sizeof m->owner_name - 1);
    memcpy(m->owner_name, name, n);
    m->owner_name[n] = 0;
}

int coro_mutex_trylock(coro_mutex *m)
{
    if (m->owner) return -EBUSY;
    take(m, coro__thread_get()->current);
    return 0;
}

int coro_mutex_lock_at(const char *file, int line, coro_mutex *m)
{
    coro_t *self = coro__thread_get()->current;
    if (m->owner == self->named.id)
        return coro__fail(file, line, EDEADLK, "lock %s: %s already holds it", m->named.name,
                          self->named.name);
    if (!m->owner) {
        take(m, self);
        return 0;
    }
    coro__wnode n;
    /* On return the unlocker has made us the owner (unless cancelled). */
    return coro__sync_block(file, line, &m->waiters, &n, &lock_ops, &m->named, "lock", "lock");
}

int coro_mutex_unlock_at(const char *file, int line, coro_mutex *m)
{
    coro_t *self = coro__thread_get()->current;
    if (m->owner != self->named.id)
        return coro__fail(file, line, EPERM, "unlock %s: %s does not hold it", m->named.name,
                          self->named.name);
    coro__wnode *n = coro__sync_pop(&m->waiters);
    if (n) {
        take(m, n->base.co);
        coro__sync_wake(n, 0, file, line);
    } else {
        m->owner = 0;
    }
    return 0;
}
