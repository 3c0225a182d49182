#!/usr/bin/env bash
# The viewer's libFuzzer targets, built with clang (Debian's clang and
# libclang-rt: scripts/deps.sh) and run for a bounded time.
#   run_fuzz.sh build SOURCE_DIR BUILD_DIR WORK_DIR "VIZ SOURCES"
#   run_fuzz.sh run   SOURCE_DIR WORK_DIR MODE VIEW SECONDS
# MODE json feeds mutated trace files to the reader and the views, MODE
# events feeds event programs straight to the model and one VIEW (see
# fuzz_views.c). Seeds: the project's traces and every saved regression
# input (tests/viz/fuzz/regress); a crash leaves its input in WORK_DIR:
# copy it into regress/ (a .ev name for events mode) to keep it.
set -euo pipefail
what=$1; shift
case $what in
build)
  src=$1 build=$2 work=$3 sources=$4
  mkdir -p "$work"
  srcs=()
  for s in ${sources//;/ }; do
    case $s in *.c) ;; *) continue ;; esac
    case $s in /*) srcs+=("$s") ;; *) srcs+=("$src/viz/$s") ;; esac
  done
  tracer=()
  for s in "$src"/tracer/src/*.c; do [ "$(basename "$s")" = env.c ] || tracer+=("$s"); done
  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
    -I"$src/viz" -I"$build/viz" -I"$src/tracer/include" -I"$build/generated" \
    "$src/tests/viz/fuzz/fuzz_views.c" "${srcs[@]}" "${tracer[@]}" -DCORO_TRACER_TOOL=1 \
    -lcjson -lpthread -o "$work/fuzz_views"
  echo "built $work/fuzz_views" ;;
run)
  src=$1 work=$2 mode=$3 view=$4 secs=$5
  corpus=$work/corpus-$mode-$view
  mkdir -p "$corpus" "$work/crashes"
  seeds=$src/tests/viz/fuzz/regress
  if [ "$mode" = json ]; then
    cp "$src"/tests/viz/bad/*.jsonl "$src"/tests/viz/traces/*.jsonl "$src"/tests/golden/expected/*.jsonl "$corpus/"
    cp "$seeds"/*.jsonl "$corpus/" 2>/dev/null || true
  else
    cp "$seeds"/*.ev "$corpus/" 2>/dev/null || true
    [ -n "$(ls -A "$corpus")" ] || head -c 4096 /dev/urandom > "$corpus/random.ev"
  fi
  # Event programs are 8 bytes an event: 128 events find what 512 do, four times faster.
  maxlen=4096; [ "$mode" = events ] && maxlen=1024
  FUZZ_MODE=$mode FUZZ_VIEW=$view "$work/fuzz_views" -max_total_time="$secs" -max_len=$maxlen \
    -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 -dict="$src/tests/viz/fuzz/trace.dict" \
    -artifact_prefix="$work/crashes/$mode-$view-" "$corpus" 2>&1 | tail -3 ;;
*) echo "usage: run_fuzz.sh build|run ..." >&2; exit 1 ;;
esac
