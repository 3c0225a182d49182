/*
 * json_check.c - validates `coroscope perfetto` output by parsing it back:
 * a JSON object with a traceEvents array whose every element has the
 * trace-event keys Perfetto needs (ph, name, pid, tid, ts; dur on "X").
 *   json_check FILE   prints counts per phase, exits 1 on any problem
 * and checks that every flow event binds to a slice under the Trace Event
 * Format's rules, as Perfetto applies them: a flow start ("s") and a flow
 * end with "bp":"e" bind to the slice enclosing their time on their track
 * (pid, tid); a flow end without it binds to the next slice that begins on
 * its track at or after its time. An unbound flow is not drawn.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 2;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) return 2;
    buf[n] = 0;
    fclose(f);
    cJSON *root = cJSON_Parse(buf);
    if (!root) {
        fprintf(stderr, "%s: not valid JSON\n", argv[1]);
        return 1;
    }
    const cJSON *evs = cJSON_GetObjectItemCaseSensitive(root, "traceEvents");
    if (!cJSON_IsArray(evs)) {
        fprintf(stderr, "%s: no traceEvents array\n", argv[1]);
        return 1;
    }
    long count[128] = {0};
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, evs)
    {
        const cJSON *ph = cJSON_GetObjectItemCaseSensitive(e, "ph");
        if (!cJSON_IsString(ph) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "name")) ||
            !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "pid")) ||
            !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "tid")) ||
            !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "ts"))) {
            fprintf(stderr, "%s: traceEvents[%d] lacks ph/name/pid/tid/ts\n", argv[1], i);
            return 1;
        }
        const cJSON *dur = cJSON_GetObjectItemCaseSensitive(e, "dur");
        if (!strcmp(ph->valuestring, "X") && (!cJSON_IsNumber(dur) || dur->valuedouble < 0)) {
            fprintf(stderr, "%s: traceEvents[%d] is a slice without a duration\n", argv[1], i);
            return 1;
        }
        count[(unsigned char)ph->valuestring[0] & 127]++;
        i++;
    }
    /* Binding: a linear scan per flow event is enough for test traces. */
    int unbound = 0;
    cJSON_ArrayForEach(e, evs)
    {
        const char *ph = cJSON_GetObjectItemCaseSensitive(e, "ph")->valuestring;
        if (strcmp(ph, "s") && strcmp(ph, "f")) continue;
        double ts = cJSON_GetObjectItemCaseSensitive(e, "ts")->valuedouble;
        double tid = cJSON_GetObjectItemCaseSensitive(e, "tid")->valuedouble;
        const cJSON *bp = cJSON_GetObjectItemCaseSensitive(e, "bp");
        bool enclosing = !strcmp(ph, "s") || (cJSON_IsString(bp) && !strcmp(bp->valuestring, "e"));
        bool bound = false;
        const cJSON *x;
        cJSON_ArrayForEach(x, evs)
        {
            if (strcmp(cJSON_GetObjectItemCaseSensitive(x, "ph")->valuestring, "X") ||
                cJSON_GetObjectItemCaseSensitive(x, "tid")->valuedouble != tid)
                continue;
            double xs = cJSON_GetObjectItemCaseSensitive(x, "ts")->valuedouble;
            double xd = cJSON_GetObjectItemCaseSensitive(x, "dur")->valuedouble;
            if (enclosing ? (xs <= ts && ts <= xs + xd) : xs >= ts) bound = true;
        }
        if (!bound) {
            char *s = cJSON_PrintUnformatted(e);
            fprintf(stderr, "%s: flow event binds to no slice: %s\n", argv[1], s);
            free(s);
            unbound++;
        }
    }
    if (unbound) return 1;
    printf("%d events: %ld slices, %ld flow starts, %ld flow ends, %ld tracks\n", i, count['X'],
           count['s'], count['f'], count['M']);
    cJSON_Delete(root);
    free(buf);
    return 0;
}
