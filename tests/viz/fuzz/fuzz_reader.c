/*
 * fuzz_reader.c - libFuzzer target for the trace reader: any bytes must give
 * either a trace or a clean VZ_BADINPUT, never a crash, a hang or a leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "viz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("trace", 0);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    vz_trace t;
    int rc = vz_read(path, &t, false);
    if (rc == 0) {
        /* Whatever was read must be safe to view. */
        FILE *null = fopen("/dev/null", "w");
        vz_opts o = {.fd = -1, .kind = -1, .fold = true};
        vz_view_graph(&t, &o, null);
        vz_view_check(&t, &o, null);
        vz_view_log(&t, &o, null);
        fclose(null);
    }
    vz_free(&t);
    close(fd);
    return 0;
}
