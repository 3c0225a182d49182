#!/usr/bin/env bash
# Installs the Debian packages the build, tests, demo and benchmarks need,
# once: packages already present are not asked for again. As root it runs
# apt-get itself; otherwise it prints the command to run and fails.
#   scripts/deps.sh demo    only what `make demo` and the tutorials need
#   scripts/deps.sh         everything (`make test`, CI, `make bench`)
set -euo pipefail

# `deps.sh demo`: what `make demo` and the course need, nothing more.
demo=(
  cmake make gcc g++ pkg-config       # build (the project enables C++ for the benchmarks)
  libcmocka-dev                       # test framework (the build configures the tests)
  libcjson-dev                        # the viewer's JSON parser
  graphviz                            # dot, for diagrams
  strace                              # chapter 3 shows ucontext's system calls
  liburing-dev                        # the io_uring backend (the reactor/proactor chapter)
)
# `deps.sh` (no argument): everything the tests and benchmarks use, for `make test`.
tests=(
  valgrind                            # valgrind.h (stack registration) and memcheck runs
  clang libclang-rt-14-dev            # libFuzzer targets
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static  # aarch64 switch tests
  libboost-context-dev libuv1-dev     # benchmark competitors
  socat                               # a client we did not write
  chromium                            # the browser tests of `coroscope html` pages
)
# The benchmarks (`make bench`), which `make test` runs too: the test
# docs.performance runs every command of docs/performance.md.
bench=(
  wrk nginx-light curl                # bench/http/run.sh: the load generator, nginx, its check
  python3                             # bench/http/run.sh: a free port for nginx
  golang-go                           # bench/sync: the Go rows (chan_go, ws_go)
  gnuplot-nox                         # bench/stacks/plot.sh, bench/echo/sweep.sh: the figures
  bsdextrautils                       # column, for bench/echo/sweep.sh's table
)
pkgs=("${demo[@]}")
if [ "${1:-}" != demo ]; then
  pkgs+=("${tests[@]}" "${bench[@]}")
  # The browser tests drive Chromium with Playwright from the npm registry
  # (tests/browser/setup.sh): node and npm, Debian's unless some are already here.
  command -v node > /dev/null || pkgs+=(nodejs)
  command -v npm > /dev/null || pkgs+=(npm)
fi

# BENCH=1 (`make bench`): the benchmarks' packages, `demo` or not.
if [ "${BENCH:-}" = 1 ] && [ "${1:-}" = demo ]; then pkgs+=("${bench[@]}"); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "coroscope needs these Debian packages: ${missing[*]}" >&2
  echo "run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
