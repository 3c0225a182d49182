/*
 * test_fdtable.c - libcorohook's descriptor table, used by many threads at
 * once: pages are published while other threads read and write bytes of
 * the same page and of others, and no thread's bits are lost or moved.
 * Runs under TSan in the tsan preset.
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "fdtable.h"

enum { THREADS = 8, FDS = 64 };

static atomic_int failures, ready;

static void expect(int ok, const char *what, int t, int fd)
{
    if (!ok && atomic_fetch_add(&failures, 1) < 5)
        fprintf(stderr, "test_fdtable: thread %d fd %d: %s\n", t, fd, what);
}

/* Thread t owns descriptors t, t+THREADS, ... in several pages (0, 1, far
 * away), so every page is created by a race of all threads. */
static int fd_of(int t, int i)
{
    static const int base[] = {0, 65536, 1 << 24, INT_MAX - FDS * THREADS};
    return base[i % 4] + (i / 4) * THREADS + t;
}

static void *worker(void *arg)
{
    int t = (int)(long)arg;
    atomic_fetch_add(&ready, 1);
    while (atomic_load(&ready) < THREADS) { /* start together */
    }
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < FDS; i++) {
            int fd = fd_of(t, i);
            expect(fdt_get(fd) == 0, "starts unknown", t, fd);
            expect(fdt_set(fd, FDT_SOCKET), "set", t, fd);
            expect(fdt_set(fd, FDT_OUR_NONBLOCK), "set", t, fd);
            expect(fdt_get(fd) == (FDT_SOCKET | FDT_OUR_NONBLOCK), "both bits", t, fd);
        }
        for (int i = 0; i < FDS; i++) {
            int fd = fd_of(t, i);
            fdt_clear(fd, FDT_OUR_NONBLOCK);
            expect(fdt_get(fd) == FDT_SOCKET, "clear one bit", t, fd);
            fdt_forget(fd);
            expect(fdt_get(fd) == 0, "forget", t, fd);
        }
    }
    return NULL;
}

int main(void)
{
    expect(fdt_get(-1) == 0 && !fdt_set(-1, FDT_SOCKET), "negative fd", 0, -1);
    fdt_forget(-1);
    expect(fdt_get(INT_MAX - 1) == 0, "an fd never set", 0, INT_MAX - 1);
    fdt_forget(INT_MAX - 1); /* no page: nothing to do, nothing allocated */
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    int n = atomic_load(&failures);
    printf("fdtable: %d threads x 200 rounds x %d descriptors in 4 pages: %d failures\n", THREADS,
           FDS, n);
    return n != 0;
}
