/*
 * stack_child.h - run a function in a child process with its stderr
 * captured: the death tests of the stack tests (test_stack_*.c).
 */
#ifndef TESTS_UNIT_STACK_CHILD_H
#define TESTS_UNIT_STACK_CHILD_H

#include <sys/wait.h>
#include <unistd.h>

/* Returns the child's wait status; err receives its stderr. */
static int run_child(void (*fn)(void), char *err, size_t cap)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], err + len, cap - 1 - len)) > 0) len += (size_t)r;
    err[len] = 0;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

#endif
