/*
 * replay_main.c - runs the fuzz target on saved inputs without libFuzzer,
 * so every input that once crashed a view stays a regression test in every
 * build (dev, asan, tsan), compiled by the project's own compiler.
 *   fuzz_replay FILE...   a .ev file is an events program, anything else a trace
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        uint8_t *buf = malloc(1 << 20);
        if (!buf) return 2;
        size_t n = fread(buf, 1, 1 << 20, f);
        fclose(f);
        size_t len = strlen(argv[i]);
        bool events = len > 3 && !strcmp(argv[i] + len - 3, ".ev");
        setenv("FUZZ_MODE", events ? "events" : "json", 1);
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        printf("ok %s\n", argv[i]);
    }
    return 0;
}
