/*
 * hook_threads.c - a plain pthread program, no coroutines, for running
 * under LD_PRELOAD=libcorohook.so: the hook must change nothing.
 *
 *   hook_threads stress   several threads close descriptors that were
 *                         never opened (low and high numbers), query and
 *                         set flags, and pass bytes through their own
 *                         blocking socket pairs; every result must be
 *                         glibc's.
 *   hook_threads absurd   close(), fcntl() and read() on INT_MAX and other
 *                         huge descriptors: EBADF at once, without memory.
 *
 * Exits 0 when every check held, 1 (with a message) otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { THREADS = 8, ROUNDS = 2000 };

static atomic_int failures;

static void check(int ok, const char *what, int thread, int round)
{
    if (ok) return;
    if (atomic_fetch_add(&failures, 1) < 5)
        fprintf(stderr, "hook_threads: thread %d round %d: %s (errno %d)\n", thread, round, what,
                errno);
}

/* A descriptor number that is surely closed: past the soft limit. */
static int closed_fd(unsigned *seed, int limit)
{
    int r = rand_r(seed);
    switch (r % 3) {
    case 0:
        return limit + r % 4096;
    case 1:
        return limit + r % (1 << 20);
    default:
        return INT_MAX - r % 65536;
    }
}

static void *stress(void *arg)
{
    int t = (int)(long)arg;
    unsigned seed = (unsigned)t * 7919u + 1;
    int limit = (int)sysconf(_SC_OPEN_MAX);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        check(0, "socketpair", t, -1);
        return NULL;
    }
    for (int i = 0; i < ROUNDS; i++) {
        int bad = closed_fd(&seed, limit);
        errno = 0;
        check(close(bad) == -1 && errno == EBADF, "close of a closed fd is not EBADF", t, i);
        check(fcntl(bad, F_GETFL) == -1 && errno == EBADF, "fcntl of a closed fd", t, i);
        int fl = fcntl(sv[0], F_GETFL);
        check(fl >= 0 && !(fl & O_NONBLOCK), "a blocking socket reads as non-blocking", t, i);
        char out = (char)i, in = 0;
        check(write(sv[0], &out, 1) == 1, "write", t, i);
        check(read(sv[1], &in, 1) == 1 && in == out, "read got another byte", t, i);
        if (i % 64 == 0) { /* a descriptor's whole life: open, use, close */
            int p[2];
            check(pipe(p) == 0, "pipe", t, i);
            check(write(p[1], "x", 1) == 1 && read(p[0], &in, 1) == 1, "pipe bytes", t, i);
            check(close(p[0]) == 0 && close(p[1]) == 0, "close of a pipe", t, i);
        }
    }
    close(sv[0]);
    close(sv[1]);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long maxrss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int absurd(void)
{
    static const int fds[] = {INT_MAX, INT_MAX - 1, 1 << 30, 1 << 24, 65536 * 1000};
    long rss0 = maxrss_kib();
    double t0 = now_s();
    char c;
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        int fd = fds[i];
        errno = 0;
        check(close(fd) == -1 && errno == EBADF, "close", fd, 0);
        check(fcntl(fd, F_GETFL) == -1 && errno == EBADF, "fcntl F_GETFL", fd, 0);
        check(fcntl(fd, F_SETFL, O_NONBLOCK) == -1 && errno == EBADF, "fcntl F_SETFL", fd, 0);
        check(read(fd, &c, 1) == -1 && errno == EBADF, "read", fd, 0);
        check(write(fd, &c, 1) == -1 && errno == EBADF, "write", fd, 0);
        check(accept(fd, NULL, NULL) == -1 && errno == EBADF, "accept", fd, 0);
    }
    double secs = now_s() - t0;
    long grew = maxrss_kib() - rss0;
    printf("absurd descriptors: %.3f ms, resident memory grew %ld KiB\n", secs * 1e3, grew);
    if (secs > 0.1) check(0, "calls on absurd descriptors took more than 100 ms", 0, 0);
    if (grew > 1024) check(0, "calls on absurd descriptors took more than 1 MiB", 0, 0);
    return atomic_load(&failures) ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "stress") && strcmp(argv[1], "absurd"))) {
        fprintf(stderr, "usage: hook_threads stress|absurd\n");
        return 2;
    }
    if (!strcmp(argv[1], "absurd")) return absurd();
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, stress, (void *)i);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    int n = atomic_load(&failures);
    if (n) fprintf(stderr, "hook_threads: %d failed checks\n", n);
    return n ? 1 : 0;
}
