/* A program outside the project that uses the installed corolib. */
#include <stdint.h>
#include <stdio.h>

#include <coro/coro.h>

static void *answer(void *arg)
{
    return (void *)((intptr_t)arg * 2);
}

int main(void)
{
    coro_t *co = coro_create(answer, (void *)(intptr_t)21, "answer");
    void *r = NULL;
    if (!co || coro_await(co, &r) != 0) return 1;
    printf("%s returned %d\n", coro_name(co), (int)(intptr_t)r);
    coro_destroy(co);
    return (intptr_t)r == 42 ? 0 : 1;
}
