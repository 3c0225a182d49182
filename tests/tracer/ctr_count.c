/* ctr_count FILE: the events a binary trace's event chunks hold, counted
 * from its bytes as docs/trace-format.md describes them, without the
 * viewer's reader: each event chunk's committed slots, walked record by
 * record. The recorder tests compare it with what coroscope reads back. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coro/trace_bin.h"

int main(int argc, char **argv)
{
    FILE *f = argc == 2 ? fopen(argv[1], "rb") : NULL;
    if (!f) {
        fprintf(stderr, "usage: ctr_count FILE.ctr (a file that can be read)\n");
        return 2;
    }
    static unsigned char chunk[CORO_CTR_CHUNK];
    unsigned long long events = 0;
    if (fseek(f, CORO_CTR_HEADER, SEEK_SET)) return 2;
    while (fread(chunk, 1, sizeof chunk, f) == sizeof chunk) {
        coro_ctr_chunk c;
        memcpy(&c, chunk, sizeof c);
        if (c.type != CORO_CTR_EVENTS) continue;
        uint64_t slots = c.count < CORO_CTR_SLOTS_PER_CHUNK ? c.count : CORO_CTR_SLOTS_PER_CHUNK;
        for (uint64_t k = 0; k < slots; events++) {
            const unsigned char *r = chunk + sizeof c + k * CORO_CTR_SLOT;
            unsigned size = r[2];
            uint32_t then; /* a short record with `then` is two events */
            memcpy(&then, r + offsetof(coro_ctr_short, then), sizeof then);
            events += size == CORO_CTR_SHORT && then;
            k += size ? size : 1;
        }
    }
    fclose(f);
    printf("%llu\n", events);
    return 0;
}
