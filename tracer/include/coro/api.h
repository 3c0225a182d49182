/*
 * coro/api.h - export macro and build configuration shared by every public
 * header. The library is built with -fvisibility=hidden; only what is marked
 * CORO_API is part of the ABI.
 */
#ifndef CORO_API_H
#define CORO_API_H

#include "coro/config.h"

#if defined(__GNUC__)
#define CORO_API                __attribute__((visibility("default")))
#define CORO_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define CORO_API
#define CORO_PRINTF(fmt, first)
#endif

#endif /* CORO_API_H */
