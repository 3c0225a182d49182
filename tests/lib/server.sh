# Sourced by test scripts that start a server. Servers listen on port 0 (the
# kernel picks a free port) and print it; a test waits for that line, never
# for a length of time.
#
#   start_server LOG SED_RE CMD [ARGS...]
#     Runs CMD in the background, its stderr to LOG (stdout to $server_out
#     if set), and waits until LOG has a line from which SED_RE (a sed regex
#     with one group) extracts the port. Sets $srv (pid) and $port. Returns 1
#     with the log on stderr if the server exits or 30 s pass first. The
#     server is killed when the script exits (a trap on EXIT).
#
# LOG is emptied by the caller's shell before the server starts: the
# background child's own `2> LOG` may run after our first look, and a log
# left by an earlier run would hand us that run's port.
start_server() {
  local log=$1 re=$2
  shift 2
  : > "$log"
  if [ -n "${server_out:-}" ]; then "$@" > "$server_out" 2>> "$log" &
  else "$@" 2>> "$log" & fi
  srv=$!
  # A test that fails before the server ends must not leave it running; one
  # that already waited for it must not fail for it (a failed kill in an
  # EXIT trap is the exit status of a `set -e` script: make demo failed).
  trap 'kill "$srv" 2>/dev/null || :' EXIT
  port=
  local i line
  for i in $(seq 600); do
    # Whole lines only (read fails on an unfinished last line): a port
    # half written is not a port.
    while IFS= read -r line; do
      port=$(sed -n "s/$re/\1/p" <<< "$line")
      [ -n "$port" ] && return 0
    done < "$log"
    if ! kill -0 "$srv" 2>/dev/null; then
      echo "server exited before listening: $(cat "$log")" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "server did not print its port in 30 s: $(cat "$log")" >&2
  return 1
}

# has_ended PID: the process is gone, or a zombie (it has ended; its parent
# has not waited for it yet).
has_ended() {
  local st
  st=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
  [ -z "$st" ] || [ "$st" = Z ]
}

# stop_server SIG PID BUILD_DIR: send SIG to a server started here, wait for
# it to end and return its exit status.
#
# Under ThreadSanitizer (a build configured with CORO_TSAN) a signal that
# arrives while a coroutine runs may never be handled: TSan runs handlers of
# asynchronous signals only at its next intercepted call, and keeps them
# pending per fiber, so one queued on a coroutine's fiber waits until that
# coroutine runs again, which an idle server's never may (the server sits in
# epoll_wait on its main fiber, with the signal still queued). There the
# signal is sent again each second until the server ends: a second one finds
# it blocked in epoll_wait, where TSan runs the handler at once. Other
# builds get one signal, so a server that ignores it fails the test.
stop_server() {
  local sig=$1 pid=$2 build=$3 i
  kill -"$sig" "$pid" 2>/dev/null
  if grep -qs '^CORO_TSAN:BOOL=ON$' "$build/CMakeCache.txt"; then
    for i in $(seq 60); do
      for _ in $(seq 20); do # up to a second for it to end
        has_ended "$pid" && break 2
        sleep 0.05
      done
      kill -"$sig" "$pid" 2>/dev/null
    done
  fi
  wait "$pid"
}
