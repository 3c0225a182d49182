#!/usr/bin/env bash
# The example programs end to end.
#   examples_test.sh CASE BUILD_DIR WORK_DIR
set -uo pipefail
case_=$1 build=$2 work=$3
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "$0")/../lib/server.sh" # start_server: port 0, wait for the printed port
listening='.*listening on acceptor\[127.0.0.1:\([0-9][0-9]*\)\].*'

case $case_ in
echo)
  start_server "$work/server.log" "$listening" \
    env CORO_TRACE="$work/echo.jsonl" "$build/examples/echo-server" --port 0 --conns 20 || fail "server did not start"
  "$build/examples/echo-client" --port "$port" -c 20 -n 50 -s 3000 > "$work/client.out" || fail "client: $(cat "$work/client.out")"
  grep -q "1000 round trips" "$work/client.out" || fail "not all round trips: $(cat "$work/client.out")"
  wait "$srv" || fail "server exit $?"
  "$build/viz/coroscope" check "$work/echo.jsonl" || fail "the server's trace does not pass check"
  n=$(grep -c '"kind":"epoll_dispatch"' "$work/echo.jsonl")
  [ "$n" -gt 20 ] || fail "only $n dispatches traced" ;;
http)
  start_server "$work/server.log" "$listening" "$build/examples/http-hello" --port 0 || fail "server did not start"
  trap 'kill $srv 2>/dev/null' EXIT
  p=$port
  exec 3<>"/dev/tcp/127.0.0.1/$p" || fail "connect"
  printf 'GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' >&3
  timeout 5 cat <&3 > "$work/resp" || fail "no reply (keep-alive broken?)"
  exec 3<&-
  [ "$(grep -c 'HTTP/1.1 200 OK' "$work/resp")" = 2 ] || fail "want two answers on one connection: $(cat "$work/resp")"
  [ "$(grep -c 'Hello, world' "$work/resp")" = 2 ] || fail "bodies missing"
  exec 4<>"/dev/tcp/127.0.0.1/$p"
  printf 'GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' >&4
  timeout 5 cat <&4 | grep -q '404 Not Found' || fail "unknown path not 404" ;;
*) fail "unknown case" ;;
esac
