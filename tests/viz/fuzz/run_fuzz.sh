#!/usr/bin/env bash
# Builds the reader's libFuzzer target with clang and runs it for a few
# seconds over a seed corpus of good and bad traces.
#   run_fuzz.sh SOURCE_DIR BUILD_DIR WORK_DIR [SECONDS]
set -euo pipefail
src=$1 build=$2 work=$3 secs=${4:-10}
mkdir -p "$work/corpus"
cp "$src"/tests/viz/bad/*.jsonl "$src"/tests/viz/traces/*.jsonl "$src"/tests/golden/expected/*.jsonl "$work/corpus/"
clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
  -I"$src/viz" -I"$src/tracer/include" -I"$build/generated" \
  "$src/tests/viz/fuzz/fuzz_reader.c" "$src"/viz/reader.c "$src"/viz/model.c "$src"/viz/dot.c \
  "$src"/viz/view_graph.c "$src"/viz/view_check.c "$src"/viz/view_log.c "$src"/viz/view_frame.c \
  "$src"/tracer/src/*.c -lcjson -lpthread -o "$work/fuzz_reader"
"$work/fuzz_reader" -max_total_time="$secs" -max_len=4096 -timeout=10 -close_fd_mask=2 "$work/corpus" 2>&1 | tail -5
