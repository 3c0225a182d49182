/* Golden: a parent awaits two children; each finish continues the parent. */
#include <stdint.h>

#include "coro/coro.h"

static void *child(void *arg)
{
    intptr_t n = (intptr_t)arg;
    coro_log("computing %d*7", (int)n);
    return (void *)(n * 7);
}

static void *parent(void *arg)
{
    (void)arg;
    coro_t *a = coro_create(child, (void *)(intptr_t)6, "child#%d", 1);
    coro_t *b = coro_create(child, (void *)(intptr_t)7, "child#%d", 2);
    void *ra, *rb;
    coro_await(a, &ra);
    coro_await(b, &rb);
    coro_destroy(a);
    coro_destroy(b);
    return (void *)((intptr_t)ra + (intptr_t)rb);
}

int main(void)
{
    coro_t *p = coro_create(parent, NULL, "parent");
    coro_resume(p);
    coro_log("parent returned %d", (int)(intptr_t)coro_result(p));
    coro_destroy(p);
    return 0;
}
