/* Chapter 2: a parent awaits a child that yields half way. */
#include <stdint.h>
#include <string.h>

#include "coro/coro.h"

static coro_t *the_child;

static void *child(void *arg)
{
    (void)arg;
    coro_log("child starts");
    coro_yield(); /* where does control go? */
    coro_log("child ends");
    return (void *)(intptr_t)42;
}

static void *parent(void *arg)
{
    (void)arg;
    the_child = coro_create(child, NULL, "child");
    void *r;
    coro_await(the_child, &r);
    coro_log("parent got %d", (int)(intptr_t)r);
    coro_destroy(the_child);
    return NULL;
}

int main(void)
{
    coro_t *p = coro_create(parent, NULL, "parent");
    coro_resume(p); /* parent starts child; child yields: back here, not to parent */
    int rc = coro_resume(p);
    coro_log("resuming parent: %s", rc ? coro_last_error() : "ok");
    coro_resume(the_child); /* the child finishes, and its finish continues parent */
    coro_log("parent is %s", coro_state_name(coro_get_state(p)));
    coro_destroy(p);
    return 0;
}
