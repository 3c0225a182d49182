/*
 * words.c - the words every view uses for the same idea, so a learner
 * reads one vocabulary in the log, the diagrams, the frame and the stepper.
 *
 * Two causes are easy to confuse: `return` (the coroutine this one resumed
 * gave control back, by suspending or finishing) and `continuation` (a child
 * this one awaited finished, and the runtime continues its awaiter). They
 * get different words and, in the diagrams, different edge styles.
 */
#include <stdio.h>
#include <string.h>

#include "viz.h"

const char *vz_cause_word(const char *cause)
{
    static const struct {
        const char *cause, *word;
    } words[] = {
        {"start", "start"},       {"resume", "resume"},
        {"return", "hands back"}, {"continuation", "continues awaiter"},
        {"ready", "ready again"}, {"io", "fd ready"},
        {"timer", "timer fired"}, {"post", "posted"},
        {"wake", "woken"},
    };
    if (!cause || !*cause) return "?";
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (!strcmp(cause, words[i].cause)) return words[i].word;
    return cause; /* a cause a later format adds: shown as it is */
}

void vz_duration(uint64_t ns, char *buf, size_t cap)
{
    if (ns >= 10000000000u)
        snprintf(buf, cap, "%.0f s", (double)ns / 1e9);
    else if (ns >= 1000000000u)
        snprintf(buf, cap, "%.1f s", (double)ns / 1e9);
    else if (ns >= 10000000u)
        snprintf(buf, cap, "%.0f ms", (double)ns / 1e6);
    else if (ns >= 1000000u)
        snprintf(buf, cap, "%.1f ms", (double)ns / 1e6);
    else if (ns >= 1000u)
        snprintf(buf, cap, "%.0f us", (double)ns / 1e3);
    else
        snprintf(buf, cap, "%llu ns", (unsigned long long)ns);
}
