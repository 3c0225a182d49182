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
  # The loop's wake-ups: readiness dispatches on epoll, completions on io_uring.
  wake_kind=epoll_dispatch
  [ "${CORO_IO_BACKEND:-}" = io_uring ] && wake_kind=complete
  n=$(grep -c "\"kind\":\"$wake_kind\"" "$work/echo.jsonl")
  [ "$n" -gt 20 ] || fail "only $n $wake_kind events traced"
  if [ "$wake_kind" = complete ]; then # the viewer draws the proactor's story
    "$build/viz/coroscope" seq "$work/echo.jsonl" > "$work/seq.dot" || fail "seq failed"
    grep -q "submits recv (op" "$work/seq.dot" || fail "seq shows no submission"
    grep -q "in io_uring_enter" "$work/seq.dot" || fail "seq shows no io_uring_enter"
    "$build/viz/coroscope" graph "$work/echo.jsonl" > "$work/graph.dot" || fail "graph failed"
    grep -q "runs io_uring_enter" "$work/graph.dot" || fail "graph shows no io_uring_enter"
    grep -q "completion" "$work/graph.dot" || fail "graph shows no completion edge"
    "$build/viz/coroscope" log "$work/echo.jsonl" | grep -q "cause: completion of op" ||
      fail "the log shows no completion cause"
  fi ;;
http) # a small but real HTTP/1.1 server: bodies, versions, keep-alive, deadlines
  # Two servers: default deadlines (10 s header, 60 s idle), so that every
  # close seen within talk's 5 s is the server applying a rule, not a
  # deadline; and short ones (500 ms, 800 ms) for the deadlines themselves.
  start_server "$work/server.log" "$listening" \
    env CORO_TRACE="$work/http.jsonl" "$build/examples/http-hello" --port 0 || fail "server did not start"
  srv_rules=$srv port_rules=$port
  start_server "$work/server2.log" "$listening" \
    "$build/examples/http-hello" --port 0 --header-timeout 500 --idle-timeout 800 || fail "server did not start"
  srv_short=$srv port_short=$port
  trap 'kill $srv_rules $srv_short 2>/dev/null' EXIT
  trap '' PIPE
  port=$port_rules
  ms() { echo $(( $(date +%s%N) / 1000000 )); }
  # talk NAME TEXT: send TEXT (printf %b) on a new connection and read until
  # the server closes it (at most 5 s); the answer is in $work/NAME, the time
  # it took in $took ms.
  talk() {
    local t0; t0=$(ms)
    exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "$1: connect"
    printf '%b' "$2" >&3 2>/dev/null # the server may close first (refused requests)
    timeout 5 cat <&3 > "$work/$1"; local rc=$?
    exec 3<&-
    took=$(( $(ms) - t0 ))
    [ $rc = 0 ] || fail "$1: the server did not close the connection: $(cat "$work/$1")"
  }
  statuses() { grep -ao '^HTTP/1\.[01] [0-9]*' "$work/$1" | tr '\n' ' '; }
  want() { [ "$(statuses "$1")" = "$2" ] || fail "$1: answers '$(statuses "$1")', want '$2': $(cat "$work/$1")"; }
  get='GET / HTTP/1.1\r\nHost: t\r\n\r\n'
  last='GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  hidden='GET /nope HTTP/1.1\r\nHost: t\r\n\r\n' # answered 404 if it were read as a request
  n=$(printf '%b' "$hidden" | wc -c)

  talk keepalive "$get$last"
  want keepalive "HTTP/1.1 200 HTTP/1.1 200 "
  [ "$(grep -c 'Hello, world' "$work/keepalive")" = 2 ] || fail "bodies missing"
  grep -q '^Connection: close' "$work/keepalive" || fail "Connection: close not answered in kind"
  talk notfound 'GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  want notfound "HTTP/1.1 404 "
  talk head 'HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  want head "HTTP/1.1 200 "
  ! grep -q 'Hello' "$work/head" || fail "HEAD answered with a body"
  # A request hidden in a body is never answered.
  talk length "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: $n\r\n\r\n$hidden$last"
  want length "HTTP/1.1 405 HTTP/1.1 200 "
  talk chunked "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n$(printf %x "$n");ext=1\r\n$hidden\r\n0\r\nX-Trailer: 1\r\n\r\n$last"
  want chunked "HTTP/1.1 405 HTTP/1.1 200 "
  talk chunks "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nGET\r\n$(printf %x $((n - 3)))\r\n${hidden#GET}\r\n0\r\n\r\n$last"
  want chunks "HTTP/1.1 404 HTTP/1.1 200 "
  # Framing that could be read two ways is refused and the connection closed.
  talk both "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: $n\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$hidden"
  want both "HTTP/1.1 400 "
  talk twolengths "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: $n\r\nContent-Length: 0\r\n\r\n$hidden"
  want twolengths "HTTP/1.1 400 "
  talk spacedname "POST / HTTP/1.1\r\nHost: t\r\nContent-Length : $n\r\n\r\n$hidden"
  want spacedname "HTTP/1.1 400 "
  talk badchunk "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0x1f\r\n$hidden\r\n0\r\n\r\n"
  want badchunk "HTTP/1.1 400 "
  talk nohost 'GET / HTTP/1.1\r\n\r\n'
  want nohost "HTTP/1.1 400 "
  # HTTP/1.0: answered in 1.0, closed unless keep-alive is asked for.
  talk v10 'GET / HTTP/1.0\r\n\r\n'
  want v10 "HTTP/1.0 200 "
  talk v10keep 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n'
  want v10keep "HTTP/1.0 200 HTTP/1.0 200 "
  grep -q '^Connection: keep-alive' "$work/v10keep" || fail "1.0 keep-alive not confirmed"
  talk v20 'GET / HTTP/2.0\r\n\r\n'
  want v20 "HTTP/1.1 505 "
  # Deadlines: a kept-open connection that stays idle is closed after
  # --idle-timeout; a header block that trickles in gets 408 at --header-timeout
  # (without them, neither connection would ever be closed by the server).
  port=$port_short
  talk idle "$get"
  want idle "HTTP/1.1 200 "
  [ "$took" -ge 700 ] || fail "idle connection closed after $took ms, before the 800 ms deadline"
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  # One byte every 0.1 s, never the blank line that ends the header block.
  (for c in G E T ' ' / ' ' H T T P / 1 . 1 '\r' '\n' H o s t : ' ' t '\r' '\n' X : ' ' 1 2 3 4 5 6 7 8 9; do
     printf "$c"; sleep 0.1; done) >&3 2>/dev/null &
  timeout 10 cat <&3 > "$work/slow" || fail "slow client: the server never closed"
  exec 3<&-
  want slow "HTTP/1.1 408 "
  port=$port_rules
  # A client we did not write: curl, with a body (Expect: 100-continue).
  if command -v curl > /dev/null; then
    head -c 100000 /dev/zero > "$work/body"
    # curl sends the body only after "100 Continue" (or after 30 s: past -m 10).
    out=$(curl -s -m 10 --expect100-timeout 30 -o /dev/null -w '%{http_code}' \
           --data-binary @"$work/body" "http://127.0.0.1:$port/")
    [ "$out" = 405 ] || fail "curl POST (Expect: 100-continue): '$out'"
    [ "$(curl -s "http://127.0.0.1:$port/")" = "Hello, world" ] || fail "curl GET"
  fi
  stop_server TERM $srv_short "$build" 2>/dev/null
  # The backend asked for is the one that served (an io_uring run that fell
  # back to epoll would pass every check above): io_uring submits its calls.
  stop_server TERM $srv_rules "$build" 2>/dev/null # the trace is flushed and ended first
  submits=$(grep -c '"kind":"submit"' "$work/http.jsonl")
  if [ "${CORO_IO_BACKEND:-}" = io_uring ]; then
    [ "$submits" -gt 0 ] || fail "CORO_IO_BACKEND=io_uring, but no call was submitted to io_uring"
  else
    [ "$submits" = 0 ] || fail "$submits io_uring submissions on the default (epoll) backend"
  fi
  echo "http: keep-alive, bodies by length and chunked (no smuggling), 1.0 rules, deadlines" ;;
cli) # every example: --help, usage errors that name the argument, no file named --help
  cd "$work" && rm -f -- --help demo-trace.jsonl
  ex=$build/examples
  for prog in demo echo-server echo-client http-hello ws-demo; do
    "$ex/$prog" --help > help.out 2> help.err || fail "$prog --help: exit $?"
    grep -q "^usage: $prog" help.out || fail "$prog --help: no usage on stdout: $(cat help.out)"
    [ ! -s help.err ] || fail "$prog --help wrote to stderr: $(cat help.err)"
    "$ex/$prog" --bogus > bad.out 2> bad.err; rc=$?
    [ $rc = 2 ] || fail "$prog --bogus: exit $rc, want 2"
    grep -q "^$prog: unknown option '--bogus'" bad.err || fail "$prog --bogus: $(cat bad.err)"
  done
  [ ! -e --help ] || fail "demo --help wrote a file named --help"
  [ ! -e demo-trace.jsonl ] || fail "demo --help wrote a trace"
  for args in "echo-server --port x" "echo-server --port 70000" "echo-client -c" "echo-client -n 0" \
              "http-hello --port -1" "ws-demo two"; do
    $ex/$args > bad.out 2> bad.err; rc=$?
    [ $rc = 2 ] || fail "$args: exit $rc, want 2"
    set -- $args
    grep -q "^$1: .*'\?${!#}'\?" bad.err || fail "$args: the error does not name '${!#}': $(cat bad.err)"
  done
  # The trace message only when the trace is there: a path that cannot be
  # written (from the argument or from CORO_TRACE) is an error, not "written".
  "$ex/demo" "$work/no/such/dir/t.jsonl" > /dev/null 2> demo.err && fail "demo with an unwritable trace exited 0"
  grep -q "cannot write the trace to $work/no/such/dir/t.jsonl" demo.err || fail "demo: $(tail -3 demo.err)"
  for bad in "$work/no/such/dir/t.jsonl" "$work"; do
    CORO_TRACE=$bad "$ex/demo" > /dev/null 2> demo.err && fail "demo with CORO_TRACE=$bad exited 0"
    ! grep -q "trace written" demo.err || fail "demo claims a trace it could not write: $(tail -3 demo.err)"
  done
  "$ex/demo" t.jsonl > /dev/null 2> demo.err || fail "demo: exit $?: $(tail -3 demo.err)"
  grep -q "^trace written to t.jsonl$" demo.err || fail "demo: no trace message: $(tail -3 demo.err)"
  CORO_TRACE=t2.jsonl "$ex/demo" > /dev/null 2> demo.err || fail "demo: exit $?"
  grep -q "^trace written to t2.jsonl$" demo.err || fail "demo with CORO_TRACE: $(tail -3 demo.err)"
  echo "cli: --help and usage errors of every example; demo's trace message only when written" ;;
*) fail "unknown case" ;;
esac
