#!/bin/bash
# Tests of the recorder as a user meets it: one case per ctest entry.
#   recorder_test.sh CASE BUILD_DIR WORK_DIR
set -u
case_=$1
B=$2
W=$3
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$SRC/tests/lib/server.sh" # stop_server (start_server is this file's own, below)
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
    # is complete with its end record, and the server dies of SIGINT; in
    # JSON Lines and in binary.
    for f in run.jsonl run.ctr; do
        start_server CORO_TRACE=$f
        "$B/examples/echo-client" --port "$port" -c 4 -n 20 >client.out || fail "client"
        if [ $f = run.ctr ]; then
            # read while the server records: said to be live, not cut short
            "$CS" stats $f >live.out 2>live.err || fail "stats of a live trace: $(cat live.err)"
            grep -q "^coroscope: run.ctr: pid $server is still recording this run: the views show it up to event [1-9]" live.err ||
                fail "a live trace not said to be live: $(cat live.err)"
            ! grep -q "did not end cleanly" live.err || fail "a live trace said to be cut: $(cat live.err)"
            grep -q "^echo#4 " live.out || fail "a live trace's events not shown: $(cat live.out)"
        fi
        stop_server INT $server "$B"
        st=$?
        server=
        [ $st = 130 ] || fail "the server exited $st, not 130 (killed by SIGINT; $f)"
        "$CS" convert $f out.jsonl 2>conv.err || fail "convert $f: $(cat conv.err)"
        tail -1 out.jsonl | grep -q '"kind":"end".*"signal":2' || fail "no end record in $f: $(tail -1 out.jsonl)"
        "$CS" check $f >check.out 2>&1 || fail "check $f: $(cat check.out)"
        ! grep -q "did not end cleanly" check.out || fail "a complete trace reported as cut ($f)"
    done
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
    stop_server TERM $server "$B"
    st=$?
    server=
    [ $st = 143 ] || fail "the server exited $st, not 143 (killed by SIGTERM)"
    m=$(grep -c "resume" log.txt)
    [ "$m" -ge "$n" ] || fail "the log shrank"
    ;;
crash)
    # A coroutine that dereferences NULL: the trace ends with a crash event
    # naming it, and the program still dies of the fault; in JSON Lines and
    # in binary.
    for f in crash.jsonl crash.ctr; do
        CORO_TRACE=$f "$T/crash_child" >out.txt 2>err.txt
        st=$?
        [ $st != 0 ] || fail "the crash child exited 0"
        "$CS" convert $f out.jsonl 2>conv.err || fail "convert $f: $(cat conv.err)"
        last=$(tail -1 out.jsonl)
        echo "$last" | grep -q '"kind":"crash"' || fail "last event is not a crash ($f): $last"
        echo "$last" | grep -q '"co_name":"crasher"' || fail "the crash does not name crasher ($f): $last"
        echo "$last" | grep -q '"detail":"SIGSEGV at 0x0"' || fail "no signal and address ($f): $last"
        "$CS" log $f >log.out 2>log.err || fail "log: $(cat log.err)"
        grep -q "did not end cleanly: last event .* is a crash (SIGSEGV at 0x0 in crasher)" log.err ||
            fail "the view does not say how the run ended ($f): $(cat log.err)"
        grep -q "crasher crashed: SIGSEGV at 0x0" log.out || fail "the log does not show the crash ($f)"
    done
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
full_disk_binary)
    # A binary trace whose file cannot grow (a file size limit stands in for
    # a full disk; SIGXFSZ ignored, as a full disk sends none): the program
    # runs on and says what it lost, the events that found room are read,
    # and the views say how many did not.
    (trap '' XFSZ; ulimit -f 8192; CORO_TRACE=nr.ctr "$T/emit_many" 100000 >out.txt 2>err.txt) ||
        fail "exit $?: $(cat err.txt)"
    grep -q "trace events were lost by the binary trace (.*nr.ctr: no room to record them)" err.txt ||
        fail "loss not reported: $(cat err.txt)"
    "$CS" stats nr.ctr >st.txt 2>st.err || fail "stats: $(cat st.err)"
    grep -q "events were not recorded (the trace file had no room" st.err ||
        fail "the view does not say what was not recorded: $(cat st.err)"
    lost=$(sed -n 's/.*events lost by the tracer: \([0-9]*\)).*/\1/p' st.txt)
    [ "${lost:-0}" -gt 0 ] || fail "stats counts no lost events: $(cat st.txt)"
    "$CS" check nr.ctr >chk.txt 2>&1 || fail "check: $(cat chk.txt)"
    # Too small for even the first chunk: the trace is refused at the start,
    # the program runs untraced, and no half-written file is left.
    (trap '' XFSZ; ulimit -f 1024; CORO_TRACE=small.ctr "$T/emit_many" 1000 >out.txt 2>err.txt) ||
        fail "exit $?: $(cat err.txt)"
    grep -q "cannot write the trace to CORO_TRACE=small.ctr: File too large" err.txt ||
        fail "the refusal is not reported: $(cat err.txt)"
    [ ! -s small.ctr ] || fail "a refused trace left $(stat -c %s small.ctr) bytes"
    ;;
two_writers)
    # Two programs given the same binary trace: the second is refused and
    # runs untraced, and the first one's trace is whole.
    CORO_TRACE=t.ctr "$B/examples/echo-server" --port 0 --conns 1 2>server.log &
    server=$!
    for _ in $(seq 100); do
        port=$(port_of server.log)
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || fail "the server did not listen: $(cat server.log)"
    CORO_TRACE=t.ctr "$B/examples/echo-client" --port "$port" -c 1 -n 100 >client.txt 2>client.err ||
        fail "client: $(cat client.err)"
    grep -q "cannot write the trace to CORO_TRACE=t.ctr: another process is recording into it" \
        client.err || fail "the second writer was not refused: $(cat client.err)"
    wait $server || fail "server exit $?: $(cat server.log)"
    server=
    "$CS" check t.ctr >check.txt 2>&1 || fail "check: $(cat check.txt)"
    grep -q "did not end cleanly" check.txt && fail "the trace was cut: $(cat check.txt)"
    "$CS" convert t.ctr t.jsonl 2>/dev/null || fail "convert"
    grep -q '"kind":"finish".*"co_name":"echo#1"' t.jsonl || fail "no finish of the connection's coroutine"
    grep -q '"kind":"end"' t.jsonl || fail "no end record"
    ;;
threads)
    # 4 threads recording at once: every event once, each thread's in order;
    # timestamps from the CPU's counter, and from CLOCK_MONOTONIC (ts_kind 0).
    for clock in "" monotonic; do # "": the default
        CORO_TRACE_CLOCK=$clock CORO_TRACE=t.ctr "$T/threads_child" 4 50000 ||
            fail "threads child"
        [ -z "$clock" ] || [ "$(od -A n -t u4 -j 28 -N 4 t.ctr | tr -d ' ')" = 0 ] ||
            fail "CORO_TRACE_CLOCK=monotonic did not record nanoseconds"
        "$CS" convert t.ctr t.jsonl || fail convert
        awk -F'[:,}]' '
            /"kind":"log"/ {
                for (i = 1; i < NF; i++) { if ($i == "\"co\"") co = $(i+1); if ($i == "\"value\"") v = $(i+1) }
                if (co in last && v != last[co] + 1) { print "thread " co ": " v " after " last[co]; bad = 1 }
                if (!(co in last) && v != 0) { print "thread " co " starts at " v; bad = 1 }
                last[co] = v; n[co]++
            }
            END {
                for (c = 1; c <= 4; c++) if (n[c] != 50000) { print "thread " c ": " n[c] " events"; bad = 1 }
                exit bad
            }' t.jsonl || fail "events lost, duplicated or out of order (${clock:-default})"
        # ts never goes back in the merged order
        sed -n 's/.*"ts":\([0-9]*\).*/\1/p' t.jsonl | awk '$1 < p { print "ts " $1 " after " p; exit 1 } { p = $1 }' ||
            fail "the threads' events are not in the order of their timestamps (${clock:-default})"
        "$CS" check t.ctr >/dev/null 2>check.err || fail "check: $(cat check.err)"
    done
    # The same with short records (a resume, and a yield straight back that
    # stands for two events), each thread's coroutine renamed midway: every
    # event once and in order, and each with the name its id had then.
    CORO_TRACE=b.ctr "$T/threads_child" 4 30000 brief || fail "threads child (brief)"
    "$CS" convert b.ctr b.jsonl || fail "convert (brief)"
    awk '
        function num(f,   v) { if (!match($0, "\"" f "\":[0-9]+")) return -1
                               v = substr($0, RSTART, RLENGTH); sub(/.*:/, "", v); return v + 0 }
        function str(f,   v) { if (!match($0, "\"" f "\":\"[^\"]*\"")) return ""
                               v = substr($0, RSTART, RLENGTH); sub(/^[^:]*:"/, "", v); sub(/"$/, "", v); return v }
        /"kind":"(resume|suspend)"/ {
            co = num("co"); k = co >= 2000 ? co - 2000 : co - 1000
            if (co >= 2000) { back[k]++; if (str("from_name") != w(k, back[k] - 1)) bad_name(); next }
            kind = $0 ~ /"kind":"resume"/ ? "r" : "s"; line = num("line")
            if ((kind, k) in last ? line != last[kind, k] + 1 : line != 0) {
                print "thread " k " " kind ": line " line " after " last[kind, k]; bad = 1
            }
            last[kind, k] = line; n[kind, k]++
            if (str("co_name") != w(k, line)) bad_name()
        }
        function w(k, i) { return "w" k (i >= 15000 ? "-renamed" : "") }
        function bad_name() { if (shown++ < 5) print "wrong name: " $0; bad = 1 }
        END {
            for (k = 0; k < 4; k++)
                if (n["r", k] != 30000 || n["s", k] != 30000 || back[k] != 30000) {
                    print "thread " k ": " n["r", k] " resumes, " n["s", k] " yields, " back[k] " returns"; bad = 1
                }
            exit bad
        }' b.jsonl || fail "short records lost, duplicated, out of order or misnamed"
    sed -n 's/.*"ts":\([0-9]*\).*/\1/p' b.jsonl | awk '$1 < p { print "ts " $1 " after " p; exit 1 } { p = $1 }' ||
        fail "the threads' short records are not in the order of their timestamps"
    tail -1 b.jsonl | grep -q '"kind":"end","events":360004,' || fail "end: $(tail -1 b.jsonl)"
    ;;
ring)
    # A flight recorder smaller than the run keeps the newest events and
    # counts the ones it overwrote; the views show the gap.
    CORO_TRACE=r.ctr:ring=256K "$T/emit_many" 20000 || fail "emit"
    "$CS" convert r.ctr r.jsonl 2>err.txt || fail "convert: $(cat err.txt)"
    n=$(grep -c '"kind":"log"' r.jsonl)
    [ "$n" -gt 1000 ] && [ "$n" -lt 20000 ] || fail "$n events kept by a 256K ring"
    tail -2 r.jsonl | head -1 | grep -q '"value":19999' || fail "the newest event is not there"
    tail -1 r.jsonl | grep -q '"kind":"end","events":20000' || fail "no end record: $(tail -1 r.jsonl)"
    # overwritten (header) + kept = all
    ow=$(od -A n -t u8 -j 368 -N 8 r.ctr | tr -d ' ')
    [ $((ow + n)) = 20000 ] || fail "overwritten $ow + kept $n is not 20000"
    [ ! -e r.ctr:ring=256K ] || fail "the ring spec became a file name"
    [ "$(stat -c %s r.ctr)" -lt 400000 ] || fail "the ring file grew: $(stat -c %s r.ctr)"
    "$CS" log r.ctr >log.txt 2>log.err || fail "log: $(cat log.err)"
    grep -q "lost\|gap\|missing" log.txt log.err || fail "the log does not show the overwritten span"
    ;;
names)
    # Short records name coroutines by id alone (their names are bound
    # beside the events, docs/trace-format.md): each reads back with the
    # name it had when it was recorded, before and after a rename, also
    # from a ring that overwrote the events that named it.
    names_of() { # FILE -> "before after": the generator's names around the rename
        awk 'BEGIN { after = 0 } /"kind":"rename"/ { after = 1; next }
             /"kind":"(resume|suspend)"/ {
                 line = $0
                 while (match(line, /"(co|from|to|by)_name":"[^"]*"/)) {
                     v = substr(line, RSTART, RLENGTH); sub(/.*:"/, "", v); sub(/"$/, "", v)
                     if (v != "main") seen[after] = seen[after] (index(seen[after], v ";") ? "" : v ";")
                     line = substr(line, RSTART + RLENGTH)
                 }
                 if ($0 ~ /"kind":"suspend"/) yields[after]++
             }
             END { printf "%s%d %s%d\n", seen[0], yields[0], seen[1], yields[1] }' "$1"
    }
    CORO_TRACE=n.ctr "$T/rename_child" 2000 || fail "rename_child"
    "$CS" convert n.ctr n.jsonl 2>err.txt || fail "convert: $(cat err.txt)"
    got=$(names_of n.jsonl)
    [ "$got" = "gen;1000 renamed;1000" ] || fail "names around the rename: $got (want gen;1000 renamed;1000)"
    # several chunks of records that stand for two events each: none is lost
    n=$(grep -c '"seq"' n.jsonl)
    tail -1 n.jsonl | grep -q "\"kind\":\"end\",\"events\":$n," || fail "$n events, but: $(tail -1 n.jsonl)"
    "$CS" check n.ctr >check.out 2>check.err || fail "check: $(cat check.out check.err)"
    grep -q "no violations$" check.out || fail "check: $(cat check.out)"
    CORO_TRACE=r.ctr:ring=256K "$T/rename_child" 100000 || fail "rename_child in a ring"
    "$CS" convert r.ctr r.jsonl 2>err.txt || fail "convert the ring: $(cat err.txt)"
    ! grep -q '"kind":"create".*"co_name":"gen"' r.jsonl || fail "the ring kept the generator's create"
    ! grep -q '"kind":"rename"' r.jsonl || fail "the ring kept the rename"
    got=$(names_of r.jsonl)
    case $got in # (no rename kept: every event counts as before it)
    "renamed;"*" 0") kept=${got#renamed;} && [ "${kept% 0}" -gt 1000 ] || fail "too few yields kept: $got" ;;
    *) fail "names in the ring: $got (want only renamed)" ;;
    esac
    # what the ring overwrote is not held against what it kept
    "$CS" check r.ctr >check.out 2>check.err || fail "check the ring: $(cat check.out check.err)"
    ;;
sigkill)
    # kill -9 under load: everything the server recorded is read back.
    start_server CORO_TRACE=k.ctr
    "$B/examples/echo-client" --port "$port" -c 20 -n 100000 >client.out 2>&1 &
    client=$!
    sleep 1
    kill -9 $server
    wait $server 2>/dev/null
    server=
    wait $client 2>/dev/null
    recorded=$("$T/ctr_count" k.ctr) # from the chunks' counts, not by coroscope
    [ "$recorded" -gt 1000 ] || fail "only $recorded events recorded under load"
    "$CS" convert k.ctr k.jsonl 2>conv.err || fail "convert: $(cat conv.err)"
    # A record counts once its chunk's count covers it: every one the
    # chunks count is read back, and the view names the last of them.
    last=$(sed -n 's/.*did not end cleanly: last event \([0-9]*\).*/\1/p' conv.err)
    [ -n "$last" ] || fail "ending not reported: $(cat conv.err)"
    [ "$last" = "$recorded" ] || fail "last event $last, $recorded recorded"
    n=$(($(wc -l <k.jsonl) - 1))
    [ "$n" = "$last" ] || fail "$n events read back, the last stored is $last"
    spawned=$(grep -c '"kind":"spawn","thread":1,"co":[0-9]*,"co_name":"echo#' k.jsonl)
    [ "$spawned" -ge 20 ] || fail "$spawned echo coroutines for 20 connections"
    "$CS" check k.ctr >check.out 2>check.err || fail "check: $(cat check.out check.err)"
    grep -q "did not end cleanly" check.err || fail "check does not say the run was cut"
    ;;
damaged)
    # Damaged binary traces (bytes of the header, chunk headers and records
    # overwritten at random, seeded): every one is read or refused with a
    # message (exit 0 or 2), never a crash or a hang.
    CORO_TRACE=d.ctr "$T/threads_child" 3 3000 || fail "threads child"
    CORO_TRACE=dl.ctr CORO_TRACE_CLOCK=logical "$T/threads_child" 2 2000 || fail "threads child"
    CORO_TRACE=db.ctr "$T/threads_child" 3 2000 brief || fail "threads child (brief)"
    # Short records name their coroutines by id: an id the names chunks do
    # not bind, and a damaged binding, are refused with where they are.
    u64_at() { od -A n -t u8 -j "$2" -N 8 "$1" | tr -d ' '; }
    put_u64() { # FILE OFFSET VALUE (little-endian)
        local v=$3 k
        for k in 0 1 2 3 4 5 6 7; do
            printf "\\$(printf %o $(((v >> (8 * k)) & 255)))"
        done | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
    }
    cp db.ctr u.ctr
    put_u64 u.ctr $((4096 + 64 + 16)) 999999 # the first record's co
    "$CS" convert u.ctr u.jsonl 2>err.txt && fail "an unbound id was read"
    grep -q "names coroutine 999999 by id alone, and the file binds no name to that id" err.txt ||
        fail "unbound id: $(cat err.txt)"
    names=$(for c in $(seq 0 $(($(u64_at db.ctr 336) - 1))); do
        [ "$(od -A n -t u4 -j $((4096 + c * 65536)) -N 4 db.ctr | tr -d ' ')" = 3 ] && echo $c
    done | head -1)
    [ -n "$names" ] || fail "no names chunk in a trace of short records"
    cp db.ctr u.ctr
    put_u64 u.ctr $((4096 + names * 65536 + 64)) 0 # the first binding's id
    "$CS" convert u.ctr u.jsonl 2>err.txt && fail "a damaged binding was read"
    grep -q "a damaged name binding (at byte $((4096 + names * 65536 + 64)))" err.txt ||
        fail "damaged binding: $(cat err.txt)"
    RANDOM=7
    for i in $(seq 150); do
        src=d.ctr
        [ $((i % 3)) = 0 ] && src=dl.ctr
        [ $((i % 3)) = 1 ] && src=db.ctr
        cp $src m.ctr
        size=$(stat -c %s m.ctr)
        for _ in 1 2 3 4; do
            case $((RANDOM % 4)) in
            0) off=$((RANDOM % 512)) ;;                                    # the header
            1) off=$((4096 + (RANDOM % ((size - 4096) / 65536)) * 65536 + RANDOM % 64)) ;; # a chunk header
            *) off=$(((RANDOM * 32768 + RANDOM) % size)) ;;                # anywhere
            esac
            printf "\\$(printf %o $((RANDOM % 256)))" |
                dd of=m.ctr bs=1 seek=$off conv=notrunc status=none
        done
        timeout 20 "$CS" convert m.ctr m.jsonl >/dev/null 2>err.txt
        rc=$?
        [ $rc = 0 ] || [ $rc = 2 ] || { cp m.ctr crash-$i.ctr; fail "damaged trace $i: exit $rc: $(head -3 err.txt)"; }
        [ $rc = 0 ] || [ -s err.txt ] || fail "damaged trace $i refused without a word"
    done
    ;;
binary_goldens)
    # Each golden program recorded in binary, converted to JSON Lines, is
    # the reviewed golden trace; the live log beside the binary trace is the
    # golden log; and JSON -> binary -> JSON gives the same bytes back.
    for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
    G=$SRC/tests/golden/expected
    for name in await chan echo_unix generator pingpong spawn; do
        CORO_TRACE=$name.ctr CORO_LOG=$name.log CORO_TRACE_CLOCK=logical NO_COLOR=1 \
            "$B/tests/golden/golden_$name" >/dev/null || fail "$name did not run"
        "$CS" convert $name.ctr $name.jsonl 2>err.txt || fail "convert $name: $(cat err.txt)"
        sed -E -i '1s/"pid":[0-9]+/"pid":0/' $name.jsonl
        diff -u "$G/$name.jsonl" $name.jsonl || fail "$name: binary trace differs from the golden"
        diff -u "$G/$name.log" $name.log || fail "$name: log beside a binary trace differs"
        "$CS" convert "$G/$name.jsonl" back.ctr || fail "convert to binary"
        "$CS" convert back.ctr back.jsonl || fail "convert back"
        sed -E -i '1s/"pid":[0-9]+/"pid":0/' back.jsonl # the header names the converter
        cmp -s "$G/$name.jsonl" back.jsonl || fail "$name: JSON -> binary -> JSON changed it"
        "$CS" check $name.ctr >/dev/null 2>&1 || fail "check of $name.ctr"
        # Recorded with the clock (short records, ordered by time, a yield's
        # suspend and resume in one): the same events but for their times.
        # (fd 3 stands for the log's, so that the program's fds are the golden's)
        CORO_TRACE=$name-time.ctr "$B/tests/golden/golden_$name" >/dev/null 3</dev/null ||
            fail "$name did not run"
        "$CS" convert $name-time.ctr $name-time.jsonl 2>err.txt || fail "convert: $(cat err.txt)"
        untimed() { sed -E '1d; s/"ts":[0-9]+,//; s/,"clock":"[a-z]+"//' "$1"; }
        diff -u <(untimed "$G/$name.jsonl") <(untimed $name-time.jsonl) ||
            fail "$name: recorded by time, it reads differently from the golden"
    done
    ;;
order)
    # The reader puts a thread's event chunks in order by their first
    # event's number, wherever they lie in the file; a numbered trace (a
    # logical clock) is merged by seq, and its records need not be in order.
    # Either way an event in two places is named.
    # copy LEN bytes of FILE at FROM over TO
    put() { dd if="$1" of="$1" bs=4096 iflag=skip_bytes,count_bytes oflag=seek_bytes \
        skip=$2 seek=$3 count=$4 conv=notrunc status=none; }
    read_as() { # FILE REF: FILE reads as REF does (the header names the converter's pid)
        "$CS" convert $1 $1.jsonl 2>err.txt || fail "$1: $(cat err.txt)"
        cmp -s <(tail -n +2 $2) <(tail -n +2 $1.jsonl) || fail "$1 reads differently"
    }
    for clock in time logical; do
        CORO_TRACE_CLOCK=$clock CORO_TRACE=$clock.ctr "$T/emit_many" 1000 || fail "emit"
        "$CS" convert $clock.ctr $clock.jsonl 2>err.txt || fail "convert: $(cat err.txt)"
        ev=() # offsets of the event chunks (type 1)
        for ((i = 0; i < $(($(stat -c %s $clock.ctr) - 4096)) / 65536; i++)); do
            off=$((4096 + i * 65536))
            [ "$(od -A n -t u4 -j $off -N 4 $clock.ctr | tr -d ' ')" = 1 ] && ev+=($off)
        done
        [ ${#ev[@]} -ge 3 ] || fail "${#ev[@]} event chunks for 1000 events"
        cp $clock.ctr moved-$clock.ctr # the first two event chunks exchanged
        dd if=$clock.ctr bs=4096 iflag=skip_bytes,count_bytes skip=${ev[0]} count=65536 \
            status=none >c.bin
        put moved-$clock.ctr ${ev[1]} ${ev[0]} 65536
        dd if=c.bin of=moved-$clock.ctr bs=4096 oflag=seek_bytes seek=${ev[1]} conv=notrunc \
            status=none
        read_as moved-$clock.ctr $clock.jsonl
        eval "ev_$clock=(\${ev[@]})"
    done
    # time: the second chunk says it begins where the first does
    ev=(${ev_time[@]})
    cp time.ctr twice.ctr
    first=$(od -A n -t u8 -j $((ev[0] + 32)) -N 8 time.ctr | tr -d ' ')
    put twice.ctr $((ev[0] + 32)) $((ev[1] + 32)) 8
    "$CS" convert twice.ctr twice.jsonl 2>err.txt && fail "an event in two chunks was read"
    grep -q "twice.ctr: thread 1's event $first is in two chunks" err.txt || fail "twice: $(cat err.txt)"
    # time: a record whose size is not one the format knows, named by its place
    cp time.ctr bad.ctr
    printf '\007' | dd of=bad.ctr bs=1 seek=$((ev[1] + 64 + 2)) conv=notrunc status=none
    "$CS" convert bad.ctr bad.jsonl 2>err.txt && fail "a damaged record was read"
    grep -q "bad.ctr: a damaged event record (at byte $((ev[1] + 64)))" err.txt || fail "bad: $(cat err.txt)"
    # logical: records 0 and 1 of the first chunk swapped; record 6's seq made record 5's
    ev=(${ev_logical[@]})
    r0=$((ev[0] + 64)) rs=192
    cp logical.ctr swap.ctr
    dd if=logical.ctr bs=4096 iflag=skip_bytes,count_bytes skip=$r0 count=$rs status=none >r.bin
    put swap.ctr $((r0 + rs)) $r0 $rs
    dd if=r.bin of=swap.ctr bs=4096 oflag=seek_bytes seek=$((r0 + rs)) conv=notrunc status=none
    read_as swap.ctr logical.jsonl
    cp logical.ctr seq-twice.ctr
    put seq-twice.ctr $((r0 + 5 * rs + 16)) $((r0 + 6 * rs + 16)) 8
    seq5=$(od -A n -t u8 -j $((r0 + 5 * rs + 16)) -N 8 logical.ctr | tr -d ' ')
    "$CS" convert seq-twice.ctr st.jsonl 2>err.txt && fail "a repeated seq was read"
    grep -q "seq-twice.ctr: seq $seq5 appears twice" err.txt || fail "seq twice: $(cat err.txt)"
    ;;
*)
    fail "unknown case $case_"
    ;;
esac
echo "ok $case_"
