/*
 * coro/named.h - a name and an id for any runtime object.
 *
 * The C counterpart of tinyasync's NamedMixin: embed a coro_named in a
 * struct (a context, an acceptor, a connection, a timer) and the trace can
 * refer to it. Ids come from one process-wide counter, so an id names one
 * object of whatever kind. Short names live inside the struct; longer ones
 * are allocated.
 */
#ifndef CORO_NAMED_H
#define CORO_NAMED_H

#include <stdarg.h>
#include <stdint.h>

#include "coro/api.h"
#include "coro/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct coro_named {
    uint64_t id;
    const char *kind; /* "coro", "context", "acceptor", "conn", "timer", ... */
    char *name;       /* points at buf or at an allocation */
    char buf[40];
} coro_named;

/*
 * Names are printf formats everywhere in the API (coro_create, coro_spawn,
 * coro_rename, coro_ctx_create, coro_mutex_init, ...). A name that comes
 * from input must not be the format: "%s%n" in it would read and write
 * through pointers that were never passed. Pass it as CORO_NAME(s):
 *
 *     coro_create(handler, conn, CORO_NAME(peer_name));
 *
 * (that is, "%s", s). corolib's CMake targets and corolib.pc add
 * -Wformat -Wformat-security, which warn about a bare string as the format.
 */
#define CORO_NAME(s) "%s", (s)

/* Give n a fresh id and a printf-style name. A NULL fmt names it
 * "<kind>#<id>". Does not trace (the owner traces its own `create`). */
CORO_API void coro_named_init(coro_named *n, const char *kind, const char *fmt, ...)
    CORO_PRINTF(3, 4);
CORO_API void coro_named_vinit(coro_named *n, const char *kind, const char *fmt, va_list ap);

/* Change the name; returns 0 or -ENOMEM (the old name is kept). */
CORO_API int coro_named_rename(coro_named *n, const char *fmt, ...) CORO_PRINTF(2, 3);
CORO_API int coro_named_vrename(coro_named *n, const char *fmt, va_list ap);

/* Free what the name allocated. */
CORO_API void coro_named_fini(coro_named *n);

/* A new id from the process-wide counter (never 0). */
CORO_API uint64_t coro_named_next_id(void);

/* The trace reference for n (NULL gives the "none" reference). */
static inline coro_trace_ref coro_named_ref(const coro_named *n)
{
    coro_trace_ref r = {0, 0};
    if (n) {
        r.id = n->id;
        r.name = n->name;
    }
    return r;
}

#ifdef __cplusplus
}
#endif
#endif /* CORO_NAMED_H */
