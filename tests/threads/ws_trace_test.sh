#!/usr/bin/env bash
# A traced run of the work-stealing scheduler passes `coroscope check`
# (one running coroutine per thread, across migrations), and `stats` shows
# which worker ran what and the steals. Recorded in JSON Lines, and in
# binary, where the threads' events are put in order by their timestamps.
#   ws_trace_test.sh WS_DEMO COROSCOPE WORK
set -uo pipefail
demo=$1 cs=$2 work=$3
mkdir -p "$work"
for fmt in jsonl ctr; do
  ok=
  for attempt in 1 2 3 4 5; do
    CORO_TRACE="$work/ws.$fmt" "$demo" 2 32 5 > /dev/null || { echo "FAIL: ws-demo exit $?"; exit 1; }
    "$cs" check "$work/ws.$fmt" || { echo "FAIL: check ($fmt)"; exit 1; }
    "$cs" stats "$work/ws.$fmt" > "$work/stats" || { echo "FAIL: stats ($fmt)"; exit 1; }
    grep -q "^thread *resumes *steals" "$work/stats" || { echo "FAIL: no per-thread table ($fmt)"; exit 1; }
    steals=$(awk '/^t[0-9]/ {s += $3} END {print s + 0}' "$work/stats")
    if [ "$steals" -gt 0 ]; then
      grep -q "cause: steal (stolen from worker" <("$cs" log --kind wake "$work/ws.$fmt") || { echo "FAIL: steal not in the log ($fmt)"; exit 1; }
      echo "ok: $steals steals traced in $fmt (attempt $attempt)"; ok=1; break
    fi
  done
  [ -n "$ok" ] || { echo "FAIL: no steal in 5 runs ($fmt)"; exit 1; }
done
