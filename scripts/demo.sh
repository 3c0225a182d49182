#!/usr/bin/env bash
# Runs the demo with tracing and shows what coroscope makes of it.
#   scripts/demo.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=${1:-build/dev}
out=${2:-demo-out}
mkdir -p "$out"
trace=${CORO_TRACE:-$out/demo-trace.jsonl}

echo "== the annotated log of a real run (examples/demo.c) =="
CORO_TRACE="$trace" "$build/examples/demo"

viewer="$build/viz/coroscope"
if [ -x "$viewer" ]; then
  echo
  echo "== diagrams =="
  for view in graph seq; do
    if "$viewer" "$view" -o "$out/demo-$view.svg" "$trace" 2>"$out/$view.err"; then
      echo "wrote $out/demo-$view.svg"
    else
      echo "coroscope $view failed: $(cat "$out/$view.err")" >&2
    fi
  done
fi
echo
echo "trace: $trace   (read it with: $viewer log $trace)"
