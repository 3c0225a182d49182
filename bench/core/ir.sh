#!/usr/bin/env bash
# Instructions per operation of the public API, counted by callgrind (the
# slope between two operation counts, bench/ir.sh): resume+yield round trip,
# create+run+destroy on a pooled stack, channel ping-pong round trip, mutex
# turn, next to the targets of docs/performance.md.
#   bench/core/ir.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
ir=$(dirname "$0")/../ir.sh
core=$build/bench/core/bench_coro
sync=$build/bench/sync/bench_sync
row() { printf '  %-36s %8s %8s\n' "$1" "$2" "$3"; }
echo "instructions per operation (callgrind slope, bench/ir.sh)"
row operation Ir target
row "resume+yield round trip" "$(bash "$ir" 1000 11000 "$core" --count "resume+yield round trip" {})" "<= 85"
row "create+run+destroy (pooled stack)" "$(bash "$ir" 1000 11000 "$core" --count "create+run+destroy (pooled stack)" {})" "<= 500"
row "channel ping-pong round trip" "$(bash "$ir" 1000 11000 "$sync" --count chan {})" "<= 840"
row "mutex: both coroutines take a turn" "$(bash "$ir" 1000 11000 "$sync" --count mutex {})" "-"
