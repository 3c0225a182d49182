/*
 * bench_sync.c - what it costs to hand control between two coroutines
 * through a channel, a mutex or a mutex and condition variables, next to
 * the same hand-off between two threads with pthread primitives; and the
 * work-stealing scheduler's throughput for many short coroutines on 1, 2
 * and all cores.
 * Medians of 5 runs, in one process. Pin nothing: the thread cases need
 * two cores.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "coro/coro.h"
#include "coro/sync.h"
#include "coro/ws.h"

#define REPS 5

static int reps = REPS; /* fewer in a quick run (bench_util.h) */

/* The median of the repetitions of fn, each of n operations (fewer in a
 * quick run). */
static double median(double (*fn)(long), long n)
{
    double v[REPS];
    for (int r = 0; r < reps; r++) v[r] = fn(bench_ops(n));
    return bench_median(v, (size_t)reps);
}

/* ---- channel ping-pong between two coroutines ---- */

static coro_chan *ping, *pong;
static long rounds;

static void *ponger(void *arg)
{
    (void)arg;
    int v;
    for (long i = 0; i < rounds; i++) {
        coro_chan_recv(ping, &v);
        coro_chan_send(pong, &v);
    }
    return NULL;
}

static void *pinger(void *arg)
{
    (void)arg;
    int v = 1;
    for (long i = 0; i < rounds; i++) {
        coro_chan_send(ping, &v);
        coro_chan_recv(pong, &v);
    }
    return NULL;
}

static double chan_pingpong(long n)
{
    rounds = n;
    ping = coro_chan_create(sizeof(int), 0, "chan[ping]");
    pong = coro_chan_create(sizeof(int), 0, "chan[pong]");
    double t0 = bench_now_ns();
    coro_spawn(ponger, NULL, "ponger");
    coro_spawn(pinger, NULL, "pinger");
    coro_run();
    double t = (bench_now_ns() - t0) / (double)(2 * n); /* a round is two hand-offs */
    coro_chan_destroy(ping);
    coro_chan_destroy(pong);
    return t;
}

/* One run of chan_go: ns per hand-off, or -1. */
static double go_pingpong(const char *bin, long n)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' %ld", bin, n);
    return bench_run_number(cmd);
}

/* ---- the same with two threads, a mutex and two condition variables ---- */

static pthread_mutex_t pm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pc_ping = PTHREAD_COND_INITIALIZER, pc_pong = PTHREAD_COND_INITIALIZER;
static int turn; /* 0: pinger's turn, 1: ponger's */

static void *thread_ponger(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        pthread_mutex_lock(&pm);
        while (turn != 1) pthread_cond_wait(&pc_pong, &pm);
        turn = 0;
        pthread_cond_signal(&pc_ping);
        pthread_mutex_unlock(&pm);
    }
    return NULL;
}

static double pthread_pingpong(long n)
{
    rounds = n;
    turn = 0;
    pthread_t th;
    double t0 = bench_now_ns();
    pthread_create(&th, NULL, thread_ponger, NULL);
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&pm);
        turn = 1;
        pthread_cond_signal(&pc_pong);
        while (turn != 0) pthread_cond_wait(&pc_ping, &pm);
        pthread_mutex_unlock(&pm);
    }
    pthread_join(th, NULL);
    return (bench_now_ns() - t0) / (double)(2 * n); /* a round is two hand-offs */
}

/* ---- the pthread ping-pong's shape with two coroutines: a mutex and two
 * condition variables ---- */

static coro_mutex cpm;
static coro_cond cc_ping, cc_pong;
static int cturn; /* 0: pinger's turn, 1: ponger's */

static void *cond_ponger(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        coro_mutex_lock(&cpm);
        while (cturn != 1) coro_cond_wait(&cc_pong, &cpm);
        cturn = 0;
        coro_cond_signal(&cc_ping);
        coro_mutex_unlock(&cpm);
    }
    return NULL;
}

static void *cond_pinger(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        coro_mutex_lock(&cpm);
        cturn = 1;
        coro_cond_signal(&cc_pong);
        while (cturn != 0) coro_cond_wait(&cc_ping, &cpm);
        coro_mutex_unlock(&cpm);
    }
    return NULL;
}

static double cond_pingpong(long n)
{
    rounds = n;
    cturn = 0;
    coro_mutex_init(&cpm, "mutex[pingpong]");
    coro_cond_init(&cc_ping, "cond[ping]");
    coro_cond_init(&cc_pong, "cond[pong]");
    double t0 = bench_now_ns();
    coro_spawn(cond_ponger, NULL, "ponger");
    coro_spawn(cond_pinger, NULL, "pinger");
    coro_run();
    double t = (bench_now_ns() - t0) / (double)(2 * n); /* a round is two hand-offs */
    coro_cond_destroy(&cc_ping);
    coro_cond_destroy(&cc_pong);
    coro_mutex_destroy(&cpm);
    return t;
}

/* ---- mutex hand-off: two coroutines take turns holding it ---- */

static coro_mutex cm;

static void *locker(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        coro_mutex_lock(&cm);
        coro_yield(); /* hold it across a switch, so the other must wait */
        coro_mutex_unlock(&cm);
    }
    return NULL;
}

static double mutex_handoff(long n)
{
    rounds = n;
    coro_mutex_init(&cm, "mutex[bench]");
    double t0 = bench_now_ns();
    coro_spawn(locker, NULL, "a");
    coro_spawn(locker, NULL, "b");
    coro_run();
    double t = (bench_now_ns() - t0) / (double)(2 * n);
    coro_mutex_destroy(&cm);
    return t;
}

static pthread_mutex_t hm = PTHREAD_MUTEX_INITIALIZER;

static void *thread_locker(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        pthread_mutex_lock(&hm);
        sched_yield();
        pthread_mutex_unlock(&hm);
    }
    return NULL;
}

static double pthread_mutex_handoff(long n)
{
    rounds = n;
    pthread_t a, b;
    double t0 = bench_now_ns();
    pthread_create(&a, NULL, thread_locker, NULL);
    pthread_create(&b, NULL, thread_locker, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return (bench_now_ns() - t0) / (double)(2 * n);
}

/* ---- work stealing: many short coroutines ---- */

static atomic_long done;

static void *tiny(void *arg)
{
    (void)arg;
    atomic_fetch_add_explicit(&done, 1, memory_order_relaxed);
    return NULL;
}

static int ws_workers;
static long to_spawn;

static void *seeder(void *arg)
{
    /* Spawning from inside the scheduler, as a server would: the new
     * coroutines start on this worker's queue and the others steal them. */
    (void)arg;
    for (long i = 0; i < to_spawn; i++) {
        coro_spawn(tiny, NULL, "t");
        if (i % 256 == 255) coro_yield(); /* let this worker run some too */
    }
    return NULL;
}

static double ws_throughput(long n)
{
    atomic_store(&done, 0);
    to_spawn = n;
    coro_ws *ws = coro_ws_create(ws_workers);
    double t0 = bench_now_ns();
    coro_ws_spawn(ws, seeder, NULL, "seeder");
    coro_ws_join(ws);
    if (atomic_load(&done) != n) {
        fprintf(stderr, "bench_sync: %ld of %ld coroutines ran\n", atomic_load(&done), n);
        exit(1);
    }
    return (bench_now_ns() - t0) / (double)n; /* ns per coroutine */
}

int main(int argc, char **argv)
{
    /* --count chan|mutex|cond N: N rounds of one case, for counting
     * instructions (bench/core/ir.sh); a channel or cond round is a round
     * trip, a mutex round is one turn of each of the two coroutines. */
    if (argc > 3 && !strcmp(argv[1], "--count")) {
        long n = strtol(argv[3], NULL, 10);
        if (!strcmp(argv[2], "chan"))
            chan_pingpong(n);
        else if (!strcmp(argv[2], "mutex"))
            mutex_handoff(n);
        else if (!strcmp(argv[2], "cond"))
            cond_pingpong(n);
        else
            return 2;
        return 0;
    }
    if (argc > 1) {
        printf("usage: %s [--count chan|mutex|cond N]\nChannel, mutex and cond hand-off between "
               "coroutines vs threads; "
               "work-stealing throughput.\n",
               argv[0]);
        return 0;
    }
    /* Go's channels beside ours (chan_go, next to this program), the runs
     * interleaved: ours, Go, ours, Go, ... */
    char gobin[4096];
    bench_sibling(gobin, sizeof gobin, argv[0], "chan_go");
    int have_go = access(gobin, X_OK) == 0;
    reps = bench_reps(REPS);
    double cv[REPS], gv[REPS];
    for (int r = 0; r < reps; r++) {
        cv[r] = chan_pingpong(bench_ops(200000));
        gv[r] = have_go ? go_pingpong(gobin, bench_ops(200000)) : -1;
    }
    double c = bench_median(cv, (size_t)reps), g = bench_median(gv, (size_t)reps);
    double p = median(pthread_pingpong, 50000), cc = median(cond_pingpong, 200000);
    double m = median(mutex_handoff, 200000), pm2 = median(pthread_mutex_handoff, 50000);
    printf("hand-off between two parties, ns per hand-off (median of %d; a channel ping-pong\n"
           "round trip is two hand-offs, a mutex turn is one)\n",
           reps);
    printf("%-40s %10.1f\n%-40s %10.1f\n%-40s %10.3f\n", "channel ping-pong, two coroutines", c,
           "pthread mutex+cond ping-pong, two threads", p, "ratio coroutines/threads", c / p);
    if (have_go && g > 0)
        printf("%-40s %10.1f\n%-40s %10.3f\n", "Go channel ping-pong, GOMAXPROCS=1", g,
               "ratio coroutines/goroutines", c / g);
    else
        printf("(chan_go not built: install golang-go for the Go row)\n");
    printf("%-40s %10.1f\n%-40s %10.3f\n", "mutex+cond ping-pong, two coroutines", cc,
           "ratio coroutines/threads", cc / p);
    printf("%-40s %10.1f\n%-40s %10.1f\n%-40s %10.3f\n", "mutex hand-off, two coroutines", m,
           "pthread mutex hand-off, two threads", pm2, "ratio coroutines/threads", m / pm2);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("\nwork-stealing scheduler: %ld short coroutines (spawn, run, reclaim)\n",
           bench_ops(200000));
    printf("%-10s %14s %14s\n", "workers", "ns/coroutine", "coroutines/s");
    int counts[3] = {1, 2, (int)cores};
    for (int k = 0; k < 3; k++) {
        if (k == 2 && cores <= 2) break;
        ws_workers = counts[k];
        double t = median(ws_throughput, 200000);
        printf("%-10d %14.1f %14.0f\n", ws_workers, t, 1e9 / t);
    }
    return 0;
}
