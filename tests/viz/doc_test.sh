#!/usr/bin/env bash
# docs/coroscope.md stays what a reader sees: every command in a ```console
# block ("$ " lines) is run exactly as written, from a scratch copy of the
# source tree's root, with coroscope on PATH, and its output (stdout and
# stderr) must be the lines the page shows after it; every command in a
# ```sh block must run and print nothing. The pictures the page shows
# (docs/img/*.png) are the ones its commands draw, byte for byte.
#   doc_test.sh SOURCE_DIR BUILD_DIR WORK_DIR [--update]
# --update rewrites the output blocks and the pictures from real runs
# (review with git diff, then commit): nothing on the page is typed by hand.
set -uo pipefail
src=$1 build=$2 work=$3 mode=${4:-}
doc=$src/docs/coroscope.md
export PATH=$build/viz:$PATH NO_COLOR=1 LC_ALL=C.UTF-8
rm -rf "$work"
root=$work/root
mkdir -p "$root/docs/img"
for d in tests tutorials examples build; do ln -s "$src/$d" "$root/$d"; done
new=$work/coroscope.md
: > "$new"
status=0
in=""
cmds=()
flush() { # runs the commands of the block just read, writing what they print
  for c in "${cmds[@]}"; do
    printf '$ %s\n' "$c" >> "$new"
    out=$(cd "$root" && bash -c "$c" 2>&1)
    rc=$?
    if [ "$in" = sh ]; then
      [ $rc -eq 0 ] || { echo "FAIL: '$c' exited $rc: $out" >&2; status=1; }
      [ -z "$out" ] || { echo "FAIL: '$c' printed what the page does not show: $out" >&2; status=1; }
    elif [ -n "$out" ]; then
      printf '%s\n' "$out" >> "$new"
    fi
  done
  cmds=()
}
while IFS= read -r line || [ -n "$line" ]; do
  if [ -z "$in" ]; then
    printf '%s\n' "$line" >> "$new"
    case $line in '```console') in=console ;; '```sh') in=sh ;; esac
    continue
  fi
  if [ "$line" = '```' ]; then
    flush
    printf '%s\n' "$line" >> "$new"
    in=""
    continue
  fi
  case $line in '$ '*) cmds+=("${line#\$ }") ;; esac
  if [ "$in" = sh ] && [ "${line#\$ }" = "$line" ]; then
    echo "FAIL: a line of a sh block that is not a command: $line" >&2; status=1
  fi
done < "$doc"
if [ "$mode" = --update ]; then
  cp "$new" "$doc"
  for img in "$root"/docs/img/*.png; do [ -e "$img" ] && cp "$img" "$src/docs/img/"; done
  echo "rewrote $doc and its pictures: review with git diff"
  exit $status
fi
if ! diff -u "$doc" "$new" > "$work/diff"; then
  echo "FAIL: docs/coroscope.md shows output its commands do not print now (tests/viz/doc_test.sh --update rewrites it):" >&2
  cat "$work/diff" >&2
  status=1
fi
for img in "$root"/docs/img/*.png; do
  [ -e "$img" ] || continue
  name=$(basename "$img")
  grep -q "(img/$name)" "$doc" || { echo "FAIL: $name is drawn but the page does not show it" >&2; status=1; }
  cmp -s "$img" "$src/docs/img/$name" || { echo "FAIL: docs/img/$name is not the picture its command draws now" >&2; status=1; }
done
n=$(grep -c '^\$ ' "$doc")
[ $status -eq 0 ] && echo "all $n commands of docs/coroscope.md print what it shows"
exit $status
