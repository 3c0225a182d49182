#!/usr/bin/env bash
# The demo: two real runs, traced, with their annotated logs and diagrams.
#   scripts/demo.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=${1:-build/dev}
out=${2:-demo-out}
mkdir -p "$out"
viewer="$build/viz/coroscope"
trace=${CORO_TRACE:-$out/demo-trace.jsonl}

echo "== 1. coroutines: the annotated log of examples/demo.c =="
CORO_TRACE="$trace" "$build/examples/demo"

echo
echo "== 2. the event loop: one connection to examples/echo-server =="
echo_trace=$out/echo-trace.jsonl
# Start it on port 0 and wait until it prints the port it listens on (a probe
# connection would count as its one client).
. "$(dirname "$0")/../tests/lib/server.sh"
start_server "$out/server.log" '.*listening on acceptor\[127.0.0.1:\([0-9][0-9]*\)\].*' \
  env CORO_TRACE="$echo_trace" "$build/examples/echo-server" --port 0 --conns 1
server=$srv
cat "$out/server.log"
"$build/examples/echo-client" --port "$port" -c 1 -n 3 -s 32
wait "$server"
echo
echo "-- the life of the first connection (coroscope log --coro 'echo#1'):"
"$viewer" log --coro 'echo#1' "$echo_trace"

echo
echo "== diagrams =="
for run in demo echo; do
  t=$out/$run-trace.jsonl
  [ "$run" = demo ] && t=$trace
  for view in graph seq states; do
    if "$viewer" "$view" -o "$out/$run-$view.svg" "$t" 2>"$out/$view.err"; then
      echo "wrote $out/$run-$view.svg"
    else
      echo "coroscope $view failed: $(cat "$out/$view.err")" >&2
    fi
  done
  rm -f "$out"/*.err
done
echo
echo "traces: $trace and $echo_trace"
echo "explore them: $viewer step $echo_trace   (or log, frame N, stats, perfetto; see docs/coroscope.md)"
