#!/usr/bin/env bash
# docs/trace-format.md stays what a reader sees:
# - the annotated log it shows is lines of the golden await log
#   (tests/golden/expected/await.log, which golden.await keeps true), in the
#   same order, its header first;
# - the commands of "The binary form" run as written: a program traced with
#   CORO_TRACE=run.ctr, `coroscope convert run.ctr run.jsonl` and back
#   (`convert run.jsonl run.ctr`), and both traces pass `coroscope check`.
#   trace_format_test.sh SOURCE_DIR AWAIT_PROGRAM COROSCOPE WORK_DIR
#   (AWAIT_PROGRAM: tests/golden/await.c built, the program of that log)
set -uo pipefail
src=$1 prog=$2 cs=$3 work=$4
page=$src/docs/trace-format.md
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
export PATH=$(dirname "$cs"):$PATH

# The block after the sentence that introduces it.
awk '/prints the same lines from a trace file\):$/ { want = 1; next }
     want && /^```$/ { if (inside) exit; inside = 1; next }
     inside { print }' "$page" > shown.log
[ -s shown.log ] || fail "no annotated log found after 'prints the same lines from a trace file):'"
awk 'NR == FNR { shown[++n] = $0; next }
     k < n && $0 == shown[k + 1] { k++ }
     END { if (k < n) { print "line " k + 1 " of the page'\''s log is not in the golden log, in order: " shown[k + 1]; exit 1 } }' \
  shown.log "$src/tests/golden/expected/await.log" || fail "docs/trace-format.md's annotated log"

# (a span may break across lines)
for cmd in 'CORO_TRACE=run.ctr' 'coroscope convert run.ctr run.jsonl' 'convert run.jsonl run.ctr'; do
  tr '\n' ' ' < "$page" | grep -qF -- "\`$cmd" || fail "the page no longer shows \`$cmd\`"
done
CORO_TRACE=run.ctr "$prog" > /dev/null 2>&1 || fail "the traced program failed"
coroscope convert run.ctr run.jsonl || fail "coroscope convert run.ctr run.jsonl"
head -1 run.jsonl | grep -q '"kind":"header"' || fail "run.jsonl is not JSON Lines: $(head -c 200 run.jsonl)"
rm run.ctr
coroscope convert run.jsonl run.ctr || fail "coroscope convert run.jsonl run.ctr"
[ "$(head -c 8 run.ctr)" = CORO-CTR ] || fail "run.ctr is not a binary trace"
coroscope check run.jsonl > /dev/null && coroscope check run.ctr > /dev/null || fail "check of the converted traces"
echo "docs/trace-format.md: its annotated log is the golden one's lines; its convert commands run"
