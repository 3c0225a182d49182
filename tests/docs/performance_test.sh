#!/usr/bin/env bash
# docs/performance.md shows what its commands print: every command the page
# shows is run exactly as written, in page order, from a copy of the
# repository root with the release preset built, and every output block must
# have the shape of what its command prints: the same lines in the same
# order, numbers masked (the machine is shared and noisy; the figures are
# the page's to argue, the lines are the programs').
#
# Which text is a command (decided from the page; tests/docs/commands.awk):
# - every line of a ```sh block (blank lines and # comments aside);
# - an inline `code` span (in prose, a table or a title; it may break across
#   lines) that starts with `bash bench/`, `taskset `, `bench/`,
#   `build/release/`, `make `, `cmake `, `R=$PWD` or `for n in `, but not:
#   - one word under bench/ (`bench/sync/work.h`, `bench/ir.sh`): a file's or
#     a program's name. One word under build/release/ is a command: a program
#     of the release build, run without arguments;
#   - `taskset` with only its CPU list (`taskset -c 1`): how to pin, no program;
#   - a form with placeholders, a word in capitals (`BUILD`, `ROW`, `N`) or
#     `...`: it runs only once the reader has filled them in, so it is not
#     run, and the test lists it. On docs/performance.md these are
#     `bench/echo/ir.sh BUILD --tracing` (the page runs it as written in "The
#     recorder", `bash bench/echo/ir.sh build/release --tracing`) and
#     `bench/ir.sh 10000 110000 ... --count ROW {}` (a count per row of
#     `bench_stacks switch`: `bash bench/stacks/run.sh build/release`, which
#     the page runs, makes each of them).
#   The rule has a test of its own, docs.performance_rule (rule_fixture.md).
# A command shown more than once runs once: where a block shows its output,
# if one does, else where the page shows it first (`make bench`, named in
# many sections, runs first: it builds the release preset and runs every
# benchmark, and must succeed).
#
# Which block shows a command's output: a ``` block (no language) shows the
# output, stdout and stderr, of the last command of the paragraph right
# before it, or of all the lines of a ```sh block right before it. An output
# block with no command before it fails. A block that shows only part of the
# output says so with a line `<!-- excerpt -->` (or `<!-- excerpt: why -->`)
# right before its fence: its lines must then be consecutive lines of the
# output; otherwise they must be the whole output.
#
# The shape: every number (1000, 1,000, 5.71, 0.51x, 3%, the 9 of "median of
# 9") is masked, and every run of blanks is one blank (columns move with the
# numbers' widths), trailing blanks dropped. A mismatch fails with the diff,
# naming the command; every command must exit 0.
#
# Time: CORO_BENCH_QUICK=1 (bench/bench_util.h) is set for every command, so
# the programs take fewer and shorter repetitions and print the same lines
# with the counts they used (set CORO_BENCH_QUICK=0 to run them in full).
# A reader's shell: a clean environment, no descriptor beyond 0-2, stdin
# /dev/null. /tmp: the page's commands write there (/tmp/big.ctr, ...); where
# the test may (root), they see a /tmp of their own (a bind mount in a mount
# namespace), so that a run neither reads nor clobbers another's files.
# The copy: the source tree's entries linked in, but docs/ a folder of its own
# (docs/img gets what the plotting commands draw) and build/ a real folder
# (build/release is configured and built there by the page's own commands,
# and kept from one run to the next).
#
#   performance_test.sh SOURCE_DIR WORK_DIR [PAGE]   (PAGE: docs/performance.md)
set -uo pipefail
src=$(cd "$1" && pwd)
work=$2
page=${3:-$src/docs/performance.md}
name=${page#"$src"/}
here=$(cd "$(dirname "$0")" && pwd)
quick=${CORO_BENCH_QUICK:-1}
[ -f "$page" ] || { echo "FAIL: $page: no such page" >&2; exit 1; }

# Descriptors inherited from the harness (make's jobserver, ctest's pipes)
# would be kept open by the servers the benchmarks start.
for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done

mkdir -p "$work"
work=$(cd "$work" && pwd)
root=$work/root
# Everything but the release build is made afresh.
find "$root" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} + 2>/dev/null
rm -rf "$work/out" "$work/blocks" "$work/tmp"
mkdir -p "$root/build" "$root/docs/img" "$work/out" "$work/blocks" "$work/tmp"
for e in "$src"/* "$src"/.[!.]*; do
  [ -e "$e" ] || continue
  case $(basename "$e") in build | docs | .git) continue ;; esac
  ln -s "$e" "$root/$(basename "$e")"
done
for e in "$src"/docs/*; do
  [ "$(basename "$e")" = img ] || ln -s "$e" "$root/docs/$(basename "$e")"
done

# The commands' own /tmp, where a mount namespace can be had (and the copy is
# not under /tmp itself, which the bind mount would hide).
isolate=()
case $work/ in /tmp/*) ;; *)
  if unshare -m --propagation private true 2>/dev/null; then
    isolate=(unshare -m --propagation private sh -c 'mount --bind "$0" /tmp && exec "$@"' "$work/tmp")
  fi
esac
[ ${#isolate[@]} -gt 0 ] || echo "note: the commands share this machine's /tmp (no mount namespace here)"

# run OUT CMD: CMD as a reader would type it, from the copy's root.
run() {
  (cd "$root" && env -i PATH="$PATH" HOME="${HOME:-/root}" LANG=C.UTF-8 TERM=dumb \
     CORO_BENCH_QUICK="$quick" "${isolate[@]}" timeout 600 bash -c "$2") > "$1" 2>&1 < /dev/null
}

fail=0
problem() { echo "FAIL: $name:$1: $2" >&2; fail=1; }

# The release preset, as the page says to build it, before any command.
if ! run "$work/out/build" "cmake --preset release && cmake --build --preset release -j2"; then
  echo "FAIL: the release preset does not build:" >&2
  tail -30 "$work/out/build" >&2
  exit 1
fi

plan=$work/plan
awk -v out="$work/blocks" -f "$here/commands.awk" "$page" > "$plan" || exit 1
declare -A text line shown wanted ran
ids=()
blocks=()
while IFS=$'\t' read -r kind a b c d; do
  case $kind in
    cmd) ids+=("$a"); line[$a]=$b text[$a]=$c ;;
    form) echo "not run: $name:$a: \`$c\`: $b" ;;
    block)
      blocks+=("$a $b $c $d")
      for id in ${d//,/ }; do shown[$id]=1; done ;;
  esac
done < "$plan"
[ ${#ids[@]} -gt 0 ] || { echo "FAIL: $name: found no command on the page" >&2; exit 1; }
# A text a block shows runs where the block shows it; any other, where first shown.
for id in "${ids[@]}"; do [ -n "${shown[$id]:-}" ] && wanted[${text[$id]}]=1; done

nrun=0
for id in "${ids[@]}"; do
  t=${text[$id]}
  if [ -z "${shown[$id]:-}" ] && { [ -n "${wanted[$t]:-}" ] || [ -n "${ran[$t]:-}" ]; }; then
    continue
  fi
  ran[$t]=1
  start=$SECONDS
  run "$work/out/$id" "$t"
  rc=$?
  nrun=$((nrun + 1))
  echo "ran $name:${line[$id]}: $t  (exit $rc, $((SECONDS - start)) s)"
  if [ $rc -ne 0 ]; then
    problem "${line[$id]}" "\`$t\` exited with status $rc:"
    tail -20 "$work/out/$id" | sed 's/^/    | /' >&2
  fi
done

# The shape of a text: numbers masked, blanks squeezed.
shape() {
  sed -E 's/[0-9]+(,[0-9]{3})*(\.[0-9]+)?/#/g; s/[[:space:]]+/ /g; s/ $//' "$1"
}
nblock=0
for b in "${blocks[@]}"; do
  read -r open close excerpt cids <<< "$b"
  if [ -z "$cids" ]; then
    problem "$open" "an output block with no command right before it (a command in the paragraph before the block, or a \`\`\`sh block)"
    continue
  fi
  got=$work/out/block.$open
  : > "$got"
  what=
  for id in ${cids//,/ }; do
    cat "$work/out/$id" >> "$got"
    what="$what${what:+; }${text[$id]}"
  done
  shape "$work/blocks/block.$open" > "$got.page"
  shape "$got" > "$got.run"
  if [ "$excerpt" = 1 ]; then
    if ! awk 'NR == FNR { want[++n] = $0; next } { have[++m] = $0 }
              END { for (i = 0; i + n <= m; i++) { for (j = 1; j <= n && have[i + j] == want[j]; j++) {}
                                                    if (j > n) exit 0 }
                    exit 1 }' "$got.page" "$got.run"; then
      problem "$open" "the excerpt is not consecutive lines of what \`$what\` prints (numbers masked; - page, + run):"
      diff -u "$got.page" "$got.run" | tail -n +3 >&2
      echo "  what it printed:" >&2
      sed 's/^/    | /' "$got" >&2
    fi
  elif ! diff -q "$got.page" "$got.run" > /dev/null; then
    problem "$open" "the block is not what \`$what\` prints (numbers masked; - page, + run):"
    diff -u "$got.page" "$got.run" | tail -n +3 >&2
    echo "  what it printed:" >&2
    sed 's/^/    | /' "$got" >&2
  fi
  nblock=$((nblock + 1))
done

rm -rf "$work/tmp"
[ $fail = 0 ] || exit 1
# What the commands wrote in the copy (a 200 MB trace among them) goes; the
# release build stays for the next run.
find "$root" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
echo "$name: its ${#ids[@]} commands ran ($nrun runs: a command shown again runs once) and its" \
  "$nblock output blocks have the shape of what their commands print"

