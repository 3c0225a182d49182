/*
 * keys_child.c - a program that has used up every pthread key before it
 * records a binary trace. The tracer cannot make the key that releases a
 * thread's state at its exit; it must then record nothing from threads
 * (counting the events as lost, saying why on stderr) rather than store
 * its state under a key it does not own: an unset key is key 0, ours.
 *
 *   keys_child TRACE.ctr   exits 0 when all checks pass
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coro/trace.h"

#define MAX_KEYS 4096

static pthread_key_t keys[MAX_KEYS];
static int mark[MAX_KEYS];

static int check(int ok, const char *what)
{
    if (!ok) fprintf(stderr, "keys_child: FAIL: %s\n", what);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    int n = 0;
    while (n < MAX_KEYS && pthread_key_create(&keys[n], NULL) == 0) {
        pthread_setspecific(keys[n], &mark[n]);
        n++;
    }
    if (n == MAX_KEYS) return check(0, "pthread keys never ran out");
    /* What the tracer says, caught in a file. */
    char errs[4200];
    snprintf(errs, sizeof errs, "%s.stderr", argv[1]);
    int saved = dup(2), ef = open(errs, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (saved < 0 || ef < 0 || dup2(ef, 2) < 0) return check(0, "cannot redirect stderr");
    int bad = check(coro_trace_open(argv[1]) == 0, "coro_trace_open");
    for (int i = 0; i < 100; i++) {
        coro_trace_ev ev = {.kind = CORO_EV_LOG, .co = {1, "main"}, .detail = "event"};
        if (CORO_TRACE_ON()) coro_trace_emit(&ev);
    }
    bad |= check(coro_trace_dropped() == 100, "the 100 events are not counted as lost");
    coro_trace_close();
    dup2(saved, 2);
    char said[512] = "";
    ssize_t got = pread(ef, said, sizeof said - 1, 0);
    said[got > 0 ? got : 0] = 0;
    fputs(said, stderr);
    bad |= check(strstr(said, "cannot keep per-thread trace state (pthread_key_create: ") != NULL,
                 "the tracer did not say why it recorded nothing");
    for (int i = 0; i < n; i++)
        bad |= check(pthread_getspecific(keys[i]) == &mark[i],
                     "a key of the program's was overwritten");
    return bad;
}
