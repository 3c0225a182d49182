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
row "mutex+cond ping-pong round trip" "$(bash "$ir" 1000 11000 "$sync" --count cond {})" "-"

# Tracing compiled in but switched off, against the same library with every
# trace point compiled out (CORO_TRACE_COMPILED=0): the target is 1.03x.
[ -x "${core}_notrace" ] && [ -x "${sync}_notrace" ] || exit 0
echo
echo "tracing off vs compiled out (instructions per operation)"
printf '  %-36s %8s %8s %6s\n' operation off "out" ratio
vs() { # label prog args...
  local label=$1 prog=$2; shift 2
  local on off
  on=$(bash "$ir" 1000 11000 "$prog" "$@")
  off=$(bash "$ir" 1000 11000 "${prog}_notrace" "$@")
  printf '  %-36s %8s %8s %6s\n' "$label" "$on" "$off" "$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.2f", a / b }')"
}
vs "resume+yield round trip" "$core" --count "resume+yield round trip" {}
vs "create+run+destroy (pooled stack)" "$core" --count "create+run+destroy (pooled stack)" {}
vs "channel ping-pong round trip" "$sync" --count chan {}
vs "mutex: both coroutines take a turn" "$sync" --count mutex {}
vs "mutex+cond ping-pong round trip" "$sync" --count cond {}
if [ -x "$build/bench/echo/echo_server_notrace" ]; then
  read -r on out _ < <(bash "$(dirname "$0")/../echo/ir.sh" "$build" --tracing)
  printf '  %-36s %8s %8s %6s\n' "echo message (1 connection)" "$on" "$out" \
    "$(awk -v a="$on" -v b="$out" 'BEGIN { printf "%.2f", a / b }')"
fi
