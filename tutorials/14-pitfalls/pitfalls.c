/*
 * pitfalls.c - chapter 14: programs that go wrong on purpose, one flag each.
 *
 *   --tiny-stack    a recursion too deep for a 16 KiB stack: the guard page
 *   --big-stack     the same recursion with a stack sized for it
 *   --tiny-slab     the same overflow on an unguarded slab stack: the canary
 *   --stack-census  how much stack each coroutine holds when it stops, to
 *                   size stacks from
 *   --strtok        two coroutines share strtok's hidden position
 *   --gethostbyname two coroutines share gethostbyname's static result
 *   --thread-local  a pointer to a thread-local, kept across a move to
 *                   another thread
 *   --fpu           a coroutine changes the rounding mode: whose is it?
 */
#include <errno.h>
#include <fenv.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coro/coro.h"
#include "coro/io.h"

/* ---- stacks ----------------------------------------------------------- */

/* About 1 KiB of stack per call, all of it written, until `limit`: the
 * depth is set in bytes, so every build (optimised, sanitized) uses the
 * same amount of stack whatever the size of its frames. */
static int depth(uintptr_t limit)
{
    volatile char frame[1000];
    memset((char *)frame, 1, sizeof frame);
    if ((uintptr_t)frame <= limit) return frame[0];
    return depth(limit) + frame[0];
}

static void *recurse(void *arg)
{
    size_t bytes = (size_t)(uintptr_t)arg;
    char here;
    coro_log("recursing until %zu KiB of stack are used", bytes / 1024);
    depth((uintptr_t)&here - bytes);
    coro_log("came back");
    coro_yield(); /* back to main: a switch away from this stack */
    return NULL;
}

static int stacks(size_t size, coro_stack_mode mode)
{
    coro_attr attr = {.stack_size = size, .stack_mode = mode};
    /* A slab hands out slots one after another: the first one made lies just
     * below the second, with nothing in between. */
    coro_t *below = coro_create_ex(&attr, recurse, (void *)(intptr_t)0, "neighbour");
    coro_t *co = coro_create_ex(&attr, recurse, (void *)(uintptr_t)(20 * 1024), "recurse");
    coro_resume(co);
    coro_destroy(co);
    coro_destroy(below);
    return 0;
}

/* ---- the stack census ------------------------------------------------- */

/* Three kinds of coroutine, each stopping three times: in its own body, six
 * calls deep, and holding a big local buffer. */
static void *ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) coro_yield();
    return NULL;
}

static int nest(int level)
{
    volatile char buf[512]; /* half a KiB of frame per level of nesting */
    memset((char *)buf, level, sizeof buf);
    if (level == 6) {
        coro_yield(); /* waiting for more input, with six frames below it */
        return buf[0];
    }
    return nest(level + 1) + buf[0];
}

static void *parser(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) nest(1);
    return NULL;
}

static void *formatter(void *arg)
{
    (void)arg;
    char line[12 * 1024]; /* held across every stop */
    for (int i = 0; i < 3; i++) {
        snprintf(line, sizeof line, "report %d", i);
        coro_yield();
    }
    return (void *)(intptr_t)line[0];
}

typedef struct census_row {
    size_t stack;   /* the usable stack it was given */
    size_t deepest; /* the most it held at a stop */
    int stops;
} census_row;

/* Runs the three round-robin on stacks of `size` bytes (0: the default);
 * after each stop, asks how much of its stack the coroutine holds. */
static void census_run(size_t size, census_row row[3])
{
    static void *(*const fn[3])(void *) = {ticker, parser, formatter};
    static const char *const name[3] = {"ticker", "parser", "formatter"};
    coro_attr attr = {.stack_size = size};
    coro_t *co[3];
    for (int i = 0; i < 3; i++) {
        co[i] = coro_create_ex(&attr, fn[i], NULL, "%s", name[i]);
        row[i] = (census_row){.stack = coro_stack_size(co[i])};
    }
    for (int live = 3; live > 0;)
        for (int i = 0; i < 3; i++) {
            if (!co[i]) continue;
            coro_resume(co[i]);
            if (coro_get_state(co[i]) == CORO_DEAD) {
                coro_destroy(co[i]);
                co[i] = NULL;
                live--;
                continue;
            }
            size_t used = coro_stack_in_use(co[i]); /* from where it stopped to the top */
            if (used > row[i].deepest) row[i].deepest = used;
            row[i].stops++;
        }
}

static int census(void)
{
    static const char *const name[3] = {"ticker", "parser", "formatter"};
    census_row row[3], again[3];
    int top = 0;
    census_run(0, row);
    printf("stack census: the most each coroutine held on its stack when it stopped\n");
    printf("  coroutine    stops   deepest stop   stack size\n");
    for (int i = 0; i < 3; i++) {
        printf("  %-10s %7d %12zu B %9zu KiB\n", name[i], row[i].stops, row[i].deepest,
               row[i].stack / 1024);
        if (row[i].deepest > row[top].deepest) top = i;
    }
    /* Twice the deepest stop: a stop does not see the deeper calls made
     * and returned between stops (snprintf's own frames, a signal handler). */
    size_t size = 4096;
    while (size < 2 * row[top].deepest) size *= 2;
    printf("the deepest is %s: twice its figure, rounded up to a power of two, is %zu KiB\n",
           name[top], size / 1024);
    census_run(size, again);
    printf("again on stacks of %zu KiB: ticker, parser and formatter finished\n",
           again[top].stack / 1024);
    return 0;
}

/* ---- non-reentrant libc ----------------------------------------------- */

static void *tokens(void *arg)
{
    char line[64];
    snprintf(line, sizeof line, "%s", (const char *)arg);
    for (char *t = strtok(line, " "); t; t = strtok(NULL, " ")) {
        coro_log("token: %s", t);
        coro_yield(); /* the other coroutine calls strtok now */
    }
    return NULL;
}

static void *resolve(void *arg)
{
    struct hostent *h = gethostbyname(arg); /* a numeric name: no lookup */
    coro_yield();                           /* the other coroutine resolves its name */
    coro_log("asked for %s, holding %s", (const char *)arg, h ? h->h_name : "nothing");
    return NULL;
}

static int two(coro_fn fn, const char *a, const char *b)
{
    coro_spawn(fn, (void *)a, "first");
    coro_spawn(fn, (void *)b, "second");
    coro_run();
    return 0;
}

/* ---- thread-locals ---------------------------------------------------- */

static _Thread_local int requests; /* each thread counts its own */
static coro_ctx *other_ctx;
static pthread_barrier_t ready, sent;

/* Read through a call the compiler cannot see through (coro/ws.h). */
static int __attribute__((noipa)) requests_here(void)
{
    return requests;
}

static int __attribute__((noipa)) errno_here(void)
{
    return errno;
}

static void *mover(void *arg)
{
    (void)arg;
    int *volatile mine = &requests; /* this thread's counter (volatile: kept in memory) */
    coro_log("on the first thread: requests = %d", *mine);
    errno = EDOM; /* a value nothing else on either thread sets */
    coro_yield(); /* ... and main hands us to the other thread */
    coro_log("on the second thread: requests = %d, but the pointer taken before reads %d",
             requests_here(), *mine);
    coro_log("errno set before the move, read after it: %s",
             errno_here() == EDOM ? "EDOM" : "lost");
    return NULL;
}

static void *second_thread(void *arg)
{
    (void)arg;
    other_ctx = coro_ctx_create("second");
    requests = 0;
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&sent);
    coro_ctx_run(other_ctx);
    coro_ctx_destroy(other_ctx);
    return NULL;
}

static int move_thread(void)
{
    requests = 5;
    coro_t *co = coro_create(mover, NULL, "mover");
    coro_resume(co);
    pthread_t t;
    pthread_barrier_init(&ready, NULL, 2);
    pthread_barrier_init(&sent, NULL, 2);
    pthread_create(&t, NULL, second_thread, NULL);
    pthread_barrier_wait(&ready);
    coro_ctx_send(other_ctx, co);
    pthread_barrier_wait(&sent);
    pthread_join(t, NULL);
    return coro_destroy(co); /* dead by now: freed from any thread */
}

/* ---- floating point --------------------------------------------------- */

static volatile double three = 3.0;

static void *upward(void *arg)
{
    (void)arg;
    fesetround(FE_UPWARD); /* this coroutine's rounding mode */
    coro_log("rounding up:      1/3 = %.17g", 1.0 / three);
    coro_yield();
    coro_log("still up:         1/3 = %.17g", 1.0 / three);
    return NULL;
}

static void *nearest(void *arg)
{
    (void)arg;
    coro_log("rounding nearest: 1/3 = %.17g", 1.0 / three);
    return NULL;
}

static int fpu(void)
{
    coro_spawn(upward, NULL, "upward");
    coro_spawn(nearest, NULL, "nearest");
    coro_run();
    return 0;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "--tiny-stack")) return stacks(16 * 1024, CORO_STACK_GUARDED);
    if (!strcmp(what, "--big-stack")) return stacks(64 * 1024, CORO_STACK_GUARDED);
    if (!strcmp(what, "--tiny-slab")) return stacks(16 * 1024, CORO_STACK_SLAB);
    if (!strcmp(what, "--stack-census")) return census();
    if (!strcmp(what, "--strtok")) return two(tokens, "a b c", "x y z");
    if (!strcmp(what, "--gethostbyname")) return two(resolve, "10.0.0.1", "10.0.0.2");
    if (!strcmp(what, "--thread-local")) return move_thread();
    if (!strcmp(what, "--fpu")) return fpu();
    fprintf(stderr,
            "usage: tutorial_pitfalls --tiny-stack|--big-stack|--tiny-slab|--stack-census|--strtok|"
            "--gethostbyname|"
            "--thread-local|--fpu\n");
    return 1;
}
