#!/usr/bin/env bash
# A traced run of the work-stealing scheduler passes `coroscope check`
# (one running coroutine per thread, across migrations), and `stats` shows
# which worker ran what and the steals.
#   ws_trace_test.sh WS_DEMO COROSCOPE WORK
set -uo pipefail
demo=$1 cs=$2 work=$3
mkdir -p "$work"
for attempt in 1 2 3 4 5; do
  CORO_TRACE="$work/ws.jsonl" "$demo" 2 32 5 > /dev/null || { echo "FAIL: ws-demo exit $?"; exit 1; }
  "$cs" check "$work/ws.jsonl" || { echo "FAIL: check"; exit 1; }
  "$cs" stats "$work/ws.jsonl" > "$work/stats" || { echo "FAIL: stats"; exit 1; }
  grep -q "^thread *resumes *steals" "$work/stats" || { echo "FAIL: no per-thread table"; exit 1; }
  steals=$(awk '/^t[0-9]/ {s += $3} END {print s + 0}' "$work/stats")
  if [ "$steals" -gt 0 ]; then
    grep -q "cause: steal (stolen from worker" <("$cs" log --kind wake "$work/ws.jsonl") || { echo "FAIL: steal not in the log"; exit 1; }
    echo "ok: $steals steals traced (attempt $attempt)"; exit 0
  fi
done
echo "FAIL: no steal in 5 runs"; exit 1
