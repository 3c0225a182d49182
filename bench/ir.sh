#!/usr/bin/env bash
# Instructions per operation, counted by callgrind: runs CMD twice with the
# operation count N1 and N2 in place of {} and prints the slope
# (Ir(N2) - Ir(N1)) / (N2 - N1), so set-up, start-up and exit cancel out.
# Instruction counts are stable on a noisy machine where times are not.
#   bench/ir.sh N1 N2 CMD [ARG...]      (one ARG is the literal {})
set -euo pipefail
if [ $# -lt 3 ] || [ "$1" = --help ]; then
  echo "usage: bench/ir.sh N1 N2 CMD [ARG...]   (an ARG of {} is replaced by N1, then N2)" >&2
  [ "${1:-}" = --help ] && exit 0 || exit 2
fi
command -v valgrind >/dev/null || { echo "bench/ir.sh: valgrind is not installed" >&2; exit 1; }
n1=$1 n2=$2; shift 2
count() { # N -> total Ir
  local args=() a
  for a in "$@"; do [ "$a" = "{}" ] && args+=("$N") || args+=("$a"); done
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "${args[@]}" 2>&1 >/dev/null |
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
N=$n1; i1=$(count "$@")
N=$n2; i2=$(count "$@")
[ -n "$i1" ] && [ -n "$i2" ] || { echo "bench/ir.sh: callgrind printed no count for: $*" >&2; exit 1; }
awk -v a="$i1" -v b="$i2" -v n1="$n1" -v n2="$n2" 'BEGIN { printf "%.1f\n", (b - a) / (n2 - n1) }'
