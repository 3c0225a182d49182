/*
 * gen_trace.c - writes traces for the viewer's tests through the real
 * tracer (so the JSON is what the runtime would write):
 *   gen_trace weird FILE     names with quotes, braces, backslashes,
 *                            newlines, non-ASCII, invalid bytes, 10 KB
 *   gen_trace echo N FILE    an echo-server-like run of about N events:
 *                            a loop, an acceptor, N/10 connections each
 *                            served by its own echo#K coroutine
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro/trace.h"

static void ev(coro_ev_kind k, uint64_t co, const char *name, uint64_t from, const char *fname,
               const char *cause)
{
    coro_trace_ev e = {.kind = k, .co = {co, name}, .from = {from, fname}, .cause = cause};
    if (k == CORO_EV_RESUME) e.to = e.co;
    if (k == CORO_EV_CREATE && from) e.by = e.from, e.from = (coro_trace_ref){0, 0};
    coro_trace_emit(&e);
}

static void weird(void)
{
    static char big[10241];
    memset(big, 'W', sizeof big - 1);
    const char *names[] = {"quote\"d",
                           "{braces}<angle>|bar",
                           "back\\slash\\",
                           "new\nline",
                           "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
                           "bad\xff\xfe bytes",
                           big,
                           "record|{a|b}",
                           "\"; digraph evil { x }; \"",
                           "esc\x1b[31mred\x1b[0m",
                           "c1\xc2\x9b"
                           "2J csi",
                           "tab\there\rcr"};
    ev(CORO_EV_CREATE, 1, "main", 0, NULL, NULL);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        uint64_t id = 2 + i;
        ev(CORO_EV_CREATE, id, names[i], 1, "main", NULL);
        ev(CORO_EV_RESUME, id, names[i], 1, "main", "start");
        coro_trace_ev l = {.kind = CORO_EV_LOG, .co = {id, names[i]}, .detail = names[i]};
        coro_trace_emit(&l);
        coro_trace_ev f = {.kind = CORO_EV_FINISH, .co = {id, names[i]}};
        coro_trace_emit(&f);
        ev(CORO_EV_RESUME, 1, "main", id, names[i], "return");
    }
}

static void echo(long n)
{
    coro_trace_ev e;
    ev(CORO_EV_CREATE, 1, "main", 0, NULL, NULL);
    e = (coro_trace_ev){.kind = CORO_EV_CREATE,
                        .co = {1, "main"},
                        .obj = {2, "acceptor[0.0.0.0:8899]"},
                        .obj_kind = "acceptor"};
    coro_trace_emit(&e);
    ev(CORO_EV_CREATE, 3, "listener", 1, "main", NULL);
    long conns = n / 10 > 0 ? n / 10 : 1;
    uint64_t wait = 0;
    char name[32], cname[48];
    for (long c = 0; c < conns; c++) {
        uint64_t co = 100 + (uint64_t)c * 2, conn = co + 1;
        snprintf(name, sizeof name, "echo#%ld", c);
        snprintf(cname, sizeof cname, "conn[127.0.0.1:%ld]", 30000 + c % 30000);
        e = (coro_trace_ev){.kind = CORO_EV_EPOLL_WAIT,
                            .co = {1, "main"},
                            .timeout_ms = 1000,
                            .nready = 1,
                            .wait = ++wait,
                            .has = CORO_EVH_TIMEOUT | CORO_EVH_NREADY | CORO_EVH_WAIT};
        coro_trace_emit(&e);
        /* 12 events a connection (the browser test counts them): the
         * listener's accept readiness is its resume's cause, and the spawn
         * is the new coroutine's first event. */
        e = (coro_trace_ev){.kind = CORO_EV_RESUME,
                            .co = {3, "listener"},
                            .to = {3, "listener"},
                            .from = {1, "main"},
                            .obj = {2, "acceptor[0.0.0.0:8899]"},
                            .cause = "io",
                            .fd = 3,
                            .events = 1,
                            .wait = wait,
                            .has = CORO_EVH_FD | CORO_EVH_EVENTS | CORO_EVH_WAIT};
        coro_trace_emit(&e);
        e = (coro_trace_ev){
            .kind = CORO_EV_SPAWN, .co = {co, name}, .by = {3, "listener"}, .cause = "start"};
        coro_trace_emit(&e);
        e = (coro_trace_ev){.kind = CORO_EV_SUSPEND,
                            .co = {3, "listener"},
                            .reason = "io",
                            .detail = "accept",
                            .obj = {2, "acceptor[0.0.0.0:8899]"},
                            .to = {1, "main"}};
        coro_trace_emit(&e);
        ev(CORO_EV_RESUME, 1, "main", 3, "listener", "return");
        ev(CORO_EV_RESUME, co, name, 1, "main", "start");
        e = (coro_trace_ev){.kind = CORO_EV_SUSPEND,
                            .co = {co, name},
                            .reason = "io",
                            .detail = "recv",
                            .to = {1, "main"}};
        coro_trace_emit(&e);
        ev(CORO_EV_RESUME, 1, "main", co, name, "return");
        e = (coro_trace_ev){.kind = CORO_EV_EPOLL_DISPATCH,
                            .co = {co, name},
                            .obj = {conn, cname},
                            .obj_kind = "conn",
                            .fd = (int)(7 + c % 1000),
                            .events = 1,
                            .wait = wait,
                            .has = CORO_EVH_FD | CORO_EVH_EVENTS | CORO_EVH_WAIT};
        coro_trace_emit(&e);
        e = (coro_trace_ev){.kind = CORO_EV_RESUME,
                            .co = {co, name},
                            .to = {co, name},
                            .from = {1, "main"},
                            .obj = {conn, cname},
                            .cause = "io",
                            .fd = e.fd,
                            .events = 1,
                            .wait = wait,
                            .has = CORO_EVH_FD | CORO_EVH_EVENTS | CORO_EVH_WAIT};
        coro_trace_emit(&e);
        e = (coro_trace_ev){.kind = CORO_EV_FINISH, .co = {co, name}};
        coro_trace_emit(&e);
        ev(CORO_EV_RESUME, 1, "main", co, name, "return");
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: gen_trace weird FILE | gen_trace echo N FILE\n");
        return 1;
    }
    const char *out = argv[argc - 1];
    coro_trace_set_clock(CORO_CLOCK_LOGICAL);
    coro_trace_set_program("gen_trace");
    coro_trace_set_buffer_size(1 << 20);
    if (coro_trace_open(out) != 0) {
        perror(out);
        return 1;
    }
    if (!strcmp(argv[1], "weird"))
        weird();
    else if (!strcmp(argv[1], "echo") && argc == 4)
        echo(atol(argv[2]));
    else
        return 1;
    coro_trace_close();
    return 0;
}
