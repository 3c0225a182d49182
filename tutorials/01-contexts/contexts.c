/*
 * Chapter 1: a thread switch and a coroutine switch, and the memory of a
 * thread and of a coroutine, measured side by side in one run.
 *   tutorial_contexts          measure
 *   tutorial_contexts small    three of each, for a readable trace
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
#endif
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coro/coro.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- switching: two threads hand a token back and forth ---------------- */

static sem_t ping, pong;
static long rounds;

static void *thread_pong(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        sem_wait(&ping); /* sleep in the kernel until main posts */
        sem_post(&pong);
    }
    return NULL;
}

static double thread_switch_ns(void)
{
    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, thread_pong, NULL);
    double t0 = now_ns();
    for (long i = 0; i < rounds; i++) {
        sem_post(&ping); /* wake the other thread... */
        sem_wait(&pong); /* ...and sleep until it wakes us */
    }
    double t1 = now_ns();
    pthread_join(t, NULL);
    return (t1 - t0) / (2.0 * rounds); /* two switches per round */
}

/* ---- switching: main and a coroutine hand control back and forth ------- */

static void *coro_pong(void *arg)
{
    (void)arg;
    for (;;) coro_yield(); /* back to main */
    return NULL;
}

static double coro_switch_ns(void)
{
    coro_t *c = coro_create(coro_pong, NULL, "pong");
    double t0 = now_ns();
    for (long i = 0; i < rounds; i++) coro_resume(c); /* to pong, and back */
    double t1 = now_ns();
    coro_destroy(c);
    return (t1 - t0) / (2.0 * rounds);
}

/* ---- memory: N threads, then N coroutines, each parked half way -------- */

/* Resident and mapped bytes of this process (/proc/self/statm). */
static void memory(long *resident, long *mapped)
{
    long size = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%ld %ld", &size, &res) != 2) size = res = 0;
    if (f) fclose(f);
    *resident = res * sysconf(_SC_PAGESIZE);
    *mapped = size * sysconf(_SC_PAGESIZE);
}

/* Kernel memory for thread stacks, machine-wide (/proc/meminfo). */
static long kernel_stacks(void)
{
    char line[256];
    long kb = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "KernelStack: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb * 1024;
}

static sem_t started, release;

static void *thread_park(void *arg)
{
    (void)arg;
    sem_post(&started);
    sem_wait(&release);
    return NULL;
}

static void *coro_park(void *arg)
{
    (void)arg;
    coro_yield();
    return NULL;
}

typedef struct cost {
    long resident, mapped, kernel; /* bytes per thread or coroutine */
} cost;

static cost threads_cost(int n, pthread_t *t)
{
    long r0, m0, r1, m1, k0 = kernel_stacks();
    sem_init(&started, 0, 0);
    sem_init(&release, 0, 0);
    memory(&r0, &m0);
    for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, thread_park, NULL);
    for (int i = 0; i < n; i++) sem_wait(&started);
    memory(&r1, &m1);
    long k1 = kernel_stacks();
    for (int i = 0; i < n; i++) sem_post(&release);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    return (cost){(r1 - r0) / n, (m1 - m0) / n, (k1 - k0) / n};
}

static cost coros_cost(int n, coro_t **c)
{
    long r0, m0, r1, m1;
    memory(&r0, &m0);
    for (int i = 0; i < n; i++) {
        c[i] = coro_create(coro_park, NULL, "parked#%d", i + 1);
        coro_resume(c[i]); /* runs until its yield: its stack is in use */
    }
    memory(&r1, &m1);
    for (int i = 0; i < n; i++) {
        coro_resume(c[i]);
        coro_destroy(c[i]);
    }
    return (cost){(r1 - r0) / n, (m1 - m0) / n, 0};
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *by(double ratio)
{
    return ratio > 10 ? "by more than 10x" : ratio > 2 ? "by more than 2x" : "by less than 2x";
}

int main(int argc, char **argv)
{
    int small = argc > 1 && !strcmp(argv[1], "small");
    /* Both sides on the CPU we started on: each thread switch is then a
     * real context switch on that CPU, not a hand-off between two CPUs. */
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    sched_setaffinity(0, sizeof one, &one);

    enum { N = 1000 };
    static pthread_t threads[N];
    static coro_t *coros[N];
    int n = small ? 3 : N;
    /* Five runs of each, taking turns (a noisy machine slows whichever runs
     * at a bad moment); the medians are compared. */
    enum { RUNS = 5, THREAD_ROUNDS = 20000, CORO_ROUNDS = 500000 };
    double th_runs[RUNS], co_runs[RUNS];
    for (int r = 0; r < (small ? 1 : RUNS); r++) {
        rounds = small ? 3 : THREAD_ROUNDS;
        th_runs[r] = thread_switch_ns();
        rounds = small ? 3 : CORO_ROUNDS;
        co_runs[r] = coro_switch_ns();
    }
    qsort(th_runs, RUNS, sizeof *th_runs, by_value);
    qsort(co_runs, RUNS, sizeof *co_runs, by_value);
    double th = th_runs[RUNS / 2], co = co_runs[RUNS / 2];
    cost tm = threads_cost(n, threads), cm = coros_cost(n, coros);
    if (small) return 0;

    printf("switch cost, one CPU     per switch, median of %d runs\n", RUNS);
    printf("  thread, futex wake      %7.0f ns   (%d switches a run)\n", th, 2 * THREAD_ROUNDS);
    printf("  coroutine, corolib      %7.1f ns   (%d switches a run)\n", co, 2 * CORO_ROUNDS);
    printf("  a coroutine switch is cheaper %s\n\n", by(th / co));
    printf("memory, %d of each        resident   address space   kernel stack\n", n);
    printf("  thread                  %7ld KiB    %7ld KiB     %7ld KiB\n", tm.resident / 1024,
           tm.mapped / 1024, tm.kernel / 1024);
    printf("  coroutine               %7ld KiB    %7ld KiB          none\n", cm.resident / 1024,
           cm.mapped / 1024);
    printf("  a coroutine takes less address space %s\n",
           by((double)tm.mapped / (double)(cm.mapped ? cm.mapped : 1)));
    printf("  a coroutine takes less resident memory %s\n",
           by((double)tm.resident / (double)(cm.resident ? cm.resident : 1)));
    return 0;
}
