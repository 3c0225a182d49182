#!/bin/bash
# Tests of the recorder as a user meets it: one case per ctest entry.
#   recorder_test.sh CASE BUILD_DIR WORK_DIR
set -u
case_=$1
B=$2
W=$3
CS=$B/viz/coroscope
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

case $case_ in
viewer_env)
    # The viewer links the tracer; CORO_TRACE and CORO_LOG in its environment
    # must not make it record itself over the trace it reads.
    CORO_TRACE=run.jsonl "$B/tests/tracer/trace_env_child" || fail "child"
    cp run.jsonl orig.jsonl
    for v in stats check log graph seq states perfetto; do
        CORO_TRACE=run.jsonl CORO_LOG=log.txt "$CS" $v run.jsonl >out.$v 2>&1 ||
            fail "coroscope $v: $(cat out.$v)"
        cmp -s run.jsonl orig.jsonl || fail "coroscope $v changed the trace it read"
        [ ! -e log.txt ] || fail "coroscope $v wrote an annotated log of itself"
    done
    CORO_TRACE=run.jsonl "$CS" frame 1 run.jsonl >/dev/null || fail frame
    cmp -s run.jsonl orig.jsonl || fail "coroscope frame changed the trace"
    grep -q "hello from the child" out.log || fail "the log view lost the events"
    ;;
*)
    fail "unknown case $case_"
    ;;
esac
echo "ok $case_"
