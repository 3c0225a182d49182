#!/usr/bin/env bash
# `coroscope ps`, `pstree` and `top` against running programs started with
# CORO_INSPECT=1 (the table of coro/inspect.h), one case per ctest entry:
#   inspect_test.sh CASE BUILD_DIR WORK_DIR
set -uo pipefail
case_=$1 build=$2 work=$3
cs=$build/viz/coroscope child=$build/tests/viz/inspect_child
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "$0")/../lib/server.sh" # start_server: port 0, wait for the printed port
listening='.*listening on acceptor\[127.0.0.1:\([0-9][0-9]*\)\].*'
ready='^\(ready\)$'
export NO_COLOR=1

# ps PID until its output matches the extended regex $2 at least $3 times
# (the program gets there on its own time: no fixed sleeps); 20 s at most.
ps_until() {
  local i n
  for i in $(seq 400); do
    "$cs" ps "$1" > "$work/ps" 2> "$work/ps.err" || fail "ps $1 exited $?: $(cat "$work/ps.err")"
    n=$(grep -cE -- "$2" "$work/ps")
    [ "$n" -ge "$3" ] && return 0
    sleep 0.05
  done
  fail "ps never showed $3 rows matching '$2': $(cat "$work/ps")"
}
row() { grep -E -- "$1" "$work/ps" || fail "no row matching '$1' in: $(cat "$work/ps")"; }
id_of() { awk -v n="$1" '$5 == n { print $1 }' "$work/ps"; } # the id of the coroutine named $1
# The table goes with the program: wait for it to end, then look.
gone() {
  wait "$1" 2>/dev/null
  for d in /dev/shm "${XDG_RUNTIME_DIR:-/nonexistent}" /tmp; do
    [ ! -e "$d/coroscope-$1" ] || fail "$d/coroscope-$1 is still there after the program ended"
  done
}

case $case_ in
echo) # the echo server, two clients connected and idle
  start_server "$work/server.log" "$listening" \
    env CORO_INSPECT=1 "$build/examples/echo-server" --port 0 || fail "server did not start"
  exec 7<>"/dev/tcp/127.0.0.1/$port" 8<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect"
  printf 'hello\n' >&7 && read -r -t 10 echoed <&7 && [ "$echoed" = hello ] || fail "no echo"
  ps_until "$srv" ' suspended .* echo#[0-9]+ +recv ' 2
  head -1 "$work/ps" | grep -qx "echo-server (pid $srv): 4 coroutines on 1 thread" ||
    fail "title: $(head -1 "$work/ps")"
  row '^ +1 +1 +running .* main +event loop "loop" ' > /dev/null
  acc=$(row " suspended .* listener +accept acceptor\[127.0.0.1:$port\] fd=[0-9]+ ")
  afd=$(sed -n 's/.* fd=\([0-9]*\) .*/\1/p' <<< "$acc")
  [ "$(readlink "/proc/$srv/fd/$afd")" != "${afd:-x}" ] && readlink "/proc/$srv/fd/$afd" | grep -q '^socket:' ||
    fail "the listener's fd $afd is not a socket of the server"
  fds=()
  while read -r line; do
    fd=$(sed -n 's/.* recv conn\[127.0.0.1:[0-9]*\] fd=\([0-9]*\) .*/\1/p' <<< "$line")
    [ -n "$fd" ] || fail "an echo row without its connection and fd: $line"
    readlink "/proc/$srv/fd/$fd" | grep -q '^socket:' || fail "echo's fd $fd is not a socket"
    fds+=("$fd")
  done < <(grep -E ' echo#[0-9]+ ' "$work/ps")
  [ ${#fds[@]} -eq 2 ] && [ "${fds[0]}" != "${fds[1]}" ] && [ "${fds[0]}" != "$afd" ] ||
    fail "want two echo coroutines on distinct fds: ${fds[*]}"
  # the spawn tree: listener under main, the echo coroutines under listener
  "$cs" pstree "$srv" > "$work/tree" || fail "pstree exited $?"
  grep -qx 'main #1 running: event loop "loop"' "$work/tree" || fail "tree root: $(cat "$work/tree")"
  grep -qE '^└─ listener #[0-9]+ suspended: accept ' "$work/tree" || fail "tree: $(cat "$work/tree")"
  [ "$(grep -cE '^   [├└]─ echo#[0-9]+ #[0-9]+ suspended: recv conn' "$work/tree")" -eq 2 ] ||
    fail "echo coroutines not under listener: $(cat "$work/tree")"
  # top: once, then twice, the longest in its state first
  "$cs" top -n 1 "$srv" > "$work/top" || fail "top exited $?"
  [ "$(grep -c '^echo-server (pid' "$work/top")" -eq 1 ] || fail "top -n 1: $(cat "$work/top")"
  grep -q '^1 running, 0 ready, 3 suspended, 0 not started, 0 finished$' "$work/top" ||
    fail "top's counts: $(cat "$work/top")"
  # longest in its state first: FOR never grows down the table
  awk 'NR > 3 { t = $4; v = t + 0
         if (t ~ /h/) { split(t, p, "h"); v = p[1] * 3600000 + p[2] * 60000 }
         else if (t ~ /m[0-9]/) { split(t, p, "m"); v = p[1] * 60000 + p[2] * 1000 }
         else if (t ~ /ms$/) v = t + 0
         else v = t * 1000
         if (NR > 4 && v > last) bad = 1; last = v }
       END { exit bad }' "$work/top" || fail "top not by time in state: $(cat "$work/top")"
  # main sat in the loop after the echo, so it comes after (or ties with) the rest
  tail -1 "$work/top" | grep -qE ' main ' || fail "main is not last: $(cat "$work/top")"
  "$cs" top -n 2 -d 0.1 "$srv" > "$work/top2" || fail "top -n 2 exited $?"
  [ "$(grep -c '^echo-server (pid' "$work/top2")" -eq 2 ] || fail "top -n 2: $(cat "$work/top2")"
  # a client leaves: its coroutine is freed, its row gone
  exec 7>&-
  for i in $(seq 200); do
    "$cs" ps "$srv" > "$work/ps" || fail "ps"
    [ "$(grep -cE ' echo#[0-9]+ ' "$work/ps")" -eq 1 ] && break
    sleep 0.05
  done
  [ "$(grep -cE ' echo#[0-9]+ ' "$work/ps")" -eq 1 ] || fail "a closed connection's row stays: $(cat "$work/ps")"
  exec 8>&-
  stop_server TERM "$srv" "$build"
  gone "$srv"
  "$cs" ps "$srv" > "$work/out" 2>&1; rc=$?
  [ $rc -eq 2 ] || fail "ps of an ended server: exit $rc, want 2"
  echo "ps, pstree and top show the echo server's coroutines" ;;
scene) # one coroutine in each state, await and channel included
  start_server "$work/child.log" "$ready" env CORO_INSPECT=1 "$child" scene || fail "child did not start"
  ps_until "$srv" ' sleeper ' 1
  ps_until "$srv" ' main +event loop "scene" ' 1
  [ "$(head -1 "$work/ps")" = "inspect_child (pid $srv): 7 coroutines on 1 thread" ] ||
    fail "title: $(cat "$work/ps")"
  id_worker=$(id_of worker) id_boss=$(id_of boss)
  row " suspended .* boss +await worker \(#$id_worker\) +- *$" > /dev/null
  row " suspended .* worker +recv jobs +boss \(#$id_boss\) *$" > /dev/null
  row ' suspended .* sleeper +sleep scene 600000 ms ' > /dev/null
  row ' created .* lazy +not started ' > /dev/null
  row ' dead .* done +finished, not destroyed ' > /dev/null
  row ' suspended .* idler +yielded ' > /dev/null
  ! grep -q announcer "$work/ps" || fail "a finished spawned coroutine is still shown"
  "$cs" pstree "$srv" > "$work/tree" || fail "pstree exited $?"
  cat > "$work/want" <<EOF
inspect_child (pid $srv): 7 coroutines on 1 thread
main #1 running: event loop "scene"
├─ boss #$id_boss suspended: await worker (#$id_worker)
│  └─ worker #$id_worker suspended: recv jobs, awaited
EOF
  head -4 "$work/tree" | diff "$work/want" - || fail "pstree's await tree"
  for n in sleeper lazy done idler; do
    grep -qE "^[├└]─ $n #[0-9]+ " "$work/tree" || fail "$n is not under main: $(cat "$work/tree")"
  done
  # A table too small: the rest are counted, not shown.
  stop_server TERM "$srv" "$build"; gone "$srv"
  start_server "$work/child.log" "$ready" env CORO_INSPECT=1 CORO_INSPECT_SLOTS=3 "$child" scene ||
    fail "child did not start"
  ps_until "$srv" 'more not shown' 1
  [ "$(grep -cE '^ +[0-9]+ ' "$work/ps")" -eq 3 ] || fail "want 3 rows: $(cat "$work/ps")"
  grep -qx 'and 4 more not shown: the table.s 3 rows are full (CORO_INSPECT_SLOTS=N makes more)' \
    "$work/ps" || fail "the coroutines left out are not counted: $(cat "$work/ps")"
  stop_server TERM "$srv" "$build"; gone "$srv"
  echo "every state, the await and the channel shown" ;;
threads) # 4 workers moving 8 coroutines while ps reads (TSan in the tsan preset)
  rm -f "$work/stop"
  start_server "$work/child.log" "$ready" env CORO_INSPECT=1 "$child" threads "$work/stop" ||
    fail "child did not start"
  ps_until "$srv" ' spinner#' 8
  seen=0
  for i in $(seq 20); do
    "$cs" ps "$srv" > "$work/ps" 2> "$work/err" || fail "ps exited $?: $(cat "$work/err")"
    n=$(awk '$5 ~ /^spinner#[0-7]$/' "$work/ps" | wc -l)
    [ "$n" -eq 8 ] || fail "want 8 spinners: $(cat "$work/ps")"
    awk '$5 ~ /^spinner#/' "$work/ps" | grep -vE '^ *[0-9]+ +[1-5] +(running|ready|suspended) ' &&
      fail "a row with a bad thread or state: $(cat "$work/ps")"
    seen=$((seen + 1))
  done
  "$cs" top -n 3 -d 0.05 "$srv" > "$work/top" || fail "top exited $?"
  [ "$(grep -c '^inspect_child (pid' "$work/top")" -eq 3 ] || fail "top -n 3: $(cat "$work/top")"
  touch "$work/stop"
  wait "$srv"; rc=$?
  [ $rc -eq 0 ] || fail "the program exited $rc: $(cat "$work/child.log")"
  gone "$srv"
  echo "$seen consistent readings of 4 threads" ;;
fork) # a forked child neither publishes nor touches its parent's table, even as it dies
  start_server "$work/child.log" '^ready \([0-9]*\)$' env CORO_INSPECT=1 "$child" scene fork ||
    fail "child did not start"
  kid=$port
  trap 'kill "$srv" "$kid" 2>/dev/null' EXIT # the child too: it holds our output open
  for i in $(seq 400); do grep -q '^child moved$' "$work/child.log" && break; sleep 0.05; done
  grep -q '^child moved$' "$work/child.log" || fail "the forked child did not move: $(cat "$work/child.log")"
  ps_until "$srv" ' sleeper ' 1
  row ' created .* lazy +not started ' > /dev/null
  ! grep -q changeling "$work/ps" || fail "the forked child published: $(cat "$work/ps")"
  "$cs" ps "$kid" > "$work/out" 2>&1; rc=$?
  [ $rc -eq 2 ] && grep -qx "coroscope ps: no coroutine table for pid $kid: was it started with CORO_INSPECT=1?" \
    "$work/out" || fail "the forked child: exit $rc: $(cat "$work/out")"
  kill -TERM "$kid"
  for i in $(seq 400); do # (a zombie: its parent is in its loop)
    has_ended "$kid" && break
    sleep 0.05
  done
  "$cs" ps "$srv" > "$work/ps" || fail "the parent's table went with its child"
  row ' created .* lazy +not started ' > /dev/null
  stop_server TERM "$srv" "$build"; gone "$srv"
  echo "a forked child leaves its parent's table alone" ;;
stale) # killed with SIGKILL: the table stays and ps says it is left over
  start_server "$work/child.log" "$ready" env CORO_INSPECT=1 "$child" scene || fail "child did not start"
  ps_until "$srv" ' sleeper ' 1
  kill -KILL "$srv"; wait "$srv" 2>/dev/null
  "$cs" ps "$srv" > "$work/out" 2>&1; rc=$?
  rm -f "/dev/shm/coroscope-$srv" "${XDG_RUNTIME_DIR:-/nonexistent}/coroscope-$srv" "/tmp/coroscope-$srv"
  [ $rc -eq 2 ] || fail "exit $rc, want 2: $(cat "$work/out")"
  grep -qE "^coroscope ps: pid $srv has exited; .*/coroscope-$srv is the table it left behind \(it was killed\): remove it$" \
    "$work/out" || fail "$(cat "$work/out")"
  # Tables of programs gone for a minute go when the next program starts
  # its own; a younger one stays, and so does a file that is not a table.
  dir=/dev/shm; [ -d "$dir" ] || dir=${XDG_RUNTIME_DIR:-/tmp}
  gone_pid=$(( $(cat /proc/sys/kernel/pid_max) - 7 ))
  kill -0 "$gone_pid" 2>/dev/null && fail "pid $gone_pid exists"
  printf 'CORO-TAB' > "$dir/coroscope-$gone_pid"
  touch -d '2 minutes ago' "$dir/coroscope-$gone_pid"
  printf 'CORO-TAB' > "$dir/coroscope-$((gone_pid + 1))"
  printf 'not ours' > "$dir/coroscope-$((gone_pid + 2))"
  touch -d '2 minutes ago' "$dir/coroscope-$((gone_pid + 2))"
  trap 'kill "$srv" 2>/dev/null; rm -f "$dir/coroscope-$gone_pid" "$dir/coroscope-$((gone_pid + 1))" "$dir/coroscope-$((gone_pid + 2))"' EXIT
  CORO_INSPECT=1 "$child" bad-usage 2> /dev/null
  [ ! -e "$dir/coroscope-$gone_pid" ] || fail "a table left a minute ago stays"
  [ -e "$dir/coroscope-$((gone_pid + 1))" ] || fail "a table left just now was removed"
  [ -e "$dir/coroscope-$((gone_pid + 2))" ] || fail "a file that is not a table was removed"
  echo "a table left behind is named, and swept a minute later" ;;
no_table) # a live process without a table, a pid without a process, bad arguments
  sleep 30 & pid=$!
  "$cs" ps $pid > "$work/out" 2>&1; rc=$?
  kill $pid
  [ $rc -eq 2 ] || fail "exit $rc, want 2"
  grep -qx "coroscope ps: no coroutine table for pid $pid: was it started with CORO_INSPECT=1?" \
    "$work/out" || fail "$(cat "$work/out")"
  "$cs" pstree 2147483647 > "$work/out" 2>&1; rc=$?
  [ $rc -eq 2 ] && grep -qx "coroscope pstree: no process with pid 2147483647" "$work/out" ||
    fail "exit $rc: $(cat "$work/out")"
  for args in "ps" "ps abc" "ps 1 2" "top -n x 1" "top -d 0 1" "pstree --bad 1"; do
    # shellcheck disable=SC2086
    "$cs" $args > /dev/null 2>&1; rc=$?
    [ $rc -eq 1 ] || fail "coroscope $args: exit $rc, want 1"
  done
  "$cs" top --help | grep -q -- '-d SECONDS' || fail "top --help"
  echo "errors name the pid" ;;
doc) # docs/coroscope.md's session, run with the port and pid this run gets
  block=$(awk '/^<!-- viz.inspect_doc/ { f = 1; next } f && /^```text$/ { g = 1; next }
               g && /^```$/ { exit } g' "$(dirname "$0")/../../docs/coroscope.md")
  dport=$(sed -n 's/^echo-server: listening on acceptor\[127.0.0.1:\([0-9]*\)\]$/\1/p' <<< "$block")
  dpid=$(sed -n 's/^\$ coroscope ps \([0-9]*\)$/\1/p' <<< "$block")
  [ -n "$dport" ] && [ -n "$dpid" ] || fail "no session found on the page: $block"
  want='$ CORO_INSPECT=1 build/dev/examples/echo-server --port 0 &
$ build/dev/examples/echo-client --port PORT -c 2 -n 60 --pause 1000 &
$ coroscope ps PID
$ coroscope pstree PID'
  got=$(grep '^\$ ' <<< "$block" | sed "s/$dport/PORT/g; s/$dpid/PID/g")
  [ "$got" = "$want" ] || fail "the page's commands are not the ones this test runs: $got"
  # what each command prints on the page, numbers and times aside
  norm() { sed -E 's/pid [0-9]+/pid N/; s/127\.0\.0\.1:[0-9]+/127.0.0.1:P/g; s/fd=[0-9]+/fd=N/g
                  s/ [0-9][0-9.]*(us|ms|s|m[0-9]+s|h[0-9]+m) / T /; s/ +/ /g'; }
  out_of() { awk -v c="\$ coroscope $1 " 'index($0, c) == 1 { f = 1; next } /^\$ / { f = 0 } f' <<< "$block" | norm; }
  out_of ps > "$work/want.ps"
  out_of pstree > "$work/want.pstree"
  start_server "$work/server.log" "$listening" \
    env CORO_INSPECT=1 "$build/examples/echo-server" --port 0 || fail "server did not start"
  "$build/examples/echo-client" --port "$port" -c 2 -n 60 --pause 1000 > /dev/null & client=$!
  trap 'kill $srv $client 2>/dev/null' EXIT
  # between two messages the server is as the page shows it (almost always: we look until so)
  for i in $(seq 200); do
    "$cs" ps "$srv" | norm > "$work/got.ps"
    "$cs" pstree "$srv" | norm > "$work/got.pstree"
    cmp -s "$work/want.ps" "$work/got.ps" && cmp -s "$work/want.pstree" "$work/got.pstree" && break
    sleep 0.1
  done
  diff -u "$work/want.ps" "$work/got.ps" || fail "ps prints other than the page shows"
  diff -u "$work/want.pstree" "$work/got.pstree" || fail "pstree prints other than the page shows"
  echo "the page's session prints what it shows" ;;
*) fail "unknown case $case_" ;;
esac
