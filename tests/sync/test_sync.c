/*
 * test_sync.c - mutex, condition variable, wait group and channels between
 * the coroutines of one thread, their traces, and the deadlock report.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "coro/coro.h"
#include "coro/sync.h"
#include "coro/trace.h"

/* ---- channels: every item once, in order ------------------------------ */

typedef struct pc {
    coro_chan *ch;
    int producers, per_producer;
    long sum, count;
    int last_seen[8];
    int order_errors;
    int next_id;
} pc;

static void *producer(void *arg)
{
    pc *p = arg;
    int id = p->next_id++;
    for (int i = 0; i < p->per_producer; i++) {
        int item = id * 100000 + i;
        assert_int_equal(coro_chan_send(p->ch, &item), 0);
        if (i % 7 == 0) coro_yield();
    }
    return NULL;
}

static void *consumer(void *arg)
{
    pc *p = arg;
    int item;
    while (coro_chan_recv(p->ch, &item) == 0) {
        int id = item / 100000, i = item % 100000;
        if (i != p->last_seen[id] + 1) p->order_errors++;
        p->last_seen[id] = i;
        p->sum += item;
        p->count++;
    }
    return NULL;
}

static void *closer(void *arg)
{
    pc *p = arg;
    coro_waitgroup *wg = (coro_waitgroup *)((char *)arg + sizeof *p);
    coro_waitgroup_wait(wg);
    coro_chan_close(p->ch);
    return NULL;
}

typedef struct run {
    pc p;
    coro_waitgroup wg;
} run;

static void *producer_done(void *arg)
{
    run *r = arg;
    producer(&r->p);
    coro_waitgroup_done(&r->wg);
    return NULL;
}

static void check_channel(size_t capacity, int consumers)
{
    run r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < 8; i++) r.p.last_seen[i] = -1;
    r.p.producers = 4;
    r.p.per_producer = 2000;
    r.p.ch = coro_chan_create(sizeof(int), capacity, "chan[%s]", "jobs");
    assert_non_null(r.p.ch);
    coro_waitgroup_init(&r.wg, "waitgroup[producers]");
    coro_waitgroup_add(&r.wg, r.p.producers);
    for (int i = 0; i < consumers; i++) coro_spawn(consumer, &r.p, "consumer#%d", i + 1);
    for (int i = 0; i < r.p.producers; i++) coro_spawn(producer_done, &r, "producer#%d", i);
    coro_spawn(closer, &r, "closer");
    coro_run();
    long want = 0;
    for (long i = 0; i < r.p.producers; i++)
        for (long k = 0; k < r.p.per_producer; k++) want += i * 100000 + k;
    assert_int_equal(r.p.count, r.p.producers * r.p.per_producer);
    assert_int_equal(r.p.sum, want); /* every item exactly once */
    /* One consumer sees each producer's items in the order they were sent.
     * (With two, a handed-over item may be processed after a later one.) */
    if (consumers == 1) assert_int_equal(r.p.order_errors, 0);
    assert_int_equal(coro_sync_blocked(), 0);
    assert_int_equal(coro_chan_destroy(r.p.ch), 0);
}

static void test_bounded_channel(void **state)
{
    (void)state;
    check_channel(8, 1);
    check_channel(8, 2);
}

static void test_unbounded_channel(void **state)
{
    (void)state;
    check_channel(CORO_CHAN_UNBOUNDED, 1);
    check_channel(CORO_CHAN_UNBOUNDED, 2);
}

static void test_unbuffered_channel(void **state)
{
    (void)state;
    check_channel(0, 1);
    check_channel(0, 2);
}

/* ---- close semantics --------------------------------------------------- */

typedef struct closing {
    coro_chan *ch;
    int got[4];
    int ngot;
    int recv_after, send_after;
} closing;

static void *drain(void *arg)
{
    closing *c = arg;
    int v;
    while (coro_chan_recv(c->ch, &v) == 0) c->got[c->ngot++] = v;
    c->recv_after = coro_chan_recv(c->ch, &v);
    c->send_after = coro_chan_send(c->ch, &v);
    return NULL;
}

static void *fill_and_close(void *arg)
{
    closing *c = arg;
    for (int i = 1; i <= 3; i++) coro_chan_send(c->ch, &i);
    coro_chan_close(c->ch);
    return NULL;
}

static void test_close_delivers_what_was_sent_then_epipe(void **state)
{
    (void)state;
    closing c = {0};
    c.ch = coro_chan_create(sizeof(int), 4, "chan[closing]");
    coro_spawn(fill_and_close, &c, "filler");
    coro_spawn(drain, &c, "drainer");
    coro_run();
    assert_int_equal(c.ngot, 3);
    assert_int_equal(c.got[0], 1);
    assert_int_equal(c.got[2], 3);
    assert_int_equal(c.recv_after, -EPIPE);
    assert_int_equal(c.send_after, -EPIPE);
    assert_int_equal(coro_chan_close(c.ch), -EALREADY);
    coro_chan_destroy(c.ch);
}

/* ---- mutex: FIFO hand-off ----------------------------------------------- */

typedef struct locking {
    coro_mutex m;
    char order[32];
    int n;
} locking;

static void *locker(void *arg)
{
    locking *l = arg;
    const char *me = coro_name(coro_self());
    for (int i = 0; i < 2; i++) {
        assert_int_equal(coro_mutex_lock(&l->m), 0);
        l->order[l->n++] = me[0];
        coro_yield(); /* hold it across a switch */
        assert_int_equal(coro_mutex_unlock(&l->m), 0);
    }
    return NULL;
}

static void test_mutex_is_fair(void **state)
{
    (void)state;
    locking l = {0};
    coro_mutex_init(&l.m, "mutex[%s]", "table");
    coro_spawn(locker, &l, "a");
    coro_spawn(locker, &l, "b");
    coro_spawn(locker, &l, "c");
    coro_run();
    l.order[l.n] = 0;
    /* a unlocks and relocks at once, yet b and c (waiting) go first. */
    assert_string_equal(l.order, "abcabc");
    assert_int_equal(coro_mutex_destroy(&l.m), 0);
}

static void test_mutex_errors(void **state)
{
    (void)state;
    coro_mutex m;
    coro_mutex_init(&m, NULL);
    assert_int_equal(coro_mutex_unlock(&m), -EPERM);
    assert_int_equal(coro_mutex_trylock(&m), 0);
    assert_int_equal(coro_mutex_trylock(&m), -EBUSY);
    assert_int_equal(coro_mutex_lock(&m), -EDEADLK);
    assert_int_equal(coro_mutex_destroy(&m), -EBUSY);
    assert_int_equal(coro_mutex_unlock(&m), 0);
    assert_int_equal(coro_mutex_destroy(&m), 0);
}

/* ---- condition variable -------------------------------------------------- */

typedef struct signalling {
    coro_mutex m;
    coro_cond c;
    int ready, woke;
} signalling;

static void *waiter(void *arg)
{
    signalling *s = arg;
    coro_mutex_lock(&s->m);
    while (s->ready < 1) coro_cond_wait(&s->c, &s->m);
    s->woke++;
    coro_mutex_unlock(&s->m);
    return NULL;
}

static void *signaller(void *arg)
{
    signalling *s = arg;
    coro_mutex_lock(&s->m);
    s->ready = 1;
    coro_cond_signal(&s->c); /* one */
    coro_mutex_unlock(&s->m);
    coro_yield();
    coro_yield();
    assert_int_equal(s->woke, 1);
    coro_cond_broadcast(&s->c); /* the rest */
    return NULL;
}

static void test_cond_signal_and_broadcast(void **state)
{
    (void)state;
    signalling s = {0};
    coro_mutex_init(&s.m, "mutex[state]");
    coro_cond_init(&s.c, "cond[ready]");
    for (int i = 0; i < 3; i++) coro_spawn(waiter, &s, "waiter#%d", i);
    coro_spawn(signaller, &s, "signaller");
    coro_run();
    assert_int_equal(s.woke, 3);
    assert_int_equal(coro_cond_destroy(&s.c), 0);
}

/* ---- any wait can be cancelled; a waiting coroutine can be destroyed ---- */

typedef struct cancel_all {
    coro_chan *empty, *full;
    coro_cond cv;
    coro_mutex m;
    coro_waitgroup wg;
    int recv_rc, send_rc, cond_rc, wg_rc;
    int cond_holds; /* the cond waiter holds m again after the cancel */
} cancel_all;

static void *c_recv(void *arg)
{
    cancel_all *r = arg;
    int v;
    r->recv_rc = coro_chan_recv(r->empty, &v);
    return NULL;
}

static void *c_send(void *arg)
{
    cancel_all *r = arg;
    int v = 2;
    r->send_rc = coro_chan_send(r->full, &v);
    return NULL;
}

static void *c_cond(void *arg)
{
    cancel_all *r = arg;
    coro_mutex_lock(&r->m);
    r->cond_rc = coro_cond_wait(&r->cv, &r->m);
    r->cond_holds = coro_mutex_unlock(&r->m) == 0;
    return NULL;
}

static void *c_wg(void *arg)
{
    cancel_all *r = arg;
    r->wg_rc = coro_waitgroup_wait(&r->wg);
    return NULL;
}

static void *c_canceller(void *arg)
{
    coro_t **victims = arg;
    coro_yield(); /* let every victim block first */
    for (int i = 0; i < 4; i++) assert_int_equal(coro_cancel_wait(victims[i]), 0);
    for (int i = 0; i < 4; i++) assert_int_equal(coro_cancel_wait(victims[i]), -ESRCH);
    return NULL;
}

static void test_cancel_ends_every_sync_wait(void **state)
{
    (void)state;
    cancel_all r = {.recv_rc = 1, .send_rc = 1, .cond_rc = 1, .wg_rc = 1};
    size_t stuck_before = coro_sync_blocked(); /* left by the deadlock test */
    r.empty = coro_chan_create(sizeof(int), 1, "chan[empty]");
    r.full = coro_chan_create(sizeof(int), 1, "chan[full]");
    int one = 1;
    coro_cond_init(&r.cv, "cond[cv]");
    coro_mutex_init(&r.m, "mutex[m]");
    coro_waitgroup_init(&r.wg, "wg");
    coro_waitgroup_add(&r.wg, 1);
    coro_t *victims[4];
    victims[0] = coro_spawn(c_recv, &r, "recv");
    victims[1] = coro_spawn(c_send, &r, "send");
    victims[2] = coro_spawn(c_cond, &r, "cond");
    victims[3] = coro_spawn(c_wg, &r, "wg");
    coro_spawn(c_canceller, victims, "canceller");
    /* fill after the spawns: the sender's first try finds it full */
    assert_int_equal(coro_chan_send(r.full, &one), 0);
    coro_run();
    assert_int_equal(r.recv_rc, -ECANCELED);
    assert_int_equal(r.send_rc, -ECANCELED);
    assert_int_equal(r.cond_rc, -ECANCELED);
    assert_true(r.cond_holds);
    assert_int_equal(r.wg_rc, -ECANCELED);
    assert_int_equal(coro_sync_blocked(), stuck_before);
    /* nothing is left queued on the objects */
    assert_int_equal(coro_chan_len(r.full), 1);
    assert_int_equal(coro_chan_destroy(r.empty), 0);
    assert_int_equal(coro_chan_destroy(r.full), 0);
    assert_int_equal(coro_cond_destroy(&r.cv), 0);
    assert_int_equal(coro_mutex_destroy(&r.m), 0);
}

static void *blocked_locker(void *arg)
{
    coro_mutex_lock(arg);
    return NULL;
}

static void test_destroying_a_waiting_coroutine_cancels_its_wait(void **state)
{
    (void)state;
    coro_mutex m;
    coro_mutex_init(&m, "mutex[held]");
    assert_int_equal(coro_mutex_trylock(&m), 0); /* main holds it */
    size_t stuck_before = coro_sync_blocked();
    coro_t *co = coro_create(blocked_locker, &m, "locker");
    assert_int_equal(coro_resume(co), 0); /* blocks on m, back to main */
    assert_int_equal(coro_get_state(co), CORO_SUSPENDED);
    assert_int_equal(coro_sync_blocked(), stuck_before + 1);
    /* Its wait is unlinked before its stack is freed: the unlock below
     * finds nobody to hand the mutex to (ASan would see a use after free). */
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(coro_sync_blocked(), stuck_before);
    assert_int_equal(coro_mutex_unlock(&m), 0);
    assert_int_equal(coro_mutex_destroy(&m), 0);
}

/* ---- misuse and deadlock ---------------------------------------------------- */

static void test_blocking_from_main_is_refused(void **state)
{
    (void)state;
    coro_chan *ch = coro_chan_create(sizeof(int), 0, "chan[main]");
    int v = 1;
    assert_int_equal(coro_chan_send(ch, &v), -EPERM);
    coro_chan_destroy(ch);
}

static void *stuck_recv(void *arg)
{
    int v;
    coro_chan_recv(arg, &v);
    return NULL;
}

static void *stuck_lock(void *arg)
{
    coro_mutex *m = arg;
    coro_mutex_lock(m);
    return NULL;
}

static void *holder(void *arg)
{
    coro_mutex *m = arg;
    coro_mutex_lock(m);
    return NULL; /* finishes holding it: a classic bug */
}

static void test_deadlock_names_each_stuck_coroutine(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/coroscope-sync-%d.jsonl", (int)getpid());
    assert_int_equal(coro_trace_open(path), 0);
    coro_chan *ch = coro_chan_create(sizeof(int), 0, "chan[jobs]");
    coro_mutex m;
    coro_mutex_init(&m, "mutex[table]");
    coro_spawn(stuck_recv, ch, "worker#1");
    coro_spawn(holder, &m, "leaker");
    coro_t *stuck = coro_spawn(stuck_lock, &m, "worker#2");
    coro_run();
    assert_int_equal(coro_sync_blocked(), 2);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    assert_int_equal(coro_deadlock_report(mem), 2);
    fclose(mem);
    assert_non_null(strstr(buf, "worker#1"));
    assert_non_null(strstr(buf, "recv chan[jobs] (empty)"));
    assert_non_null(strstr(buf, "worker#2"));
    assert_non_null(strstr(buf, "lock mutex[table] (held by leaker)"));
    free(buf);
    coro_trace_close();

    /* The trace names them too, and shows who waits on which object. */
    FILE *f = fopen(path, "r");
    char line[2048];
    int errors = 0, waits = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "\"kind\":\"error\"") && strstr(line, "deadlock: ")) errors++;
        if (strstr(line, "\"kind\":\"suspend\"") && strstr(line, "\"obj_name\":\"chan[jobs]\"") &&
            strstr(line, "\"reason\":\"channel\""))
            waits++;
    }
    fclose(f);
    unlink(path);
    assert_int_equal(errors, 2);
    assert_int_equal(waits, 1);
    /* The stuck coroutines are abandoned with their stacks: acceptable for
     * a test of a bug; the objects must not be destroyed while waited on. */
    assert_int_equal(coro_chan_destroy(ch), -EBUSY);
    /* Closing the channel frees worker#1 (with -EPIPE); worker#2 stays stuck
     * on the mutex whose holder is gone, which is the bug being shown. */
    coro_chan_close(ch);
    coro_run();
    assert_int_equal(coro_sync_blocked(), 1);
    assert_int_equal(coro_chan_destroy(ch), 0);
    /* The way out of such a bug: cancel the stuck wait (worker#2's lock
     * returns -ECANCELED and it finishes), before m leaves this frame. */
    assert_int_equal(coro_cancel_wait(stuck), 0);
    coro_run();
    assert_int_equal(coro_sync_blocked(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded_channel),
        cmocka_unit_test(test_unbounded_channel),
        cmocka_unit_test(test_unbuffered_channel),
        cmocka_unit_test(test_close_delivers_what_was_sent_then_epipe),
        cmocka_unit_test(test_mutex_is_fair),
        cmocka_unit_test(test_mutex_errors),
        cmocka_unit_test(test_cond_signal_and_broadcast),
        cmocka_unit_test(test_blocking_from_main_is_refused),
        cmocka_unit_test(test_deadlock_names_each_stuck_coroutine),
        cmocka_unit_test(test_cancel_ends_every_sync_wait),
        cmocka_unit_test(test_destroying_a_waiting_coroutine_cancels_its_wait),
    };
    return cmocka_run_group_tests_name("sync", tests, NULL, NULL);
}
