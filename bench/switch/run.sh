#!/usr/bin/env bash
# The switch benchmark: times (bench_switch, pinned), then instructions per
# round trip for each row, counted by callgrind (bench/ir.sh).
#   bench/switch/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
bin=$build/bench/switch/bench_switch
[ -x "$bin" ] || { echo "bench/switch: $bin not built (needs libboost-context-dev)" >&2; exit 1; }
taskset -c 1 "$bin"
command -v valgrind >/dev/null || { echo "(valgrind not installed: no instruction counts)"; exit 0; }
echo "instructions per round trip (callgrind, bench/ir.sh 1000 11000)"
for row in "corolib asm" "Boost.Context jump_fcontext" "coro_resume + coro_yield" "boost::context::fiber"; do
  printf '  %-30s %9s\n' "$row" "$(bash "$(dirname "$0")/../ir.sh" 1000 11000 "$bin" --count "$row" {})"
done
