#!/usr/bin/env bash
# Rewrites chapter pages from real runs: every output block, every excerpt
# that moved, every diagram. Then review with `git diff tutorials/` and
# commit. Nothing on a page's output blocks is ever typed by hand.
#   tutorials/regenerate.sh [NN...]        (default: every chapter)
#   BUILD=build/asan tutorials/regenerate.sh 05
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build/dev}
cmake --build "$build" --target course -j2 > /dev/null
want=("$@")
for dir in "$root"/tutorials/[0-9][0-9]-*/; do
  dir=${dir%/}
  num=$(basename "$dir" | cut -c1-2)
  if [ ${#want[@]} -gt 0 ]; then
    hit=0
    for w in "${want[@]}"; do [ "$((10#$w))" = "$((10#$num))" ] && hit=1; done
    [ $hit = 1 ] || continue
  fi
  bash "$root/tutorials/check_chapter.sh" "$dir" "$root" "$build" --update
  bash "$root/tutorials/check_chapter.sh" "$dir" "$root" "$build"
done
