#!/usr/bin/env bash
# The echo server recording in binary against itself untraced: three
# servers in one run (untraced, CORO_TRACE=FILE:ring=64M, CORO_TRACE=FILE),
# each pinned to CPU 1, driven in turn by the same client on CPU 0
# (100 connections x 500 messages of 64 bytes), 5 rounds interleaved;
# prints the median requests/s of each and the ratios to untraced.
#   bench/trace/echo.sh BUILD_DIR
# CORO_BENCH_QUICK=1 (bench/bench_util.h): a short run, 3 rounds of 100 messages.
set -euo pipefail
shopt -s inherit_errexit
build=${1:-build/release}
server=$build/examples/echo-server client=$build/examples/echo-client
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT
. "$(dirname "$0")/../server_util.sh"

start_server untraced "$dir" env -u CORO_TRACE -u CORO_LOG "$server" --port 0; p_off=$port
start_server ring "$dir" env CORO_TRACE="$dir/ring.ctr:ring=64M" "$server" --port 0; p_ring=$port
start_server file "$dir" env CORO_TRACE="$dir/file.ctr" "$server" --port 0; p_file=$port

rounds=5 msgs=500
if bench_quick; then rounds=3 msgs=100; fi
rps() { taskset -c 0 "$client" --port "$1" -c 100 -n $msgs -s 64 | sed -n 's/^throughput \([0-9]*\) req.*/\1/p'; }
off=() ring=() file=()
for _ in $(seq $rounds); do
  off+=("$(rps $p_off)"); ring+=("$(rps $p_ring)"); file+=("$(rps $p_file)")
done
m_off=$(printf '%s\n' "${off[@]}" | median)
m_ring=$(printf '%s\n' "${ring[@]}" | median)
m_file=$(printf '%s\n' "${file[@]}" | median)
echo "echo server, 100 connections x $msgs messages of 64 bytes, requests/s (median of $rounds, interleaved)"
printf '  %-34s %9s %6s\n' "server" "req/s" "ratio"
printf '  %-34s %9s %6s\n' "untraced" "$m_off" "1.00"
for row in "binary, 64 MiB ring:$m_ring" "binary file (.ctr):$m_file"; do
  printf '  %-34s %9s %6s\n' "${row%%:*}" "${row##*:}" "$(awk -v a="${row##*:}" -v b="$m_off" 'BEGIN { printf "%.2f", a / b }')"
done
