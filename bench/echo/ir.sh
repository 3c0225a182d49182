#!/usr/bin/env bash
# User-space instructions per echo message, counted by callgrind: each
# server runs under callgrind while examples/echo-client sends N1, then (in
# a second run) N2 messages of 64 bytes over one connection; the slope
# (Ir(N2) - Ir(N1)) / (N2 - N1) leaves out start-up, accept and exit.
# System-call time is not counted (callgrind sees user space only). The
# client pauses before each message, so every message takes each server
# through its event loop, not a lucky recv that finds the next message
# already there (without the pause the figures depend on timing).
#   bench/echo/ir.sh BUILD_DIR            ours, ours on io_uring, epoll, libuv
#   bench/echo/ir.sh BUILD_DIR --tracing  ours with tracing compiled in but
#       off, then compiled out (bench/echo/echo_server_notrace), then
#       recorded in binary into a 64 MiB ring: three numbers on one line
# CORO_BENCH_QUICK=1 (bench/bench_util.h): a short run, 50 and 250 messages.
set -euo pipefail
shopt -s inherit_errexit
build=${1:-build/release}
command -v valgrind >/dev/null || { echo "bench/echo/ir.sh: valgrind is not installed" >&2; exit 1; }
client=$build/examples/echo-client
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT
. "$(dirname "$0")/../server_util.sh"
n1=500 n2=2500
if bench_quick; then n1=50 n2=250; fi

count() { # name n cmd... -> Ir of the whole server run
  local name=$1 n=$2; shift 2
  pids=()
  start_server "$name" "$dir" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@"
  # The client pauses 1 ms before each message, so that every server waits
  # in its loop (epoll_wait, io_uring_enter) for every message, whatever
  # valgrind's slowness does to the timing: the path of a server whose
  # clients are not all talking at once.
  # The client is not traced: CORO_TRACE is meant for the server alone.
  env -u CORO_TRACE -u CORO_LOG -u CORO_INSPECT \
    "$client" --port "$port" -c 1 -n "$n" -s 64 --pause 1 > "$dir/client.log" ||
    { echo "bench/echo/ir.sh: the client failed against $name: $(cat "$dir/client.log")" >&2
      sleep 1; echo "its server's output:" >&2; cat "$dir/$name.log" >&2; exit 1; }
  # ours leaves after its one connection (--conns 1); the others are told to
  # (valgrind does not interrupt a blocking io_uring_enter for a signal)
  case " $* " in *" --conns 1 "*) ;; *) kill -TERM "${pids[0]}" ;; esac
  wait "${pids[0]}" 2>/dev/null || true
  sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$dir/$name.log"
}

slope() { # name cmd...
  local name=$1; shift
  local a b
  a=$(count "$name" $n1 "$@"); b=$(count "$name" $n2 "$@")
  [ -n "${IR_DEBUG:-}" ] && echo "$name: Ir($n1)=$a Ir($n2)=$b" >&2
  [ -n "$a" ] && [ -n "$b" ] || { echo "bench/echo/ir.sh: no count from callgrind for $name" >&2; cat "$dir/$name.log" >&2; exit 1; }
  awk -v a="$a" -v b="$b" -v n1=$n1 -v n2=$n2 'BEGIN { printf "%.0f", (b - a) / (n2 - n1) }'
}

if [ "${2:-}" = --tracing ]; then
  on=$(slope coroscope "$build/examples/echo-server" --port 0 --conns 1)
  out=$(slope notrace "$build/bench/echo/echo_server_notrace" --port 0 --conns 1)
  rec=$(CORO_TRACE="$dir/ring.ctr:ring=64M" slope recorded "$build/examples/echo-server" --port 0 --conns 1)
  echo "$on $out $rec"
  exit 0
fi
ours=$(slope coroscope "$build/examples/echo-server" --port 0 --conns 1)
uring=$(CORO_IO_BACKEND=io_uring slope coroscope-uring "$build/examples/echo-server" --port 0 --conns 1)
ep=$(slope epoll "$build/bench/echo/epoll_echo" 0)
uv=-
[ -x "$build/bench/echo/uv_echo" ] && uv=$(slope libuv "$build/bench/echo/uv_echo" 0)
echo "user-space instructions per echo message (64 bytes, 1 connection; callgrind, slope of $n1 and $n2 messages)"
printf '  %-18s %8s\n' coroscope "$ours" "coroscope io_uring" "$uring" epoll "$ep" libuv "$uv"
[ "$uv" != - ] && awk -v o="$ours" -v u="$uv" -v e="$ep" 'BEGIN { printf "  ours/libuv %.2f, ours/epoll %.2f\n", o / u, o / e }'
