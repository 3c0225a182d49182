#!/usr/bin/env bash
# Echo benchmark: our echo-server against a plain epoll server (the limit)
# and a libuv server, driven by the same client (examples/echo-client) in
# one run, on loopback. Each server is pinned to CPU 1, the client to CPU 0.
# Prints requests/s (median of 3) and the ratios ours/theirs.
#   bench/echo/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
client=$build/examples/echo-client
port=$((30000 + RANDOM % 20000))
cases=("1 20000 64" "100 500 64" "1 5000 16384" "100 100 16384")

start() { # name cmd...
  local name=$1; shift
  taskset -c 1 "$@" 2>/dev/null &
  pids+=($!)
  sleep 0.3
}

run_client() { # port conns msgs size -> req/s (median of 3)
  local vals=()
  for _ in 1 2 3; do
    vals+=("$(taskset -c 0 "$client" --port "$1" -c "$2" -n "$3" -s "$4" | sed -n 's/^throughput \([0-9]*\) req.*/\1/p')")
  done
  printf '%s\n' "${vals[@]}" | sort -n | sed -n 2p
}

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
start coroscope "$build/examples/echo-server" --port $port
start epoll "$build/bench/echo/epoll_echo" $((port + 1))
have_uv=0
if [ -x "$build/bench/echo/uv_echo" ]; then start libuv "$build/bench/echo/uv_echo" $((port + 2)); have_uv=1; fi

printf '%-28s %12s %12s %12s %10s %10s\n' "conns x msgs x bytes" "coroscope" "epoll" "libuv" "ours/epoll" "ours/libuv"
for c in "${cases[@]}"; do
  set -- $c
  ours=$(run_client $port "$1" "$2" "$3")
  ep=$(run_client $((port + 1)) "$1" "$2" "$3")
  uv=0
  [ $have_uv = 1 ] && uv=$(run_client $((port + 2)) "$1" "$2" "$3")
  awk -v c="$1 x $2 x $3" -v o="$ours" -v e="$ep" -v u="$uv" 'BEGIN {
    printf "%-28s %12d %12d %12d %10.2f %10s\n", c, o, e, u, o / e, (u > 0 ? sprintf("%.2f", o / u) : "-") }'
done
echo "(requests/s, median of 3; ratio > 1: ours is faster)"
