/*
 * named.c - names and ids for runtime objects (see coro/named.h).
 *
 * Most names are short ("echo#12", "conn[127.0.0.1:53422]") and live in the
 * struct itself; a longer one is allocated once. Renaming formats into a
 * scratch buffer first, so a failed rename keeps the old name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro/named.h"
#include "coro_int.h"

static _Atomic uint64_t next_id = 1;

uint64_t coro_named_next_id(void)
{
    return atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
}

/* A name without conversions that fits inline is copied: most names are
 * plain words, and printf's machinery costs a few hundred instructions a
 * coroutine. False if fmt needs formatting or an allocation. */
static bool set_plain(coro_named *n, const char *fmt)
{
    size_t len = 0;
    while (fmt[len] && fmt[len] != '%') {
        if (++len == sizeof n->buf) return false;
    }
    if (fmt[len]) return false;
    if (n->name && n->name != n->buf) free(n->name);
    memcpy(n->buf, fmt, len + 1);
    n->name = n->buf;
    return true;
}

/* Format into n's inline buffer or, if too long, an allocation. */
static int set_name(coro_named *n, const char *fmt, va_list ap)
{
    if (set_plain(n, fmt)) return 0;
    char tmp[sizeof n->buf];
    va_list ap2;
    va_copy(ap2, ap);
    int len = vsnprintf(tmp, sizeof tmp, fmt, ap2);
    va_end(ap2);
    if (len < 0) return -EINVAL;

    char *name;
    if ((size_t)len < sizeof tmp) {
        name = n->buf;
    } else {
        name = malloc((size_t)len + 1);
        if (!name) return -ENOMEM;
        vsnprintf(name, (size_t)len + 1, fmt, ap);
    }
    if (n->name && n->name != n->buf) free(n->name);
    if (name == n->buf) memcpy(n->buf, tmp, (size_t)len + 1);
    n->name = name;
    return 0;
}

/* Name n "PREFIX#ID", the prefix cut to fit inline; no printf. */
static void numbered(coro_named *n, const char *prefix)
{
    char digits[20];
    size_t nd = 0;
    uint64_t v = n->id;
    do digits[nd++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    size_t len = strlen(prefix);
    if (len + 1 + nd >= sizeof n->buf) len = sizeof n->buf - 2 - nd; /* cut the prefix */
    if (n->name && n->name != n->buf) free(n->name);
    memcpy(n->buf, prefix, len);
    n->buf[len++] = '#';
    while (nd) n->buf[len++] = digits[--nd];
    n->buf[len] = 0;
    n->name = n->buf;
}

void coro__named_vinit(coro_named *n, const char *kind, const char *unnamed, const char *fmt,
                       va_list ap)
{
    n->id = coro_named_next_id();
    n->kind = kind;
    n->name = NULL;
    if (!fmt)
        numbered(n, unnamed);
    else if (set_name(n, fmt, ap) != 0)
        numbered(n, kind ? kind : "obj");
}

void coro_named_vinit(coro_named *n, const char *kind, const char *fmt, va_list ap)
{
    coro__named_vinit(n, kind, kind ? kind : "obj", fmt, ap);
}

void coro_named_init(coro_named *n, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    coro_named_vinit(n, kind, fmt, ap);
    va_end(ap);
}

uint64_t coro__renames;

int coro_named_vrename(coro_named *n, const char *fmt, va_list ap)
{
    if (!n || !fmt) return -EINVAL;
    int rc = set_name(n, fmt, ap);
    if (!rc) __atomic_add_fetch(&coro__renames, 1, __ATOMIC_RELAXED);
    return rc;
}

int coro_named_rename(coro_named *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = coro_named_vrename(n, fmt, ap);
    va_end(ap);
    return rc;
}

void coro_named_fini(coro_named *n)
{
    if (n->name && n->name != n->buf) free(n->name);
    n->name = NULL;
}
