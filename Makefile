# The two README commands, and a few more for developers.
#   make demo   build and run the demo: annotated log, trace, diagrams
#   make test   build from nothing and run every test (asm and ucontext switch)
# Each installs missing Debian packages first (scripts/deps.sh).

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
OUT  ?= demo-out

.PHONY: all deps demo test test-asan test-tsan bench format clean

all: deps
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)

deps:
	@bash scripts/deps.sh

# The demo builds only what it and the course run, and the libraries that
# docs/using-corolib.md installs, after installing only their packages; the
# tests and benchmarks build with `make test` / `make all`.
demo:
	@bash scripts/deps.sh demo
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS) --target demo echo-server echo-client coroscope course \
	  coro coro_static corohook
	@mkdir -p $(OUT)
	@bash scripts/demo.sh build/dev $(OUT)

test: deps
	cmake --preset dev
	cmake --build --preset dev -j $(JOBS)
	ctest --preset dev -j $(JOBS)
	cmake --preset ucontext
	cmake --build --preset ucontext -j $(JOBS)
	ctest --preset ucontext -j $(JOBS)

test-asan: deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

test-tsan: deps
	cmake --preset tsan
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan -j $(JOBS)

bench:
	@BENCH=1 bash scripts/deps.sh
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	bash bench/switch/run.sh build/release
	taskset -c 1 build/release/bench/core/bench_coro
	bash bench/core/ir.sh build/release
	build/release/bench/sync/bench_sync
	build/release/bench/sync/bench_ws
	bash bench/echo/run.sh build/release
	bash bench/echo/ir.sh build/release
	bash bench/echo/sweep.sh build/release build/release/echo-sweep
	bash bench/http/run.sh build/release
	bash bench/stacks/run.sh build/release
	taskset -c 1 build/release/bench/trace/bench_trace
	build/release/bench/trace/bench_trace emit 2000000 build/release/bench-read.ctr
	taskset -c 1 build/release/bench/trace/bench_trace_read build/release/bench-read.ctr
	bash bench/trace/echo.sh build/release

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf build $(OUT)
