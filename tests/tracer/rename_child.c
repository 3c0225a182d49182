/* A generator renamed halfway (traced from the environment): in a binary
 * trace its resumes and suspends are short records, which name it by id
 * alone, so every one must read back with the name it had when it was
 * recorded, also once a flight recorder's ring has overwritten the events
 * that named it (its create and its rename). N round trips; the rename is
 * after N/2. */
#include <stdlib.h>

#include "coro/coro.h"

static void *gen(void *arg)
{
    long n = *(long *)arg;
    for (long i = 0; i < n; i++) {
        if (i == n / 2) coro_rename(coro_self(), "renamed");
        coro_yield();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    coro_t *g = coro_create(gen, &n, "gen");
    for (long i = 0; i <= n; i++) coro_resume(g);
    coro_destroy(g);
    return 0;
}
