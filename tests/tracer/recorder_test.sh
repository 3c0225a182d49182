#!/bin/bash
# Tests of the recorder as a user meets it: one case per ctest entry.
#   recorder_test.sh CASE BUILD_DIR WORK_DIR
set -u
case_=$1
B=$2
W=$3
CS=$B/viz/coroscope
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
server=
# A server left running would hold ctest's output pipe open: never leave one.
trap '[ -n "$server" ] && kill -9 $server 2>/dev/null' EXIT
T=$B/tests/tracer
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
port_of() { sed -n 's/.*listening on acceptor\[127.0.0.1:\([0-9]*\)\].*/\1/p' "$1"; }
# Start a traced echo server (extra env in "$@"), wait until it listens.
start_server() {
    env --default-signal=INT "$@" "$B/examples/echo-server" --port 0 2>server.log &
    server=$!
    for _ in $(seq 100); do
        port=$(port_of server.log)
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    fail "the server did not listen: $(cat server.log)"
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
sigint)
    # Ctrl-C, as a terminal delivers it (SIGINT, default action): the trace
    # is complete with its end record, and the server dies of SIGINT.
    start_server CORO_TRACE=run.jsonl
    "$B/examples/echo-client" --port "$port" -c 4 -n 20 >client.out || fail "client"
    kill -INT $server
    wait $server
    st=$?
    server=
    [ $st = 130 ] || fail "the server exited $st, not 130 (killed by SIGINT)"
    tail -1 run.jsonl | grep -q '"kind":"end".*"signal":2' || fail "no end record: $(tail -1 run.jsonl)"
    "$CS" check run.jsonl >check.out 2>&1 || fail "check: $(cat check.out)"
    ! grep -q "did not end cleanly" check.out || fail "a complete trace reported as cut"
    ;;
live_log)
    # The annotated log appears line by line while the program runs, and
    # is all there when SIGTERM ends it.
    start_server CORO_LOG=log.txt
    "$B/examples/echo-client" --port "$port" -c 2 -n 5 >client.out || fail "client"
    for _ in $(seq 100); do
        grep -q "finish   echo#2" log.txt && break
        sleep 0.05
    done
    grep -q "finish   echo#2" log.txt || fail "the log does not show echo#2 finishing while the server runs"
    n=$(grep -c "resume" log.txt)
    kill -TERM $server
    wait $server
    st=$?
    server=
    [ $st = 143 ] || fail "the server exited $st, not 143 (killed by SIGTERM)"
    m=$(grep -c "resume" log.txt)
    [ "$m" -ge "$n" ] || fail "the log shrank"
    ;;
crash)
    # A coroutine that dereferences NULL: the trace ends with a crash event
    # naming it, and the program still dies of the fault.
    CORO_TRACE=crash.jsonl "$T/crash_child" >out.txt 2>err.txt
    st=$?
    [ $st != 0 ] || fail "the crash child exited 0"
    last=$(tail -1 crash.jsonl)
    echo "$last" | grep -q '"kind":"crash"' || fail "last event is not a crash: $last"
    echo "$last" | grep -q '"co_name":"crasher"' || fail "the crash does not name crasher: $last"
    echo "$last" | grep -q '"detail":"SIGSEGV at 0x0"' || fail "no signal and address: $last"
    "$CS" log crash.jsonl >log.out 2>log.err || fail "log: $(cat log.err)"
    grep -q "did not end cleanly: last event .* is a crash (SIGSEGV at 0x0 in crasher)" log.err ||
        fail "the view does not say how the run ended: $(cat log.err)"
    grep -q "crasher crashed: SIGSEGV at 0x0" log.out || fail "the log does not show the crash"
    ;;
fifo)
    # A FIFO with no reader: the program neither blocks in opening it nor
    # in writing; what could not be written is counted.
    mkfifo p
    timeout 10 env CORO_TRACE=p "$T/emit_many" 20000 >out.txt 2>err.txt
    st=$?
    [ $st = 0 ] || fail "with no reader the program exited $st: $(cat err.txt)"
    grep -q "trace events were lost by the JSON trace" err.txt || fail "no loss reported"
    # A reader that opens the FIFO and never reads.
    (exec 3<p; exec sleep 6) >/dev/null 2>&1 &
    holder=$!
    timeout 5 env CORO_TRACE=p "$T/emit_many" 20000 >out.txt 2>err.txt
    st=$?
    kill $holder 2>/dev/null
    [ $st = 0 ] || fail "a reader that does not read stalled or killed the program ($st)"
    grep -q "trace events were lost" err.txt || fail "no loss reported: $(cat err.txt)"
    # A reader that reads a little and exits: no SIGPIPE.
    (head -c 2000 p >/dev/null) &
    timeout 10 env CORO_TRACE=p "$T/emit_many" 20000 >out.txt 2>err.txt &
    prog=$!
    wait $prog
    st=$?
    [ $st = 0 ] || fail "a reader that exits killed the program ($st: SIGPIPE is 141)"
    grep -q "trace events were lost" err.txt || fail "no loss reported: $(cat err.txt)"
    ;;
closed_pipe)
    # stdout is a pipe whose reader is gone: no SIGPIPE, the loss counted.
    { CORO_TRACE=- "$T/emit_many" 50000 2>err.txt; echo $? >st.txt; } | head -c 100 >/dev/null
    [ "$(cat st.txt)" = 0 ] || fail "the program exited $(cat st.txt)"
    grep -q "trace events were lost" err.txt || fail "no loss reported: $(cat err.txt)"
    ;;
full_disk)
    CORO_TRACE=/dev/full "$T/emit_many" 1000 >out.txt 2>err.txt || fail "exit $?"
    grep -q "1000 trace events were lost by the JSON trace (/dev/full: No space left on device)" err.txt ||
        fail "loss not reported: $(cat err.txt)"
    ;;
*)
    fail "unknown case $case_"
    ;;
esac
echo "ok $case_"
