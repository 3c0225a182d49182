#!/usr/bin/env bash
# Rewrites chapter pages from real runs: every output block, every excerpt
# that moved, every diagram. Then review with `git diff tutorials/` and
# commit. Nothing on a page's output blocks is ever typed by hand.
#   tutorials/regenerate.sh [NN... | map | readme]
#     (default: every chapter, the course map tutorials/README.md and the
#     repository's README.md, whose five-minute path runs a chapter)
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
    for w in "${want[@]}"; do
      case $w in [0-9]*) [ "$((10#$w))" = "$((10#$num))" ] && hit=1 ;; esac
    done
    [ $hit = 1 ] || continue
  fi
  bash "$root/tutorials/check_chapter.sh" "$dir" "$root" "$build" --update
  bash "$root/tutorials/check_chapter.sh" "$dir" "$root" "$build"
done
for page in map:"$root/tutorials" readme:"$root"; do
  if [ ${#want[@]} -gt 0 ]; then
    hit=0
    for w in "${want[@]}"; do [ "$w" = "${page%%:*}" ] && hit=1; done
    [ $hit = 1 ] || continue
  fi
  bash "$root/tutorials/check_chapter.sh" "${page#*:}" "$root" "$build" --update
  bash "$root/tutorials/check_chapter.sh" "${page#*:}" "$root" "$build"
done
