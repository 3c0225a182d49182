/* A coroutine named "crasher" dereferences NULL (traced from the
 * environment): the trace must end with a crash event naming it. */
#include <stdio.h>

#include "coro/coro.h"

/* UBSan would stop the program before the fault: let the fault happen. */
__attribute__((no_sanitize("undefined"))) static void *crasher(void *arg)
{
    volatile int *p = arg;
    coro_log("about to read through a null pointer");
    return (void *)(long)*p;
}

int main(void)
{
    coro_t *c = coro_create(crasher, NULL, "crasher");
    coro_resume(c);
    puts("not reached");
    return 0;
}
