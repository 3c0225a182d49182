/*
 * test_state.c - the one state machine (coro_int.h): every legal move is
 * allowed, every other one stops the program with a message naming the
 * broken invariant (an always-on assert, run in a child process).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "coro_int.h"

static void *noop(void *arg)
{
    return arg;
}

/* Set up a coroutine in state `from` by hand, in a child, and try a move on
 * it: the general move to `to`, or (known_source) the running coroutine's
 * move to suspended. Returns true if the child aborted with the invariant
 * message, false if it moved and exited cleanly; any other ending (a crash
 * before the move) fails the test. */
static bool move_aborts(coro_state from, coro_state to, bool known_source)
{
    int err[2];
    if (pipe(err) != 0) abort();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(err[1], 2);
        coro_t *co = coro__deref(coro_create(noop, NULL, "victim"));
        co->state = from;
        if (known_source)
            coro__move_from(co, CORO_RUNNING, CORO_SUSPENDED, CORO__BLOCK_NONE);
        else
            coro__move(co, to, CORO__BLOCK_NONE);
        _exit(co->state == to ? 0 : 3);
    }
    close(err[1]);
    char buf[512] = {0};
    ssize_t n = read(err[0], buf, sizeof buf - 1);
    (void)n;
    close(err[0]);
    int st;
    waitpid(pid, &st, 0);
    bool aborted = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
    if (aborted)
        assert_non_null(strstr(buf, "invariant broken"));
    else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("%s -> %s: the child neither moved nor aborted (status %#x)",
                 coro_state_name(from), coro_state_name(to), (unsigned)st);
    return aborted;
}

static void test_only_the_machines_moves_are_legal(void **state)
{
    (void)state;
    static const char legal[5][5] = {
        /* to:          created ready running suspended dead */
        [CORO_CREATED] = {1, 1, 1, 0, 0}, [CORO_READY] = {0, 0, 1, 0, 0},
        [CORO_RUNNING] = {0, 0, 0, 1, 1}, [CORO_SUSPENDED] = {0, 1, 1, 1, 0},
        [CORO_DEAD] = {0, 0, 0, 0, 0},
    };
    for (int from = 0; from < 5; from++)
        for (int to = 0; to < 5; to++) {
            bool aborted = move_aborts((coro_state)from, (coro_state)to, false);
            if (aborted == (bool)legal[from][to])
                fail_msg("%s -> %s: %s", coro_state_name(from), coro_state_name(to),
                         aborted ? "refused, but legal" : "allowed, but illegal");
        }
}

/* The known-source move (the running coroutine suspending) stops the
 * program when the coroutine is not in the state the caller names. */
static void test_move_from_checks_the_state(void **state)
{
    (void)state;
    for (int from = 0; from < 5; from++) {
        bool aborted = move_aborts((coro_state)from, CORO_SUSPENDED, true);
        if (aborted != (from != CORO_RUNNING))
            fail_msg("known-source move from %s: %s", coro_state_name(from),
                     aborted ? "refused" : "allowed");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_the_machines_moves_are_legal),
        cmocka_unit_test(test_move_from_checks_the_state),
    };
    return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
