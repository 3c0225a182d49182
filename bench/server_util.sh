# Sourced by the network benchmarks: start a server on a port the kernel
# chooses and learn it from the "listening on ...:PORT" line the server
# prints; a server that fails shows its own error output.
#   start_server NAME LOGDIR CMD...   -> sets $port, appends to $pids
start_server() {
  local name=$1 dir=$2; shift 2
  local log=$dir/$name.log
  : > "$log" # an earlier run's line must not be read as this one's port
  taskset -c 1 "$@" 2> "$log" &
  pids+=($!)
  local pid=$! _
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)\]*$/\1/p' "$log" | head -1)
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "$name did not start listening; its output:" >&2
  cat "$log" >&2
  return 1
}

# CORO_BENCH_QUICK=1 (bench/bench_util.h): a short run that prints the same
# lines (docs.performance runs every benchmark command so).
bench_quick() { [ "${CORO_BENCH_QUICK:-0}" != 0 ]; }

# The median of the numbers on standard input, one a line (an odd count).
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
