#!/usr/bin/env bash
# HTTP benchmark: examples/http-hello against nginx (Debian nginx-light or
# nginx, one worker, the same 13-byte body) under wrk on loopback, in one
# run. Each server is pinned to CPU 1 and wrk to CPU 0. Prints requests/s
# (median of 3 runs of 3 s) and the ratios: each backend of ours to nginx, io_uring to epoll.
#   bench/http/run.sh BUILD_DIR
# CORO_BENCH_QUICK=1 (bench/bench_util.h): a short run, one run of 1 s each.
set -euo pipefail
build=${1:-build/release}
for tool in wrk nginx; do
  command -v $tool >/dev/null || [ -x /usr/sbin/$tool ] || { echo "bench/http: $tool is not installed (apt-get install $tool)" >&2; exit 1; }
done
nginx=$(command -v nginx || echo /usr/sbin/nginx)
dir=$(mktemp -d)
. "$(dirname "$0")/../server_util.sh"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT

mkdir -p "$dir/logs"
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
error_log $dir/logs/error.log;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir;
  uwsgi_temp_path $dir; scgi_temp_path $dir;
  server {
    listen 127.0.0.1:NGINX_PORT;
    location / { default_type text/plain; return 200 "Hello, world\n"; }
  }
}
CONF
start_server http-hello "$dir" "$build/examples/http-hello" --port 0; p_ours=$port
CORO_IO_BACKEND=io_uring start_server http-uring "$dir" "$build/examples/http-hello" --port 0; p_uring=$port
# nginx cannot take port 0: ask the kernel for a free port, then give it to
# nginx; in the rare race where another program takes it first, try again.
for _ in 1 2 3 4 5; do
  p_nginx=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  sed "s/NGINX_PORT/$p_nginx/" "$dir/nginx.conf" > "$dir/nginx.run.conf"
  taskset -c 1 "$nginx" -p "$dir" -c "$dir/nginx.run.conf" 2> "$dir/nginx.log" & pids+=($!)
  for _ in $(seq 100); do
    curl -s "http://127.0.0.1:$p_nginx/" 2>/dev/null | grep -q "Hello, world" && break 2
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "nginx did not start on port $p_nginx: $(cat "$dir/nginx.log" "$dir/logs/error.log" 2>/dev/null)" >&2
done
curl -s "http://127.0.0.1:$p_nginx/" | grep -q "Hello, world" || { echo "nginx did not answer as configured" >&2; exit 1; }

runs=3 secs=3
if bench_quick; then runs=1 secs=1; fi
rps() { # url -> median requests/s
  for _ in $(seq $runs); do
    taskset -c 0 wrk -t1 -c50 -d${secs}s "$1" | sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p'
  done | median
}
ours=$(rps "http://127.0.0.1:$p_ours/")
uring=$(rps "http://127.0.0.1:$p_uring/")
theirs=$(rps "http://127.0.0.1:$p_nginx/")
awk -v o="$ours" -v r="$uring" -v n="$theirs" 'BEGIN {
  printf "%-22s %14s\n%-22s %14.0f\n%-22s %14.0f\n%-22s %14.0f\n%-22s %14.2f\n%-22s %14.2f\n%-22s %14.2f\n",
    "server", "requests/s", "http-hello (epoll)", o, "http-hello (io_uring)", r, "nginx", n,
    "ours/nginx", o / n, "ours io_uring/nginx", r / n, "io_uring/epoll (ours)", r / o }'
echo "(wrk -t1 -c50 -d${secs}s, median of $runs; one nginx worker)"
