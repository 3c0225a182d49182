/*
 * test_tracer.c - the tracer alone (it knows nothing of coroutines): JSON
 * Lines output parsed back with cJSON, sequence order under threads, the
 * clocks, loss counting, colour rules, and the annotated log's sentences.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "coro/trace.h"

static char path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/coroscope-tracer-test-%d.jsonl", (int)getpid());
    coro_trace_set_clock(CORO_CLOCK_LOGICAL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    coro_trace_close();
    unlink(path);
    return 0;
}

/* Read a whole file into a NUL-terminated buffer. */
static char *slurp(const char *p)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int c;
    while ((c = getc(f)) != EOF) {
        if (len + 2 > cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
        }
        buf[len++] = (char)c;
    }
    fclose(f);
    if (!buf) buf = calloc(1, 1);
    buf[len] = 0;
    return buf;
}

/* The lines of the trace, parsed; returns how many. */
static int parse_lines(const char *text, cJSON **out, int max)
{
    int n = 0;
    const char *p = text;
    while (*p && n < max) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every line ends in a newline */
        char *line = strndup(p, (size_t)(nl - p));
        out[n] = cJSON_Parse(line);
        if (!out[n]) fail_msg("not JSON: %s", line);
        free(line);
        n++;
        p = nl + 1;
    }
    return n;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v)) fail_msg("no number \"%s\"", k);
    return v->valuedouble;
}

static void test_every_field_round_trips(void **state)
{
    (void)state;
    assert_int_equal(coro_trace_open(path), 0);
    assert_true(coro_trace_active);
    char big[10001];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    const char *weird = "q\"uote\\back\nnew\ttab\x01ctl \xc3\xa9t\xc3\xa9 bad\xff\xfe end";
    coro_trace_ev ev = {.kind = CORO_EV_EPOLL_DISPATCH,
                        .co = {7, weird},
                        .from = {8, "from"},
                        .to = {9, big},
                        .by = {10, NULL},
                        .obj = {11, "conn[127.0.0.1:53422]"},
                        .obj_kind = "conn",
                        .cause = "io",
                        .reason = "io",
                        .detail = "recv fd=7",
                        .fd = 7,
                        .events = 1 | 4,
                        .timeout_ms = -1,
                        .nready = 3,
                        .wait = 12,
                        .value = -42,
                        .depth = 2,
                        .has = CORO_EVH_FD | CORO_EVH_EVENTS | CORO_EVH_TIMEOUT | CORO_EVH_NREADY |
                               CORO_EVH_WAIT | CORO_EVH_VALUE | CORO_EVH_DEPTH,
                        .file = "src/x.c",
                        .line = 31};
    coro_trace_emit(&ev);
    coro_trace_close();
    assert_false(coro_trace_active);

    char *text = slurp(path);
    cJSON *l[8];
    int n = parse_lines(text, l, 8);
    assert_int_equal(n, 3);
    assert_string_equal(jstr(l[0], "kind"), "header");
    assert_string_equal(jstr(l[0], "format"), "coroscope-trace");
    assert_int_equal(jnum(l[0], "version"), CORO_TRACE_VERSION);
    assert_string_equal(jstr(l[0], "clock"), "logical");
    assert_int_equal(jnum(l[0], "pid"), getpid());

    cJSON *e = l[1];
    assert_string_equal(jstr(e, "kind"), "epoll_dispatch");
    assert_int_equal(jnum(e, "seq"), 1);
    assert_int_equal(jnum(e, "ts"), 1);
    assert_int_equal(jnum(e, "thread"), 1);
    assert_int_equal(jnum(e, "co"), 7);
    /* Escaped and decoded back: the same bytes, with the invalid ones as U+FFFD. */
    assert_string_equal(
        jstr(e, "co_name"),
        "q\"uote\\back\nnew\ttab\x01ctl \xc3\xa9t\xc3\xa9 bad\xef\xbf\xbd\xef\xbf\xbd end");
    assert_int_equal(jnum(e, "from"), 8);
    assert_string_equal(jstr(e, "from_name"), "from");
    assert_string_equal(jstr(e, "to_name"), big);
    assert_int_equal(jnum(e, "by"), 10);
    assert_null(jstr(e, "by_name"));
    assert_string_equal(jstr(e, "obj_name"), "conn[127.0.0.1:53422]");
    assert_string_equal(jstr(e, "obj_kind"), "conn");
    assert_string_equal(jstr(e, "cause"), "io");
    assert_string_equal(jstr(e, "detail"), "recv fd=7");
    assert_int_equal(jnum(e, "fd"), 7);
    assert_int_equal(jnum(e, "events"), 5);
    assert_int_equal(jnum(e, "timeout_ms"), -1);
    assert_int_equal(jnum(e, "nready"), 3);
    assert_int_equal(jnum(e, "wait"), 12);
    assert_int_equal(jnum(e, "value"), -42);
    assert_int_equal(jnum(e, "depth"), 2);
    assert_string_equal(jstr(e, "file"), "src/x.c");
    assert_int_equal(jnum(e, "line"), 31);

    assert_string_equal(jstr(l[2], "kind"), "end");
    assert_int_equal(jnum(l[2], "events"), 1);
    assert_int_equal(jnum(l[2], "dropped"), 0);
    for (int i = 0; i < n; i++) cJSON_Delete(l[i]);
    free(text);
}

static void test_absent_fields_are_absent(void **state)
{
    (void)state;
    assert_int_equal(coro_trace_open(path), 0);
    coro_trace_ev ev = {.kind = CORO_EV_LOG, .co = {1, "main"}, .detail = "hi"};
    coro_trace_emit(&ev);
    coro_trace_close();
    char *text = slurp(path);
    cJSON *l[4];
    assert_int_equal(parse_lines(text, l, 4), 3);
    static const char *absent[] = {"from", "to",     "by",   "obj",   "cause", "reason",
                                   "fd",   "events", "wait", "value", "file",  "line"};
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
        assert_null(cJSON_GetObjectItemCaseSensitive(l[1], absent[i]));
    for (int i = 0; i < 3; i++) cJSON_Delete(l[i]);
    free(text);
}

#define THREADS    4
#define PER_THREAD 5000

static void *emitter(void *arg)
{
    char name[16];
    snprintf(name, sizeof name, "t%d", (int)(intptr_t)arg);
    for (int i = 0; i < PER_THREAD; i++) {
        coro_trace_ev ev = {
            .kind = CORO_EV_LOG, .co = {(uint64_t)(intptr_t)arg + 1, name}, .detail = "x"};
        coro_trace_emit(&ev);
    }
    return NULL;
}

/* Settings changed by one thread while another opens and closes sinks:
 * a data race ThreadSanitizer reports unless they are atomic or locked. */
static void *set_settings(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        coro_trace_set_buffer_size((size_t)4096 << (i % 4));
        coro_trace_set_clock(i % 2 ? CORO_CLOCK_LOGICAL : CORO_CLOCK_MONOTONIC);
    }
    return NULL;
}

static void test_settings_from_threads(void **state)
{
    (void)state;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, set_settings, NULL), 0);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(i % 2 ? coro_log_open(path) : coro_trace_open(path), 0);
        coro_trace_ev ev = {.kind = CORO_EV_LOG, .co = {1, "main"}, .detail = "event"};
        if (CORO_TRACE_ON()) coro_trace_emit(&ev);
        coro_trace_get_clock();
        coro_trace_close();
    }
    pthread_join(th, NULL);
    coro_trace_set_buffer_size(64 * 1024);
    coro_trace_set_clock(CORO_CLOCK_LOGICAL);
    assert_int_equal(coro_trace_get_clock(), CORO_CLOCK_LOGICAL);
}

static void test_seq_strictly_increasing_across_threads(void **state)
{
    (void)state;
    coro_trace_set_clock(CORO_CLOCK_MONOTONIC);
    coro_trace_set_buffer_size(4096); /* many flushes while the threads race */
    assert_int_equal(coro_trace_open(path), 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, emitter, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    coro_trace_close();
    coro_trace_set_buffer_size(64 * 1024);
    coro_trace_set_clock(CORO_CLOCK_LOGICAL);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    long events = 0;
    double last_seq = 0, last_ts = -1;
    int seen_threads[THREADS + 2] = {0};
    while (getline(&line, &cap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        if (!strcmp(jstr(o, "kind"), "log")) {
            double s = jnum(o, "seq"), ts = jnum(o, "ts");
            assert_true(s == last_seq + 1);
            assert_true(ts >= last_ts); /* monotonic clock under the same lock */
            last_seq = s;
            last_ts = ts;
            int th = (int)jnum(o, "thread");
            assert_true(th >= 1 && th <= THREADS + 1);
            seen_threads[th]++;
            events++;
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    assert_int_equal(events, THREADS * PER_THREAD);
    int distinct = 0;
    for (int i = 0; i < THREADS + 2; i++) distinct += seen_threads[i] == PER_THREAD;
    assert_int_equal(distinct, THREADS);
}

static void test_lost_events_are_counted(void **state)
{
    (void)state;
    coro_trace_set_buffer_size(4096);
    assert_int_equal(coro_trace_open("/dev/full"), 0);
    uint64_t before = coro_trace_emitted();
    for (int i = 0; i < 1000; i++) {
        coro_trace_ev ev = {.kind = CORO_EV_LOG, .co = {1, "main"}, .detail = "lost"};
        coro_trace_emit(&ev);
    }
    coro_trace_flush();
    assert_int_equal(coro_trace_emitted() - before, 1000);
    assert_int_equal(coro_trace_dropped(), 1000);

    /* Closing reports the loss on stderr. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    int saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    coro_trace_close();
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    char msg[512] = {0};
    ssize_t r = read(fds[0], msg, sizeof msg - 1);
    close(fds[0]);
    assert_true(r > 0);
    assert_non_null(strstr(msg, "1000 trace events were lost"));
    assert_non_null(strstr(msg, "/dev/full"));
    coro_trace_set_buffer_size(64 * 1024);
}

static void test_open_errors(void **state)
{
    (void)state;
    assert_int_equal(coro_trace_open("/nonexistent-dir/x.jsonl"), -ENOENT);
    assert_int_equal(coro_trace_open(""), -EINVAL);
    assert_int_equal(coro_log_open(NULL), -EINVAL);
    assert_false(coro_trace_active);
}

static void test_kind_names(void **state)
{
    (void)state;
    for (int k = 0; k < CORO_EV__COUNT; k++) {
        const char *n = coro_ev_kind_name((coro_ev_kind)k);
        assert_non_null(n);
        assert_int_equal(coro_ev_kind_parse(n), k);
    }
    assert_null(coro_ev_kind_name(CORO_EV__COUNT));
    assert_int_equal(coro_ev_kind_parse("nonsense"), -1);
}

/* ---- the annotated log ---- */

static void fmt(const coro_trace_ev *ev, char *buf, size_t cap)
{
    size_t n = coro_trace_format(ev, buf, cap, CORO_FMT_LOGICAL);
    assert_true(n < cap);
    assert_int_equal(strlen(buf), n);
}

static void test_format_sentences(void **state)
{
    (void)state;
    char b[512];
    coro_trace_ev r = {.seq = 9,
                       .ts = 9,
                       .thread = 1,
                       .kind = CORO_EV_RESUME,
                       .co = {2, "parent"},
                       .from = {3, "child#1"},
                       .to = {2, "parent"},
                       .cause = "continuation",
                       .depth = 1,
                       .has = CORO_EVH_DEPTH};
    fmt(&r, b, sizeof b);
    assert_non_null(strstr(b, "  > resume   child#1 -> parent"));
    assert_non_null(strstr(b, "cause: child#1 finished (continuation)"));
    assert_non_null(strstr(b, "t1"));

    coro_trace_ev io = {.kind = CORO_EV_RESUME,
                        .co = {7, "echo#7"},
                        .from = {1, "loop"},
                        .cause = "io",
                        .fd = 7,
                        .events = 1,
                        .wait = 12,
                        .has = CORO_EVH_FD | CORO_EVH_EVENTS | CORO_EVH_WAIT};
    fmt(&io, b, sizeof b);
    assert_non_null(strstr(b, "loop -> echo#7"));
    assert_non_null(strstr(b, "cause: fd 7 readable in wait #12"));

    coro_trace_ev fin = {.kind = CORO_EV_FINISH,
                         .co = {3, "child#1"},
                         .to = {2, "parent"},
                         .value = 42,
                         .has = CORO_EVH_VALUE,
                         .file = "a/b/demo.c",
                         .line = 12};
    fmt(&fin, b, sizeof b);
    assert_non_null(strstr(b, "x finish   child#1 = 42, continuation: parent"));
    assert_non_null(strstr(b, " demo.c:12")); /* file name only */
    assert_null(strstr(b, "a/b/"));

    coro_trace_ev s = {.kind = CORO_EV_SUSPEND,
                       .co = {7, "echo#7"},
                       .reason = "io",
                       .detail = "send fd=7",
                       .to = {1, "loop"}};
    fmt(&s, b, sizeof b);
    assert_non_null(strstr(b, "< suspend  echo#7 on send fd=7, control to loop"));

    coro_trace_ev w = {.kind = CORO_EV_EPOLL_WAIT,
                       .timeout_ms = 1000,
                       .nready = 1,
                       .wait = 12,
                       .has = CORO_EVH_TIMEOUT | CORO_EVH_NREADY | CORO_EVH_WAIT};
    fmt(&w, b, sizeof b);
    assert_non_null(strstr(b, "~ epoll_wait timeout 1000 ms -> 1 ready"));
    assert_non_null(strstr(b, "(wait #12)"));

    coro_trace_ev d = {.kind = CORO_EV_EPOLL_DISPATCH,
                       .co = {7, "echo#7"},
                       .fd = 7,
                       .events = 1 | 0x2000,
                       .obj = {4, "conn[x]"}};
    fmt(&d, b, sizeof b);
    assert_non_null(strstr(b, "! dispatch fd 7 IN|RDHUP -> echo#7 (conn[x])"));

    coro_trace_ev a = {.kind = CORO_EV_AWAIT, .co = {2, "parent"}, .to = {3, "child#1"}};
    fmt(&a, b, sizeof b);
    assert_non_null(strstr(b, "| await    parent waits for child#1"));

    coro_trace_ev lg = {.kind = CORO_EV_LOG, .co = {3, "c"}, .detail = "computing 6*7"};
    fmt(&lg, b, sizeof b);
    assert_non_null(strstr(b, ". log      \"computing 6*7\""));

    /* A party known only by id shows as #id. */
    coro_trace_ev byid = {.kind = CORO_EV_RESUME,
                          .co = {5, "w"},
                          .from = {1, "main"},
                          .by = {99, NULL},
                          .cause = "resume"};
    fmt(&byid, b, sizeof b);
    assert_non_null(strstr(b, "resumed by #99"));

    /* Colour only when asked, and then the escapes take no column. */
    assert_null(strchr(b, '\033'));
    char c[512];
    coro_trace_format(&fin, c, sizeof c, CORO_FMT_LOGICAL | CORO_FMT_COLOR);
    assert_non_null(strchr(c, '\033'));

    /* A small buffer truncates but reports the length needed. */
    char tiny[8];
    size_t need = coro_trace_format(&fin, tiny, sizeof tiny, 0);
    assert_true(need > sizeof tiny);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

/* The log sink uses colour on a terminal unless NO_COLOR is set. */
static int log_to_pty_has_colour(int no_color)
{
    int master, slave;
    char name[128];
    assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
    if (no_color)
        setenv("NO_COLOR", "1", 1);
    else
        unsetenv("NO_COLOR");
    assert_int_equal(coro_log_open(name), 0);
    coro_trace_ev ev = {.kind = CORO_EV_RESUME, .co = {2, "b"}, .from = {1, "a"}, .cause = "start"};
    coro_trace_emit(&ev);
    coro_trace_close();
    char buf[2048] = {0};
    ssize_t n = read(master, buf, sizeof buf - 1);
    assert_true(n > 0);
    close(master);
    close(slave);
    unsetenv("NO_COLOR");
    return strchr(buf, '\033') != NULL;
}

static void test_colour_rules(void **state)
{
    (void)state;
    assert_true(log_to_pty_has_colour(0));
    assert_false(log_to_pty_has_colour(1));
    /* A file is not a terminal: no colour. */
    assert_int_equal(coro_log_open(path), 0);
    coro_trace_ev ev = {.kind = CORO_EV_RESUME, .co = {2, "b"}, .from = {1, "a"}, .cause = "start"};
    coro_trace_emit(&ev);
    coro_trace_close();
    char *text = slurp(path);
    assert_null(strchr(text, '\033'));
    assert_non_null(strstr(text, "a -> b   cause: first start"));
    free(text);
}

/* ---- switched on from the environment ---- */

static const char *child_prog;

static int run_child(char *const envp[], char *err, size_t cap)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        execle(child_prog, child_prog, (char *)NULL, envp);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t r;
    while (len + 1 < cap && (r = read(fds[0], err + len, cap - 1 - len)) > 0) len += (size_t)r;
    err[len] = 0;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return status;
}

static void test_environment(void **state)
{
    (void)state;
    char logpath[300], e1[400], e2[400], err[2048];
    snprintf(logpath, sizeof logpath, "%s.log", path);
    snprintf(e1, sizeof e1, "CORO_TRACE=%s", path);
    snprintf(e2, sizeof e2, "CORO_LOG=%s", logpath);
    char *env[] = {e1, e2, "CORO_TRACE_CLOCK=logical", NULL};
    int st = run_child(env, err, sizeof err);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char *trace = slurp(path), *log = slurp(logpath);
    assert_non_null(strstr(trace, "\"clock\":\"logical\""));
    assert_non_null(strstr(trace, "\"seq\":2,\"ts\":2,"));
    assert_non_null(strstr(trace, "{\"kind\":\"end\",\"events\":2,\"dropped\":0}\n"));
    assert_non_null(strstr(log, "hello from the child"));
    free(trace);
    free(log);
    unlink(logpath);

    /* Bad values are named, and the program still runs. */
    char *bad[] = {"CORO_TRACE=/nonexistent-dir/t.jsonl", "CORO_TRACE_CLOCK=sundial", NULL};
    st = run_child(bad, err, sizeof err);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(strstr(err, "CORO_TRACE_CLOCK=sundial is not understood"));
    assert_non_null(strstr(err, "CORO_TRACE=/nonexistent-dir/t.jsonl"));
}

int main(int argc, char **argv)
{
    child_prog = argc > 1 ? argv[1] : "./trace_env_child";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_field_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_fields_are_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_strictly_increasing_across_threads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_settings_from_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_events_are_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_format_sentences),
        cmocka_unit_test_setup_teardown(test_colour_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
    };
    return cmocka_run_group_tests_name("tracer", tests, NULL, NULL);
}
