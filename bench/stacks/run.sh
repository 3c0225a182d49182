#!/usr/bin/env bash
# The stack-mode benchmark: memory per live coroutine for each mode, the
# round-trip time of each mode (pinned), then instructions per round trip
# counted by callgrind (bench/ir.sh).
#   bench/stacks/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
bin=$build/bench/stacks/bench_stacks
[ -x "$bin" ] || { echo "bench/stacks: $bin not built" >&2; exit 1; }
echo "resident memory per live coroutine (bench_stacks memory MODE N [--in-use 1024] [--sleep])"
for args in "guarded 100000" "slab 100000" "copy 100000" "copy 1000000" \
            "guarded 30000 --in-use 1024" "slab 100000 --in-use 1024" "copy 1000000 --in-use 1024" \
            "guarded 30000 --sleep" "slab 100000 --sleep" "copy 100000 --sleep" \
            "copy 1000000 --sleep" "slab 100000 --sleep --in-use 1024" \
            "copy 1000000 --sleep --in-use 1024"; do
  # shellcheck disable=SC2086
  "$bin" memory $args || true
done
taskset -c 1 "$bin" switch
command -v valgrind >/dev/null || { echo "(valgrind not installed: no instruction counts)"; exit 0; }
echo "instructions per round trip (callgrind, bench/ir.sh 10000 110000)"
for row in "guarded x1" "slab x1" "copy x1" "guarded x2" "slab x2" "copy x2"; do
  printf '  %-12s %9s\n' "$row" "$(bash "$(dirname "$0")/../ir.sh" 10000 110000 "$bin" --count "$row" {})"
done
