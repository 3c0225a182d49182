/*
 * work.h - the unit of work of the scheduler benchmark: K rounds of
 * xorshift64, the same arithmetic as work() in ws_go.go, so that both
 * schedulers run the same instructions between scheduling decisions.
 */
#ifndef CORO_BENCH_WORK_H
#define CORO_BENCH_WORK_H

#include <stdint.h>

static inline uint64_t bench_work(uint64_t x, long k)
{
    for (long i = 0; i < k; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

#endif
