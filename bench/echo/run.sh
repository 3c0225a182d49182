#!/usr/bin/env bash
# Echo benchmark: our echo-server, on its epoll backend and on io_uring
# (CORO_IO_BACKEND), against a plain epoll server (the limit) and a libuv
# server, driven by the same client (examples/echo-client) in one run, on
# loopback. Each server is pinned to CPU 1, the client to CPU 0.
# Prints requests/s (median of 3) and the ratios of each of ours to the others.
#   bench/echo/run.sh BUILD_DIR
# CORO_BENCH_QUICK=1 (bench/bench_util.h): a short run, one client run of a
# tenth of the messages per figure.
set -euo pipefail
build=${1:-build/release}
client=$build/examples/echo-client
dir=$(mktemp -d)
. "$(dirname "$0")/../server_util.sh"
cases=("1 20000 64" "100 500 64" "1 5000 16384" "100 100 16384")
runs=3
if bench_quick; then
  runs=1
  cases=("1 2000 64" "100 50 64" "1 500 16384" "100 10 16384")
fi

run_client() { # port conns msgs size -> req/s (median of $runs)
  local vals=() _
  for _ in $(seq $runs); do
    vals+=("$(taskset -c 0 "$client" --port "$1" -c "$2" -n "$3" -s "$4" | sed -n 's/^throughput \([0-9]*\) req.*/\1/p')")
  done
  printf '%s\n' "${vals[@]}" | median
}

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT
start_server coroscope "$dir" "$build/examples/echo-server" --port 0; p_ours=$port
CORO_IO_BACKEND=io_uring start_server uring "$dir" "$build/examples/echo-server" --port 0; p_uring=$port
grep -q "io_uring is not available" "$dir/uring.log" && echo "(io_uring refused: the uring column is epoll)"
start_server epoll "$dir" "$build/bench/echo/epoll_echo" 0; p_epoll=$port
have_uv=0
if [ -x "$build/bench/echo/uv_echo" ]; then
  start_server libuv "$dir" "$build/bench/echo/uv_echo" 0; p_uv=$port; have_uv=1
fi

printf '%-22s %10s %10s %10s %10s %10s %10s %11s %11s %11s\n' "conns x msgs x bytes" "ours" "ours-uring" \
  "epoll" "libuv" "ours/epoll" "ours/libuv" "uring/ours" "uring/epoll" "uring/libuv"
for c in "${cases[@]}"; do
  set -- $c
  ours=$(run_client $p_ours "$1" "$2" "$3")
  ur=$(run_client $p_uring "$1" "$2" "$3")
  ep=$(run_client $p_epoll "$1" "$2" "$3")
  uv=0
  [ $have_uv = 1 ] && uv=$(run_client $p_uv "$1" "$2" "$3")
  awk -v c="$1 x $2 x $3" -v o="$ours" -v r="$ur" -v e="$ep" -v u="$uv" 'BEGIN {
    printf "%-22s %10d %10d %10d %10d %10.2f %10s %11.2f %11.2f %11s\n", c, o, r, e, u, o / e,
      (u > 0 ? sprintf("%.2f", o / u) : "-"), r / o, r / e, (u > 0 ? sprintf("%.2f", r / u) : "-") }'
done
echo "(requests/s, median of $runs; ours = echo-server on epoll, ours-uring = the same program with"
echo " CORO_IO_BACKEND=io_uring; ratio > 1: the first named is faster)"
