/*
 * sched.c - chapter 13: three scheduler models, one workload. A seeder
 * creates 8 jobs (each runs 3 steps, yielding between them) and then keeps
 * its thread busy for up to a second, until another thread has started one
 * of its jobs. Which thread can help depends only on the model:
 *
 *   tutorial_sched per-thread   one scheduler per thread: a job stays on the
 *                               thread that made it; the other thread idles
 *   tutorial_sched shared       one queue of jobs shared by all threads: a
 *                               free thread takes the next job (a started
 *                               coroutine still never moves)
 *   tutorial_sched stealing     coro/ws.h: a queue per worker, and an idle
 *                               worker steals coroutines from a busy one
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "coro/coro.h"
#include "coro/ws.h"

enum { JOBS = 8, STEPS = 3, THREADS = 2 };

static const char *model;
static atomic_int started_elsewhere;
static _Atomic(pthread_t) seeder_thread;

static pthread_t __attribute__((noipa)) this_thread(void) /* see coro/ws.h on thread state */
{
    return pthread_self();
}

static void *job(void *arg)
{
    intptr_t n = (intptr_t)arg;
    if (!pthread_equal(this_thread(), atomic_load(&seeder_thread)))
        atomic_fetch_add(&started_elsewhere, 1);
    for (int i = 0; i < STEPS; i++) {
        coro_log("job %d step %d", (int)n, i);
        coro_yield();
    }
    return NULL;
}

/* Busy (no yield, no suspend) until another thread started a job, or 1 s. */
static double hold_the_thread(void)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double s;
    do {
        clock_gettime(CLOCK_MONOTONIC, &t);
        s = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
    } while (!atomic_load(&started_elsewhere) && s < 1.0);
    return s;
}

/* ---- model 2: a shared queue of jobs ----------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int queued, taken; /* jobs put in the shared queue, jobs taken from it */

static void *shared_worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        int done = taken == JOBS, n = taken < queued ? taken++ : -1;
        pthread_mutex_unlock(&lock);
        if (done) return NULL;
        if (n < 0) continue; /* nothing queued yet */
        coro_spawn(job, (void *)(intptr_t)n, "job#%d", n);
        coro_run(); /* runs the job here, to its end */
    }
}

static void *seeder(void *arg)
{
    (void)arg;
    atomic_store(&seeder_thread, this_thread());
    for (intptr_t n = 0; n < JOBS; n++) {
        if (!strcmp(model, "shared")) {
            pthread_mutex_lock(&lock);
            queued++;
            pthread_mutex_unlock(&lock);
        } else {
            coro_spawn(job, (void *)n, "job#%d", (int)n); /* onto this thread's queue */
        }
    }
    double s = hold_the_thread();
    coro_log(atomic_load(&started_elsewhere) ? "another thread took a job while I was busy"
                                             : "busy for %.0f s: no other thread could take a job",
             s);
    return NULL;
}

/* ---- the three models --------------------------------------------------- */

/* Model 1 (and the first thread of model 2): its own queue, its own
 * coroutines. The first thread starts the seeder. */
static void *worker(void *arg)
{
    if (arg) coro_spawn(seeder, NULL, "seeder");
    coro_run();
    if (!strcmp(model, "shared")) shared_worker(NULL); /* then helps with the queue */
    return NULL;
}

int main(int argc, char **argv)
{
    model = argc > 1 ? argv[1] : "";
    if (!strcmp(model, "stealing")) {
        coro_ws *ws = coro_ws_create(THREADS);
        coro_ws_spawn(ws, seeder, NULL, "seeder");
        coro_ws_join(ws);
    } else if (!strcmp(model, "per-thread") || !strcmp(model, "shared")) {
        pthread_t t[THREADS];
        bool shared = !strcmp(model, "shared");
        for (intptr_t i = 0; i < THREADS; i++)
            pthread_create(&t[i], NULL, shared && i ? shared_worker : worker,
                           (void *)(intptr_t)(i == 0));
        for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    } else {
        fprintf(stderr, "usage: tutorial_sched per-thread|shared|stealing\n");
        return 1;
    }
    printf("%s: %d jobs done; started on another thread than the seeder's: %s\n", model, JOBS,
           atomic_load(&started_elsewhere) ? "some" : "none");
    return 0;
}
