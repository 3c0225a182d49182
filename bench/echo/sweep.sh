#!/usr/bin/env bash
# Echo requests/s against the number of connections, for examples/echo-server,
# the plain epoll server and the libuv server, one run, the same client
# (64-byte messages; each server pinned to CPU 1, the client to CPU 0;
# median of 3 per point). Writes the table to OUT.tsv and, with gnuplot,
# a plot to OUT.svg (docs/performance.md shows docs/img/echo_sweep.svg).
#   bench/echo/sweep.sh BUILD_DIR [OUT]      (OUT default: echo-sweep)
# CORO_BENCH_QUICK=1 (bench/bench_util.h): a short run, one client run of a
# tenth of the messages per point.
set -euo pipefail
shopt -s inherit_errexit
build=${1:-build/release}
out=${2:-echo-sweep}
client=$build/examples/echo-client
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT
. "$(dirname "$0")/../server_util.sh"

start_server coroscope "$dir" "$build/examples/echo-server" --port 0; p_ours=$port
start_server epoll "$dir" "$build/bench/echo/epoll_echo" 0; p_epoll=$port
start_server libuv "$dir" "$build/bench/echo/uv_echo" 0; p_uv=$port

runs=3 total=20000
if bench_quick; then runs=1 total=2000; fi
rps() { # port conns -> median req/s of $runs runs of ~$total messages in all
  local msgs=$((total / $2 + 1)) v=() _
  for _ in $(seq $runs); do
    v+=("$(taskset -c 0 "$client" --port "$1" -c "$2" -n "$msgs" -s 64 | sed -n 's/^throughput \([0-9]*\) req.*/\1/p')")
  done
  printf '%s\n' "${v[@]}" | median
}

printf 'conns\tcoroscope\tepoll\tlibuv\n' > "$out.tsv"
for c in 1 2 5 10 20 50 100 200 500; do
  printf '%s\t%s\t%s\t%s\n' "$c" "$(rps $p_ours $c)" "$(rps $p_epoll $c)" "$(rps $p_uv $c)" >> "$out.tsv"
done
column -t "$out.tsv"
echo "(requests/s, 64-byte messages, median of $runs)"
if command -v gnuplot >/dev/null; then
  gnuplot <<GP
set terminal svg size 800,480 noenhanced
set output "$out.svg"
set title "echo: requests/s against connections (64-byte messages, one server core)"
set xlabel "connections"; set ylabel "requests/s"; set logscale x; set key left top
set grid
plot "$out.tsv" using 1:2 with linespoints title "coroscope echo-server", \
     "" using 1:3 with linespoints title "plain epoll loop", \
     "" using 1:4 with linespoints title "libuv"
GP
  echo "wrote $out.svg"
fi
