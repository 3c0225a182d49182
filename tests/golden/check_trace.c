/*
 * check_trace.c - structural checks every trace must pass, whatever the
 * program: valid JSON on every line, a header first, seq strictly
 * increasing, the required keys on every event, and a cause on every
 * resume (a resume without one is a runtime bug).
 *   check_trace FILE...   exit 0 if all pass; names file:line otherwise
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static int check(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    long no = 0, events = 0;
    double last_seq = 0;
    int bad = 0, ended = 0;
    while (getline(&line, &cap, f) > 0) {
        no++;
        cJSON *o = cJSON_Parse(line);
        if (!o) {
            fprintf(stderr, "%s:%ld: not JSON\n", path, no);
            bad = 1;
            break;
        }
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
        if (!cJSON_IsString(kind)) {
            fprintf(stderr, "%s:%ld: no \"kind\"\n", path, no);
            bad = 1;
        } else if (no == 1) {
            const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(o, "format");
            if (strcmp(kind->valuestring, "header") || !cJSON_IsString(fmt) ||
                strcmp(fmt->valuestring, "coroscope-trace")) {
                fprintf(stderr, "%s:1: the first line is not a coroscope-trace header\n", path);
                bad = 1;
            }
        } else if (!strcmp(kind->valuestring, "end")) {
            ended = 1;
        } else {
            static const char *required[] = {"seq", "ts", "thread", "co", "co_name"};
            for (size_t i = 0; i < sizeof required / sizeof *required; i++)
                if (!cJSON_GetObjectItemCaseSensitive(o, required[i])) {
                    fprintf(stderr, "%s:%ld: %s event has no \"%s\"\n", path, no, kind->valuestring,
                            required[i]);
                    bad = 1;
                }
            const cJSON *seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
            if (cJSON_IsNumber(seq)) {
                if (seq->valuedouble <= last_seq) {
                    fprintf(stderr, "%s:%ld: seq %.0f after %.0f\n", path, no, seq->valuedouble,
                            last_seq);
                    bad = 1;
                }
                last_seq = seq->valuedouble;
            }
            if (!strcmp(kind->valuestring, "resume")) {
                const cJSON *cause = cJSON_GetObjectItemCaseSensitive(o, "cause");
                if (!cJSON_IsString(cause) || !cause->valuestring[0]) {
                    fprintf(stderr, "%s:%ld: resume without a cause\n", path, no);
                    bad = 1;
                }
                if (!cJSON_GetObjectItemCaseSensitive(o, "from")) {
                    fprintf(stderr, "%s:%ld: resume without \"from\"\n", path, no);
                    bad = 1;
                }
            }
            events++;
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    if (!ended) {
        fprintf(stderr, "%s: no end record\n", path);
        bad = 1;
    }
    if (events == 0) {
        fprintf(stderr, "%s: no events\n", path);
        bad = 1;
    }
    return bad;
}

int main(int argc, char **argv)
{
    int bad = 0;
    for (int i = 1; i < argc; i++) bad |= check(argv[i]);
    return bad;
}
