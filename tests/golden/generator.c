/* Golden: a generator. main resumes it, it yields straight back: each
 * yield's suspend and the resume of main that follows are one record in a
 * binary trace (tests/tracer: binary_goldens). */
#include "coro/coro.h"

static void *count_to_three(void *arg)
{
    (void)arg;
    for (int i = 1; i <= 3; i++) {
        coro_log("yield %d", i);
        coro_yield();
    }
    return NULL;
}

int main(void)
{
    coro_t *gen = coro_create(count_to_three, NULL, "gen");
    for (int i = 0; i < 4; i++) coro_resume(gen);
    coro_destroy(gen);
    return 0;
}
