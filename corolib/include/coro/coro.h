/*
 * coro/coro.h - named, traced, stackful coroutines.
 *
 * A coroutine is a function running on its own stack that can stop in the
 * middle (suspend) and continue later (resume). Every coroutine has a name
 * and an id, and every step of its life is a trace event (coro/trace.h).
 *
 * Who runs after whom
 * -------------------
 * Each thread starts inside its "main" coroutine (coro_self() returns it).
 *
 *  - coro_resume(co): the caller R passes control to co and waits; R is
 *    co's *resumer*. When co suspends or finishes, control returns to R.
 *  - coro_yield(): the running coroutine gives control back to its resumer.
 *    A scheduled coroutine (spawned, or woken by the event loop) is put back
 *    at the end of the thread's ready queue first, so it runs again later.
 *  - coro_await(child, &res): the caller P waits for child to finish and
 *    then continues with child's result. If child has not started, control
 *    passes straight to it and child inherits P's resumer, so if child
 *    suspends, control goes where P's would have gone. When child finishes,
 *    control passes straight back to P (P is child's *continuation*).
 *  - coro_spawn(fn, ...): a detached coroutine, put on the ready queue and
 *    reclaimed when it finishes. coro_run() (or the io_context's loop)
 *    resumes ready coroutines until none is left.
 *
 * Errors are negative errno values; functions returning a pointer return
 * NULL and set errno, and coro_last_error() describes the last failure of
 * the calling thread in a sentence.
 *
 * The API names are macros that record the caller's file and line for the
 * trace; each has a function form ending in _at that takes them explicitly.
 */
#ifndef CORO_CORO_H
#define CORO_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#include "coro/api.h"
#include "coro/named.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct coro coro_t;

/* The body of a coroutine; its return value is the coroutine's result. */
typedef void *(*coro_fn)(void *arg);

typedef enum coro_state {
    CORO_CREATED,   /* made, never run */
    CORO_READY,     /* on the ready queue, will be resumed by the scheduler */
    CORO_RUNNING,   /* the current coroutine of its thread */
    CORO_SUSPENDED, /* stopped in the middle, waiting for something */
    CORO_DEAD,      /* its function returned; the result is kept */
} coro_state;

/*
 * Where a coroutine's stack lives (docs/architecture.md, "Stacks"):
 *  - GUARDED: its own mapping with a PROT_NONE guard region below the stack;
 *    an overflow is caught by the fault and names the coroutine. Two kernel
 *    mappings each: at most about 32k alive (vm.max_map_count = 65530).
 *  - SLAB: carved from large shared mappings, no guard; a canary at the
 *    stack's low end is checked whenever the coroutine switches away, and a
 *    broken one names the coroutine. No mapping per coroutine.
 *  - COPY: every copy-mode coroutine of a thread runs on one shared stack;
 *    suspending copies the bytes in use out to the heap, and resuming
 *    copies them back (libaco's copy-stack). The least memory (about 1.5 KiB
 *    for a coroutine using 1 KiB) and the slowest switch between two such
 *    coroutines. While it is suspended nothing of the program's may point
 *    into its stack. The runtime's own waits follow it (sleep, sockets and
 *    fds on the epoll backend, mutexes, conds, wait groups, channels: their
 *    records move with the stack and are re-linked), except on io_uring
 *    sockets, where the kernel keeps the addresses: -ENOTSUP. It stays on
 *    its thread.
 * DEFAULT is the process default (coro_set_default_stack_mode; GUARDED).
 */
typedef enum coro_stack_mode {
    CORO_STACK_DEFAULT = 0,
    CORO_STACK_GUARDED,
    CORO_STACK_SLAB,
    CORO_STACK_COPY,
} coro_stack_mode;

typedef struct coro_attr {
    size_t stack_size;          /* usable bytes, 0 = the default (64 KiB); COPY: unused */
    size_t guard_size;          /* GUARDED: bytes of guard, 0 = the default (64 KiB) */
    coro_stack_mode stack_mode; /* 0 = the process default */
} coro_attr;

/* ---- creating and destroying ------------------------------------------ */

/*
 * Who frees a coroutine:
 *  - made by coro_create(): the program, with coro_destroy(), once it is
 *    created (never run), dead, or suspended (abandoned: a wait it is in is
 *    unlinked first; its stack is freed without unwinding).
 *  - made by coro_spawn() (or coro_ws_spawn()): the runtime, as soon as it
 *    has finished; nobody may await or destroy it.
 *  - the main coroutine of a thread: never.
 * A coro_t * is a handle: after the coroutine is freed, calls with it fail
 * (-EINVAL, "stale handle"; getters read it as dead and nameless) rather
 * than act on a coroutine that reuses its memory. Compare handles with ==;
 * do not look inside them. The check is a safety net, not a guarantee: the
 * handle holds 15 bits of the coroutine's id, so once 32768 (or a multiple)
 * more coroutines have been made, one that reuses the record has the very
 * same handle, and the stale one acts on it. Drop handles when they die.
 */

/*
 * Create a coroutine that will run fn(arg), in state CORO_CREATED. The name
 * is printf-style ("echo#%d", n); a NULL format names it "<fn>#<id>". A
 * name from input goes in as CORO_NAME(s), never as the format (named.h).
 * Returns NULL with errno set (ENOMEM: no memory or no kernel mappings left,
 * see coro_last_error()). Traces `create`.
 */
#define coro_create(fn, arg, ...)                                                                  \
    coro_create_at(__FILE__, __LINE__, NULL, #fn, (fn), (arg), __VA_ARGS__)
#define coro_create_ex(attr, fn, arg, ...)                                                         \
    coro_create_at(__FILE__, __LINE__, (attr), #fn, (fn), (arg), __VA_ARGS__)
CORO_API coro_t *coro_create_at(const char *file, int line, const coro_attr *attr,
                                const char *fn_name, coro_fn fn, void *arg, const char *fmt, ...)
    CORO_PRINTF(7, 8);

/*
 * Create a detached coroutine and put it on the thread's ready queue. Nobody
 * may await or destroy it; its memory is reclaimed when it finishes.
 * Returns NULL with errno set on failure. Traces `create` and `spawn`.
 */
#define coro_spawn(fn, arg, ...)                                                                   \
    coro_spawn_at(__FILE__, __LINE__, NULL, #fn, (fn), (arg), __VA_ARGS__)
#define coro_spawn_ex(attr, fn, arg, ...)                                                          \
    coro_spawn_at(__FILE__, __LINE__, (attr), #fn, (fn), (arg), __VA_ARGS__)
CORO_API coro_t *coro_spawn_at(const char *file, int line, const coro_attr *attr,
                               const char *fn_name, coro_fn fn, void *arg, const char *fmt, ...)
    CORO_PRINTF(7, 8);

/*
 * Free a coroutine made by coro_create(): created, dead, or suspended (a
 * suspended coroutine is abandoned: its stack is freed without unwinding).
 * Returns 0, -EINVAL for NULL or a spawned coroutine, -EBUSY if it is
 * running, ready, has resumed another coroutine that has not given control
 * back, or is awaited. Traces `destroy`.
 */
#define coro_destroy(co) coro_destroy_at(__FILE__, __LINE__, (co))
CORO_API int coro_destroy_at(const char *file, int line, coro_t *co);

/* ---- transferring control --------------------------------------------- */

/*
 * Run co until it suspends or finishes. Returns 0, -EINVAL (NULL), -EALREADY
 * (co is dead), -EBUSY (co is running, ready or waiting on an await or an
 * event: only its waker may resume it), -EDEADLK (co is the caller or one
 * of the coroutines waiting for the caller). Traces `resume`.
 */
#define coro_resume(co) coro_resume_at(__FILE__, __LINE__, (co))
CORO_API int coro_resume_at(const char *file, int line, coro_t *co);

/* Give control back to the resumer (see above). In the main coroutine, runs
 * the ready queue once instead. Traces `suspend` (reason yield). */
#define coro_yield() coro_yield_at(__FILE__, __LINE__)
CORO_API void coro_yield_at(const char *file, int line);

/*
 * Wait for child to finish; store its result in *result (if not NULL).
 * Returns 0, or -EINVAL (NULL), -EDEADLK (awaiting yourself or one of your
 * awaiters), -EBUSY (someone already awaits child), -EPERM (child is
 * detached, or the caller is the main coroutine and child would need
 * a scheduler to finish: use coro_run()). Awaiting a dead child returns at
 * once. Traces `await`, then `suspend` (reason await) unless child is dead.
 */
#define coro_await(child, result) coro_await_at(__FILE__, __LINE__, (child), (result))
CORO_API int coro_await_at(const char *file, int line, coro_t *child, void **result);

/*
 * End the wait co is suspended in, whatever it waits for: recv, send,
 * accept, connect, a writer's wait, coro_wait_fd, coro_sleep, and the
 * waits of coro/sync.h (mutex lock, cond, wait group, channel send and
 * recv). co is made ready and that call returns -ECANCELED (accept and
 * connect: NULL with errno ECANCELED; a cancelled lock does not hold the
 * mutex; a cancelled channel send sent nothing). The socket or object
 * stays usable. co must belong to this thread. Returns 0, -ESRCH (co is
 * not waiting, or was already woken), -EINVAL (NULL). Does not suspend.
 * Traces wake (cause "wake", obj what it waited on, value -125), then
 * resume when co runs.
 */
CORO_API int coro_cancel_wait(coro_t *co);

/* Resume ready coroutines until the thread's ready queue is empty.
 * Returns how many resumptions it made. */
CORO_API size_t coro_run(void);

/* ---- asking --------------------------------------------------------- */

/* May the running coroutine block (suspend until an event)? True inside a
 * coroutine that a scheduler, a context or a resumer runs; false in main.
 * Every blocking call of corolib asks this one question first. */
CORO_API bool coro_may_block(void);

/* The running coroutine of this thread (its main coroutine outside any). */
CORO_API coro_t *coro_self(void);
CORO_API bool coro_is_main(const coro_t *co);
CORO_API coro_state coro_get_state(const coro_t *co);
/* "created", "ready", "running", "suspended", "dead" */
CORO_API const char *coro_state_name(coro_state state);
CORO_API const char *coro_name(const coro_t *co);
CORO_API uint64_t coro_id(const coro_t *co);
/* The result of a dead coroutine (NULL before it finishes). */
CORO_API void *coro_result(const coro_t *co);
CORO_API size_t coro_stack_size(const coro_t *co);
/* The runtime-object header of co, for embedding in trace references. */
CORO_API coro_named *coro_named_of(coro_t *co);
/* The coroutine that co returns to when it suspends, or NULL. */
CORO_API coro_t *coro_resumer(const coro_t *co);
/* The coroutine awaiting co, or NULL. */
CORO_API coro_t *coro_awaiter(const coro_t *co);

/* ---- names ---------------------------------------------------------- */

/* Rename co (printf-style). Returns 0 or -EINVAL. Traces `rename`. */
#define coro_rename(co, ...) coro_rename_at(__FILE__, __LINE__, (co), __VA_ARGS__)
CORO_API int coro_rename_at(const char *file, int line, coro_t *co, const char *fmt, ...)
    CORO_PRINTF(4, 5);

/* A user message attributed to the running coroutine. Traces `log`. */
#define coro_log(...) coro_log_at(__FILE__, __LINE__, __VA_ARGS__)
CORO_API void coro_log_at(const char *file, int line, const char *fmt, ...) CORO_PRINTF(3, 4);

/* ---- stacks --------------------------------------------------------- */

/* Default usable stack size for coroutines created after the call
 * (rounded up to whole pages; at least 16 KiB). Returns 0 or -EINVAL. */
CORO_API int coro_set_default_stack_size(size_t bytes);
CORO_API size_t coro_default_stack_size(void);

/* Default guard below a GUARDED stack (rounded up to pages; 64 KiB unless
 * set). Code built without -fstack-clash-protection can step over a guard
 * smaller than its largest frame. Returns 0 or -EINVAL (0 bytes). */
CORO_API int coro_set_default_guard_size(size_t bytes);
CORO_API size_t coro_default_guard_size(void);

/* Stack mode for coroutines whose attr says CORO_STACK_DEFAULT. Returns 0
 * or -EINVAL. Settings are process-wide and safe to change from any thread. */
CORO_API int coro_set_default_stack_mode(coro_stack_mode mode);
CORO_API coro_stack_mode coro_default_stack_mode(void);
/* The mode co's stack has (never CORO_STACK_DEFAULT), and a mode's name. */
CORO_API coro_stack_mode coro_get_stack_mode(const coro_t *co);
/* Bytes of its stack a suspended (or ready) coroutine is using: from where
 * it stopped to the top; what the copy mode keeps for it. 0 for a running,
 * new, dead or main coroutine. */
CORO_API size_t coro_stack_in_use(const coro_t *co);
CORO_API const char *coro_stack_mode_name(coro_stack_mode mode);

/* How many free stacks each thread keeps for reuse (default 64). */
CORO_API void coro_set_stack_pool_limit(size_t stacks);
/* Release this thread's pooled stacks. */
CORO_API void coro_stack_pool_drain(void);

/* ---- errors --------------------------------------------------------- */

/* A sentence describing the calling thread's last failed call. */
CORO_API const char *coro_last_error(void);

#ifdef __cplusplus
}
#endif
#endif /* CORO_CORO_H */
