/*
 * json_check.c - validates `coroscope perfetto` output by parsing it back:
 * a JSON object with a traceEvents array whose every element has the
 * trace-event keys Perfetto needs (ph, name, pid, tid, ts; dur on "X").
 *   json_check FILE   prints counts per phase, exits 1 on any problem
 */
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
    printf("%d events: %ld slices, %ld flow starts, %ld flow ends, %ld tracks\n", i, count['X'],
           count['s'], count['f'], count['M']);
    cJSON_Delete(root);
    free(buf);
    return 0;
}
