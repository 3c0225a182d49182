/*
 * coro/ws.h - a work-stealing scheduler: N worker threads, each with its
 * own lock-free run queue, taking work from the others when idle, in the style of
 * Go's G/M/P model. Coroutines spawned on it migrate between threads.
 *
 * Rules for code that runs on a migrating coroutine:
 *  - errno is saved and restored with the coroutine, so its value is kept
 *    across a yield; but the compiler may keep the *address* of errno (or of
 *    any _Thread_local) in a register across a call that suspends: glibc
 *    declares __errno_location() const, so in a loop `errno = x; yield();`
 *    its address may be computed once, before the loop. After a move to
 *    another worker that address is the old thread's, and the coroutine
 *    uses another thread's errno (ThreadSanitizer reports it as a race).
 *    No compiler flag prevents this, so the rule is: in a coroutine that can
 *    migrate, read and write errno, thread-locals (and pthread_self(), also
 *    const) only through
 *    functions the compiler cannot see through, called after each suspension
 *    (another translation unit, or GCC's __attribute__((noipa)): noinline
 *    alone is not enough, GCC still proves such a function const). The runtime itself
 *    follows it (coro.c fetches its thread state anew after every switch of
 *    a scheduler coroutine, in ws.c's coro__ws_landed).
 *  - A coroutine runs on one worker at a time; it must not be resumed by
 *    hand (coro_resume) while it belongs to the scheduler.
 *  - The io_context and the sync objects are per thread: not for coroutines
 *    of this scheduler (yield, spawn and await-free computation are).
 */
#ifndef CORO_WS_H
#define CORO_WS_H

#include <stdint.h>

#include "coro/api.h"
#include "coro/coro.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct coro_ws coro_ws;

/* Start `workers` threads (1..256). NULL with errno on failure. */
CORO_API coro_ws *coro_ws_create(int workers);

/* A detached coroutine on the scheduler, from any thread. Traces create,
 * spawn. NULL with errno on failure. */
#define coro_ws_spawn(ws, fn, arg, ...)                                                            \
    coro_ws_spawn_at(__FILE__, __LINE__, (ws), #fn, (fn), (arg), __VA_ARGS__)
CORO_API coro_t *coro_ws_spawn_at(const char *file, int line, coro_ws *ws, const char *fn_name,
                                  coro_fn fn, void *arg, const char *fmt, ...) CORO_PRINTF(7, 8);

/* Wait until every coroutine spawned on it has finished, then stop and join
 * the workers and free the scheduler. Returns 0. */
CORO_API int coro_ws_join(coro_ws *ws);

/* Coroutines one worker took from another's queue so far. */
CORO_API uint64_t coro_ws_steals(const coro_ws *ws);

/* The calling thread's worker number (0..N-1), or -1 outside the workers. */
CORO_API int coro_ws_worker(void);

#ifdef __cplusplus
}
#endif
#endif
