#!/usr/bin/env bash
# Runs a program with the logical clock and compares its JSON Lines trace
# and annotated log with the reviewed golden files.
#   golden.sh PROGRAM NAME EXPECTED_DIR CHECKER [--update]
# --update rewrites the golden files from this run (review the diff!).
set -euo pipefail
prog=$1 name=$2 dir=$3 checker=$4 mode=${5:-}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Descriptors inherited from the harness (make's jobserver, say) would shift
# every fd number in the trace: run with only 0, 1 and 2 open.
for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
CORO_TRACE="$out/$name.jsonl" CORO_LOG="$out/$name.log" CORO_TRACE_CLOCK=logical NO_COLOR=1 "$prog"
"$checker" "$out/$name.jsonl"
# The viewer's state-machine check runs over every trace the tests produce.
if [ -n "${COROSCOPE:-}" ]; then "$COROSCOPE" check "$out/$name.jsonl" > /dev/null; fi
# The header names the process id and program path, which differ per run.
sed -E -i '1s/"pid":[0-9]+/"pid":0/' "$out/$name.jsonl"

if [ "$mode" = "--update" ]; then
  cp "$out/$name.jsonl" "$out/$name.log" "$dir/"
  echo "updated $dir/$name.jsonl and $dir/$name.log"
  exit 0
fi
status=0
for ext in jsonl log; do
  if ! diff -u "$dir/$name.$ext" "$out/$name.$ext"; then
    echo "golden mismatch: $name.$ext (rerun with --update and review the diff if intended)" >&2
    status=1
  fi
done
exit $status
