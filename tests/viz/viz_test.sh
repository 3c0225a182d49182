#!/usr/bin/env bash
# The viewer's tests, one case per ctest entry:
#   viz_test.sh CASE COROSCOPE GEN_TRACE SOURCE_DIR WORK_DIR [PROGRAM [EXTRA]]
#   (EXTRA: the build directory for perfetto_demo, the failing shim for fail_calls)
set -uo pipefail
case_=$1 cs=$2 gen=$3 src=$4 work=$5 prog=${6:-} build=${7:-} shim=${7:-}
here=$src/tests/viz
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
# Every DOT the tests produce must be accepted by Graphviz.
dot_ok() { "$cs" "$@" > "$work/out.dot" || fail "coroscope $* exited $?"
           dot -Tsvg "$work/out.dot" -o "$work/out.svg" 2>"$work/dot.err" || fail "dot rejected coroscope $*: $(cat "$work/dot.err")"; }

case $case_ in
bad_inputs)
  for f in "$here"/bad/*.jsonl; do
    "$cs" log "$f" > /dev/null 2> "$work/err"; rc=$?
    [ $rc -eq 2 ] || fail "$f: exit $rc, want 2"
    want=$(cat "${f%.jsonl}.expect")
    grep -qF -- "$want" "$work/err" || fail "$f: stderr lacks '$want': $(cat "$work/err")"
  done
  echo "all bad traces refused with their line named" ;;
truncated)
  "$cs" log "$here/traces/truncated.jsonl" > "$work/out" 2> "$work/err" || fail "exit $?"
  grep -q "warning: the last line is cut short" "$work/err" || fail "no warning"
  grep -q '"a"' "$work/out" || fail "the events before the cut are missing" ;;
goldens_check)
  for f in "$src"/tests/golden/expected/*.jsonl; do
    "$cs" check "$f" || fail "check $f"
  done ;;
violations)
  "$cs" check "$here/traces/violations.jsonl" > "$work/out"; rc=$?
  [ $rc -eq 4 ] || fail "exit $rc, want 4"
  for want in "violations.jsonl:4: seq 3: resume of a has no cause" \
              "a is resumed after it finished" "awaits ghost, which was never created" \
              "b is resumed but was never created"; do
    grep -qF "$want" "$work/out" || fail "missing '$want' in: $(cat "$work/out")"
  done ;;
gap)
  "$cs" log "$here/traces/gap.jsonl" > "$work/out" || fail "log exit $?"
  grep -q "5 events lost by the tracer here (after seq 3)" "$work/out" || fail "no gap marker: $(cat "$work/out")"
  grep -q "2 events lost by the tracer here (after seq 10)" "$work/out" || fail "no trailing gap marker"
  dot_ok graph "$here/traces/gap.jsonl"
  grep -q "events were lost by the tracer" "$work/out.dot" || fail "graph has no lost-events note"
  dot_ok seq "$here/traces/gap.jsonl"
  grep -q "events lost" "$work/out.dot" || fail "seq has no gap marker"
  "$cs" stats "$here/traces/gap.jsonl" | grep -q "events lost by the tracer: 7" || fail "stats" ;;
weird_names)
  "$gen" weird "$work/weird.jsonl" || fail "gen"
  dot_ok graph "$work/weird.jsonl"
  dot_ok graph --fold "$work/weird.jsonl"
  dot_ok seq "$work/weird.jsonl"
  grep -qF 'quote\"d' "$work/out.dot" || fail "quote not escaped in seq"
  "$cs" log "$work/weird.jsonl" > "$work/log" || fail "log"
  "$cs" check "$work/weird.jsonl" > /dev/null || fail "check"
  "$cs" frame 5 "$work/weird.jsonl" > /dev/null || fail "frame" ;;
dot_valid)
  for f in "$src"/tests/golden/expected/*.jsonl; do
    dot_ok graph "$f"; dot_ok graph --fold "$f"; dot_ok seq "$f"; dot_ok seq --from 3 --to 12 "$f"
  done ;;
run)
  "$cs" run -d "$work/run" -- "$prog" > "$work/out" || fail "run exit $?"
  for f in trace.jsonl log.txt graph.svg seq.svg stats.txt check.txt run.html; do
    [ -s "$work/run/$f" ] || fail "coroscope run did not write $f"
  done
  grep -q "no violations" "$work/run/check.txt" || fail "check: $(cat "$work/run/check.txt")" ;;
fail_calls)
  # A failed fork or open_memstream: a clear error and the documented exit
  # code, nothing drawn from a child that never ran (tests/viz/fail_calls.c).
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
  tr=$src/tests/golden/expected/await.jsonl
  rm -rf "$work/g.svg" "$work/run-fork" "$work/run-mem" # a previous run's
  failing() { # CALL WANT_EXIT WANT_STDERR ARGS...
    local call=$1 want=$2 msg=$3; shift 3
    VZ_FAIL=$call LD_PRELOAD=$shim "$cs" "$@" > "$work/out" 2> "$work/err"; local rc=$?
    [ $rc -eq "$want" ] || fail "$call failing, coroscope $*: exit $rc, want $want; stderr: $(cat "$work/err")"
    grep -qF -- "$msg" "$work/err" || fail "$call failing, coroscope $*: stderr lacks '$msg': $(cat "$work/err")"
  }
  failing fork 3 "coroscope: cannot start Graphviz 'dot': Resource temporarily unavailable" \
    graph -o "$work/g.svg" "$tr"
  [ ! -e "$work/g.svg" ] || fail "an image was written although Graphviz never ran"
  failing fork 1 "coroscope run: cannot start $prog: Resource temporarily unavailable" \
    run -d "$work/run-fork" -- "$prog"
  [ ! -e "$work/run-fork/log.txt" ] || fail "run drew a trace its program never wrote"
  failing open_memstream 3 "coroscope: cannot buffer the drawing for $work/g.svg: Cannot allocate memory" \
    graph -o "$work/g.svg" "$tr"
  failing open_memstream 3 "coroscope: cannot buffer the states view: Cannot allocate memory" \
    states "$tr"
  [ ! -s "$work/out" ] || fail "states wrote part of a drawing: $(cat "$work/out")"
  failing open_memstream 3 "coroscope run: cannot buffer the drawing for $work/run-mem/graph.svg: Cannot allocate memory" \
    run -d "$work/run-mem" -- "$prog"
  [ -s "$work/run-mem/log.txt" ] || fail "run gave up the views that need no buffer"
  # The same calls, not failing, still work through the shim.
  LD_PRELOAD=$shim "$cs" graph -o "$work/g.svg" "$tr" || fail "graph through the shim: exit $?"
  [ -s "$work/g.svg" ] || fail "no image through the shim"
  echo "fork and open_memstream failures reported" ;;
big)
  "$gen" echo 1000000 "$work/big.jsonl" || fail "gen"
  n=$(wc -l < "$work/big.jsonl")
  [ "$n" -gt 1000000 ] || fail "only $n lines"
  start=$(date +%s.%N)
  "$cs" graph --fold -o "$work/big.svg" "$work/big.jsonl" || fail "graph --fold exit $?"
  end=$(date +%s.%N)
  "$cs" graph --max-nodes 50 "$work/big.jsonl" > "$work/big.dot" || fail "graph"
  grep -q "more nodes" "$work/big.dot" || fail "no summary node for what --max-nodes left out"
  "$cs" check "$work/big.jsonl" > /dev/null || fail "check"
  echo "graph --fold of $n lines: $(awk "BEGIN{print $end - $start}") s"
  # No view may hang on it: each must finish (ctest's timeout is the judge).
  "$cs" seq "$work/big.jsonl" > "$work/big-seq.dot" || fail "seq"
  dot -Tsvg "$work/big-seq.dot" -o /dev/null || fail "seq DOT"
  "$cs" states --fold "$work/big.jsonl" > /dev/null || fail "states"
  "$cs" stats "$work/big.jsonl" > /dev/null || fail "stats"
  "$cs" frame 600000 "$work/big.jsonl" > /dev/null || fail "frame"
  "$cs" step --script "j 900000 n b q" "$work/big.jsonl" > /dev/null || fail "step"
  "$cs" log --coro 'echo#77' "$work/big.jsonl" | grep -q "echo#77" || fail "log --coro"
  "$cs" perfetto "$work/big.jsonl" > /dev/null || fail "perfetto"
  # Options that once made views quadratic (seq --to took 152 s over 1M events).
  t0=$(date +%s.%N)
  "$cs" seq --to 200000 "$work/big.jsonl" > /dev/null || fail "seq --to"
  "$cs" states --max-nodes 20000 "$work/big.jsonl" > /dev/null || fail "states --max-nodes"
  echo "seq --to 200000 and states --max-nodes 20000: $(awk "BEGIN{print $(date +%s.%N) - $t0}") s"
  echo "all views finished on $n lines in $(awk "BEGIN{print $(date +%s.%N) - $start}") s" ;;
perfetto)
  for f in "$src"/tests/golden/expected/*.jsonl "$here/traces/gap.jsonl"; do
    "$cs" perfetto "$f" > "$work/p.json" || fail "perfetto $f"
    "$prog" "$work/p.json" > "$work/counts" || fail "perfetto output of $f does not parse back"
  done
  "$cs" perfetto "$src/tests/golden/expected/await.jsonl" > "$work/p.json"
  "$prog" "$work/p.json" | grep -q " 4 flow starts" || fail "await trace: want 2 await flows + 2 continuations: $("$prog" "$work/p.json")"
  "$cs" perfetto "$src/tests/golden/expected/echo_unix.jsonl" > "$work/p.json"
  grep -q '"name":"epoll_wait (no timeout) -> 2 ready"' "$work/p.json" || fail "no epoll_wait slice"
  grep -q '"ph":"X","name":"main","pid":1,"tid":1,"ts":1,' "$work/p.json" || fail "main's first run has no slice" ;;
states)
  for f in "$src"/tests/golden/expected/*.jsonl; do dot_ok states "$f"; dot_ok states --fold "$f"; done
  "$cs" states "$src/tests/golden/expected/pingpong.jsonl" > "$work/s.dot"
  grep -q 'label="x 2"' "$work/s.dot" || fail "pingpong: no transition counted twice" ;;
step)
  f=$src/tests/golden/expected/await.jsonl
  "$cs" step --script "n n b j 9 c parent q" "$f" > "$work/out" || fail "step exit $?"
  grep -q "\[event 3 of 21\]" "$work/out" || fail "n n did not reach event 3"
  grep -q "> j 9" "$work/out" || fail "jump not echoed"
  grep -A5 "> c parent" "$work/out" | grep -q ">> .*child#1 -> parent" || fail "c parent did not find parent's next event"
  grep -q "parent -> awaits child#1" "$work/out" || fail "await chain not shown"
  "$cs" step --script "n n n" "$here/traces/gap.jsonl" | grep -q "5 events lost" || fail "no gap marker in step" ;;
golden_dot)
  # The diagrams of the foundation's golden traces, compared with reviewed
  # files (UPDATE=1 rewrites them from this build: review the diff).
  status=0
  for f in "$src"/tests/golden/expected/*.jsonl; do
    name=$(basename "$f" .jsonl)
    for view in graph seq states; do
      exp="$here/expected/$name.$view.dot"
      dot_ok "$view" "$f"
      if [ "${UPDATE:-}" = 1 ]; then cp "$work/out.dot" "$exp"; continue; fi
      diff -u "$exp" "$work/out.dot" || { echo "golden mismatch: $exp" >&2; status=1; }
    done
  done
  exit $status ;;
predict)
  # The learner's check (docs/coroscope.md, predict); the chapters' own
  # exercises are checked by tutorials/check_chapter.sh.
  d=$here/traces
  "$cs" predict "$d/predict-await.jsonl" "$d/await-prediction.txt" > "$work/ok" || fail "the real order was refused: $(cat "$work/ok")"
  grep -q "all 6 predicted transfers happened" "$work/ok" || fail "$(cat "$work/ok")"
  "$cs" predict "$d/predict-await.jsonl" "$d/await-first-guess.txt" > "$work/wrong"; rc=$?
  [ $rc -eq 4 ] || fail "a wrong guess exited $rc, want 4"
  grep -q "await-first-guess.txt:4: you predict child -> parent, but the run went child -> main (event 9)" "$work/wrong" || fail "$(cat "$work/wrong")"
  # Trailing comments, causes (the log's phrase or the format's name), --from, "...".
  printf 'main -> parent because first start  # comment\nparent -> child because start\nchild -> main because back from child\n...\n' > "$work/c.txt"
  "$cs" predict "$d/predict-await.jsonl" "$work/c.txt" > "$work/out" || fail "causes refused: $(cat "$work/out")"
  grep -q "all 3 predicted transfers happened" "$work/out" || fail "$(cat "$work/out")"
  printf 'main -> parent\nparent -> child because resumed by parent\n...\n' > "$work/w.txt"
  "$cs" predict "$d/predict-await.jsonl" "$work/w.txt" > "$work/out"; [ $? -eq 4 ] || fail "a wrong cause passed"
  grep -q "w.txt:2: parent -> child happened, but not because resumed by parent: because first start (event 6)" "$work/out" || fail "$(cat "$work/out")"
  printf 'main -> parent\n' > "$work/short.txt"
  "$cs" predict "$d/predict-await.jsonl" "$work/short.txt" > "$work/out"; [ $? -eq 4 ] || fail "a prediction that stops early passed"
  grep -q "your prediction ends after 1 transfer, but the run goes on with parent -> child (event 6)" "$work/out" || fail "$(cat "$work/out")"
  printf 'main -> child because resumed by main\nchild -> parent because child finished\n...\n' > "$work/from.txt"
  "$cs" predict --from 10 "$d/predict-await.jsonl" "$work/from.txt" > "$work/out" || fail "--from: $(cat "$work/out")"
  printf 'main parent\n' > "$work/bad.txt"
  "$cs" predict "$d/predict-await.jsonl" "$work/bad.txt" 2> "$work/err"; [ $? -eq 2 ] || fail "bad prediction line"
  grep -q 'bad.txt:1: expected "FROM -> TO"' "$work/err" || fail "$(cat "$work/err")" ;;
gap_check)
  # Across lost events check holds nothing against what it cannot know (a
  # coroutine created or resumed in the gap), and still checks what it can.
  "$cs" check "$here/traces/gap_check.jsonl" > "$work/out"; rc=$?
  [ $rc -eq 4 ] || fail "check exit $rc, want 4: $(cat "$work/out")"
  grep -qF "gap_check.jsonl:8: seq 12: c suspend while it is not running" "$work/out" ||
    fail "check misses c's suspend: $(cat "$work/out")"
  grep -qF "gap_check.jsonl: 1 violation in 7 events" "$work/out" || fail "$(cat "$work/out")" ;;
relations)
  # check catches every relation the format states; every other view survives
  # the same impossible trace (and each crash the fuzzer once found).
  f=$here/traces/relations.jsonl
  "$cs" check "$f" > "$work/out"; rc=$?
  [ $rc -eq 4 ] || fail "check exit $rc, want 4"
  for want in "relations.jsonl:4: seq 3: resume names other as \`to\` but a as \`co\`" \
              "seq 4: a awaits itself" "seq 10: c awaits b, which (through its awaits) awaits c: a cycle" \
              "seq 13: main handed control to b (seq 12), but a runs" \
              "seq 14: a finishes into main, which does not await it" \
              "seq 15: main continues after a finished, but it did not await it" \
              "seq 18: epoll_wait #1 reported 1 ready, but this is dispatch 2" \
              "seq 19: time goes backwards on t1 (12 after 18)" \
              "seq 19: resume of b with cause io has no fd" \
              "seq 19: resume of b names epoll_wait #9, which has not happened (latest #1)"; do
    grep -qF -- "$want" "$work/out" || fail "check misses '$want': $(cat "$work/out")"
  done
  for g in "$f" "$here/traces/violations.jsonl" "$here"/fuzz/regress/*.jsonl; do
    for v in graph states; do "$cs" $v -o "$work/v.svg" "$g" || fail "$v -o svg on $g exit $?"; done
    "$cs" seq -o "$work/v.svg" "$g" || fail "seq -o svg (neato) on $g exit $?"
    "$cs" perfetto "$g" > "$work/p.json" || fail "perfetto on $g"
    "$prog" "$work/p.json" > /dev/null || fail "perfetto output of $g"
    for v in log stats; do "$cs" $v "$g" > /dev/null || fail "$v on $g exit $?"; done
    "$cs" frame 1 "$g" > /dev/null || fail "frame on $g"
    "$cs" step --script "n n n b c a C a q" "$g" > /dev/null || fail "step on $g"
  done
  "$cs" frame 11 "$f" | grep -q "b -> awaits c -> awaits b  (a cycle: it can never finish)" || fail "frame does not show the cycle" ;;
hostile)
  # Names with newlines, ESC sequences, C1 controls and invalid bytes: one
  # log line per event (live CORO_LOG and coroscope log), nothing a terminal
  # acts on, valid JSON and UTF-8 from perfetto.
  CORO_LOG="$work/live.log" "$gen" weird "$work/w.jsonl" || fail "gen"
  events=$(($(wc -l < "$work/w.jsonl") - 2))
  [ "$(wc -l < "$work/live.log")" -eq $((events + 1)) ] || fail "CORO_LOG: $(wc -l < "$work/live.log") lines for $events events"
  "$cs" log "$work/w.jsonl" > "$work/log" || fail "log"
  [ "$(wc -l < "$work/log")" -eq $((events + 1)) ] || fail "coroscope log: $(wc -l < "$work/log") lines for $events events"
  for l in "$work/live.log" "$work/log"; do
    ! LC_ALL=C grep -q $'\x1b' "$l" || fail "$l: an ESC reaches the terminal"
    ! LC_ALL=C grep -q $'\xc2\x9b' "$l" || fail "$l: a C1 CSI reaches the terminal"
    grep -qF 'esc\x1b[31mred' "$l" || fail "$l: the ESC is not shown escaped"
    grep -qF 'new\nline' "$l" || fail "$l: the newline is not shown escaped"
  done
  printf '{"kind":"header","format":"coroscope-trace","version":1}\n{"seq":1,"ts":1,"kind":"create","thread":1,"co":1,"co_name":"raw \xff\xfe bytes"}\n' > "$work/raw.jsonl"
  for g in "$work/w.jsonl" "$work/raw.jsonl"; do
    "$cs" perfetto "$g" > "$work/p.json" || fail "perfetto $g"
    "$prog" "$work/p.json" > /dev/null || fail "perfetto output of $g"
    iconv -f UTF-8 -t UTF-8 "$work/p.json" > /dev/null || fail "perfetto output of $g is not UTF-8"
  done
  "$cs" log "$work/raw.jsonl" | grep -q $'raw \xef\xbf\xbd\xef\xbf\xbd bytes' || fail "invalid bytes are not U+FFFD" ;;
loop)
  # The event loop is visible: time in epoll_wait, who runs it, what it woke.
  f=$src/tests/golden/expected/echo_unix.jsonl
  "$cs" stats "$f" > "$work/stats"
  grep -q "epoll_wait ticks" "$work/stats" || fail "no epoll_wait column: $(cat "$work/stats")"
  awk '$1=="main"{exit !($5==5.0)}' "$work/stats" || fail "main's 5 ticks in epoll_wait: $(cat "$work/stats")"
  "$cs" frame 14 "$f" | grep -q "^main: in epoll_wait (wait #1), no timeout, 2 fds watched" || fail "frame 14: $("$cs" frame 14 "$f")"
  "$cs" frame 15 "$f" | grep -q "^main: back from epoll_wait #1 (no timeout): 2 fds ready" || fail "frame 15"
  "$cs" frame 7 "$src/tests/golden/expected/await.jsonl" > "$work/fr"
  grep -q "^     19 |     coro_await(a, &ra);" "$work/fr" || fail "frame shows no source text: $(cat "$work/fr")"
  grep -q "^>>     7 " "$work/fr" || fail "frame does not mark its event among the log lines"
  "$cs" frame 56 "$src/tests/golden/expected/await.jsonl" 2> "$work/err"; rc=$?
  [ $rc -eq 1 ] || fail "frame 56 of 21 events exit $rc, want 1"
  grep -q "has events 1 to 21; there is no event 56" "$work/err" || fail "$(cat "$work/err")"
  "$cs" step --script "j 25 C echo#1 q" "$f" | grep -A6 "> C echo#1" | grep -q ">>    21 " || fail "C NAME does not step back"
  "$cs" log --fd 10 "$f" > "$work/log"
  grep -q "20  t1  < suspend  echo#1 on recv fd=10" "$work/log" || fail "log --fd 10 lacks the suspend waiting on it: $(cat "$work/log")"
  "$cs" log "$f" | grep -A1 "epoll_wait timeout none -> 2 ready   (wait #1)" | grep -q "(2 ready, 1 dispatched: the other had no coroutine waiting" || fail "2 ready, 1 dispatch not explained"
  printf '{"kind":"header","format":"coroscope-trace","version":1,"clock":"logical"}\n{"seq":1,"ts":1,"kind":"create","thread":1,"co":1,"co_name":"main"}\n{"seq":2,"ts":2,"kind":"wake","thread":1,"co":1,"co_name":"main","cause":"timer","value":-110}\n' > "$work/timeout.jsonl"
  "$cs" frame 2 "$work/timeout.jsonl" 2>/dev/null | grep -q "^the wait ended with -110 (ETIMEDOUT: " || fail "frame does not show a wait's error result"
  "$cs" seq "$f" > "$work/seq.dot"
  grep -q 'in epoll_wait -> 2 ready' "$work/seq.dot" || fail "seq has no epoll_wait"
  grep -q 'legend \[shape=note' "$work/seq.dot" || fail "seq has no legend"
  # A sleep's timer fires from the loop: main's lane in seq, the loop's node in graph.
  sl=$here/traces/sleep.jsonl
  "$cs" check "$sl" > /dev/null || fail "sleep trace: $("$cs" check "$sl")"
  "$cs" seq "$sl" | grep -q 'p1_5 -> p0_5 \[xlabel="9: timer fired sleeper"' || fail "seq: the timer does not fire from main's lane"
  "$cs" graph "$sl" | grep -q 'n1 -> n2 \[label="timer fired"' || fail "graph: the timer does not fire from the loop"
  "$cs" graph "$f" > "$work/g.dot"
  grep -q 'label="runs epoll_wait x 5"' "$work/g.dot" || fail "graph: main does not run the loop"
  grep -q 'label="fd 10 IN x 2"' "$work/g.dot" || fail "graph: the loop does not resume echo#1" ;;
seq_gap)
  # A real pause (sleep_gap sleeps 30 ms) is written beside the rows, with
  # its length; a logical clock counts events, so it has no gaps to write.
  CORO_TRACE="$work/real.jsonl" "$prog" || fail "sleep_gap exit $?"
  ! head -1 "$work/real.jsonl" | grep -q '"clock":"logical"' || fail "the run was traced with a logical clock"
  dot_ok seq "$work/real.jsonl"
  # Every "+N ms" note, in milliseconds; the sleep's must be one of them.
  sed -nE 's/.*label="\+([0-9.]+) (ms|s)".*/\1 \2/p' "$work/out.dot" > "$work/notes"
  awk '($2 == "ms" && $1 >= 20) || $2 == "s" { ok = 1 } END { exit !ok }' "$work/notes" ||
    fail "no '+N ms' note of at least 20 ms: notes [$(tr '\n' ' ' < "$work/notes")] in $(grep -c . "$work/out.dot") lines of DOT"
  # The note is drawn (neato places it) and reaches the picture.
  "$cs" seq -o "$work/gap.svg" "$work/real.jsonl" || fail "seq -o svg exit $?"
  grep -qE '>\+[0-9.]+ (ms|s)<' "$work/gap.svg" || fail "the SVG has no '+N ms' text"
  CORO_TRACE="$work/logical.jsonl" CORO_TRACE_CLOCK=logical "$prog" || fail "sleep_gap (logical) exit $?"
  "$cs" seq "$work/logical.jsonl" > "$work/logical.dot" || fail "seq (logical) exit $?"
  ! grep -qE 'label="\+[0-9.]+ ' "$work/logical.dot" || fail "a logical trace got a time note"
  echo "seq notes the pause: $(tr '\n' ' ' < "$work/notes")" ;;
perfetto_demo)
  # The demo's two traces as `make demo` writes them (real clock, a real
  # TCP client), through perfetto: every flow must bind to a slice.
  bash "$src/scripts/demo.sh" "$build" "$work/demo" > "$work/demo.out" 2>&1 ||
    fail "scripts/demo.sh exit $?: $(tail -5 "$work/demo.out")"
  for t in demo echo; do
    f=$work/demo/$t-trace.jsonl
    [ -s "$f" ] || fail "the demo wrote no $t trace"
    "$cs" perfetto "$f" > "$work/$t.json" || fail "perfetto $t exit $?"
    "$prog" "$work/$t.json" > "$work/$t.counts" || fail "the $t trace's Perfetto output: $(cat "$work/$t.counts")"
    # A trace whose flows all vanished would pass the binding check trivially.
    grep -qE ' [1-9][0-9]* flow starts, [1-9][0-9]* flow ends' "$work/$t.counts" || fail "$t: no flows: $(cat "$work/$t.counts")"
    echo "$t: $(cat "$work/$t.counts")"
  done ;;
*) fail "unknown case $case_" ;;
esac
