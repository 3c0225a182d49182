/*
 * fail_calls.c - preloaded into coroscope by viz_test.sh fail_calls, makes
 * one libc call fail as it would when the system runs out of processes or
 * memory, to show that the viewer stops with its error and exit code
 * instead of waiting for any child or writing through a NULL stream.
 *
 *   VZ_FAIL=fork           fork() fails with EAGAIN
 *   VZ_FAIL=open_memstream open_memstream() fails with ENOMEM
 *
 * Children must run normally (Graphviz, the traced program), so the
 * constructor takes both variables out of the environment.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char failing[32];

__attribute__((constructor)) static void setup(void)
{
    const char *f = getenv("VZ_FAIL");
    if (f) snprintf(failing, sizeof failing, "%s", f);
    unsetenv("VZ_FAIL");
    unsetenv("LD_PRELOAD");
}

pid_t fork(void)
{
    if (!strcmp(failing, "fork")) {
        errno = EAGAIN;
        return -1;
    }
    pid_t (*real)(void) = (pid_t(*)(void))dlsym(RTLD_NEXT, "fork");
    return real();
}

FILE *open_memstream(char **buf, size_t *len)
{
    if (!strcmp(failing, "open_memstream")) {
        errno = ENOMEM;
        return NULL;
    }
    FILE *(*real)(char **, size_t *) =
        (FILE * (*)(char **, size_t *)) dlsym(RTLD_NEXT, "open_memstream");
    return real(buf, len);
}
