/*
 * Chapter 2: stackless coroutines in plain C. A coroutine is a struct (its
 * frame: the locals that must survive a suspension, and where it stopped)
 * and a step function that jumps back in with a switch. Then the same
 * parent/child await as chapter 6, stackless and stackful side by side.
 *   tutorial_stackless             the generator and the await, both ways
 *   tutorial_stackless generator   the generator as a corolib coroutine only
 *                                  (a short trace of its own)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coro/coro.h"

/* ---- 1. a generator: counts to three, one number per resume ---------- */

typedef struct counter_frame {
    int state; /* where it stopped: 0 not started, 1 after the return, 2 done */
    int i;     /* a local that lives across suspensions: in the frame, not on a stack */
} counter_frame;

/* Runs until the next suspension. Returns the number, or 0 when finished. */
static int counter_resume(counter_frame *f)
{
    switch (f->state) {
    case 0:
        for (f->i = 1; f->i <= 3; f->i++) {
            f->state = 1;
            return f->i; /* suspend: remember where, and return */
        case 1:;         /* resume: jump back into the loop */
        }
    }
    f->state = 2;
    return 0;
}

/* ---- 2. await: a task and its continuation (tinyasync's m_continuum) - */

typedef struct task task;
struct task {
    const char *name;
    task *(*step)(task *self); /* runs to the next suspension; returns who runs next */
    int state;
    int result;
    task *continuation; /* who awaits me: resumed when I finish */
};

static task *child_step(task *self)
{
    switch (self->state) {
    case 0:
        printf("  child starts; suspends: control goes to whoever resumed the chain\n");
        self->state = 1;
        return NULL; /* suspend: back to the loop that resumed us */
    case 1:
        printf("  child ends with 42; its continuation runs next: %s\n", self->continuation->name);
        self->result = 42;
        self->state = 2;
        return self->continuation; /* finish: hand control to the awaiter */
    }
    return NULL;
}

static task child = {"child", child_step, 0, 0, NULL};

static task *parent_step(task *self)
{
    switch (self->state) {
    case 0:
        printf("  parent starts; awaits child: child.continuation = parent\n");
        child.continuation = self;
        self->state = 1;
        return &child; /* await: suspend, and run the child now */
    case 1:
        printf("  parent got %d and finishes\n", child.result);
        self->state = 2;
        return self->continuation; /* nobody awaits parent: NULL, back to main */
    }
    return NULL;
}

static task parent = {"parent", parent_step, 0, 0, NULL};

/* Resuming a task runs it and whatever it hands control to, until one suspends. */
static void resume(task *t)
{
    printf("main resumes %s\n", t->name);
    while (t) t = t->step(t);
    printf("back in main\n");
}

/* ---- 3. the same await, stackful (corolib; chapter 6) ----------------- */

static void *child_fn(void *arg)
{
    (void)arg;
    coro_yield(); /* suspends in the middle of a function, on its own stack */
    return (void *)(intptr_t)42;
}

static coro_t *stackful_child;

static void *parent_fn(void *arg)
{
    (void)arg;
    stackful_child = coro_create(child_fn, NULL, "child");
    void *r;
    coro_await(stackful_child, &r); /* the continuation: stackful_child's awaiter */
    coro_destroy(stackful_child);
    return r;
}

/* ---- 4. the generator, stackful: the same loop, nothing moved by hand -- */

static void *counter_fn(void *arg)
{
    int *out = arg;
    for (int i = 1; i <= 3; i++) { /* i is an ordinary local, on this coroutine's stack */
        *out = i;
        coro_yield(); /* suspends in the middle of the loop; i stays where it is */
    }
    return NULL;
}

static int stackful_generator(void)
{
    int n;
    coro_t *g = coro_create(counter_fn, &n, "counter");
    for (coro_resume(g); coro_get_state(g) != CORO_DEAD; coro_resume(g))
        printf("counter gave %d; stopped, it holds %zu B of its %zu-byte stack\n", n,
               coro_stack_in_use(g), coro_stack_size(g));
    coro_destroy(g);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "generator")) return stackful_generator();

    counter_frame f = {0};
    int n;
    printf("a stackless generator, frame of %zu bytes:", sizeof f);
    while ((n = counter_resume(&f)) != 0) printf(" %d", n);
    printf("\n\nawait, stackless (frames of %zu bytes):\n", sizeof(task));
    resume(&parent);
    resume(&child);

    coro_t *p = coro_create(parent_fn, NULL, "parent");
    coro_resume(p);
    coro_resume(stackful_child);
    printf("\nawait, stackful: the same, each coroutine on a stack of %zu bytes\n",
           coro_stack_size(p));
    coro_destroy(p);
    return 0;
}
