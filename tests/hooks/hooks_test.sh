#!/usr/bin/env bash
# The same blocking echo server with and without libcorohook.
#   hooks_test.sh CASE PROGRAM HOOKLIB CLIENT WORK   (CASE threads/absurd: PROGRAM is hook_threads)
set -uo pipefail
case_=$1 server=$2 hook=$3 client=$4 work=$5
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "$0")/../lib/server.sh"
start() { # conns preload
  local re='.*listening on 127.0.0.1:\([0-9][0-9]*\).*'
  if [ -n "$2" ]; then
    server_out=$work/out start_server "$work/err" "$re" \
      env LD_PRELOAD="$2" CORO_TRACE="$work/trace.jsonl" "$server" 0 "$1" || fail "server did not start"
  else
    server_out=$work/out start_server "$work/err" "$re" "$server" 0 "$1" || fail "server did not start"
  fi
}
case $case_ in
hooked)
  start 500 "$hook"
  # A pause before each message keeps every connection open a while, so
  # that how many overlap does not depend on how busy the machine is.
  "$client" --port "$port" -c 500 -n 3 -s 100 --pause 20 > "$work/client" || fail "client: $(cat "$work/client")"
  wait $srv || fail "server exit $?: $(cat "$work/err")"
  grep -q "served 500" "$work/out" || fail "$(cat "$work/out")"
  k=$(sed -n 's/.*at most \([0-9]*\) at once/\1/p' "$work/out")
  [ "$k" -ge 100 ] || fail "with the hook only $k connections were served at once"
  grep -q '"reason":"hook","detail":"hook:read fd=' "$work/trace.jsonl" || fail "no hook suspends in the trace"
  # An io_uring run that fell back to epoll must not pass: its loop waits
  # are io_uring's (reason io_uring), and only then.
  uring_waits=$(grep -c '"kind":"epoll_wait".*"reason":"io_uring"' "$work/trace.jsonl")
  if [ "${CORO_IO_BACKEND:-}" = io_uring ]; then
    [ "$uring_waits" -gt 0 ] || fail "CORO_IO_BACKEND=io_uring, but the loop never waited in io_uring"
  else
    [ "$uring_waits" = 0 ] || fail "the loop waited in io_uring on the default (epoll) backend"
  fi
  echo "hooked: 500 connections, at most $k at once, on one thread" ;;
unhooked)
  start 20 ""
  "$client" --port "$port" -c 20 -n 3 -s 100 > "$work/client" || fail "client: $(cat "$work/client")"
  wait $srv || fail "server exit $?"
  grep -q "served 20, at most 1 at once" "$work/out" || fail "without the hook: $(cat "$work/out")"
  echo "unhooked: one connection at a time" ;;
threads) # a plain pthread program, no coroutines: the hook must change nothing
  for i in $(seq 50); do
    LD_PRELOAD=$hook "$server" stress > "$work/out" 2> "$work/err" || fail "run $i of 50, exit $?: $(cat "$work/err")"
  done
  echo "threads: 50 runs of 8 threads under the hook, every call as glibc's" ;;
absurd)
  LD_PRELOAD=$hook "$server" absurd > "$work/out" 2> "$work/err" || fail "exit $?: $(cat "$work/err" "$work/out")"
  cat "$work/out" ;;
*) fail "unknown case $case_" ;;
esac
